"""Forms for routines and their exceptions, speaking in words rather than RRULEs.

The schedule part of :class:`RoutineForm` is a handful of plain questions (how often, which
days, until when) that map onto :class:`planner.scheduling.rules.Schedule`; an "advanced" field
takes a raw RRULE for anything else. Every value is checked on the server, including the rule as a
whole (:func:`planner.scheduling.rules.validate_rule`), so a bad rule is a message on the form and
never a half-saved routine.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from babel import Locale
from babel.dates import get_day_names
from flask_babel import get_locale, gettext
from wtforms import (
    DateField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from planner.locales import FALLBACK
from planner.plugins.activity import choices
from planner.scheduling import recurrence
from planner.scheduling import rules as schedule
from planner.web.forms import TimezoneField, strip
from planner.web.i18n import PlannerForm, problem
from planner.web.lazy_text import lazy_gettext as _l


def weekday_choices() -> list[Any]:
    """The days of the week in the current locale's words and order: a week starts on Sunday in
    en_US, on Monday in de, fr, es and en_GB. The values stay the RRULE codes (``MO``)."""
    locale = get_locale() or Locale.parse(FALLBACK)
    names = get_day_names("wide", context="stand-alone", locale=locale)  # 0 = Monday
    first = locale.first_week_day
    order = [(first + i) % 7 for i in range(7)]
    return choices([(recurrence.WEEKDAYS[day], names[day]) for day in order])


REPEAT_CHOICES = choices([
    ("once", _l("Once")),
    ("daily", _l("Every day")),
    ("weekly", _l("Every week")),
    ("monthly_day", _l("Monthly, on a date")),
    ("monthly_nth", _l("Monthly, on a weekday")),
    ("yearly", _l("Every year")),
    ("advanced", _l("Advanced (RRULE)")),
])
ENDS_CHOICES = choices(
    [("never", _l("Never")), ("until", _l("On a date")), ("count", _l("After a number of times"))]
)
NTH_PAIRS: list[tuple[str, Any]] = [
    ("1", _l("first")), ("2", _l("second")), ("3", _l("third")), ("4", _l("fourth")),
    ("-1", _l("last")),
]
NTH_CHOICES = choices(NTH_PAIRS)


class MultiCheckboxField(SelectMultipleField):
    """Checkboxes instead of a multi-select: usable on a phone and without JavaScript."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _duration(_form, field) -> None:
    if field.data is None:
        return
    try:
        schedule.validate_duration(field.data)
    except recurrence.RecurrenceError as exc:
        raise ValidationError(problem(exc)) from None


def _within_years(_form, field) -> None:
    """A date the recurrence engine can work around (see :data:`recurrence.FIRST_YEAR`)."""
    if field.data is not None and not (
        recurrence.FIRST_YEAR <= field.data.year <= recurrence.LAST_YEAR
    ):
        raise ValidationError(
            gettext(
                "Choose a date between %(first)d and %(last)d.",
                first=recurrence.FIRST_YEAR,
                last=recurrence.LAST_YEAR,
            )
        )


def _nth(value: str | None) -> int | None:
    """The "which one" answer as a number; None for anything not offered (never a crash: the
    schedule is built even when the form had errors, to show them all at once)."""
    return int(value) if value in dict(NTH_PAIRS) else None


def duration_field(label: str = _l("Duration (minutes)"), optional: bool = False) -> IntegerField:
    first = Optional() if optional else InputRequired(_l("Say how long it lasts, in minutes."))
    return IntegerField(
        label,
        validators=[first, _duration],
        description="120 is two hours; at most 7 days.",
    )


def location_field() -> StringField:
    """The routine's place and one occurrence's changed place: the same column length (300)."""
    return StringField(
        _l("Place"),
        filters=[strip],
        validators=[Length(max=300, message=_l("Use at most 300 characters."))],
    )


