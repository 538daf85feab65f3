"""Hardening, over real HTTP through the app: headers on every page, sessions that end, rate
limits that fit a group on one Wi-Fi, dead invites that tell nothing, and "my data"."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import ForeignKey, select

from planner.accounts.export import SECRET, SECTIONS
from planner.db import Base
from planner.models import Claim, Comment, Invite, Regular, Rsvp, Slot, User, utcnow
from planner.testing import Auth
from tests.authz import ROLES, build_world
from tests.test_authorization import CASES

SIGNUP = {
    "display_name": "New Person",
    "password": "a long enough password",
    "confirm": "a long enough password",
    "timezone": "Europe/Berlin",
}


def page(response) -> str:
    return response.get_data(as_text=True)


# -- headers ---------------------------------------------------------------------------------


def check_headers(where: str, response, logged_in: bool) -> list[str]:
    failures = []
    headers = response.headers
    csp = headers.get("Content-Security-Policy", "")
    for part in ("default-src 'self'", "script-src 'self'", "style-src 'self'",
                 "frame-ancestors 'none'", "object-src 'none'"):
        if part not in csp:
            failures.append(f"{where}: CSP lacks {part!r}: {csp!r}")
    if "unsafe-inline" in csp:
        failures.append(f"{where}: CSP allows inline code")
    expected = {"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY"}
    for name, value in expected.items():
        if headers.get(name) != value:
            failures.append(f"{where}: {name} is {headers.get(name)!r}")
    if headers.get("Referrer-Policy") not in ("same-origin", "no-referrer"):
        failures.append(f"{where}: Referrer-Policy {headers.get('Referrer-Policy')!r}")
    if "camera=()" not in headers.get("Permissions-Policy", ""):
        failures.append(f"{where}: Permissions-Policy {headers.get('Permissions-Policy')!r}")
    if logged_in and headers.get("Cache-Control") != "private, no-store":
        failures.append(f"{where}: logged in but Cache-Control {headers.get('Cache-Control')!r}")
    if "token" in where and headers.get("Referrer-Policy") != "no-referrer":
        failures.append(f"{where}: a token URL with Referrer-Policy {headers['Referrer-Policy']}")
    return failures


def test_every_html_response_carries_the_security_headers(app, db):
    """Every GET of the route table, as every role: each HTML answer (pages, error pages,
    refusals) carries the headers."""
    world = build_world(db)
    clients = {}
    for role in ROLES:
        clients[role] = app.test_client()
        if role != "anonymous":
            Auth(clients[role]).login(world.users[role].email)
    failures, html = [], 0
    for case in CASES:
        if case.method != "GET":
            continue
        values = world.values(case.group)
        if case.setup is not None:
            continue  # those add rows per role; their pages are the same templates
        path = case.path.format(**values)
        for role, client in clients.items():
            response = client.get(path)
            where = f"{role} GET {case.path}"
            if "html" not in (response.content_type or ""):
                continue
            html += 1
            failures += check_headers(where, response, logged_in=role != "anonymous")
    assert html > 50
    assert not failures, "\n".join(failures[:40])


def test_feeds_and_invites_send_no_referrer(app, db, client):
    world = build_world(db)
    invite = db.scalar(select(Invite).limit(1))
    response = client.get(f"/invite/{invite.token}")
    assert response.headers["Referrer-Policy"] == "no-referrer"
    response = client.get(f"/feeds/t/{world.values('private')['feed_token']}/me.ics")
    assert response.status_code == 200
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert client.get("/login").headers["Referrer-Policy"] == "same-origin"


def test_hsts_only_when_the_site_is_https(make_user):
    from planner import create_app

    plain = create_app({"TESTING": True, "SECRET_KEY": "x", "INSTANCE_PATH": "/tmp/planner-hsts"})
    assert "Strict-Transport-Security" not in plain.test_client().get("/login").headers
    https = create_app(
        {"TESTING": True, "SECRET_KEY": "x", "INSTANCE_PATH": "/tmp/planner-hsts",
         "SESSION_COOKIE_SECURE": True, "PREFERRED_URL_SCHEME": "https"}
    )
    response = https.test_client().get("/login", base_url="https://planner.test")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    assert response.status_code == 200  # no redirect: the proxy decides about http


# -- sessions --------------------------------------------------------------------------------


def copy_cookie(source, target) -> None:
    """What a thief with the cookie's value does: send it from another client."""
    domain = source.application.config.get("SERVER_NAME") or "localhost"
    cookie = source.get_cookie("session", domain=domain)
    assert cookie is not None
    target.set_cookie("session", cookie.value, domain=domain)


