"""The language switcher in the footer: a visitor's pick in a cookie, a member's also saved."""

from __future__ import annotations

import re

import pytest

from planner.models import User
from planner.web.i18n import COOKIE


def page(response) -> str:
    return response.get_data(as_text=True)


def test_every_page_has_the_switcher_with_the_current_language_chosen(client):
    html = page(client.get("/groups"))
    form = re.search(r'<form method="post" action="/language".*?</form>', html, re.S)
    assert form, "no language switcher in the footer"
    assert 'name="locale"' in form.group(0)
    assert '<option value="de" lang="de">Deutsch</option>' in form.group(0)
    assert re.search(r'<option value="en_GB" lang="en-GB" selected>', form.group(0))
    assert 'name="next" value="/groups?"' in form.group(0)
    assert "Change language" in form.group(0)


def test_a_visitor_picks_a_language(client):
    response = client.post("/language", data={"locale": "de", "next": "/groups"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/groups"
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith(f"{COOKIE}=de;")
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Max-Age=31536000" in cookie
    html = page(client.get("/groups"))
    assert '<html lang="de"' in html
    assert re.search(r'<option value="de" lang="de" selected>', html)


def test_a_member_keeps_the_language_in_the_account(client, db, make_user):
    user = make_user(email="ada@example.org")
    client.post("/login", data={"email": user.email, "password": "password"})
    response = client.post("/language", data={"locale": "fr", "next": "/account"})
    assert response.status_code == 303
    db.expire_all()
    assert db.get(User, user.id).locale == "fr"
    assert '<html lang="fr"' in page(client.get("/account"))


@pytest.mark.parametrize("locale", ["xx", "", "de_XX_bogus", "<script>", "en" * 500])
def test_a_language_planner_does_not_speak_gets_a_clear_message(client, locale):
    response = client.post("/language", data={"locale": locale, "next": "/groups"})
    assert response.status_code == 303
    assert COOKIE not in response.headers.get("Set-Cookie", "")
    html = page(client.get(response.headers["Location"]))
    assert "Planner does not speak that language. Pick one from the list." in html
    assert '<html lang="en-GB"' in html


def test_a_missing_locale_is_no_500(client):
    response = client.post("/language", data={})
    assert response.status_code == 303
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "/\\evil", ""])
def test_next_stays_on_this_site(client, target):
    response = client.post("/language", data={"locale": "es", "next": target})
    assert response.status_code == 303
    assert response.headers["Location"] == "/"


class TestCsrf:
    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "WTF_CSRF_ENABLED": True}

    def test_without_the_token_nothing_changes(self, client):
        response = client.post("/language", data={"locale": "de", "next": "/groups"})
        assert response.status_code == 400
        assert COOKIE not in response.headers.get("Set-Cookie", "")

    def test_with_the_token_from_the_footer_it_works(self, client):
        html = page(client.get("/groups"))
        form = re.search(r'<form method="post" action="/language".*?</form>', html, re.S).group(0)
        token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
        response = client.post(
            "/language", data={"locale": "de", "next": "/groups", "csrf_token": token}
        )
        assert response.status_code == 303
        assert '<html lang="de"' in page(client.get("/groups"))