class RoutineForm(PlannerForm):
    """A routine: what, where, when, and how it repeats. Details of the activity type are a
    separate form (prefix ``details``) because they depend on the chosen type."""

    activity = SelectField(_l("Kind of activity"), validate_choice=False)
    title = StringField(
        _l("Title"),
        filters=[strip],
        validators=[
            DataRequired(_l("Give the routine a title.")),
            Length(max=200, message=_l("Use at most 200 characters.")),
        ],
    )
    description = TextAreaField(
        _l("Description"),
        filters=[strip],
        validators=[Length(max=5000, message=_l("Use at most 5000 characters."))],
    )
    location = location_field()
    timezone = TimezoneField(_l("Timezone of the times below"))
    start_date = DateField(
        _l("First date"),
        validators=[InputRequired(_l("Choose the date of the first time.")), _within_years],
    )
    start_time = TimeField(_l("Starts at"), validators=[InputRequired(_l("Choose a start time."))])
    duration = duration_field()
    capacity = IntegerField(
        _l("Places (optional)"),
        validators=[
            Optional(),
            NumberRange(min=1, max=10_000, message=_l("Choose 1 to 10000 places, or leave empty.")),
        ],
        description=_l("Leave empty when any number of people can come."),
    )
    max_guests = IntegerField(
        _l("Guests each person may bring"),
        default=0,
        validators=[
            InputRequired(_l("Say how many guests a person may bring (0 for none).")),
            NumberRange(min=0, max=20, message=_l("Choose 0 to 20 guests.")),
        ],
    )

    ask_hours_before = SelectField(
        _l("Ask those who haven't answered"),
        choices=[
            SelectChoice("", _l("Don't ask")),
            SelectChoice("24", _l("1 day before")),
            SelectChoice("48", _l("2 days before")),
            SelectChoice("72", _l("3 days before")),
            SelectChoice("168", _l("A week before")),
        ],
        default="",
        description=_l("One mail per date, with buttons to answer; never repeated."),
    )

    # -- the schedule, in words
    repeat = RadioField(_l("Repeats"), choices=REPEAT_CHOICES, default="weekly")
    interval = IntegerField(
        _l("Every how many days, weeks, months or years"),
        default=1,
        validators=[
            Optional(),
            NumberRange(min=1, max=99, message=_l("Choose a number from 1 to 99.")),
        ],
        description="1 means every week (or day, month, year); 2 means every other one.",
    )
    # Both weekday fields get their choices when the form is made (see __init__).
    weekdays = MultiCheckboxField(_l("On these days"), choices=[])
    month_day = IntegerField(
        _l("Day of the month"),
        validators=[
            Optional(),
            NumberRange(min=1, max=31, message=_l("Choose a day from 1 to 31.")),
        ],
        description=_l("Months without that day (the 31st in April) are skipped."),
    )
    month_nth = SelectField(_l("Which one"), choices=NTH_CHOICES, default="1")
    month_weekday = SelectField(_l("Weekday"), choices=[], default="SA")
    ends = RadioField(_l("Ends"), choices=ENDS_CHOICES, default="never")
    until = DateField(_l("Last date"), validators=[Optional(), _within_years])
    count = IntegerField(
        _l("Number of times"),
        validators=[
            Optional(),
            NumberRange(min=1, max=1000, message=_l("Choose 1 to 1000 times.")),
        ],
    )
    rrule = StringField(
        _l("Repeat rule (RRULE)"),
        filters=[strip],
        validators=[Length(max=400, message=_l("Use at most 400 characters."))],
        description=_l("For example FREQ=MONTHLY;BYDAY=1SA. UNTIL may be a date."),
    )

    preview = SubmitField(_l("Preview"))
    save = SubmitField(_l("Save"))

    #: ``(typed, used)`` when the first date was moved to fit the pattern.
    moved_start: tuple[datetime, datetime] | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        days = weekday_choices()
        self.weekdays.choices = days
        self.month_weekday.choices = days

    def start_naive(self) -> datetime | None:
        if self.start_date.data is None or self.start_time.data is None:
            return None
        return datetime.combine(self.start_date.data, self.start_time.data.replace(second=0))

    def fill_schedule(self, rule: str, start: datetime) -> None:
        """Set the schedule questions from a stored rule (the edit page's starting point)."""
        weekday = recurrence.WEEKDAYS[start.weekday()]
        self.month_day.data = start.day
        self.month_weekday.data = weekday
        self.month_nth.data = str(schedule.nth_of(start.date()))
        self.weekdays.data = [weekday]
        self.interval.data = 1
        self.ends.data = "never"
        try:
            words = schedule.from_rrule(rule, start, self.timezone.data or "UTC")
        except recurrence.RecurrenceError:
            words = None
        if words is None:
            self.repeat.data = "advanced"
            self.rrule.data = rule
            return
        self.repeat.data = words.kind
        self.interval.data = words.interval
        if words.weekdays:
            self.weekdays.data = [recurrence.WEEKDAYS[d] for d in sorted(words.weekdays)]
        if words.month_day:
            self.month_day.data = words.month_day
        if words.nth is not None:
            self.month_nth.data = str(words.nth)
        if words.weekday is not None:
            self.month_weekday.data = recurrence.WEEKDAYS[words.weekday]
        self.ends.data = words.ends
        self.until.data = words.until
        self.count.data = words.count
        self.rrule.data = rule

    def schedule_words(self) -> schedule.Schedule:
        """The answers as a :class:`planner.scheduling.rules.Schedule` (not yet validated)."""
        return schedule.Schedule(
            kind=self.repeat.data or "once",
            interval=self.interval.data or 1,
            weekdays=frozenset(
                recurrence.WEEKDAYS.index(d)
                for d in (self.weekdays.data or ())
                if d in recurrence.WEEKDAYS
            ),
            month_day=self.month_day.data,
            nth=_nth(self.month_nth.data),
            weekday=(
                recurrence.WEEKDAYS.index(self.month_weekday.data)
                if self.month_weekday.data in recurrence.WEEKDAYS
                else None
            ),
            ends=self.ends.data or "never",
            until=self.until.data,
            count=self.count.data,
        )

    def schedule_rule(self) -> str:
        """The validated rule text for the answers.

        For a pattern in words, a first date that does not fit it (a Wednesday for "every
        Thursday") moves forward to the first one that does, and the form shows the new date.
        Errors are put on the fields they concern and raised as :class:`RecurrenceError`.
        """
        start = self.start_naive()
        tz = self.timezone.data
        if start is None:
            raise recurrence.RecurrenceError(gettext("Choose the first date and time."))
        if self.repeat.data == "advanced":
            text = self.rrule.data or ""
            target = self.rrule
            if not text:
                message = gettext("Type a repeat rule, or choose one of the patterns above.")
                self.rrule.errors = [*self.rrule.errors, message]
                raise recurrence.RecurrenceError(message)
            start = self._moved_to(schedule.first_fit(text, start) or start, start)
        else:
            target = self.repeat
            try:
                words = self.schedule_words()
                start = self._moved_to(schedule.align_start(words, start, tz), start)
                text = schedule.to_rrule(words, start, tz)
            except recurrence.RecurrenceError as exc:
                self.repeat.errors = [*self.repeat.errors, problem(exc)]
                raise
        try:
            return schedule.validate_rule(text, start, tz)
        except recurrence.RecurrenceError as exc:
            target.errors = [*target.errors, problem(exc)]
            raise

    def _moved_to(self, aligned: datetime, start: datetime) -> datetime:
        """Move the first date to ``aligned`` (the first that fits), noting it for the page."""
        if aligned != start:
            self.start_date.data, self.start_time.data = aligned.date(), aligned.time()
            # Rendering prefers the typed text over .data; show the moved date.
            self.start_date.raw_data = [aligned.date().isoformat()]
            self.moved_start = (start, aligned)
        return aligned

    def follow_weekday(self, followed: str | None) -> None:
        """The weekday follows the chosen date until the person ticks days themselves.

        The page records which single weekday it ticked by itself (``followed``); if that is
        still the only one ticked, the person did not choose it, so it becomes the new date's
        weekday. Without this, changing a Tuesday default to Thursday gave "every Tuesday and
        Thursday" (the Tuesday kept, Thursday added by alignment)."""
        start = self.start_naive()
        if start is None or self.repeat.data != "weekly" or not followed:
            return
        if list(self.weekdays.data or []) == [followed]:
            self.weekdays.data = [recurrence.WEEKDAYS[start.weekday()]]

    def followed_weekday(self) -> str:
        """The weekday to record as ticked by the page, or "" once the person chose."""
        start = self.start_naive()
        if start is None:
            return ""
        weekday = recurrence.WEEKDAYS[start.weekday()]
        return weekday if list(self.weekdays.data or []) == [weekday] else ""

    def validate_weekdays(self, field) -> None:
        if self.repeat.data == "weekly" and not field.data:
            raise ValidationError(gettext("Choose at least one day of the week."))

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if self.repeat.data in ("once", "advanced"):
            return ok
        # Optional() stops a field's own checks when it is empty, so "which end needs which
        # field" is checked here, where the chosen ending is known.
        if self.ends.data == "until" and not self.until.errors:
            if self.until.data is None:
                self.until.errors = [gettext("Choose the last date, or pick another ending.")]
                ok = False
            elif self.start_date.data and self.until.data < self.start_date.data:
                self.until.errors = [gettext("The last date is before the first date.")]
                ok = False
        if self.ends.data == "count" and not self.count.errors and self.count.data is None:
            self.count.errors = [gettext("Say after how many times it ends.")]
            ok = False
        return ok


