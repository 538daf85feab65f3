"""Hostile input on every route, as every role: never a 500, never a half-saved change.

A deterministic fuzz table rather than random examples, so a failure names its exact request:
every rule of ``app.url_map`` gets junk in each path parameter (huge and negative numbers,
NUL bytes, unicode, overlong text, impossible occurrence keys), and every POST form gets junk
in each of its fields (found by reading the forms the pages actually render) while the other
fields keep valid values, so the junk reaches the code behind validation. Each request runs in
a transaction that is rolled back afterwards, so every request meets the same world; rejected
POSTs are checked to have changed no row.
"""

from __future__ import annotations

import re
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import g
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from planner.db import Base
from planner.models import (
    CheckinPrompt,
    Comment,
    GoodThing,
    Override,
    PlannedBreak,
    Routine,
    Rsvp,
    default_slot_rows,
)
from planner.scheduling.recurrence import format_key
from planner.testing import PER_REQUEST_G, Auth
from tests import routes_feeds, routes_foundation, routes_joining, routes_plugins, routes_routines
from tests.authz import ROLES, World, build_world

# -- the junk ------------------------------------------------------------------------------------

LONG = "x" * 10_000
HUGE = "99999999999999999999"
INT32_OVER = "2147483648"
INT64_OVER = "9223372036854775808"

#: Junk per kind of field, one field at a time. Values that a field's parser refuses the same
#: way (any non-number for a number) are represented once; NUL once per text field (the guard
#: refuses it for the whole request).
TEXT_JUNK = (
    "",
    "   ",
    LONG,
    "🍲" * 2_600,
    "\u202eevil\u202c عربى",
    "a\x00b",
    "<script>alert(1)</script>",
    "javascript:alert(1)",
    "0",
)
NUMBER_JUNK = (
    "",
    "many",
    "0",
    "-1",
    "1.5",
    "1e309",
    "NaN",
    "2147483647",
    INT32_OVER,
    INT64_OVER,
    HUGE,
    "-" + HUGE,
)
DATE_JUNK = ("", LONG, "0000-00-00", "0001-01-01", "9999-12-31", "2026-02-30", "1900-01-01")
TIME_JUNK = ("", LONG, "25:61", "23:59:59.999", "24:00", "00:00", "23:59")
CHOICE_JUNK = ("", LONG, "Not/AZone", "../../etc", "a\x00b")
KEYS = ("20261301T1900", "99991231T2359", "00010101T0000")
KIND_VALUES: dict[str, tuple[str, ...]] = {
    "number": NUMBER_JUNK,
    "date": DATE_JUNK,
    "time": TIME_JUNK,
    "text": TEXT_JUNK,
    "textarea": TEXT_JUNK,
    "hidden": (*TEXT_JUNK, *KEYS),
    "select": CHOICE_JUNK,
    "radio": CHOICE_JUNK,
    "checkbox": CHOICE_JUNK,
    "submit": ("", "0", LONG),
}
#: At most this many of a select's own options (a valid value in a new combination).
OPTIONS_TRIED = 8
RRULES = (
    "FREQ=SECONDLY",
    "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30",
    "FREQ=DAILY;UNTIL=99991231T235959Z",
    "FREQ=DAILY;UNTIL=00010101",
    "FREQ=WEEKLY;COUNT=999999999",
    "FREQ=DAILY;INTERVAL=" + HUGE,
    "FREQ=MONTHLY;BYSETPOS=" + HUGE,
    "FREQ=MONTHLY;BYDAY=" + HUGE + "MO",
    "FREQ=YEARLY;BYWEEKNO=53;BYDAY=MO",
    "FREQ=YEARLY;BYYEARDAY=366",
    "RRULE:FREQ=DAILY\nEXDATE:20261203",
    "FREQ=DAILY;WKST=XX",
)
#: Redirect targets a browser would read as another site, or that break a header: tab, CR and
#: LF (dropped or refused inside URLs), NUL, backslashes (read as ``/``), encoded slashes and
#: tabs, the full-width solidus, and a megabyte (a 400 KB ``Location`` was once seen).
MEGA = "/" + "x" * 1_000_000
NEXT_JUNK = (
    "//evil.example",
    "https://evil.example/",
    "/\\evil",
    "/%0d%0aSet-Cookie:x",
    "/\t/evil.example/",
    "/\r\n/x",
    "/\n/evil.example",
    "/\x00/evil.example",
    "\\\\evil.example",
    "/\\/evil.example",
    "/%09/evil.example",
    "/%2F/evil.example",
    "/%5C/evil.example",
    "/\uff0fevil.example",
    "\uff0f\uff0fevil.example",
    " //evil.example",
    MEGA,
)
#: Extra junk by the last part of a field's name (``details-booking_url`` -> ``booking_url``).
NAME_VALUES: dict[str, tuple[str, ...]] = {
    "rrule": RRULES,
    "timezone": ("Not/AZone", "../../etc", "UTC", "Etc/GMT+12", "Pacific/Kiritimati"),
    "booking_url": ("javascript:alert(1)", "data:text/html,x", "https://" + "a" * 600),
    "start_date": ("9999-12-31", "0001-01-01"),
    "until": ("9999-12-31", "0001-01-01"),
    "last_date": ("9999-12-31", "0001-01-01"),
    "next": NEXT_JUNK,
    "next_key": ("99991231T2359", "00010101T0000", "20261301T1900", "../../etc", *NEXT_JUNK),
    "status": ("going", "maybe", "no", "waitlist", "GOING"),
    "guests": NUMBER_JUNK,
}
#: When junk goes into a field, the fields that make the form read it.
COMPANIONS: dict[str, dict[str, str]] = {
    "rrule": {"repeat": "advanced"},
    "until": {"ends": "until"},
    "count": {"ends": "count"},
    "month_day": {"repeat": "monthly_day"},
    "month_nth": {"repeat": "monthly_nth"},
    "month_weekday": {"repeat": "monthly_nth"},
    "interval": {"repeat": "daily"},
}
#: Endpoints rendering the same routine form (create, edit, and split at an occurrence).
ROUTINE_FORMS = ("routines.create", "routines.edit", "events.split")
#: Fields no form shows that views might still read.
EXTRA_FIELDS = {"next", "next_key", "unexpected"}
REPEAT = "<repeat the field>"

