"""The core's forms: accounts, groups, members and invites.

Every form is a Flask-WTF ``FlaskForm`` (CSRF included) and validates everything on the
server: lengths match the columns, so an oversized field is a message, never a database error.
Uniqueness (email, slug) is checked here for a friendly message and enforced again by the
database's unique indexes for the race between two requests.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from typing import Any
from zoneinfo import available_timezones

from flask import request
from flask_babel import gettext
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields import Field
from wtforms.validators import (
    AnyOf,
    DataRequired,
    Email,
    EqualTo,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)
from wtforms.widgets import Select, html_params

from planner.enums import Role, Visibility
from planner.locales import LANGUAGES
from planner.web.i18n import PlannerForm
from planner.web.lazy_text import lazy_gettext as _l

PASSWORD_MIN = 8
PASSWORD_MAX = 256
SLUG_MIN, SLUG_MAX = 3, 64
SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# Words that read like pages rather than groups, or that a future route may want.
RESERVED_SLUGS = frozenset(
    {
        "new", "edit", "delete", "directory", "groups", "group", "admin", "api", "static",
        "invite", "invites", "join", "leave", "members", "login", "logout", "signup",
        "account", "settings", "feeds", "feed", "help", "about", "search", "me",
    }
)  # fmt: skip
ROLE_CHOICES = [
    SelectChoice(Role.MEMBER, _l("Member")),
    SelectChoice(Role.ORGANIZER, _l("Organizer")),
    SelectChoice(Role.OWNER, _l("Owner")),
]


@cache
def timezone_names() -> tuple[str, ...]:
    """Every IANA zone name, sorted; cached because the lookup walks the tz database."""
    return tuple(sorted(available_timezones()))


@cache
def _timezone_choices() -> tuple[SelectChoice, ...]:
    return tuple(SelectChoice(name, name.replace("_", " ")) for name in timezone_names())


def timezone_choices() -> list[SelectChoice]:
    return list(_timezone_choices())


def known_timezone(_form, field) -> None:
    if field.data not in timezone_names():
        raise ValidationError(
            gettext("Choose a timezone from the list (for example Europe/Berlin).")
        )


def status(form: FlaskForm) -> int:
    """400 for a submitted form that was refused, so the refusal is visible to any client."""
    return 400 if request.method == "POST" and form.errors else 200


def slugify(text: str) -> str:
    """A slug from a name: ASCII letters and digits joined by single hyphens."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:SLUG_MAX].rstrip("-")


def valid_slug(_form, field) -> None:
    slug = field.data or ""
    if not SLUG_MIN <= len(slug) <= SLUG_MAX:
        raise ValidationError(
            gettext("Use %(min)d to %(max)d characters.", min=SLUG_MIN, max=SLUG_MAX)
        )
    if not SLUG_PATTERN.match(slug):
        raise ValidationError(
            gettext(
                "Use lowercase letters, digits and single hyphens (for example thursday-supper)."
            )
        )
    if slug in RESERVED_SLUGS:
        raise ValidationError(gettext("“%(slug)s” is reserved; choose another address.", slug=slug))


def strip(value: object) -> object:
    """A field filter: surrounding whitespace is never what a person meant to type."""
    return value.strip() if isinstance(value, str) else value


def _lower_strip(value):
    return value.strip().lower() if isinstance(value, str) else value


class LanguageField(SelectField):
    """Each language in its own name; the empty choice follows the browser (or, for a group's
    feeds, the site's default). Anything else is refused with a reason."""

    def __init__(self, label: str, empty: str, **kwargs):
        super().__init__(
            label,
            choices=[SelectChoice("", empty)]
            + [SelectChoice(code, name) for code, name in LANGUAGES.items()],
            validators=[
                Optional(),  # left out or empty: follow the browser / the site's default
                AnyOf(list(LANGUAGES), message=_l("Pick a language from the list.")),
            ],
            validate_choice=False,
            **kwargs,
        )


