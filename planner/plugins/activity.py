"""``ActivityType``: what an activity plugin implements (re-exported by :mod:`planner.api`).

An activity type owns the ``Routine.details`` JSON: its ``form`` validates it, ``describe``
turns it into plain text for the page and the iCal DESCRIPTION, and ``template`` renders it.

Behaviour that belongs to one type (a VEVENT tweak, a page panel, categories that depend on the
details) lives in methods the manager calls only for routines of that type, as pretix's
``EventPluginSignal`` reaches only the events whose plugin is active: a plugin never filters on
``routine.activity_key`` itself, so it cannot forget to.

Stored details outlive plugin versions. A plugin may rename a field, tighten a validator or be
uninstalled while routines keep their JSON, so reading never trusts it and never rewrites it:
:meth:`ActivityType.check` says what no longer fits (naming the plugin), :meth:`ActivityType.clean`
gives the values the plugin's code can rely on, and :meth:`ActivityType.merge` keeps every key
the form does not know when an organizer saves, so nothing is lost.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flask_babel import gettext, lazy_gettext
from wtforms import Form

if TYPE_CHECKING:
    from icalendar import Event
    from markupsafe import Markup

    from planner.joining.attendance import Attendance
    from planner.models import Routine, User
    from planner.scheduling.recurrence import Occurrence

log = logging.getLogger(__name__)

KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")


def choices(options: dict[str, str] | list[tuple[str, str]]) -> list[Any]:
    """Choices for a ``SelectField``/``RadioField`` from ``{value: label}``.

    WTForms 3.3 deprecates tuple choices in favour of ``SelectChoice``; this works with both, so
    a plugin does not break on either side of that change.
    """
    pairs = list(options.items()) if isinstance(options, dict) else list(options)
    try:
        from wtforms.fields.choices import SelectChoice
    except ImportError:  # WTForms < 3.3
        return pairs
    return [SelectChoice(value, label) for value, label in pairs]


class DetailsForm(Form):  # type: ignore[misc]  # WTForms ships no type hints
    """Base for an activity type's details form. CSRF is handled by the enclosing page form.

    Field values must be JSON-friendly (strings, numbers, booleans, lists of those): they are
    stored as they are in ``Routine.details``. Prefer ``IntegerField``/``FloatField`` over
    ``DecimalField``.
    """


@dataclass(frozen=True)
class SlotDefault:
    """A sign-up slot a new routine of this type starts with (organizers can edit them).

    Give ``label`` as ``lazy_gettext("Dessert")``: a slot is the group's own row once made, so
    it is written once, in the group's language (else its creator's), and stays as written.
    """

    label: str
    capacity: int = 1


class _StoredData(dict[str, Any]):
    """Stored JSON presented as submitted form data, so it is validated like fresh input.

    WTForms validates ``data=`` without coercion and its ``Optional`` validator skips fields
    that have no raw input; going through form data gives stored and typed-in values the same
    checks.
    """

    def getlist(self, key: str) -> list[str]:
        value = self[key]
        values = value if isinstance(value, list | tuple) else [value]
        return [_as_text(v) for v in values if v is not None and v is not False]

    def __contains__(self, key: object) -> bool:
        return dict.__contains__(self, key) and bool(self.getlist(key))  # type: ignore[arg-type]


def _as_text(value: Any) -> str:
    if value is True:
        return "y"
    return str(value)


@dataclass(frozen=True)
class DetailsCheck:
    """The result of checking stored details against the current form of their plugin."""

    data: dict[str, Any]
    errors: dict[str, list[str]]
    message: str | None  # for the page, naming the plugin; None when everything fits

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass(frozen=True)
class ActivityContext:
    """What a per-type method is told about the routine and occurrence at hand.

    One object rather than a row of arguments: an override names one parameter, and planner
    can add a field later without breaking any plugin's signature (datasette hands its hooks
    one object for the same reason).
    """

    routine: Routine  # read-only; for what details cannot say (meals counts the rule's dates)
    details: dict[str, Any]  # the routine's details as :meth:`ActivityType.clean` gives them
    occurrence: Occurrence | None = None  # None for a series' master VEVENT
    attendance: Attendance | None = None  # None for a series' master VEVENT
    viewer: User | None = None  # the logged-in person on a page; None when anonymous, in feeds


@dataclass(frozen=True)
class HistoryDate:
    """One past date of a routine as history counts it."""

    occurrence: Occurrence
    came: frozenset[int]  # user ids of those who came
    host_id: int | None = None  # who held the date's "Host" slot, if it has one


@dataclass(frozen=True)
class HistoryContext:
    """What :meth:`ActivityType.history_lines` is told: one routine's past dates (oldest first)
    and whose history is asked for. ``person_id`` None: the routine page (the group's rhythm);
    ``other_id`` set: what ``person_id`` shared with ``other_id``."""

    routine: Routine
    details: dict[str, Any]
    dates: tuple[HistoryDate, ...]
    person_id: int | None = None
    other_id: int | None = None


@dataclass
class ActivityType:
    key: str
    label: str
    icon: str = "•"
    description: str = ""
    form: type[DetailsForm] = DetailsForm
    default_slots: tuple[SlotDefault, ...] = ()
    # iCal CATEGORIES of every routine of this type; :meth:`categories` may add detail ones.
    default_categories: tuple[str, ...] = ()
    # A Jinja template path rendered with ``details``, ``routine`` and ``activity``; None: none.
    template: str | None = None
    # Keys of ``details`` the plugin writes itself (not through the form), e.g. the meals host
    # rotation; :meth:`clean` passes them through to ``describe`` and the template.
    state_keys: tuple[str, ...] = ()
    # Optional plain function ``describe(details) -> str``; subclasses may override instead.
    describer: Callable[[dict[str, Any]], str] | None = field(default=None, repr=False)
    # Filled in by the plugin manager: the entry-point name of the plugin that registered it.
    plugin: str = field(default="", compare=False)

    @property
    def is_generic(self) -> bool:
        """True for the stand-in used when a routine's plugin is gone."""
        return self is GENERIC or self.key == GENERIC.key

    def describe(self, details: dict[str, Any]) -> str:
        """Plain text for the page and the iCal DESCRIPTION (``details`` as :meth:`clean` gives)."""
        if self.describer is not None:
            return self.describer(details)
        return ""

    def categories(self, details: dict[str, Any]) -> tuple[str, ...]:
        """iCal CATEGORIES for a routine with these (cleaned) details; override to add ones that
        depend on them (the arts kind). The default is :attr:`default_categories`."""
        return tuple(self.default_categories)

    def ical_event(self, event: Event, ctx: ActivityContext) -> None:
        """Decorate one VEVENT of a routine of this type in place (``ctx.occurrence`` and
        ``ctx.attendance`` are ``None`` for a series' master VEVENT)."""

    def panel(self, ctx: ActivityContext) -> Markup | None:
        """A section for the occurrence page of a routine of this type, or ``None``."""
        return None

    def history_lines(self, ctx: HistoryContext) -> list[str]:
        """Plain-text lines this type adds to history (meals: "You hosted 3 times") and, with
        ``ctx.person_id`` None, to the routine's rhythm (meals: whose turn is fairest)."""
        return []

    def host(self, ctx: ActivityContext) -> tuple[int, str] | None:
        """Who hosts the date ``ctx.occurrence``, as ``(user_id, name)``, when this type knows
        better than the date's "Host" slot (meals: whose turn it is in the rotation). The
        reminder names them to a newcomer and tells them a newcomer is coming. None: the core
        decides (the Host slot's holder, else whoever set the routine up)."""
        return None

    def mail_lines(self, ctx: ActivityContext, kind: str) -> list[str]:
        """Plain-text lines this type adds to a mail about one date: ``kind`` is ``reminder``,
        ``ask``, ``digest`` or ``notice``. Meals name who hosts and what is still missing;
        sports count the players still needed. ``ctx.viewer`` is the recipient."""
        return []

    def clean(self, details: dict[str, Any] | None) -> dict[str, Any]:
        """Details as the plugin's code may rely on: every form field present (defaults for
        missing ones, wrong types coerced or ``None``), plus the plugin's ``state_keys``.

        Used to read stored JSON written by an older version of the plugin without a 500.
        """
        return self.check(details).data

    def check(self, details: dict[str, Any] | None) -> DetailsCheck:
        """Validate stored details with the current form; never raises for bad stored data."""
        stored = details if isinstance(details, dict) else {}
        try:
            # A key missing from stored JSON means "the default" (a field added by a newer
            # version), not "unticked" as a missing checkbox in a browser's form data would.
            defaults = {name: f.data for name, f in self.form()._fields.items()}
            form = self.form(formdata=_StoredData({**defaults, **stored}))
            form.validate()
            data = {name: f.data for name, f in form._fields.items()}
            errors = {name: list(f.errors) for name, f in form._fields.items() if f.errors}
        except Exception as exc:  # a plugin's form that crashes on old data is its bug, not a 500
            log.exception("plugin %r: details form failed on stored data", self.plugin)
            data = {}
            errors = {"": [f"the details form failed: {exc}"]}
        for key in self.state_keys:
            if key in stored:
                data[key] = stored[key]
        if details is not None and not isinstance(details, dict):
            errors.setdefault("", []).append(gettext("the stored details are not a JSON object"))
        message = None
        if errors:
            labels = []
            for name, messages in errors.items():
                label = _label(self.form, name)
                labels.append(f"{label}: {' '.join(messages)}" if label else " ".join(messages))
            message = gettext(
                "Some saved details no longer fit the %(plugin)s plugin (%(problems)s). They "
                "are kept; an organizer can correct them by editing the routine.",
                plugin=repr(self.plugin or self.key),
                problems="; ".join(labels),
            )
        return DetailsCheck(data=data, errors=errors, message=message)

    def merge(self, previous: dict[str, Any] | None, submitted: dict[str, Any]) -> dict[str, Any]:
        """The details to store after an organizer saved the form: the submitted field values
        over the previous JSON, so keys the form does not know (the plugin's state, fields of
        an older version) are never dropped."""
        merged = dict(previous) if isinstance(previous, dict) else {}
        merged.update(submitted)
        return merged

    def safe_describe(self, details: dict[str, Any] | None) -> str:
        """:meth:`describe` on cleaned details; a failing plugin gives "" and a log line."""
        try:
            return self.describe(self.clean(details)) or ""
        except Exception:
            log.exception("plugin %r: describe() failed", self.plugin)
            return ""


_generated_init = ActivityType.__init__


@functools.wraps(_generated_init)
def _init(
    self: ActivityType, *args: Any, categories: Iterable[str] | None = None, **kw: Any
) -> None:
    # Plugins written before categories(details) existed pass ``categories=("Meal",)``: that
    # static tuple keeps working as :attr:`ActivityType.default_categories`.
    if categories is not None:
        kw.setdefault("default_categories", tuple(categories))
    _generated_init(self, *args, **kw)


ActivityType.__init__ = _init  # type: ignore[method-assign]


def _label(form_class: type[Form], name: str) -> str:
    unbound = getattr(form_class, name, None)
    if unbound is None:
        return name
    args = getattr(unbound, "args", ())
    kwargs = getattr(unbound, "kwargs", {})
    label = kwargs.get("label") or (args[0] if args else None)
    return str(label) if label else name


GENERIC = ActivityType(
    key="unknown",
    label=lazy_gettext("Activity"),
    icon="•",
    description=lazy_gettext("The plugin for this activity type is not installed or is disabled."),
)
