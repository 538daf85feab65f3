"""The tables. Timestamps are naive UTC; routine times are naive *local* wall-clock plus a zone.

An occurrence is not a row: it is ``(routine, original_start)`` computed by
:mod:`planner.scheduling.recurrence`. RSVPs, claims and comments hang off that key, so moving an
occurrence keeps them.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Connection,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    bindparam,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from planner.db import Base
from planner.enums import (
    Answer,
    MailScope,
    NoticeKind,
    OverrideStatus,
    ReminderWhen,
    Role,
    Visibility,
    check_in,
)


def utcnow() -> datetime:
    """Naive UTC: portable across SQLite and PostgreSQL ``timestamp without time zone``."""
    return datetime.now(UTC).replace(tzinfo=None)


class User(UserMixin, Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored lower-cased, so the unique index is case-insensitive on every backend.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(80))
    password_hash: Mapped[str] = mapped_column(String(255))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    # A locale code from planner.web.i18n.LANGUAGES; NULL: follow the browser's Accept-Language.
    locale: Mapped[str | None] = mapped_column(String(16), default=None)
    # Secret part of the personal/private feed URLs; NULL means revoked.
    feed_token: Mapped[str | None] = mapped_column(String(64), unique=True)
    # Every session cookie carries it; a new value (log-out, new password, "log out everywhere")
    # refuses every cookie issued before, copied ones included. NULL: no session may exist.
    session_token: Mapped[str | None] = mapped_column(String(64))
    # NULL until the address is confirmed by mail; only sign-up starts unverified (people made
    # by the demo, tests or an admin count as verified). Unverified: no mail but account mail.
    email_verified_at: Mapped[datetime | None] = mapped_column(DateTime, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True,
        foreign_keys="Membership.user_id",
    )

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"


class Group(Base):
    __tablename__ = "groups"
    __table_args__ = (
        CheckConstraint(check_in("visibility", Visibility), name="visibility"),
        CheckConstraint(check_in("default_reminder", ReminderWhen), name="default_reminder"),
        CheckConstraint(check_in("default_scope", MailScope), name="default_scope"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    visibility: Mapped[str] = mapped_column(String(16), default=Visibility.PUBLIC)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    # Bumped on any change that alters the group's feeds: the ETag and cache key.
    version: Mapped[int] = mapped_column(Integer, default=1)
    # The group's mail defaults (an organizer's choice); a member's own choice wins.
    default_reminder: Mapped[str] = mapped_column(String(16), default=ReminderWhen.EVENING)
    default_reminder_hour: Mapped[int] = mapped_column(Integer, default=18)
    default_scope: Mapped[str] = mapped_column(String(16), default=MailScope.GOING)
    # The language of the group's feeds (their schedules in words); NULL: the site's default.
    language: Mapped[str | None] = mapped_column(String(16), default=None)
    # Kind check-ins (planner/belonging/checkins.py): an organizer may switch them off.
    checkins_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="group", cascade="all, delete-orphan", passive_deletes=True
    )
    routines: Mapped[list[Routine]] = relationship(
        back_populates="group", cascade="all, delete-orphan", passive_deletes=True
    )

    @property
    def is_public(self) -> bool:
        return self.visibility == Visibility.PUBLIC


def bump_group_version(session: Session, group_id: int) -> None:
    """Atomically mark a group's feeds as changed (safe under concurrent writers).

    A Core statement built once, run on the session's connection: the ORM's bulk-update path
    (and building the statement anew) cost more CPU than the round trip, and every answer
    runs this while it holds the occurrence lock. No loaded ``Group`` is refreshed, as before
    (``synchronize_session=False``); the text is the one :mod:`planner.feeds.versions` reads."""
    session.connection().execute(_BUMP, {"group_id": group_id, "now": utcnow()})


def bump_group_version_after(session: Session, group_id: int) -> None:
    """:func:`bump_group_version` in a transaction of its own, once the write it announces
    has committed (an answer: see :func:`planner.joining.answers.answer`).

    The groups row is the one row every answer of a group writes: bumped inside the answer's
    transaction, each answer held its occurrence lock while it queued for that row behind the
    answers to the group's other occurrences. Afterwards no occurrence lock waits for it, and
    on PostgreSQL it is one autocommitted statement (one round trip).

    Caches stay fresh: a page or feed is keyed by the version, which is read before the rows
    it shows, so what is stored under the new version was read after the answer committed;
    and the bump is done before the answer's response, so anything asked for after it sees
    the new version. In between (milliseconds) a reader may get what it would have got a
    moment earlier."""
    if session.in_transaction():
        session.commit()
    # Autocommit needs a connection of the session's own: one bound to a Connection the
    # caller manages (a test's outer transaction) runs the bump as an ordinary transaction.
    own = not isinstance(session.bind, Connection)
    if own and session.get_bind().dialect.name == "postgresql":
        session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
    try:
        bump_group_version(session, group_id)
        session.commit()
    except BaseException:
        session.rollback()
        raise


_BUMP = (
    update(Group)
    .where(Group.id == bindparam("group_id"))
    .values(version=Group.version + 1, updated_at=bindparam("now"))
)


class Membership(Base):
    __tablename__ = "memberships"
    __table_args__ = (
        UniqueConstraint("group_id", "user_id"),
        CheckConstraint(check_in("role", Role), name="role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16), default=Role.MEMBER)
    # Belonging (planner/belonging): who this member would like to hear from when they have
    # been away, whether they may be checked on at all, and whether fellow members see them in
    # shared history ("You've shared 8 suppers with Sam").
    buddy_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    checkins: Mapped[bool] = mapped_column(Boolean, default=True)
    hide_history: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    group: Mapped[Group] = relationship(back_populates="memberships")
    user: Mapped[User] = relationship(back_populates="memberships", foreign_keys=[user_id])

    @property
    def can_organize(self) -> bool:
        return Role(self.role).organizes


class Invite(Base):
    __tablename__ = "invites"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    expires_at: Mapped[datetime | None] = mapped_column(DateTime)
    max_uses: Mapped[int | None] = mapped_column(Integer)
    uses: Mapped[int] = mapped_column(Integer, default=0)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    group: Mapped[Group] = relationship()

    def unusable_reason(self, now: datetime | None = None) -> str | None:
        """Why this invite cannot be used now, in words for the page; None when usable."""
        now = now or utcnow()
        if self.revoked_at is not None:
            return "This invite link was revoked by the group's organizers."
        if self.expires_at is not None and self.expires_at <= now:
            return "This invite link has expired."
        if self.max_uses is not None and self.uses >= self.max_uses:
            return "This invite link has been used as many times as allowed."
        return None


class Routine(Base):
    """A series: one-off when ``rrule`` is empty."""

    __tablename__ = "routines"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), index=True)
    activity_key: Mapped[str] = mapped_column(String(64), default="gathering")
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    location: Mapped[str] = mapped_column(String(300), default="")
    timezone: Mapped[str] = mapped_column(String(64))
    start: Mapped[datetime] = mapped_column(DateTime)  # naive local wall-clock
    duration_minutes: Mapped[int] = mapped_column(Integer, default=60)
    # RFC 5545 RRULE value without the "RRULE:" prefix; UNTIL is stored in UTC ("...Z").
    rrule: Mapped[str] = mapped_column(String(500), default="")
    capacity: Mapped[int | None] = mapped_column(Integer)
    max_guests: Mapped[int] = mapped_column(Integer, default=0)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    # Ask members who haven't answered, once, this many hours before each date; NULL: don't.
    ask_hours_before: Mapped[int | None] = mapped_column(Integer)
    # Set when "change from here on" split this series off an earlier one.
    previous_id: Mapped[int | None] = mapped_column(
        ForeignKey("routines.id", ondelete="SET NULL")
    )
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    group: Mapped[Group] = relationship(back_populates="routines")
    overrides: Mapped[list[Override]] = relationship(
        back_populates="routine",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="Override.original_start",
    )
    slots: Mapped[list[Slot]] = relationship(
        back_populates="routine",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="Slot.position",
    )

    @property
    def duration(self) -> timedelta:
        return timedelta(minutes=self.duration_minutes)


class Override(Base):
    """One occurrence cancelled or changed; keyed by its RECURRENCE-ID (``original_start``)."""

    __tablename__ = "overrides"
    __table_args__ = (
        UniqueConstraint("routine_id", "original_start"),
        CheckConstraint(check_in("status", OverrideStatus), name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    routine_id: Mapped[int] = mapped_column(ForeignKey("routines.id", ondelete="CASCADE"))
    original_start: Mapped[datetime] = mapped_column(DateTime)  # naive local
    status: Mapped[str] = mapped_column(String(16))
    start: Mapped[datetime | None] = mapped_column(DateTime)  # naive local
    duration_minutes: Mapped[int | None] = mapped_column(Integer)
    location: Mapped[str | None] = mapped_column(String(300))
    title: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    routine: Mapped[Routine] = relationship(back_populates="overrides")


#: What an override says about its occurrence, for reads that want plain rows rather than
#: ORM objects (pages and feeds that expand many routines at once).
OVERRIDE_COLUMNS = (
    Override.routine_id,
    Override.original_start,
    Override.status,
    Override.start,
    Override.duration_minutes,
    Override.location,
    Override.title,
    Override.note,
    Override.sequence,
)


class Regular(Base):
    """A member who goes to every occurrence of a routine unless they answer otherwise."""

    __tablename__ = "regulars"
    __table_args__ = (UniqueConstraint("routine_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    routine_id: Mapped[int] = mapped_column(ForeignKey("routines.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    joined_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    user: Mapped[User] = relationship()


class Rsvp(Base):
    """An explicit answer for one occurrence.

    ``answered_at`` is the arrival time that orders the waitlist; it is reset whenever the
    answer moves into "going", so changing one's mind joins the back of the queue.
    """

    __tablename__ = "rsvps"
    __table_args__ = (
        UniqueConstraint("routine_id", "original_start", "user_id"),
        CheckConstraint(check_in("status", Answer), name="status"),
        CheckConstraint("guests >= 0", name="guests"),
        Index("ix_rsvps_user_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    routine_id: Mapped[int] = mapped_column(ForeignKey("routines.id", ondelete="CASCADE"))
    original_start: Mapped[datetime] = mapped_column(DateTime)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16))
    guests: Mapped[int] = mapped_column(Integer, default=0)
    answered_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    user: Mapped[User] = relationship()


class Slot(Base):
    """A sign-up slot defined on a routine (host, a dish, the ball, a lift)."""

    __tablename__ = "slots"

    id: Mapped[int] = mapped_column(primary_key=True)
    routine_id: Mapped[int] = mapped_column(
        ForeignKey("routines.id", ondelete="CASCADE"), index=True
    )
    label: Mapped[str] = mapped_column(String(80))
    capacity: Mapped[int] = mapped_column(Integer, default=1)
    position: Mapped[int] = mapped_column(Integer, default=0)

    routine: Mapped[Routine] = relationship(back_populates="slots")


def default_slot_rows(routine_id: int, defaults) -> list[Slot]:
    """Slot rows for a routine from its activity type's ``default_slots``, in their order,
    with their labels in the language being spoken (a lazy label is read now)."""
    return [
        Slot(routine_id=routine_id, label=str(d.label), capacity=d.capacity, position=position)
        for position, d in enumerate(defaults)
    ]


class Claim(Base):
    """A member taking a slot on one occurrence."""

    __tablename__ = "claims"
    __table_args__ = (UniqueConstraint("slot_id", "original_start", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("slots.id", ondelete="CASCADE"))
    original_start: Mapped[datetime] = mapped_column(DateTime)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    slot: Mapped[Slot] = relationship()
    user: Mapped[User] = relationship()


class Comment(Base):
    __tablename__ = "comments"
    __table_args__ = (Index("ix_comments_occurrence", "routine_id", "original_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    routine_id: Mapped[int] = mapped_column(ForeignKey("routines.id", ondelete="CASCADE"))
    original_start: Mapped[datetime] = mapped_column(DateTime)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    user: Mapped[User | None] = relationship()


class OutboxMessage(Base):
    """One e-mail that should go out, written in the transaction of the change that causes it.

    The worker (:mod:`planner.mail.delivery`) is the only reader: it claims due rows with a
    lease, sends them and stamps ``sent_at``. The unique ``dedupe_key`` is what makes "queued
    twice" impossible even when two requests race: the second insert is skipped.
    """

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "state", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    recipient: Mapped[str] = mapped_column(String(254))
    # NULL for mail to an address that has no account yet (an invite).
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    dedupe_key: Mapped[str] = mapped_column(String(255), unique=True)
    subject: Mapped[str] = mapped_column(String(255))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text, default="")
    headers: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    # queued -> sent | failed
    state: Mapped[str] = mapped_column(String(16), default="queued")
    due_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # A worker's lease: rows claimed and not sent before it ends are picked up again.
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Where the .eml backend wrote it (no SMTP configured), for `planner outbox`.
    path: Mapped[str] = mapped_column(String(500), default="")
    # What the mail is about ("routine_id:key" for a date), so the send-time check registered
    # for its kind can re-ask whether it should still go (a reminder for a date since cancelled
    # is dropped, state "dropped", not sent).
    about: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class MailSettings(Base):
    """A person's own choices for reminders, the digest and comment mail (all groups).

    NULL reminder fields follow each group's default; a row exists once the person saves the
    form, so the defaults stay the group's until someone chooses.
    """

    __tablename__ = "mail_settings"
    __table_args__ = (
        CheckConstraint(check_in("reminder", ReminderWhen), name="reminder"),
        CheckConstraint("reminder_hour BETWEEN 0 AND 23", name="reminder_hour"),
        CheckConstraint("hours_before BETWEEN 1 AND 72", name="hours_before"),
        CheckConstraint("digest_weekday BETWEEN 0 AND 6", name="digest_weekday"),
    )

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    reminder: Mapped[str | None] = mapped_column(String(16))
    reminder_hour: Mapped[int | None] = mapped_column(Integer)
    hours_before: Mapped[int | None] = mapped_column(Integer)
    # Monday = 0; NULL: no digest (the default).
    digest_weekday: Mapped[int | None] = mapped_column(Integer)
    comments: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class GroupMailSettings(Base):
    """One person's choices for one group: how much mail, and what they unsubscribed from.

    ``muted`` holds the categories switched off for this group (one-click unsubscribe adds to
    it); ``scope`` NULL follows the group's default.
    """

    __tablename__ = "group_mail_settings"
    __table_args__ = (
        UniqueConstraint("user_id", "group_id"),
        CheckConstraint(check_in("scope", MailScope), name="scope"),
        Index("ix_group_mail_settings_group", "group_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    scope: Mapped[str | None] = mapped_column(String(16))
    muted: Mapped[list[str]] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class PendingNotice(Base):
    """A change people will hear about once it has been quiet for a few minutes.

    One row per (occurrence, kind): a second edit within the quiet time moves ``due_at`` on and
    keeps ``before`` (the state people last heard of), so five quick edits send one notice with
    the final state beside the first. The flush job deletes the row as it queues the mails.
    """

    __tablename__ = "pending_notices"
    __table_args__ = (
        UniqueConstraint("routine_id", "original_start", "kind"),
        CheckConstraint(check_in("kind", NoticeKind), name="kind"),
        Index("ix_pending_notices_due", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    routine_id: Mapped[int] = mapped_column(ForeignKey("routines.id", ondelete="CASCADE"))
    original_start: Mapped[datetime] = mapped_column(DateTime)  # naive local
    kind: Mapped[str] = mapped_column(String(16))
    # What people last heard: title, start, end, location (ISO strings), status.
    before: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Kind-specific detail: the reason for a cancellation, the people now waiting, ...
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    due_at: Mapped[datetime] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Presence(Base):
    """Whether one member was there on one past date ("Were you there?"), said by themselves or
    confirmed for everyone by the host or an organizer (``confirmed_by_id``).

    Members see only the count ("12 came"); who did not come is for organizers. Rows older than
    ``PLANNER_HISTORY_MONTHS`` are deleted by a periodic job, so the history can never become a
    record to judge someone by.
    """

    __tablename__ = "presences"
    __table_args__ = (
        UniqueConstraint("routine_id", "original_start", "user_id"),
        Index("ix_presences_user", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    routine_id: Mapped[int] = mapped_column(ForeignKey("routines.id", ondelete="CASCADE"))
    original_start: Mapped[datetime] = mapped_column(DateTime)  # naive local: the key
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    came: Mapped[bool] = mapped_column(Boolean)
    confirmed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class GoodThing(Base):
    """One short "good thing" about a past date, by someone who came (up to 280 characters)."""

    __tablename__ = "good_things"
    __table_args__ = (Index("ix_good_things_occurrence", "routine_id", "original_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    routine_id: Mapped[int] = mapped_column(ForeignKey("routines.id", ondelete="CASCADE"))
    original_start: Mapped[datetime] = mapped_column(DateTime)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    body: Mapped[str] = mapped_column(String(280))
    hidden_at: Mapped[datetime | None] = mapped_column(DateTime)  # an organizer hid it
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    user: Mapped[User] = relationship()


class PlannedBreak(Base):
    """"Summer break 20 Jul - 31 Aug": a routine's dates in those days are off, together.

    The dates are cancelled overrides whose note names the break (one notice for all of them),
    and they do not break the routine's rhythm. Undoing the break restores them.
    """

    __tablename__ = "planned_breaks"
    __table_args__ = (
        CheckConstraint("first_day <= last_day", name="days"),
        Index("ix_planned_breaks_routine", "routine_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    routine_id: Mapped[int] = mapped_column(ForeignKey("routines.id", ondelete="CASCADE"))
    label: Mapped[str] = mapped_column(String(80))
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class CheckinPrompt(Base):
    """A private "maybe drop Sam a line?" sent to one person about one absent member: kept so
    that at most one goes per absent member and group every four weeks."""

    __tablename__ = "checkin_prompts"
    __table_args__ = (Index("ix_checkin_prompts_absent", "group_id", "absent_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    absent_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    recipient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    routine_id: Mapped[int | None] = mapped_column(ForeignKey("routines.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