@cache
def _zone_options() -> str:
    """Every zone's ``<option>``, none selected: the same markup WTForms writes, built once."""
    return "".join(
        f'<option value="{escape(c.value)}">{escape(c.label)}</option>' for c in _timezone_choices()
    )


class ZoneSelect(Select):
    """WTForms' select, with the ~600 zone options written once per process: rendering them
    option by option was most of the time of a sign-up, account or routine form page."""

    def __call__(self, field: Field, **kwargs: Any) -> Markup:
        kwargs.setdefault("id", field.id)
        for flag in self.validation_attrs:
            if getattr(field.flags, flag, False):
                kwargs.setdefault(flag, True)
        options = _zone_options()
        if field.data:
            value = f'<option value="{escape(field.data)}">'
            options = options.replace(value, value.replace("<option ", "<option selected ", 1), 1)
        return Markup(f"<select {html_params(name=field.name, **kwargs)}>{options}</select>")


class TimezoneField(SelectField):
    """A select of every zone; an unknown value gets a clear message, not "Not a valid choice"."""

    widget = ZoneSelect()

    def __init__(self, label: str = _l("Timezone"), **kwargs):
        kwargs.setdefault("validators", [DataRequired(_l("Choose a timezone.")), known_timezone])
        super().__init__(label, choices=timezone_choices, validate_choice=False, **kwargs)


def email_field() -> EmailField:
    return EmailField(
        _l("Email"),
        filters=[_lower_strip],
        validators=[
            DataRequired(_l("Enter your email address.")),
            Length(max=254, message=_l("An email address has at most 254 characters.")),
            Email(_l("That does not look like an email address.")),
        ],
    )


def new_password_fields(
    label: str = _l("Password"), again: str = _l("Password again")
) -> tuple[PasswordField, PasswordField]:
    password = PasswordField(
        label,
        validators=[
            DataRequired(_l("Choose a password.")),
            Length(
                min=PASSWORD_MIN,
                max=PASSWORD_MAX,
                # WTForms fills in %(min)d and %(max)d when the message is shown.
                message=_l("Use %(min)d to %(max)d characters."),
            ),
        ],
    )
    confirm = PasswordField(
        again,
        validators=[
            DataRequired(_l("Type the password again.")),
            EqualTo("password", _l("The two passwords differ.")),
        ],
    )
    return password, confirm


def display_name_field() -> StringField:
    return StringField(
        _l("Display name"),
        filters=[strip],
        validators=[
            DataRequired(_l("Tell the group what to call you.")),
            Length(max=80, message=_l("Use at most 80 characters.")),
        ],
    )


# --- accounts ---------------------------------------------------------------------------------


def member_language_field() -> LanguageField:
    return LanguageField(_l("Language"), _l("As my browser asks"))


class SignupForm(PlannerForm):
    email = email_field()
    display_name = display_name_field()
    password, confirm = new_password_fields()
    timezone = TimezoneField(_l("Your timezone"))
    locale = member_language_field()


class LoginForm(PlannerForm):
    email = EmailField(
        _l("Email"),
        filters=[_lower_strip],
        validators=[DataRequired(_l("Enter your email address.")), Length(max=254)],
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(_l("Enter your password.")), Length(max=PASSWORD_MAX)],
    )


class ForgotForm(PlannerForm):
    email = EmailField(
        _l("Email"),
        filters=[_lower_strip],
        validators=[DataRequired(_l("Enter your email address.")), Length(max=254)],
    )


class EmailChangeForm(PlannerForm):
    email = EmailField(
        _l("New e-mail address"),
        filters=[_lower_strip],
        validators=[DataRequired(_l("Enter the new address.")), Length(max=254)],
    )
    password = PasswordField(
        _l("Your password"),
        validators=[DataRequired(_l("Enter your password to confirm.")), Length(max=PASSWORD_MAX)],
    )


class ResetForm(PlannerForm):
    password, confirm = new_password_fields(_l("New password"), _l("New password again"))


class ProfileForm(PlannerForm):
    display_name = display_name_field()
    timezone = TimezoneField(_l("Your timezone"))
    locale = member_language_field()