#: Values every path parameter gets: ``int`` rules take only digits, others anything.
INT_PATH_VALUES = ("0", "00007", INT32_OVER, INT64_OVER, HUGE, "-1")
TEXT_PATH_VALUES = (
    "%00",
    "a%00b",
    "%C3%BC%E6%BC%A2%F0%9F%8D%B2",
    "%E2%80%AEevil",
    "x" * 3_000,
    "..",
    "20261301T1900",
    "99991231T2359",
    "00010101T0000",
    "99991230T1900",  # a Thursday at the routines' time: in the series but for the year bound
    "29991226T1900",  # the last Thursday of the years a key may name: a real occurrence
    "20261203T1960",
    "20261203T1900x",
    "%FF%FE",
)

#: Valid form data per endpoint, from the authorization table.
AUTHZ_CASES = [
    case
    for module in (
        routes_foundation, routes_routines, routes_joining, routes_feeds, routes_plugins
    )
    for case in module.ROUTES
]  # fmt: skip

KINDS = ("meals", "sports", "arts", "walks")
KIND_DETAILS: dict[str, dict[str, Any]] = {
    "meals": {"theme": "Soups", "style": "potluck", "rotate_hosts": True, "hosts": []},
    "sports": {"sport": "Football", "level": "all", "min_players": 6, "teams": 2},
    "arts": {"kind": "gallery", "venue": "Museum", "booking_url": "https://example.org/"},
    "walks": {"meeting_point": "Station", "agreement": "Phones away", "distance_km": 8.5},
}
WHEN = datetime(2026, 12, 3, 19, 0)
#: Which occurrence a rule's valid key names: a cancelled one to restore, a changed one to
#: change again, a later plain one to split at (the first cannot start a new series).
KEY_WEEKS = {"events.restore": 2, "events.change": 1, "events.split": 3}


# -- the world ------------------------------------------------------------------------------------


def add_activity_routines(session: Session, world: World) -> None:
    """A routine of every built-in activity type in both groups, with the type's default slots,
    a changed occurrence, an answer and a comment; and the meals routine's host rotation."""
    from flask import current_app

    plugins = current_app.extensions["planner"]
    for visibility, group in world.groups.items():
        for kind in KINDS:
            routine = Routine(
                group_id=group.id,
                activity_key=kind,
                title=f"{kind.title()} routine",
                timezone=group.timezone,
                start=WHEN,
                duration_minutes=90,
                rrule="FREQ=WEEKLY;BYDAY=TH",
                details=dict(KIND_DETAILS[kind]),
                capacity=5,
                max_guests=2,
                created_by_id=world.users["organizer"].id,
            )
            if kind == "meals":
                member = world.users["member"]
                routine.details["hosts"] = [{"user_id": member.id, "name": "Member"}]
            session.add(routine)
            session.flush()
            session.add_all(default_slot_rows(routine.id, plugins.activity(kind).default_slots))
            session.add_all(
                [
                    Override(
                        routine_id=routine.id,
                        original_start=WHEN + timedelta(weeks=1),
                        status="changed",
                        start=WHEN + timedelta(weeks=1, hours=1),
                        location="Elsewhere",
                        sequence=1,
                    ),
                    Override(
                        routine_id=routine.id,
                        original_start=WHEN + timedelta(weeks=2),
                        status="cancelled",
                        note="Holiday",
                        sequence=1,
                    ),
                    Rsvp(
                        routine_id=routine.id,
                        original_start=WHEN,
                        user_id=world.users["member"].id,
                        status="going",
                        guests=1,
                    ),
                ]
            )
            comment = Comment(
                routine_id=routine.id,
                original_start=WHEN,
                user_id=world.users["member"].id,
                body="Count me in.",
            )
            session.add(comment)
            session.flush()
            world.extra.setdefault("comments", {})[routine.id] = comment
            world.extra.setdefault("activity_routines", {})[(visibility, kind)] = routine
        prompt = CheckinPrompt(group_id=group.id, absent_id=world.users["target"].id,
                               recipient_id=world.users["member"].id)
        session.add(prompt)
        session.flush()
        world.extra.setdefault("prompts", {})[visibility] = prompt.id
        main = world.routines[visibility]
        thing = GoodThing(routine_id=main.id, original_start=WHEN, user_id=world.users["member"].id,
                          body="Lovely evening")
        pause = PlannedBreak(routine_id=main.id, label="Summer break",
                             first_day=(WHEN + timedelta(weeks=30)).date(),
                             last_day=(WHEN + timedelta(weeks=34)).date())
        session.add_all([thing, pause])
        session.flush()
        world.extra.setdefault("good_things", {})[visibility] = thing.id
        world.extra.setdefault("breaks", {})[visibility] = pause.id
    session.commit()


@dataclass
class Target:
    """One rule filled with valid values: the starting point for junk."""

    endpoint: str
    rule: str
    methods: tuple[str, ...]
    args: dict[str, str]
    converters: dict[str, str]
    group: str

    def path(self, **junk: str) -> str:
        values = {**self.args, **junk}
        return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", lambda m: values[m.group(1)], self.rule)


