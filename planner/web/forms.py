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
from zoneinfo import available_timezones

from flask import request
from flask_wtf import FlaskForm
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
from wtforms.validators import (
    DataRequired,
    Email,
    EqualTo,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from planner.enums import Role, Visibility

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
    SelectChoice(Role.MEMBER, "Member"),
    SelectChoice(Role.ORGANIZER, "Organizer"),
    SelectChoice(Role.OWNER, "Owner"),
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
        raise ValidationError("Choose a timezone from the list (for example Europe/Berlin).")


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
        raise ValidationError(f"Use {SLUG_MIN} to {SLUG_MAX} characters.")
    if not SLUG_PATTERN.match(slug):
        raise ValidationError(
            "Use lowercase letters, digits and single hyphens (for example thursday-supper)."
        )
    if slug in RESERVED_SLUGS:
        raise ValidationError(f"“{slug}” is reserved; choose another address.")


def strip(value: object) -> object:
    """A field filter: surrounding whitespace is never what a person meant to type."""
    return value.strip() if isinstance(value, str) else value


def _lower_strip(value):
    return value.strip().lower() if isinstance(value, str) else value


class TimezoneField(SelectField):
    """A select of every zone; an unknown value gets a clear message, not "Not a valid choice"."""

    def __init__(self, label: str = "Timezone", **kwargs):
        kwargs.setdefault("validators", [DataRequired("Choose a timezone."), known_timezone])
        super().__init__(label, choices=timezone_choices, validate_choice=False, **kwargs)


def email_field() -> EmailField:
    return EmailField(
        "Email",
        filters=[_lower_strip],
        validators=[
            DataRequired("Enter your email address."),
            Length(max=254, message="An email address has at most 254 characters."),
            Email("That does not look like an email address."),
        ],
    )


def new_password_fields(
    label: str = "Password", again: str = "Password again"
) -> tuple[PasswordField, PasswordField]:
    password = PasswordField(
        label,
        validators=[
            DataRequired("Choose a password."),
            Length(
                min=PASSWORD_MIN,
                max=PASSWORD_MAX,
                message=f"Use {PASSWORD_MIN} to {PASSWORD_MAX} characters.",
            ),
        ],
    )
    confirm = PasswordField(
        again,
        validators=[
            DataRequired("Type the password again."),
            EqualTo("password", "The two passwords differ."),
        ],
    )
    return password, confirm


def display_name_field() -> StringField:
    return StringField(
        "Display name",
        filters=[strip],
        validators=[
            DataRequired("Tell the group what to call you."),
            Length(max=80, message="Use at most 80 characters."),
        ],
    )


# --- accounts ---------------------------------------------------------------------------------


class SignupForm(FlaskForm):
    email = email_field()
    display_name = display_name_field()
    password, confirm = new_password_fields()
    timezone = TimezoneField("Your timezone")


class LoginForm(FlaskForm):
    email = EmailField(
        "Email",
        filters=[_lower_strip],
        validators=[DataRequired("Enter your email address."), Length(max=254)],
    )
    password = PasswordField(
        "Password",
        validators=[DataRequired("Enter your password."), Length(max=PASSWORD_MAX)],
    )


class ForgotForm(FlaskForm):
    email = EmailField(
        "Email",
        filters=[_lower_strip],
        validators=[DataRequired("Enter your email address."), Length(max=254)],
    )


class EmailChangeForm(FlaskForm):
    email = EmailField(
        "New e-mail address",
        filters=[_lower_strip],
        validators=[DataRequired("Enter the new address."), Length(max=254)],
    )
    password = PasswordField(
        "Your password",
        validators=[DataRequired("Enter your password to confirm."), Length(max=PASSWORD_MAX)],
    )


class ResetForm(FlaskForm):
    password, confirm = new_password_fields("New password", "New password again")


class ProfileForm(FlaskForm):
    display_name = display_name_field()
    timezone = TimezoneField("Your timezone")


class PasswordForm(FlaskForm):
    current = PasswordField(
        "Current password",
        validators=[DataRequired("Enter your current password."), Length(max=PASSWORD_MAX)],
    )
    password, confirm = new_password_fields("New password", "New password again")


class DeleteAccountForm(FlaskForm):
    password = PasswordField(
        "Your password",
        validators=[DataRequired("Enter your password to confirm."), Length(max=PASSWORD_MAX)],
    )
    confirm = BooleanField(
        "I understand that this cannot be undone.",
        validators=[DataRequired("Tick the box to confirm.")],
    )


# --- groups -----------------------------------------------------------------------------------


class GroupForm(FlaskForm):
    name = StringField(
        "Name",
        filters=[strip],
        validators=[
            DataRequired("Give the group a name."),
            Length(max=120, message="Use at most 120 characters."),
        ],
    )
    slug = StringField(
        "Web address",
        filters=[_lower_strip],
        validators=[Optional(), valid_slug],
        description="Left empty, it is made from the name.",
    )
    description = TextAreaField(
        "Description",
        filters=[strip],
        validators=[Length(max=5000, message="Use at most 5000 characters.")],
    )
    visibility = RadioField(
        "Who can find it",
        choices=[
            SelectChoice(
                Visibility.PUBLIC, "Public: listed in the directory; anyone logged in can join"
            ),
            SelectChoice(
                Visibility.PRIVATE, "Private: hidden; people join through an invite link"
            ),
        ],
        default=Visibility.PUBLIC,
        validators=[InputRequired("Choose public or private.")],
    )
    timezone = TimezoneField("Group timezone")

    def derived_slug(self) -> str:
        """The slug the person typed, else one made from the name (may still be invalid)."""
        return self.slug.data or slugify(self.name.data or "")


class DeleteGroupForm(FlaskForm):
    confirm_slug = StringField(
        "Type the group's web address to confirm",
        filters=[_lower_strip],
        validators=[DataRequired("Type the web address to confirm."), Length(max=SLUG_MAX)],
    )


class RoleForm(FlaskForm):
    role = SelectField(
        "Role",
        choices=ROLE_CHOICES,
        validators=[DataRequired()],
    )


class ActionForm(FlaskForm):
    """A button with nothing but its CSRF token: join, leave, remove, revoke, restore, delete."""


class InviteMailForm(FlaskForm):
    addresses = TextAreaField(
        "E-mail addresses",
        validators=[DataRequired("Paste at least one e-mail address."), Length(max=20_000)],
        description="Up to 50, separated by commas, spaces or new lines.",
    )
    note = StringField(
        "A short note (optional)",
        validators=[Optional(), Length(max=500, message="Keep the note to 500 characters.")],
    )


class InviteForm(FlaskForm):
    expires_in_days = IntegerField(
        "Expires after (days)",
        validators=[
            Optional(),
            NumberRange(min=1, max=365, message="Choose 1 to 365 days, or leave empty."),
        ],
        description="Leave empty for a link that never expires.",
    )
    max_uses = IntegerField(
        "Maximum uses",
        validators=[
            Optional(),
            NumberRange(min=1, max=10_000, message="Choose 1 to 10000, or leave empty."),
        ],
        description="Leave empty for any number of people.",
    )


# -- mail preferences (planner.notify.preferences) --------------------------------------------

WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
HOUR_CHOICES = [SelectChoice(str(h), f"{h:02d}:00") for h in range(24)]


def _options(*pairs: tuple[str, str]) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


class MailSettingsForm(FlaskForm):
    """A person's own reminder, digest and comment choices (all groups)."""

    reminder = SelectField(
        "Remind me of dates I'm going to",
        choices=_options(
            ("", "As each group suggests"),
            ("evening", "The evening before"),
            ("morning", "The morning of"),
            ("hours", "A few hours before"),
            ("off", "Never"),
        ),
        default="",
    )
    reminder_hour = SelectField("At", choices=[SelectChoice("", "The group's hour"), *HOUR_CHOICES],
                                default="")
    hours_before = IntegerField(
        "Hours before",
        default=3,
        validators=[Optional(), NumberRange(min=1, max=72, message="Choose 1 to 72 hours.")],
    )
    digest = SelectField(
        "Weekly digest",
        choices=[SelectChoice("", "Off"),
                 *[SelectChoice(str(i), f"On {name}s") for i, name in enumerate(WEEKDAY_NAMES)]],
        default="",
    )
    comments = BooleanField("Mail me new comments on dates I'm going to (at most one an hour)")


class GroupMailForm(FlaskForm):
    """How much mail one person wants from one group."""

    scope = SelectField(
        "Mail from this group",
        choices=_options(
            ("", "As the group suggests"),
            ("all", "Everything"),
            ("going", "Only dates I'm going to"),
            ("none", "Nothing"),
        ),
        default="",
    )


class GroupMailDefaultsForm(FlaskForm):
    """An organizer's defaults for the group's members (a member's own choice wins)."""

    default_reminder = SelectField(
        "Remind members",
        choices=_options(
            ("evening", "The evening before"),
            ("morning", "The morning of"),
            ("hours", "Three hours before"),
            ("off", "Not at all"),
        ),
    )
    default_reminder_hour = SelectField("At", choices=HOUR_CHOICES)
    default_scope = SelectField(
        "Members get mail about",
        choices=_options(("going", "Dates they're going to"), ("all", "Every date"),
                         ("none", "Nothing")),
    )


class MessageForm(FlaskForm):
    """An organizer's message about one date (planner.notify.messages)."""

    audience = RadioField(
        "Send to",
        choices=[SelectChoice("going", "Everyone going"), SelectChoice("members", "All members")],
        default="going",
        validators=[InputRequired("Choose who the message is for.")],
    )
    text = TextAreaField(
        "Message",
        validators=[DataRequired("Write the message first."),
                    Length(max=2000, message="Keep the message under 2000 characters.")],
    )


# -- belonging (planner.belonging) -------------------------------------------------------------


class GoodThingForm(FlaskForm):
    body = StringField(
        "A good thing from this date",
        validators=[DataRequired("Write the good thing first."),
                    Length(max=280, message="Keep it under 280 characters.")],
    )


class BreakForm(FlaskForm):
    label = StringField(
        "Name", default="Summer break",
        validators=[DataRequired("Give the break a name, like “Summer break”."),
                    Length(max=80, message="Keep the name under 80 characters.")],
    )
    first_day = DateField("First day off",
                          validators=[InputRequired("Choose the break's first day.")])
    last_day = DateField("Last day off",
                         validators=[InputRequired("Choose the break's last day.")])


class CheckinMessageForm(FlaskForm):
    text = TextAreaField(
        "Your message",
        validators=[DataRequired("Write the message first."),
                    Length(max=1000, message="Keep the message under 1000 characters.")],
    )
