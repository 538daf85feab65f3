"""Belonging: the routine remembers, kindly. Who came, shared history, the group's rhythm with
planned breaks, kind check-ins and newcomers welcomed (docs/belonging.md).

The room sits above ``routines`` and ``joining`` (it reads past dates and answers) and below
``notify`` (which mails its check-in prompts and first-timer lines). Nothing here is ever
shown outside the group, and nothing names who did not come to anyone but organizers.
"""