def valid_args(endpoint: str, names: list[str], world: World, group: str) -> list[dict[str, str]]:
    """Valid values for a rule's parameters; rules about a routine get one set per routine."""
    values = world.values(group)
    routines: list[Routine] = [world.routines[group]]
    routines += [world.extra["activity_routines"][(group, kind)] for kind in KINDS]
    if endpoint.startswith("meals."):
        routines = [world.extra["activity_routines"][(group, "meals")]]
    if "routine_id" not in names:
        routines = routines[:1]
    sets = []
    for routine in routines:
        slot = routine.slots[0] if routine.slots else None
        comment = world.extra["comments"].get(routine.id)
        key = WHEN + timedelta(weeks=KEY_WEEKS.get(endpoint, 0))
        token = values["invite"] if endpoint.startswith("invites.") else values["feed_token"]
        candidates = {
            "slug": values["slug"],
            "routine_id": str(routine.id),
            "key": format_key(key),
            "slot_id": str(slot.id if slot else values["slot_id"]),
            "comment_id": str(comment.id if comment else values["comment_id"]),
            "invite_id": str(values["invite_id"]),
            "user_id": str(values["target_id"]),
            "token": token,
            "ext": "ics",
            "prompt_id": str(world.extra["prompts"][group]),
            "thing_id": str(world.extra["good_things"][group]),
            "break_id": str(world.extra["breaks"][group]),
            "action": "hide",
            "what": "buddy",
        }
        missing = [n for n in names if n not in candidates]
        assert not missing, f"{endpoint}: no valid value for {missing}; add one to valid_args"
        sets.append({n: candidates[n] for n in names})
    return sets


def targets(app, world: World) -> list[Target]:
    found = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint)):
        if rule.endpoint == "static":
            continue
        converters = {
            name: type(conv).__name__ for name, conv in rule._converters.items()
        }
        names = sorted(rule.arguments)
        methods = tuple(sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}))
        for group in ("private", "public"):
            for args in valid_args(rule.endpoint, names, world, group):
                found.append(Target(rule.endpoint, rule.rule, methods, args, converters, group))
    return found


# -- requests inside a rolled-back transaction -----------------------------------------------------


@dataclass
class Outcome:
    method: str
    path: str
    status: int
    body: str
    content_type: str
    location: str


@dataclass
class Harness:
    """Sends requests as any role; each one's writes are rolled back afterwards."""

    app: Any
    world: World
    cookies: dict[str, Any] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    sent: int = 0
    checked_unchanged: int = 0
    #: One connection for every request (opening and closing a SQLite file in WAL mode per
    #: request was a fifth of this module's time); each request is a transaction on it.
    conn: Any = None
    #: Every row of the world, read once: every request starts from it (all are rolled back),
    #: and ``close`` proves that none of them left a row behind.
    world_rows: dict[str, list[tuple]] | None = None

    def login_all(self) -> None:
        for role in ROLES:
            if role == "anonymous":
                continue
            client = self.app.test_client()
            Auth(client).login(self.world.users[role].email)
            self.cookies[role] = client.get_cookie("session", domain="planner.test")
            assert self.cookies[role] is not None, "no session cookie after logging in"

    def client(self, role: str):
        client = self.app.test_client()
        if role != "anonymous":
            cookie = self.cookies[role]
            client.set_cookie("session", cookie.value, domain=cookie.domain)
        return client

    def connection(self) -> Any:
        if self.conn is None or self.conn.closed or self.conn.invalidated:
            if self.conn is not None:
                self.conn.close()
            self.conn = self.app.extensions["planner_db"].engine.connect()
        return self.conn

    def close(self) -> None:
        """Check that the world is as it was built (nothing escaped a rollback), then let go
        of the connection."""
        if self.world_rows is not None:
            with self.transaction() as session:
                if snapshot(session) != self.world_rows:
                    self.failures.append("a request's writes outlived its rolled-back transaction")
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        previous = g.pop("db_session", None)
        for key in PER_REQUEST_G:  # as the app fixture does, even when a guard aborts first
            g.pop(key, None)
        conn = self.connection()
        outer = conn.begin()
        session = Session(
            bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False
        )
        g.db_session = session
        try:
            yield session
        finally:
            session.close()
            outer.rollback()
            g.pop("db_session", None)
        if previous is not None:
            g.db_session = previous

    def send(
        self,
        role: str,
        method: str,
        path: str,
        data: MultiDict | None = None,
        headers: dict[str, str] | None = None,
        check_unchanged: bool = False,
        label: str = "",
    ) -> Outcome | None:
        self.sent += 1
        where = f"{role} {method} {_short(path)} {label}".rstrip()
        if check_unchanged and self.world_rows is None:
            with self.transaction() as session:
                self.world_rows = snapshot(session)
        with self.transaction() as session:
            before = self.world_rows if check_unchanged else None
            try:
                response = self.client(role).open(
                    path, method=method, data=data, headers=headers or {}
                )
            except Exception as exc:  # TESTING propagates what would be a 500
                frame = traceback.extract_tb(exc.__traceback__)[-1]
                self.failures.append(
                    f"{where}: 500 {type(exc).__name__}: {str(exc)[:100]!r} "
                    f"(at {frame.filename.rsplit('/', 1)[-1]}:{frame.lineno})"
                )
                return None
            outcome = Outcome(
                method,
                path,
                response.status_code,
                response.get_data(as_text=True),
                response.content_type or "",
                response.headers.get("Location", ""),
            )
            self.check_renders(where, outcome)
            if before is not None and method == "POST" and 400 <= outcome.status < 500:
                session.rollback()
                self.checked_unchanged += 1
                if snapshot(session) != before:
                    self.failures.append(f"{where}: refused with {outcome.status} but saved")
        return outcome

    def check_renders(self, where: str, outcome: Outcome) -> None:
        status = outcome.status
        if status >= 500:
            self.failures.append(f"{where}: {status}")
            return
        if 300 <= status < 400 or status == 304:
            if status != 304 and not outcome.location:
                self.failures.append(f"{where}: {status} without a Location")
            elif off_site(outcome.location):
                self.failures.append(f"{where}: {status} to {outcome.location[:80]!r}")
            return
        if not outcome.body.strip():
            self.failures.append(f"{where}: {status} with an empty body")
        elif "html" in outcome.content_type and "</html>" not in outcome.body:
            self.failures.append(f"{where}: {status} page did not render to the end")
        elif status == 400 and "html" in outcome.content_type and not _says_why(outcome.body):
            self.failures.append(f"{where}: 400 without a reason on the page")