def test_a_cookie_copied_before_logout_is_refused_after_it(app, make_user):
    user = make_user("Nina")
    browser, thief = app.test_client(), app.test_client()
    Auth(browser).login(user)
    copy_cookie(browser, thief)
    assert thief.get("/account").status_code == 200  # the copy works while logged in
    Auth(browser).logout()
    response = thief.get("/account")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_log_out_everywhere_ends_every_session(app, make_user):
    user = make_user("Nina")
    phone, laptop = app.test_client(), app.test_client()
    Auth(phone).login(user)
    Auth(laptop).login(user)
    profile = page(laptop.get("/account"))
    assert "Log out everywhere" in profile
    response = laptop.post("/account/sessions/end")
    assert response.status_code == 302
    assert "logged out on every device" in page(laptop.get(response.headers["Location"]))
    for client in (phone, laptop):
        assert client.get("/account").status_code == 302
    Auth(phone).login(user)  # logging in again works
    assert phone.get("/account").status_code == 200


def test_a_password_change_ends_other_sessions_but_not_this_one(app, make_user):
    user = make_user("Nina")
    phone, laptop = app.test_client(), app.test_client()
    Auth(phone).login(user)
    Auth(laptop).login(user)
    stolen = app.test_client()
    copy_cookie(laptop, stolen)
    response = laptop.post(
        "/account/password",
        data={"current": "password", "password": "a new password!", "confirm": "a new password!"},
    )
    assert response.status_code == 302
    assert laptop.get("/account").status_code == 200
    assert phone.get("/account").status_code == 302
    # A copy of the laptop's cookie from before the change carries the old token.
    assert stolen.get("/account").status_code == 302


# -- rate limits -----------------------------------------------------------------------------


class TestRateLimits:
    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "RATELIMIT_ENABLED": True}

    @pytest.fixture(autouse=True)
    def fresh_counters(self, app):
        from planner.web.extensions import limiter

        limiter.reset()
        yield
        limiter.reset()

    def test_a_group_of_30_signs_up_from_one_address(self, app):
        cafe = {"REMOTE_ADDR": "203.0.113.7"}
        statuses = []
        for n in range(30):
            client = app.test_client()
            data = {**SIGNUP, "email": f"person{n}@example.org"}
            statuses.append(client.post("/signup", data=data, environ_base=cafe).status_code)
        assert statuses == [302] * 30
        # ...and the same 30 log in again from there, one typo each.
        for n in range(30):
            client = app.test_client()
            email = f"person{n}@example.org"
            wrong = client.post("/login", data={"email": email, "password": "typo"},
                                environ_base=cafe)
            assert wrong.status_code == 400
            right = client.post("/login", data={"email": email, "password": SIGNUP["password"]},
                                environ_base=cafe)
            assert right.status_code == 302, n

    def test_the_11th_wrong_password_within_a_minute_is_429_from_any_address(
        self, app, make_user
    ):
        user = make_user("Nina")
        statuses = []
        for n in range(11):
            client = app.test_client()
            statuses.append(
                client.post(
                    "/login",
                    data={"email": user.email.upper(), "password": f"guess {n}"},
                    environ_base={"REMOTE_ADDR": f"198.51.100.{n + 1}"},
                ).status_code
            )
        assert statuses == [400] * 10 + [429]
        other = make_user("Omar")
        assert Auth(app.test_client()).login(other).status_code == 302  # others unaffected

    def test_logging_in_often_is_never_limited(self, app, make_user):
        user = make_user("Nina")
        for _ in range(15):
            client = app.test_client()
            assert Auth(client).login(user).status_code == 302
            Auth(client).logout()

    def test_sign_up_is_still_limited_per_address(self, app):
        app.config["SIGNUP_RATE_LIMIT"] = "3 per 10 minutes"
        statuses = [
            app.test_client().post(
                "/signup", data={**SIGNUP, "email": f"bot{n}@example.org"},
                environ_base={"REMOTE_ADDR": "192.0.2.1"},
            ).status_code
            for n in range(4)
        ]
        assert statuses == [302, 302, 302, 429]


