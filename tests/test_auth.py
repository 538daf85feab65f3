"""Sign up, log in, log out: happy paths, bad input, CSRF, rate limits, safe redirects."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from planner.accounts.passwords import check_password
from planner.models import User

GOOD = {
    "email": "Ada@Example.org",
    "display_name": "Ada",
    "password": "correct horse battery",
    "confirm": "correct horse battery",
    "timezone": "Europe/Berlin",
}


def users(db) -> int:
    db.expire_all()
    return db.scalar(select(func.count(User.id)))


def page(response) -> str:
    return response.get_data(as_text=True)


def test_signup_creates_a_logged_in_account(client, db):
    response = client.post("/signup", data=GOOD)
    assert response.status_code == 302
    user = db.scalar(select(User))
    assert user.email == "ada@example.org"  # stored lower-cased
    assert user.timezone == "Europe/Berlin"
    assert user.password_hash.startswith("$argon2id$")
    assert check_password(user.password_hash, GOOD["password"])
    assert user.feed_token and len(user.feed_token) >= 32
    assert client.get("/account").status_code == 200


def test_signup_page_offers_every_timezone(client):
    html = page(client.get("/signup"))
    assert '<option selected value="UTC">' in html or 'value="UTC" selected' in html
    assert 'value="America/Argentina/Buenos_Aires"' in html
    assert '<label for="timezone">' in html


def test_duplicate_email_in_other_case(client, db, make_user):
    make_user(email="ada@example.org")
    response = client.post("/signup", data={**GOOD, "email": "ADA@EXAMPLE.ORG"})
    assert response.status_code == 400
    assert "already exists" in page(response)
    assert users(db) == 1


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("email", "", "Enter your email address."),
        ("email", "not-an-email", "does not look like an email address"),
        ("email", "a" * 250 + "@example.org", "at most 254 characters"),
        ("display_name", "   ", "what to call you"),
        ("display_name", "x" * 81, "at most 80 characters"),
        ("password", "short", "8 to 256 characters"),
        ("password", "x" * 300, "8 to 256 characters"),
        ("confirm", "something else", "The two passwords differ."),
        ("timezone", "Mars/Olympus_Mons", "Choose a timezone from the list"),
        ("timezone", "", "Choose a timezone."),
    ],
)
def test_signup_rejects_bad_input(client, db, field, value, message):
    data = {**GOOD, field: value}
    if field == "password":
        data["confirm"] = value
    response = client.post("/signup", data=data)
    assert response.status_code == 400
    assert message in page(response)
    assert 'aria-invalid="true"' in page(response)
    assert users(db) == 0


def test_login_and_logout(client, make_user):
    user = make_user(email="ben@example.org")
    response = client.post("/login", data={"email": "BEN@example.org", "password": "password"})
    assert response.status_code == 302
    assert client.get("/account").status_code == 200
    assert client.get("/logout").status_code == 405  # logging out is a POST (CSRF-protected)
    response = client.post("/logout")
    assert response.status_code == 302
    response = client.get("/account")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
    assert user.email == "ben@example.org"


@pytest.mark.parametrize(
    ("email", "password"),
    [("ben@example.org", "wrong password"), ("nobody@example.org", "password")],
)
def test_wrong_login_gets_one_clear_message(client, make_user, email, password):
    make_user(email="ben@example.org")
    response = client.post("/login", data={"email": email, "password": password})
    assert response.status_code == 400
    assert "That email and password do not match an account." in page(response)
    assert client.get("/account").status_code == 302


def test_login_rejects_empty_and_oversized(client):
    response = client.post("/login", data={"email": "", "password": ""})
    assert response.status_code == 400
    assert "Enter your email address." in page(response)
    response = client.post("/login", data={"email": "a@b.org", "password": "x" * 1000})
    assert response.status_code == 400


def test_login_starts_a_fresh_session(client, make_user):
    user = make_user()
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    client.post("/login", data={"email": user.email, "password": "password"})
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["_user_id"] == str(user.id)


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/groups", "/groups"),
        ("/g/some-club?x=1", "/g/some-club?x=1"),
        ("https://evil.example/", "/"),
        ("//evil.example/path", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
    ],
)
def test_next_redirects_stay_on_site(client, make_user, target, expected):
    user = make_user()
    response = client.post(
        "/login", data={"email": user.email, "password": "password", "next": target}
    )
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location in (expected, f"http://planner.test{expected}")


def test_changing_password_ends_other_sessions(app, client, make_user, as_user):
    user = make_user()
    other_device = as_user(user)
    client.post("/login", data={"email": user.email, "password": "password"})
    response = client.post(
        "/account/password",
        data={"current": "password", "password": "brand new secret", "confirm": "brand new secret"},
    )
    assert response.status_code == 302
    assert client.get("/account").status_code == 200  # this device stays logged in
    assert other_device.get("/account").status_code == 302  # the other one is logged out


class TestCsrf:
    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "WTF_CSRF_ENABLED": True}

    def test_post_without_token_is_refused(self, client, db):
        response = client.post("/signup", data=GOOD)
        assert response.status_code == 400
        assert "The form expired or was sent from another site" in page(response)
        assert users(db) == 0

    def test_post_with_forged_token_is_refused(self, client, db):
        client.get("/signup")
        response = client.post("/signup", data={**GOOD, "csrf_token": "forged"})
        assert response.status_code == 400
        assert users(db) == 0

    def test_post_with_token_from_the_form_works(self, client, db):
        html = page(client.get("/signup"))
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
        response = client.post("/signup", data={**GOOD, "csrf_token": token})
        assert response.status_code == 302
        assert users(db) == 1

    def test_logout_needs_the_token(self, client, make_user):
        user = make_user()
        html = page(client.get("/login"))
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
        data = {"email": user.email, "password": "password", "csrf_token": token}
        assert client.post("/login", data=data).status_code == 302
        assert client.post("/logout").status_code == 400
        assert client.get("/account").status_code == 200  # still logged in


class TestRateLimit:
    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "RATELIMIT_ENABLED": True, "AUTH_RATE_LIMIT": "3 per minute"}

    def test_login_attempts_are_limited(self, app, client, make_user):
        from planner.web.extensions import limiter

        limiter.reset()
        user = make_user()
        data = {"email": user.email, "password": "wrong password"}
        statuses = [client.post("/login", data=data).status_code for _ in range(4)]
        assert statuses == [400, 400, 400, 429]
        response = client.post("/login", data=data)
        assert response.status_code == 429
        assert "Slow down a little" in page(response)
        assert client.get("/login").status_code == 200  # only attempts count
        limiter.reset()