def _short(path: str) -> str:
    return path if len(path) < 120 else path[:60] + f"...({len(path)} chars)"


def _says_why(body: str) -> bool:
    """A refusal names its reason: a field error, a flash, or the error page's reason."""
    return any(m in body for m in ('class="error', 'class="reason', 'class="flash flash-error'))


def snapshot(session: Session) -> dict[str, list[tuple]]:
    """Every row of every table (the world is small), to prove a refusal saved nothing."""
    rows = {}
    for table in Base.metadata.sorted_tables:
        rows[table.name] = sorted(
            (tuple(repr(v) for v in row) for row in session.execute(select(table))),
        )
    return rows


# -- finding the forms ----------------------------------------------------------------------------


@dataclass
class FormField:
    """One named field of a rendered form: its kind, its current values and its options."""

    kind: str
    values: list[str] = field(default_factory=list)
    options: list[str] = field(default_factory=list)


class FormParser(HTMLParser):
    """The POST forms of a page: their action and their fields, with the values they show."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, dict[str, FormField]]] = []
        self._current: dict[str, FormField] | None = None
        self._select: FormField | None = None
        self._selected = False
        self._textarea: FormField | None = None

    def handle_starttag(self, tag, attrs):
        attr = {k: v or "" for k, v in attrs}
        if tag == "form" and attr.get("method", "get").lower() == "post":
            self._current = {}
            self.forms.append((attr.get("action", ""), self._current))
            return
        if self._current is None:
            return
        if tag == "option" and self._select is not None:
            self._select.options.append(attr.get("value", ""))
            if "selected" in attr:
                self._select.values = [attr.get("value", "")]
                self._selected = True
            return
        name = attr.get("name")
        if not name:
            return
        if tag == "input":
            kind = attr.get("type", "text").lower()
            if kind in ("submit", "button", "image"):
                self._button(name, attr.get("value", ""))
                return
            if kind in ("reset", "file"):
                return
            entry = self._current.setdefault(name, FormField(kind))
            if kind in ("checkbox", "radio"):
                entry.options.append(attr.get("value", "on"))
                if "checked" not in attr:
                    return
            entry.values.append(attr.get("value", ""))
        elif tag == "textarea":
            self._textarea = self._current.setdefault(name, FormField("textarea", [""]))
        elif tag == "button" and attr.get("type", "submit").lower() == "submit":
            self._button(name, attr.get("value", ""))
        elif tag == "select":
            self._select = self._current.setdefault(name, FormField("select"))
            self._selected = False

    def _button(self, name: str, value: str) -> None:
        """Only one button is pressed: the form's last (its main action) is the baseline."""
        assert self._current is not None
        for entry in self._current.values():
            if entry.kind == "submit":
                entry.values = []
        entry = self._current.setdefault(name, FormField("submit"))
        entry.options.append(value)
        entry.values = [value]

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea.values = [self._textarea.values[0] + data]

    def handle_endtag(self, tag):
        if tag == "form":
            self._current = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "select" and self._select is not None:
            if not self._selected and self._select.options:
                self._select.values = [self._select.options[0]]
            self._select = None


def discover_forms(
    harness: Harness, pages: list[tuple[str, str]]
) -> dict[str, dict[str, FormField]]:
    """The forms on ``pages`` (role, path), by the path they post to. Two forms posting to one
    path (two answer buttons) merge: every field name, the first one's values."""
    forms: dict[str, dict[str, FormField]] = {}
    for role, path in pages:
        outcome = harness.send(role, "GET", path, label="(discovery)")
        assert outcome is not None and outcome.status == 200, f"{role} GET {path}"
        parser = FormParser()
        parser.feed(outcome.body)
        for action, found in parser.forms:
            target = urlsplit(action).path or path
            merged = forms.setdefault(target, {})
            for name, entry in found.items():
                merged.setdefault(name, entry)
                for option in entry.options:
                    if option not in merged[name].options:
                        merged[name].options.append(option)
    return forms


def pages_with_forms(world: World) -> list[tuple[str, str]]:
    pages = [("anonymous", "/login"), ("anonymous", "/signup"), ("owner", "/groups/new")]
    pages += [("owner", p) for p in ("/account", "/account/password", "/account/delete")]
    pages += [("member", "/feeds"), ("outsider", f"/g/{world.groups['public'].slug}")]
    for group in ("private", "public"):
        values = world.values(group)
        slug = values["slug"]
        pages += [
            ("owner", f"/g/{slug}"),
            ("owner", f"/g/{slug}/edit"),
            ("owner", f"/g/{slug}/delete"),
            ("owner", f"/g/{slug}/members"),
            ("owner", f"/g/{slug}/invites"),
            ("owner", f"/g/{slug}/routines/new"),
            ("member", f"/invite/{world.invites[group].token}"),
        ]
        routines = [world.routines[group]]
        routines += [world.extra["activity_routines"][(group, kind)] for kind in KINDS]
        for routine in routines:
            base = f"/g/{slug}/r/{routine.id}"
            key = format_key(WHEN)
            pages += [
                ("owner", base),
                ("owner", f"{base}/edit"),
                ("owner", f"{base}/delete"),
                ("owner", f"{base}/slots"),
                ("owner", f"{base}/{key}"),
                ("member", f"{base}/{key}"),
                ("owner", f"{base}/{format_key(WHEN + timedelta(weeks=1))}/change"),
                ("owner", f"{base}/{format_key(WHEN + timedelta(weeks=3))}/split"),
                ("owner", f"{base}/{format_key(WHEN + timedelta(weeks=2))}"),
            ]
    return pages