class PasswordForm(PlannerForm):
    current = PasswordField(
        _l("Current password"),
        validators=[DataRequired(_l("Enter your current password.")), Length(max=PASSWORD_MAX)],
    )
    password, confirm = new_password_fields(_l("New password"), _l("New password again"))


class DeleteAccountForm(PlannerForm):
    password = PasswordField(
        _l("Your password"),
        validators=[DataRequired(_l("Enter your password to confirm.")), Length(max=PASSWORD_MAX)],
    )
    confirm = BooleanField(
        _l("I understand that this cannot be undone."),
        validators=[DataRequired(_l("Tick the box to confirm."))],
    )


# --- groups -----------------------------------------------------------------------------------


class GroupForm(PlannerForm):
    name = StringField(
        _l("Name"),
        filters=[strip],
        validators=[
            DataRequired(_l("Give the group a name.")),
            Length(max=120, message=_l("Use at most 120 characters.")),
        ],
    )
    slug = StringField(
        _l("Web address"),
        filters=[_lower_strip],
        validators=[Optional(), valid_slug],
        description=_l("Left empty, it is made from the name."),
    )
    description = TextAreaField(
        _l("Description"),
        filters=[strip],
        validators=[Length(max=5000, message=_l("Use at most 5000 characters."))],
    )
    visibility = RadioField(
        _l("Who can find it"),
        choices=[
            SelectChoice(
                Visibility.PUBLIC, _l("Public: listed in the directory; anyone logged in can join")
            ),
            SelectChoice(
                Visibility.PRIVATE, _l("Private: hidden; people join through an invite link")
            ),
        ],
        default=Visibility.PUBLIC,
        validators=[InputRequired(_l("Choose public or private."))],
    )
    timezone = TimezoneField(_l("Group timezone"))
    language = LanguageField(
        _l("Language of the group's calendar feeds"), _l("The site's default language")
    )

    def derived_slug(self) -> str:
        """The slug the person typed, else one made from the name (may still be invalid)."""
        return self.slug.data or slugify(self.name.data or "")


class DeleteGroupForm(PlannerForm):
    confirm_slug = StringField(
        _l("Type the group's web address to confirm"),
        filters=[_lower_strip],
        validators=[DataRequired(_l("Type the web address to confirm.")), Length(max=SLUG_MAX)],
    )


class RoleForm(PlannerForm):
    role = SelectField(
        _l("Role"),
        choices=ROLE_CHOICES,
        validators=[DataRequired()],
    )


class ActionForm(PlannerForm):
    """A button with nothing but its CSRF token: join, leave, remove, revoke, restore, delete."""


class InviteMailForm(PlannerForm):
    addresses = TextAreaField(
        _l("E-mail addresses"),
        validators=[DataRequired(_l("Paste at least one e-mail address.")), Length(max=20_000)],
        description=_l("Up to 50, separated by commas, spaces or new lines."),
    )
    note = StringField(
        _l("A short note (optional)"),
        validators=[Optional(), Length(max=500, message=_l("Keep the note to 500 characters."))],
    )


class InviteForm(PlannerForm):
    expires_in_days = IntegerField(
        _l("Expires after (days)"),
        validators=[
            Optional(),
            NumberRange(min=1, max=365, message=_l("Choose 1 to 365 days, or leave empty.")),
        ],
        description=_l("Leave empty for a link that never expires."),
    )
    max_uses = IntegerField(
        _l("Maximum uses"),
        validators=[
            Optional(),
            NumberRange(min=1, max=10_000, message=_l("Choose 1 to 10000, or leave empty.")),
        ],
        description=_l("Leave empty for any number of people."),
    )


# -- mail preferences (planner.notify.preferences) --------------------------------------------

#: The digest's day, 0 = Monday (as stored); whole phrases, so each language words it itself.
DIGEST_DAYS = (
    _l("On Mondays"), _l("On Tuesdays"), _l("On Wednesdays"), _l("On Thursdays"),
    _l("On Fridays"), _l("On Saturdays"), _l("On Sundays"),
)
HOUR_CHOICES = [SelectChoice(str(h), f"{h:02d}:00") for h in range(24)]


