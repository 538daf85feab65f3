"""Every hook a plugin can implement. Each docstring is the plugin author's reference.

Hooks are always called with keyword arguments, so an implementation may accept any subset of
the documented arguments, in any order. Calls go through pluggy, so ``tryfirst``/``trylast``
and ``@hookimpl(wrapper=True)`` work as pluggy documents; old-style ``hookwrapper=True`` is
refused at start-up. Plugins import the types named here from :mod:`planner.api`.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from pluggy import HookimplMarker, HookspecMarker

if TYPE_CHECKING:  # only for annotations: plugins must not import models through here
    import click
    from flask import Blueprint
    from icalendar import Event
    from markupsafe import Markup

    from planner.enums import Status
    from planner.joining.attendance import Attendance
    from planner.models import Routine, User
    from planner.plugins.activity import ActivityType
    from planner.scheduling.recurrence import Occurrence

hookspec = HookspecMarker("planner")
hookimpl = HookimplMarker("planner")


# -- registries ---------------------------------------------------------------------------------


@hookspec
def register_activity_types() -> list[ActivityType]:  # type: ignore[empty-body]  # a spec has no body
    """Return a list of :class:`planner.api.ActivityType` this plugin provides.

    Keys must be unique across all plugins (lower-case letters, digits, ``-`` and ``_``); a
    duplicate stops start-up with a message naming both plugins.
    """


@hookspec
def register_calendar_formats() -> list[Any]:  # type: ignore[empty-body]  # a spec has no body
    """Return a list of :class:`planner.api.CalendarFormat` (key, media type, extension,
    ``render(feed) -> bytes``). The built-in ``ical`` plugin provides ``ics`` and ``jcal``."""


@hookspec
def register_routes() -> list[Blueprint]:  # type: ignore[empty-body]  # a spec has no body
    """Return a list of Flask blueprints to register on the app."""


@hookspec
def register_commands(cli: click.Group) -> None:
    """Add subcommands to the ``planner`` command line.

    :param cli: the ``click.Group`` behind ``planner``; call ``cli.command()`` on it.
    """


# -- decorating output --------------------------------------------------------------------------


@hookspec
def ical_event(
    event: Event,
    occurrence: Occurrence | None,
    routine: Routine,
    attendance: Attendance | None,
) -> None:
    """Decorate one VEVENT of *any* routine before it is written to a feed.

    For cross-cutting plugins (a note on every event, a header for one calendar app). What
    belongs to one activity type goes in :meth:`planner.api.ActivityType.ical_event`, which
    is called only for routines of that type.

    :param event: the ``icalendar.Event`` being built; modify it in place.
    :param occurrence: the :class:`planner.api.Occurrence` it stands for, or
        ``None`` for the master VEVENT of a series.
    :param routine: the :class:`planner.models.Routine` (read-only).
    :param attendance: the :class:`planner.api.Attendance` of that occurrence (``None``
        for the master VEVENT).
    """


@hookspec
def occurrence_panels(
    occurrence: Occurrence, routine: Routine, viewer: User | None, attendance: Attendance | None
) -> Markup | None:
    """Return HTML (``markupsafe.Markup``) or ``None`` for an extra section of any occurrence page.

    For cross-cutting plugins; a panel for one activity type is
    :meth:`planner.api.ActivityType.panel`, called only for routines of that type.

    :param occurrence: the :class:`planner.api.Occurrence` shown.
    :param routine: its :class:`planner.models.Routine`.
    :param viewer: the logged-in :class:`planner.models.User`, or ``None``.
    :param attendance: the :class:`planner.api.Attendance` of this occurrence.
    """


# -- notifications (called after commit; failures are logged, never shown to the user) ---------


@hookspec
def routine_saved(routine: Routine, created: bool) -> None:
    """A routine was created or edited.

    :param routine: the saved :class:`planner.models.Routine`.
    :param created: ``True`` for a new routine.
    """


@hookspec
def routine_deleted(routine: Routine) -> None:
    """A routine and everything hanging off it (answers, slots, comments) was deleted.

    Called after the commit, with the routine as it was (detached: read its attributes, do not
    load relationships). A bridge that mirrored the routine elsewhere removes it here.

    :param routine: the deleted :class:`planner.models.Routine`.
    """


@hookspec
def occurrence_changed(routine: Routine, original_start: datetime, change: str) -> None:
    """One occurrence was cancelled, restored or changed.

    :param routine: the :class:`planner.models.Routine`.
    :param original_start: the occurrence key (naive local ``datetime``).
    :param change: ``"cancelled"``, ``"restored"``, ``"changed"``, or ``"split"`` when the
        series was changed from this occurrence on (``routine`` is the old series, now ending
        before it; the new one arrives through ``routine_saved`` with ``created=True``).
    """


@hookspec
def rsvp_changed(
    routine: Routine,
    original_start: datetime,
    user: User,
    status: Status | None,
    previous: Status | None,
) -> None:
    """A member's answer for one occurrence changed (including waitlist promotions).

    :param routine: the :class:`planner.models.Routine`.
    :param original_start: the occurrence key (naive local ``datetime``).
    :param user: the :class:`planner.models.User` whose answer changed.
    :param status: the new effective :class:`planner.api.Status` (``going``, ``maybe``,
        ``declined``, ``waitlisted``), or ``None`` when the answer was withdrawn.
    :param previous: the effective status before the change, or ``None``.
    """


# -- mail -----------------------------------------------------------------------------------


@hookspec
def mail_queued(draft: Any) -> None:
    """A mail is about to be written to the outbox, inside the transaction that causes it.

    :param draft: a mutable :class:`planner.api.MailDraft` (``kind``, ``recipient``,
        ``subject``, ``body_text``, ``body_html``, ``headers``, ``dedupe_key``). A plugin may
        edit it (add a footer, a header); raising stops the change that caused the mail.
    """


@hookspec
def notification_queued(draft: Any, category: str, user_id: int, group_id: int) -> None:
    """A reminder, notice, digest or organizer's message is about to be queued for one person.

    Called after the person's preferences allowed it and before ``mail_queued``, inside the
    transaction that causes it (the minute scan, a cancelled date). A plugin may observe it (the
    webhook example posts a ``notification_queued`` event) or edit the draft.

    :param draft: the :class:`planner.api.MailDraft` (``kind`` says which: ``reminder``,
        ``ask``, ``digest``, ``notice-cancelled``, ``message``, ...).
    :param category: the preference category (``reminder``, ``ask``, ``digest``, ``notice``,
        ``comments``, ``message``): what the person could unsubscribe from.
    :param user_id: the recipient's id.
    :param group_id: the group the mail is about.
    """


@hookspec(firstresult=True)
def deliver_mail(message: Any, kind: str, recipient: str) -> bool | None:
    """A worker is about to deliver ``message`` (an :class:`email.message.EmailMessage`).

    Return ``True`` when the plugin delivered it itself (a chat bridge replacing e-mail): the
    configured SMTP or ``.eml`` delivery is skipped and the row counts as sent. Return ``None``
    to let delivery go on (a plugin adding a channel beside e-mail). Raise
    ``planner.api.MailTemporaryError`` to have the row retried with backoff.
    """