def authz_data(endpoint: str, world: World) -> dict[str, list[str]]:
    """Valid values for ``endpoint``'s form from the authorization table (forms without a
    page of their own, such as the slot editor's)."""
    for case in AUTHZ_CASES:
        if case.endpoint == endpoint and case.method == "POST" and case.data is not None:
            data = case.data(world) if callable(case.data) else case.data
            return {k: [str(v)] for k, v in data.items()}
    return {}


def junk_for(name: str, entry: FormField | None) -> tuple[str | None, ...]:
    """The junk a field gets: what every field gets, what its kind invites, its own options
    (a valid choice in a new combination), then "missing" (None) and "repeated"."""
    kind = entry.kind if entry is not None else "text"
    values: list[str | None] = list(KIND_VALUES.get(kind, TEXT_JUNK))
    values += NAME_VALUES.get(name.rpartition("-")[2], ())
    if entry is not None and entry.options:
        step = max(1, len(entry.options) // OPTIONS_TRIED)
        values += entry.options[::step][:OPTIONS_TRIED]
    return (*dict.fromkeys(values), None, REPEAT)


# -- the tests -------------------------------------------------------------------------------------


@pytest.fixture
def harness(app, db) -> Iterator[Harness]:
    world = build_world(db)
    add_activity_routines(db, world)
    for routine in [*world.routines.values(), *world.extra["activity_routines"].values()]:
        _ = routine.slots  # loaded now, before requests swap the session
    db.commit()
    harness = Harness(app, world)
    harness.login_all()
    yield harness
    failures = len(harness.failures)
    harness.close()
    assert len(harness.failures) == failures, harness.failures[failures:]


def _report(harness: Harness) -> str:
    """Each distinct failure once (roles and ids vary), with how often it happened."""
    counts: dict[str, int] = {}
    first: dict[str, str] = {}
    for failure in harness.failures:
        key = re.sub(r"^\S+ ", "", re.sub(r"/\d+(?=[/.])", "/N", failure))
        counts[key] = counts.get(key, 0) + 1
        first.setdefault(key, failure)
    lines = [f"{first[k]}  (x{n})" for k, n in counts.items()]
    return f"{len(harness.failures)} failures, {len(lines)} distinct:\n" + "\n".join(lines[:80])


def test_junk_in_path_parameters(harness: Harness):
    """Every rule, every parameter, every role: junk is a 404 (or a clear 4xx), not a 500.

    The owner (who gets furthest) meets every junk value; the other roles a rotating share of
    them. The activity types' routines get junk occurrence keys (their panels read the key).
    """
    world = harness.world
    for target in targets(harness.app, world):
        gathering = target.args.get("routine_id") in (None, str(world.routines["private"].id))
        methods = target.methods
        if target.group == "private" and gathering:
            roles: tuple[str, ...] = ROLES
            params = list(target.converters)
        elif target.group == "public" and target.args.get("routine_id") in (
            None,
            str(world.routines["public"].id),
        ):
            roles = ("anonymous", "outsider")
            params = list(target.converters)
        elif target.group == "private" and "key" in target.converters:
            # Pages that show the type's panel; the POST handlers are the same for every type.
            roles, params, methods = ("owner",), ["key"], ("GET",)
        else:
            continue
        for name in params:
            converter = target.converters[name]
            junk = INT_PATH_VALUES if converter == "IntegerConverter" else TEXT_PATH_VALUES
            for index, value in enumerate(junk):
                path = target.path(**{name: value})
                for method in set(methods) & set(target.methods):
                    for number, role in enumerate(roles):
                        if role != "owner" and (index + number) % 3:
                            continue
                        harness.send(role, method, path, MultiDict(), label=f"[{name}]")
    assert not harness.failures, _report(harness)
    assert harness.sent > 1000


def test_junk_in_every_form_field(harness: Harness):
    """Each field of each POST form gets junk while the others keep the values the page shows;
    a refusal is a 4xx with a reason (or a message after a redirect) and saves nothing."""
    world = harness.world
    forms = discover_forms(harness, pages_with_forms(world))
    gathering = {str(r.id) for r in world.routines.values()}
    create_fields = set(forms[f"/g/{world.groups['private'].slug}/routines/new"]) | EXTRA_FIELDS
    done: set[tuple[str, str]] = set()
    accepted: set[tuple[str, str | None]] = set()
    for target in targets(harness.app, world):
        if "POST" not in target.methods or target.group != "private":
            continue
        path = target.path()
        form = forms.get(path, {})
        base = {name: list(entry.values) for name, entry in form.items() if entry.values}
        for name, values in authz_data(target.endpoint, world).items():
            if not any(base.get(name, [])):
                base[name] = values  # an empty new-routine form: the table's valid answers
        names = sorted((set(base) | EXTRA_FIELDS) - {"csrf_token"})
        if target.args.get("routine_id", "") not in ("", *gathering):
            # Another activity type's routine: only the fields its type adds.
            names = [n for n in names if (target.endpoint, n) not in done]
        done.update((target.endpoint, n) for n in names)
        role = _deepest_role(harness, path, base)
        family = ROUTINE_FORMS.index(target.endpoint) if target.endpoint in ROUTINE_FORMS else -1
        for number, name in enumerate(names):
            for index, value in enumerate(junk_for(name, form.get(name))):
                # The routine forms share their checks: each pair of field and junk goes to one
                # of those showing the field, and to all when it got past the checks somewhere.
                sharing = ROUTINE_FORMS if name in create_fields else ROUTINE_FORMS[1:]
                elsewhere = family >= 0 and (number + index) % len(sharing) != sharing.index(
                    target.endpoint
                )
                if elsewhere and (name, value) not in accepted:
                    continue
                data = MultiDict([(k, v) for k, vs in base.items() for v in vs])
                for companion, companion_value in COMPANIONS.get(name, {}).items():
                    data.setlist(companion, [companion_value])
                if value is None:
                    data.poplist(name)
                elif value is REPEAT:
                    data.setlist(name, [*data.getlist(name), "0", LONG])
                else:
                    data.setlist(name, [value])
                label = f"[{name}={value!r:.40}]"
                outcome = harness.send(
                    role, "POST", path, data, check_unchanged=(number + index) % 4 == 0,
                    label=label,
                )
                if family >= 0 and outcome is not None and outcome.status < 400:
                    accepted.add((name, value))
                # Everyone else gets a rotating share: refused before the form, or let in.
                turn = number + index
                if turn % 4 == 0:
                    others = [r for r in ROLES if r != role]
                    other = others[turn // 4 % len(others)]
                    harness.send(
                        other, "POST", path, data, check_unchanged=turn % 8 == 0, label=label
                    )
    assert not harness.failures, _report(harness)
    assert harness.sent > 3000 and harness.checked_unchanged > 250


def _deepest_role(harness: Harness, path: str, base: dict[str, list[str]]) -> str:
    """The first role (owner first) whose valid request gets through: junk from that role
    reaches past authorization into the form's own checks."""
    data = MultiDict([(k, v) for k, vs in base.items() for v in vs])
    for role in ("owner", "organizer", "member", "outsider", "anonymous"):
        outcome = harness.send(role, "POST", path, data, label="(baseline)")
        if outcome and outcome.status < 400 and "/login" not in outcome.location:
            return role
    return "owner"


#: Query strings the views read (``page``, ``days``, ``next``) and ones they do not.
QUERY_JUNK = (
    f"page={HUGE}",
    f"page={INT64_OVER}",
    "page=-5",
    "page=1e309",
    f"days={HUGE}",
    "days=-1",
    "next=//evil.example",
    "next=https://evil.example/",
    "next=/%0d%0aSet-Cookie:x=1",
    "next=" + "/x" * 1_500,
    "next=/%09/evil.example",
    "next=/%0a/evil.example",
    "next=/%00/evil.example",
    "next=/%5Cevil.example",
    "next=%EF%BC%8F%EF%BC%8Fevil.example",
    "next=/" + "x" * 100_000,
    "page=1&page=2&days=7&days=x",
    "x=%00",
    "%00=1",
    "activity=../../etc",
)
#: Headers a feed reader or a browser may send, odd or broken.
HEADER_JUNK: tuple[dict[str, str], ...] = (
    {"Accept": "text/calendar"},
    {"Accept": "application/json"},
    {"Accept": "text/plain"},
    {"Accept": "*/*;q=0"},
    {"Accept": "text/html;q=abc, */*;q=NaN"},
    {"Accept": ";;;,,,"},
    {"Accept": "a/" + "b" * 5_000},
    {"If-None-Match": "*"},
    {"If-None-Match": 'W/"x", "' + "y" * 500 + '"'},
    {"If-None-Match": "garbage without quotes"},
    {"If-Modified-Since": "Thu, 01 Jan 1970 00:00:00 GMT"},
    {"If-Modified-Since": "Fri, 31 Dec 9999 23:59:59 GMT"},
    {"If-Modified-Since": "Mon, 01 Jan 0001 00:00:00 GMT"},
    {"If-Modified-Since": "not a date"},
    {"Range": "bytes=999999999999999999999-"},
    {"Accept-Language": "xx;q=2, *;q=-1"},
)


def test_junk_in_query_strings_and_headers(harness: Harness):
    """Every GET page, as a stranger and as the owner, with odd query strings and headers."""
    for target in targets(harness.app, harness.world):
        if "GET" not in target.methods or target.group != "private":
            continue
        if target.args.get("routine_id") not in (None, str(harness.world.routines["private"].id)):
            continue
        path = target.path()
        for number, query in enumerate(QUERY_JUNK):
            role = ("anonymous", "owner")[number % 2]
            harness.send(role, "GET", f"{path}?{query}")
        feed = target.endpoint.startswith("feeds.")
        for number, headers in enumerate(HEADER_JUNK):
            if feed or number % 4 == 0:
                harness.send(("owner", "anonymous")[number % 2], "GET", path, headers=headers)
    assert not harness.failures, _report(harness)


# -- the suspects, one by one ----------------------------------------------------------------------

ROUTINE_POST = {
    **routes_routines.ROUTINE_FORM,
    "start_date": "2026-12-03",
    "title": "Thursday supper",
}


@pytest.fixture
def club(db, make_user, make_group):
    """An owner, a private group and its weekly Thursday routine at 19:00 from 2026-12-03."""
    from tests.joining import make_routine

    owner = make_user("Olga")
    group = make_group(owner, visibility="private")
    routine = make_routine(db, group, start=WHEN, rrule="FREQ=WEEKLY;BYDAY=TH")
    return owner, group, routine


def _count(db, model) -> int:
    from sqlalchemy import func

    db.expire_all()
    return db.scalar(select(func.count()).select_from(model))


def test_nul_bytes_are_a_4xx_with_a_reason_on_both_databases(db, client, as_user, club):
    """PostgreSQL text cannot hold NUL: any path, query or form value with one is refused before
    a view runs, the same way on SQLite, and nothing is saved."""
    from planner.models import User

    owner, group, routine = club
    users = _count(db, User)
    response = client.post(
        "/signup",
        data={"email": "nul@example.org", "display_name": "Ann\x00", "password": "long enough!",
              "confirm": "long enough!", "timezone": "Europe/Berlin"},
    )
    assert response.status_code == 400
    assert "NUL character" in response.get_data(as_text=True)
    assert _count(db, User) == users
    me = as_user(owner)
    for path, status in (
        (f"/g/{group.slug}%00", 404),  # in the address it names nothing, like any bad slug
        (f"/g/{group.slug}/r/{routine.id}/%00", 404),
        (f"/feeds/g/{group.slug}/r/{routine.id}/20261203T1900%00.ics", 404),
        (f"/g/{group.slug}?x=%00", 400),
        ("/groups?page=1%00", 400),
    ):
        response = me.get(path)
        assert response.status_code == status, path
        assert "NUL character" in response.get_data(as_text=True)
    response = me.post(f"/g/{group.slug}/r/{routine.id}/%00/cancel", data={"reason": "x"})
    assert response.status_code == 404


def test_ids_beyond_an_integer_column_are_404_before_the_database(as_user, club):
    owner, group, routine = club
    me = as_user(owner)
    for bad in ("2147483648", "9223372036854775808", "99999999999999999999"):
        for path in (
            f"/g/{group.slug}/r/{bad}",
            f"/g/{group.slug}/r/{bad}/20261203T1900",
            f"/feeds/g/{group.slug}/r/{bad}.ics",
        ):
            assert me.get(path).status_code == 404, path
        assert me.post(f"/g/{group.slug}/members/{bad}/remove").status_code == 404
    assert me.get(f"/g/{group.slug}/r/2147483647").status_code == 404  # in range, no such row
    assert me.get(f"/g/{group.slug}/r/{routine.id}").status_code == 200


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"start_date": "0001-01-01"}, "between 1900 and 2999"),
        ({"start_date": "9999-12-31"}, "between 1900 and 2999"),
        ({"ends": "until", "until": "9999-12-31"}, "between 1900 and 2999"),
        ({"repeat": "advanced", "rrule": "FREQ=DAILY;UNTIL=99991231T235959Z"}, "leave UNTIL out"),
        ({"repeat": "advanced", "rrule": "FREQ=DAILY;UNTIL=00010101"}, "between 1900 and 2999"),
        ({"duration": HUGE}, "at most 7 days"),
        ({"repeat": "monthly_nth", "month_nth": "Not/AZone"}, "Not a valid choice"),
        ({"count": INT32_OVER, "ends": "count"}, "1 to 1000"),
        ({"capacity": INT64_OVER}, "1 to 10000"),
    ],
)
def test_routine_form_refuses_what_the_engine_cannot_hold(db, as_user, club, changes, message):
    """Dates near year 1 or 9999 overflow in a zone conversion; huge numbers overflow timedelta
    or the column: each is a message on the form (422), and no routine is saved."""
    owner, group, _routine = club
    before = _count(db, Routine)
    response = as_user(owner).post(
        f"/g/{group.slug}/routines/new", data={**ROUTINE_POST, **changes}
    )
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert _count(db, Routine) == before


