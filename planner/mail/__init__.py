"""Mail: the outbox, rendering, delivery backends (SMTP, ``.eml`` files) and the huey queue.

Owns writing outbox rows (always inside the caller's transaction, never sending), turning a row
into a standards-conforming :class:`email.message.EmailMessage`, delivering due rows with leases,
retries and backoff, and the huey instance whose consumer runs that delivery. It knows nothing
about why a mail is sent: accounts, groups and joining render their own mails through
:func:`planner.mail.outbox.queue`. May import: ``planner.models``, ``planner.db``,
``planner.plugins``. Below ``planner.accounts`` in the layers, so every room above can queue mail.
"""
