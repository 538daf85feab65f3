"""Everything a planner plugin may import, in one module: ``from planner.api import ...``.

The names in ``__all__`` are the plugin API. They stay importable from here across releases,
while the modules they are defined in (and every other module of planner) are private and may
move, as they did when planner's flat modules moved into rooms. A plugin that imports
``planner.models`` or ``planner.web`` couples itself to internals that are not kept stable.

- Declaring hooks: :data:`hookimpl` (also ``from planner import hookimpl``).
- Activity types: :class:`ActivityType`, :class:`DetailsForm`, :class:`SlotDefault`,
  :func:`choices`, and the :class:`ActivityContext` its per-type methods receive.
- What hooks and activity types receive: :class:`Occurrence`, :class:`Attendance` with its
  :class:`Person` and :class:`ClaimInfo` entries, and the :class:`Status` an answer has (a
  ``StrEnum``: ``Status.GOING == "going"``) and the :class:`Role` a member has.
- Calendar formats: :class:`CalendarFormat`, the :class:`Feed` it renders, and the two
  serializers the built-in ``ical`` format uses, :func:`to_ics` and :func:`to_jcal`.
- Mail: the :class:`MailDraft` ``mail_queued`` sees, :class:`MailTemporaryError` for
  ``deliver_mail``.
- Routes and state of one's own: :func:`member_routine`, :func:`is_member`,
  :func:`update_details`, :func:`occurrence_number`.
- Words in the reader's language: :func:`gettext` (``_``), :func:`ngettext` and
  :func:`lazy_gettext` for form labels defined at import time. A plugin package ships its
  catalogs in ``translations/`` next to its code (docs/plugins.md, "Translations").
- Going back where a form was sent from: :func:`safe_redirect` (and :func:`safe_path`), the
  same check every core view uses, so a plugin's ``next`` field cannot redirect off-site.
"""

from __future__ import annotations

from flask_babel import gettext, lazy_gettext, ngettext

from planner.enums import Role, Status
from planner.feeds.ics import CalendarFormat, Feed, to_ics, to_jcal
from planner.joining.attendance import Attendance, ClaimInfo, Person
from planner.mail.backends import Temporary as MailTemporaryError
from planner.mail.outbox import Draft as MailDraft
from planner.plugins.activity import (
    ActivityContext,
    ActivityType,
    DetailsForm,
    HistoryContext,
    HistoryDate,
    SlotDefault,
    choices,
)
from planner.plugins.hookspecs import hookimpl
from planner.routines.details import update_details
from planner.scheduling.recurrence import Occurrence
from planner.scheduling.series import occurrence_number
from planner.web.plugin_support import is_member, member_routine
from planner.web.redirects import safe_path, safe_redirect

__all__ = [
    "ActivityContext",
    "ActivityType",
    "Attendance",
    "CalendarFormat",
    "ClaimInfo",
    "DetailsForm",
    "HistoryContext",
    "HistoryDate",
    "Feed",
    "MailDraft",
    "MailTemporaryError",
    "Occurrence",
    "Person",
    "Role",
    "SlotDefault",
    "Status",
    "choices",
    "gettext",
    "hookimpl",
    "is_member",
    "lazy_gettext",
    "member_routine",
    "ngettext",
    "occurrence_number",
    "safe_path",
    "safe_redirect",
    "to_ics",
    "to_jcal",
    "update_details",
]