def test_occurrence_keys_far_in_the_future(as_user, club):
    """The last Thursday a key may name is a real page and a real .ics; year 9999 is a 404."""
    owner, group, routine = club
    me = as_user(owner)
    base = f"/g/{group.slug}/r/{routine.id}"
    assert me.get(f"{base}/29991226T1900").status_code == 200
    ics = me.get(f"/feeds{base}/29991226T1900.ics")
    assert ics.status_code == 200 and "29991226T190000" in ics.get_data(as_text=True)
    for key in ("99991230T1900", "00010101T1900", "30000101T1900"):
        assert me.get(f"{base}/{key}").status_code == 404
        assert me.get(f"/feeds{base}/{key}.ics").status_code == 404
        assert me.post(f"{base}/{key}/cancel").status_code == 404


def test_directory_page_beyond_any_offset_is_404(client):
    for page in (HUGE, INT64_OVER, "100001"):
        response = client.get(f"/groups?page={page}")
        assert response.status_code == 404
        assert "no page with that number" in response.get_data(as_text=True)
    assert client.get("/groups?page=-3").status_code == 200


def off_site(location: str) -> bool:
    """True when a browser following ``location`` could leave this site (or the header is
    malformed): another host, a scheme-relative path, or characters browsers drop or rewrite."""
    if len(location) > 4000 or any(ord(ch) < 33 or ord(ch) > 126 for ch in location):
        return True
    parts = urlsplit(location.replace("\\", "/"))
    if parts.netloc not in ("", "localhost", "planner.test"):
        return True
    return parts.path.startswith("//")