def _options(*pairs: tuple[str, str]) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


class MailSettingsForm(PlannerForm):
    """A person's own reminder, digest and comment choices (all groups)."""

    reminder = SelectField(
        _l("Remind me of dates I'm going to"),
        choices=_options(
            ("", _l("As each group suggests")),
            ("evening", _l("The evening before")),
            ("morning", _l("The morning of")),
            ("hours", _l("A few hours before")),
            ("off", _l("Never")),
        ),
        default="",
    )
    reminder_hour = SelectField(
        _l("At"), choices=[SelectChoice("", _l("The group's hour")), *HOUR_CHOICES], default=""
    )
    hours_before = IntegerField(
        _l("Hours before"),
        default=3,
        validators=[Optional(), NumberRange(min=1, max=72, message=_l("Choose 1 to 72 hours."))],
    )
    digest = SelectField(
        _l("Weekly digest"),
        choices=[SelectChoice("", _l("Off")),
                 *[SelectChoice(str(i), name) for i, name in enumerate(DIGEST_DAYS)]],
        default="",
    )
    comments = BooleanField(_l("Mail me new comments on dates I'm going to (at most one an hour)"))


class GroupMailForm(PlannerForm):
    """How much mail one person wants from one group."""

    scope = SelectField(
        _l("Mail from this group"),
        choices=_options(
            ("", _l("As the group suggests")),
            ("all", _l("Everything")),
            ("going", _l("Only dates I'm going to")),
            ("none", _l("Nothing")),
        ),
        default="",
    )


class GroupMailDefaultsForm(PlannerForm):
    """An organizer's defaults for the group's members (a member's own choice wins)."""

    default_reminder = SelectField(
        _l("Remind members"),
        choices=_options(
            ("evening", _l("The evening before")),
            ("morning", _l("The morning of")),
            ("hours", _l("Three hours before")),
            ("off", _l("Not at all")),
        ),
    )
    default_reminder_hour = SelectField(_l("At"), choices=HOUR_CHOICES)
    default_scope = SelectField(
        _l("Members get mail about"),
        choices=_options(("going", _l("Dates they're going to")), ("all", _l("Every date")),
                         ("none", _l("Nothing"))),
    )


class MessageForm(PlannerForm):
    """An organizer's message about one date (planner.notify.messages)."""

    audience = RadioField(
        _l("Send to"),
        choices=[
            SelectChoice("going", _l("Everyone going")),
            SelectChoice("members", _l("All members")),
        ],
        default="going",
        validators=[InputRequired(_l("Choose who the message is for."))],
    )
    text = TextAreaField(
        _l("Message"),
        validators=[DataRequired(_l("Write the message first.")),
                    Length(max=2000, message=_l("Keep the message under 2000 characters."))],
    )


# -- belonging (planner.belonging) -------------------------------------------------------------


class GoodThingForm(PlannerForm):
    body = StringField(
        _l("A good thing from this date"),
        validators=[DataRequired(_l("Write the good thing first.")),
                    Length(max=280, message=_l("Keep it under 280 characters."))],
    )


class BreakForm(PlannerForm):
    label = StringField(
        _l("Name"), default=lambda: gettext("Summer break"),
        validators=[DataRequired(_l("Give the break a name, like “Summer break”.")),
                    Length(max=80, message=_l("Keep the name under 80 characters."))],
    )
    first_day = DateField(_l("First day off"),
                          validators=[InputRequired(_l("Choose the break's first day."))])
    last_day = DateField(_l("Last day off"),
                         validators=[InputRequired(_l("Choose the break's last day."))])


class CheckinMessageForm(PlannerForm):
    text = TextAreaField(
        _l("Your message"),
        validators=[DataRequired(_l("Write the message first.")),
                    Length(max=1000, message=_l("Keep the message under 1000 characters."))],
    )