class CancelForm(PlannerForm):
    reason = TextAreaField(
        _l("Reason (optional, shown to members)"),
        filters=[strip],
        validators=[Length(max=1000, message=_l("Use at most 1000 characters."))],
    )


class EndSeriesForm(PlannerForm):
    last_date = DateField(
        _l("Last day of the series"),
        validators=[InputRequired(_l("Choose the last day.")), _within_years],
    )


class OccurrenceForm(PlannerForm):
    """Change one occurrence; empty place/title fall back to the routine's own."""

    start_date = DateField(
        _l("Date"), validators=[InputRequired(_l("Choose a date.")), _within_years]
    )
    start_time = TimeField(_l("Starts at"), validators=[InputRequired(_l("Choose a start time."))])
    duration = duration_field()
    location = location_field()
    title = StringField(
        _l("Title"),
        filters=[strip],
        validators=[
            DataRequired(_l("Give it a title.")),
            Length(max=200, message=_l("Use at most 200 characters.")),
        ],
    )
    note = TextAreaField(
        _l("Note for members (optional)"),
        filters=[strip],
        validators=[Length(max=2000, message=_l("Use at most 2000 characters."))],
    )

    def start_naive(self) -> datetime:
        return datetime.combine(self.start_date.data, self.start_time.data.replace(second=0))