def test_safe_path_refuses_every_hostile_target():
    from planner.api import safe_path

    for target in NEXT_JUNK:
        assert safe_path(target) is None, repr(target[:40])
    assert safe_path("/g/club/r/1/20261203T1900#answers") == "/g/club/r/1/20261203T1900#answers"
    assert safe_path("/groups?page=2") == "/groups?page=2"


@pytest.mark.parametrize(
    "target",
    ["//evil.example/", "https://evil.example/", "/\\evil.example", "/%0d%0aSet-Cookie:x=1",
     "javascript:alert(1)", "/" + "x" * 3000, "", *(t for t in NEXT_JUNK if "\x00" not in t)],
)
def test_login_next_never_leaves_the_site(client, make_user, target):
    user = make_user("Nina")
    page = client.get("/login", query_string={"next": target})
    assert page.status_code == 200
    response = client.post(
        "/login", data={"email": user.email, "password": "password", "next": target}
    )
    assert response.status_code in (302, 303)
    location = urlsplit(response.headers["Location"])
    assert location.netloc in ("", "planner.test") and not location.path.startswith("//")
    assert "evil" not in location.netloc


def test_invite_flow_with_junk_tokens(db, client, as_user, make_user, club):
    """A junk, overlong or revoked token is a 404 with a reason; logging in afterwards works."""
    from planner.models import Invite

    owner, group, _routine = club
    outsider = make_user("Otto")
    revoked = Invite(token="revoked-token", group_id=group.id, created_by_id=owner.id,
                     revoked_at=WHEN)
    db.add(revoked)
    db.commit()
    for token in ("nope", "x" * 3000, "%E2%80%AE", "..", "%FF%FE"):
        for method in ("GET", "POST"):
            response = client.open(f"/invite/{token}", method=method)
            assert response.status_code == 404, (method, token, response.status_code)
            assert 'class="reason"' in response.get_data(as_text=True)
    page = client.get("/invite/revoked-token")
    assert page.status_code == 410 and "revoked" in page.get_data(as_text=True).lower()
    # Logged out, "join" remembers the token for after logging in, which then says why not.
    assert client.post("/invite/revoked-token").status_code == 302
    assert Auth(client).login(owner).status_code in (302, 303)
    other = as_user(outsider)
    refused = other.post("/invite/revoked-token")
    assert refused.status_code == 410 and 'class="reason"' in refused.get_data(as_text=True)