def test_redis_down_log_in_still_works(app_config, make_user, caplog):
    """A closed port stands in for a Redis that is down: counting falls back to memory."""
    from planner import create_app

    app = create_app({**app_config, "RATELIMIT_ENABLED": True,
                      "REDIS_URL": "redis://127.0.0.1:9/0",
                      "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:9/0"})
    with app.app_context():
        from planner.db import Base, database

        Base.metadata.create_all(database(app).engine)
    client = app.test_client()
    data = {**SIGNUP, "email": "redisless@example.org"}
    # The limiter is one object across apps; an earlier test in this process may have left it
    # in its fallback, which it announces only on the way in.
    from planner.web.extensions import limiter

    limiter._storage_dead = False
    with caplog.at_level("WARNING"):
        assert client.post("/signup", data=data).status_code == 302
        client.post("/logout")
        response = client.post(
            "/login", data={"email": "redisless@example.org", "password": SIGNUP["password"]}
        )
    assert response.status_code == 302
    assert "falling back to in-memory" in caplog.text


# -- invites ---------------------------------------------------------------------------------


@pytest.mark.parametrize("state", ["revoked", "expired", "used up"])
def test_a_dead_invite_shows_nothing_of_the_group(db, client, make_user, make_group, state):
    owner = make_user("Olga")
    group = make_group(owner, name="Secret Supper Club", visibility="private")
    group.description = "We meet in the back room."
    invite = Invite(token="dead-invite-token-1234567890", group_id=group.id, uses=0)
    if state == "revoked":
        invite.revoked_at = utcnow()
    elif state == "expired":
        invite.expires_at = utcnow() - timedelta(days=1)
    else:
        invite.max_uses, invite.uses = 2, 2
    db.add(invite)
    db.commit()
    for visitor in (client, ):
        response = visitor.get(f"/invite/{invite.token}")
        assert response.status_code == 410
        body = page(response)
        assert "Secret Supper Club" not in body
        assert "back room" not in body
        assert "member" not in body.lower().replace("remember", "")
        assert "no longer works" in body
    outsider = make_user("Otto")
    Auth(client).login(outsider)
    body = page(client.get(f"/invite/{invite.token}"))
    assert "Secret Supper Club" not in body and "back room" not in body


# -- my data ---------------------------------------------------------------------------------


def user_columns():
    """Every (table, column) that points at ``users.id``."""
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            for key in column.foreign_keys:
                if isinstance(key, ForeignKey) and key.column.table.name == "users":
                    yield table.name, column.name


def test_my_data_has_a_section_for_every_column_that_points_at_a_person():
    covered = {(c.class_.__table__.name, c.key) for c in SECTIONS.values()}
    assert set(user_columns()) <= covered


def test_my_data_is_complete_against_the_tables(app, db, as_user):
    world = build_world(db)
    member: User = world.users["member"]
    # Something of every kind for the member, beyond what the world has.
    routine_id = world.values("private")["routine_id"]
    slot = db.scalar(select(Slot).where(Slot.routine_id == routine_id))
    from tests.authz import OCCURRENCE_START

    db.add_all([
        Rsvp(routine_id=routine_id, original_start=OCCURRENCE_START, user_id=member.id,
             status="going", guests=1),
        Claim(slot_id=slot.id, original_start=OCCURRENCE_START, user_id=member.id),
        Comment(routine_id=routine_id, original_start=OCCURRENCE_START, user_id=member.id,
                body="I'll bring bread"),
        Regular(routine_id=routine_id, user_id=member.id),
    ])
    db.commit()
    response = as_user(member).get("/account/my-data.json")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "private, no-store"
    document = json.loads(response.get_data(as_text=True))
    assert document["profile"]["email"] == member.email
    assert not SECRET & set(document["profile"])
    raw = response.get_data(as_text=True)
    for secret in (member.password_hash, member.session_token, member.feed_token):
        assert secret not in raw
    for name, column in SECTIONS.items():
        model = column.class_
        key = getattr(model, "id", column)  # mail_settings is keyed by the person
        ids = sorted(db.scalars(select(key).where(column == member.id)))
        assert sorted(row[key.key] for row in document[name]) == ids, name
    assert any(row["body"] == "I'll bring bread" for row in document["comments"])
    assert document["answers"] and document["claims"] and document["regulars"]
    assert document["memberships"]
    assert all("group" in row for row in document["memberships"])
    # Nobody else's rows.
    others = [row for name in SECTIONS for row in document[name]
              if row.get("user_id") not in (None, member.id)]
    assert not others