@contextmanager
def csrf_on(app) -> Iterator[None]:
    """CSRF checked as in production (the rest of this module turns it off for speed)."""
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        yield
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def _token(client, path: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', client.get(path).text)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def test_hostile_posts_with_csrf_on(app, db, as_user, club):
    """With CSRF on: junk without a token is refused for the token; junk with a token is refused
    for the junk; neither saves anything; the same form with good values saves."""

    owner, group, _routine = club
    me = as_user(owner)
    with csrf_on(app):
        _csrf_checks(db, me, owner, group)


def _csrf_checks(db, me, owner, group) -> None:
    from planner.models import User

    db.expire_all()
    name = db.get(User, owner.id).display_name
    good = {"display_name": "Olga B.", "timezone": "Europe/Lisbon"}
    refused = [
        ({**good, "display_name": "a\x00b"}, None, "The form expired"),  # the token first
        (good, None, "The form expired"),
        ({**good, "display_name": "a\x00b"}, "token", "NUL character"),
        ({**good, "display_name": LONG}, "token", "at most 80 characters"),
        ({**good, "timezone": "../../etc"}, "token", "Choose a timezone from the list"),
    ]
    for data, token, message in refused:
        body = dict(data)
        if token:
            body["csrf_token"] = _token(me, "/account")
        response = me.post("/account", data=body)
        assert response.status_code == 400, (data, response.status_code)
        assert message in response.get_data(as_text=True)
        db.expire_all()
        assert db.get(User, owner.id).display_name == name
    token = _token(me, f"/g/{group.slug}/routines/new")
    response = me.post(
        f"/g/{group.slug}/routines/new",
        data={**ROUTINE_POST, "start_date": "0001-01-01", "csrf_token": token},
    )
    assert response.status_code == 422
    assert "between 1900 and 2999" in response.get_data(as_text=True)
    response = me.post("/account", data={**good, "csrf_token": _token(me, "/account")})
    assert response.status_code == 302
    db.expire_all()
    assert db.get(User, owner.id).display_name == "Olga B."


@pytest.mark.parametrize(
    ("day", "at", "zone", "repeat"),
    [
        ("1900-01-01", "00:00", "Pacific/Kiritimati", "daily"),
        ("2999-12-31", "23:59", "Etc/GMT+12", "daily"),
        ("2999-12-31", "23:59", "Pacific/Kiritimati", "yearly"),
        ("2999-12-31", "12:00", "America/Adak", "once"),
    ],
)
def test_routines_at_the_edges_of_the_years_render_everywhere(
    db, as_user, club, day, at, zone, repeat
):
    """A routine on the first or last allowed day, in the zones furthest from UTC, saves and
    then renders on every page and feed that shows it."""
    owner, group, _routine = club
    me = as_user(owner)
    form = {**ROUTINE_POST, "start_date": day, "start_time": at, "timezone": zone,
            "repeat": repeat, "duration": str(7 * 24 * 60)}
    response = me.post(f"/g/{group.slug}/routines/new", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    db.expire_all()
    routine = db.scalars(select(Routine).order_by(Routine.id.desc())).first()
    key = format_key(routine.start)
    base = f"/g/{group.slug}/r/{routine.id}"
    token = owner.feed_token
    pages = [
        "/", f"/g/{group.slug}", base, f"{base}/{key}", f"{base}/{key}/change",
        f"{base}/{key}/split", f"{base}/edit", f"/g/{group.slug}/upcoming?days=366",
        f"/feeds{base}/{key}.ics", f"/feeds/t/{token}/g/{group.slug}.ics",
        f"/feeds/t/{token}/g/{group.slug}/r/{routine.id}.ics", f"/feeds/t/{token}/me.ics",
        f"/feeds/t/{token}/me.json",
    ]
    for path in pages:
        page = me.get(path)
        assert page.status_code in (200, 302), (path, page.status_code)
    cancel = {"reason": "edge", "confirm": "yes"}
    assert me.post(f"{base}/{key}/cancel", data=cancel).status_code == 302
    assert me.post(f"{base}/end", data={"last_date": day, "confirm": "yes"}).status_code == 302
