"""Which language a page is in, and its dates in that language's conventions (issue 16).

The locale is the member's setting, else the visitor's pick, else Accept-Language, else
``PLANNER_DEFAULT_LOCALE``; dates and times follow it (en-US reads "7:00 PM", de "19:00").
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest

from planner.locales import LANGUAGES
from planner.web.i18n import COOKIE


def lang_of(html: str) -> str:
    found = re.search(r'<html lang="([^"]+)" dir="(ltr|rtl)">', html)
    assert found, "no <html lang dir> on the page"
    return found.group(1)


@pytest.mark.planner_backends("sqlite")
@pytest.mark.parametrize(
    ("header", "lang"),
    [
        ("de", "de"),
        ("de-AT,de;q=0.9,en;q=0.5", "de"),
        ("fr-CA", "fr"),
        ("es-419,es;q=0.9", "es"),
        ("en-US,en;q=0.9", "en-US"),
        ("en-GB", "en-GB"),
        ("en", "en-GB"),
        ("pt-BR,pt;q=0.9,de;q=0.4", "de"),  # the first language planner speaks, by quality
        ("pt-BR", "en-GB"),  # none: the site's default
        ("", "en-GB"),
    ],
)
def test_accept_language_picks_the_page_language(client, header, lang):
    page = client.get("/login", headers={"Accept-Language": header} if header else {})
    assert page.status_code == 200
    assert lang_of(page.get_data(as_text=True)) == lang


@pytest.mark.planner_backends("sqlite")
def test_german_login_page_is_in_german(client):
    html = client.get("/login", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert lang_of(html) == "de"
    assert "Anmelden" in html and "Passwort" in html
    assert "Log in" not in html and "Password" not in html


@pytest.mark.planner_backends("sqlite")
@pytest.mark.parametrize(
    ("header", "words"),
    [
        ("fr", ["Se connecter", "Mot de passe", "S’inscrire"]),
        ("es", ["Iniciar sesión", "Contraseña", "Registrarse"]),
    ],
)
def test_french_and_spanish_login_pages(client, header, words):
    html = client.get("/login", headers={"Accept-Language": header}).get_data(as_text=True)
    assert lang_of(html) == header
    assert all(word in html for word in words), words
    assert "Log in" not in html and "Password" not in html


@pytest.mark.planner_backends("sqlite")
def test_the_member_setting_wins_over_the_cookie_and_the_browser(
    app, db, make_user, as_user
):
    ana = make_user("Ana")
    ana.locale = "es"
    db.commit()
    client = as_user(ana)
    client.set_cookie(COOKIE, "fr", domain="planner.test")
    page = client.get("/account", headers={"Accept-Language": "de"})
    assert lang_of(page.get_data(as_text=True)) == "es"


@pytest.mark.planner_backends("sqlite")
def test_a_visitors_pick_wins_over_the_browser(client):
    def login_page(cookie: str) -> str:
        client.set_cookie(COOKIE, cookie, domain="planner.test")  # base_config's SERVER_NAME
        return client.get("/login", headers={"Accept-Language": "de"}).text

    assert lang_of(login_page("fr")) == "fr"
    assert lang_of(login_page("xx-nonsense")) == "de"  # a forged cookie is ignored, never a 500


@pytest.mark.planner_backends("sqlite")
def test_the_site_default_is_a_setting(app, client):
    app.config["DEFAULT_LOCALE"] = "es"
    assert lang_of(client.get("/login").text) == "es"


@pytest.mark.parametrize(
    ("locale", "clock", "day"),
    [
        ("en_US", "7:00 PM", "Thu, Mar 11, 2027"),
        ("en_GB", "19:00", "Thu 11 Mar 2027"),
        ("de", "19:00", "Do., 11. März 2027"),
        ("fr", "19:00", "jeu. 11 mars 2027"),
        ("es", "19:00", "jue, 11 mar 2027"),
    ],
)
def test_a_member_sees_times_in_their_conventions(
    db, make_user, make_group, make_routine, as_user, locale, clock, day
):
    owner = make_user("Olga", timezone="Europe/Berlin")
    member = make_user("Mo", timezone="Europe/Berlin")
    member.locale = locale
    db.commit()
    group = make_group(owner, members=[member], timezone="Europe/Berlin")
    routine = make_routine(group, title="Supper", start=datetime(2027, 3, 11, 19, 0))
    page = as_user(member).get(f"/g/{group.slug}/r/{routine.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f"{day}, {clock}" in html


@pytest.mark.planner_backends("sqlite")
def test_pages_are_cached_per_language(db, make_user, make_group, make_routine, client):
    """The page cache keys on the locale: a German visitor never gets the English page."""
    owner = make_user("Olga")
    group = make_group(owner)
    make_routine(group, title="Supper", start=datetime(2026, 3, 12, 19, 0))
    english = client.get(f"/g/{group.slug}", headers={"Accept-Language": "en-GB"}).text
    german = client.get(f"/g/{group.slug}", headers={"Accept-Language": "de"}).text
    assert lang_of(english) == "en-GB" and lang_of(german) == "de"
    assert english != german


def test_every_language_names_itself():
    assert LANGUAGES["de"] == "Deutsch" and LANGUAGES["fr"] == "Français"
    assert set(LANGUAGES) == {"en_GB", "en_US", "de", "fr", "es"}


@pytest.mark.parametrize(
    ("locale", "words"),
    [
        ("en_GB", ["today", "tomorrow", "in 3 days", "in 2 weeks", "5 days ago"]),
        ("de", ["heute", "morgen", "in 3 Tagen", "in 2 Wochen", "vor 5 Tagen"]),
        ("fr", ["aujourd’hui", "demain", "dans 3 jours", "dans 2 semaines", "il y a 5 jours"]),
        ("es", ["hoy", "mañana", "dentro de 3 días", "dentro de 2 semanas", "hace 5 días"]),
    ],
)
def test_relative_days_in_each_language(locale, words):
    from planner.locales import relative_days

    assert [relative_days(d, locale) for d in (0, 1, 3, 15, -5)] == words


def test_durations_in_each_language():
    from planner.locales import duration

    assert duration(90, "en_GB") == "1 hour 30 minutes"
    assert duration(90, "de") == "1 Stunde 30 Minuten"
    assert duration(2 * 24 * 60, "fr") == "2\u00a0jours"  # CLDR keeps number and unit together
    assert duration(int(timedelta(hours=2).total_seconds() // 60), "es") == "2 horas"


def descriptions(body: bytes) -> list[str]:
    from icalendar import Calendar

    return [str(e.get("DESCRIPTION")) for e in Calendar.from_ical(body).walk("VEVENT")]


def test_a_group_feed_is_in_the_groups_language(db, make_user, make_group, make_routine, client):
    owner = make_user("Olga")
    group = make_group(owner)
    make_routine(group, title="Supper", start=datetime(2027, 3, 11, 19, 0))
    url = f"/feeds/g/{group.slug}.ics"
    english = client.get(url, headers={"Accept-Language": "de"})  # the app's language counts not
    assert any("Every Thursday at 19:00" in d for d in descriptions(english.data))
    group.language = "de"
    db.commit()
    german = client.get(url, headers={"If-None-Match": english.headers["ETag"]})
    assert german.status_code == 200, "a new language is a new feed, never a stale 304"
    assert german.headers["ETag"] != english.headers["ETag"]
    assert any("Jeden Donnerstag um 19:00" in d for d in descriptions(german.data))


def test_a_personal_feed_is_in_its_owners_language(
    db, make_user, make_group, make_routine, client, answer
):
    owner = make_user("Olga")
    member = make_user("Mo")
    member.locale = "fr"
    db.commit()
    group = make_group(owner, members=[member])
    routine = make_routine(group, title="Supper", start=datetime(2027, 3, 11, 19, 0))
    answer(member, routine, "going")
    body = client.get(f"/feeds/t/{member.feed_token}/me.ics").data
    assert any("Tous les jeudis à 19 h" in d for d in descriptions(body))


def test_every_core_form_reads_wtforms_catalogs_through_the_cache():
    """Flask-WTF reads WTForms' catalog file again for every form built; planner's forms all
    come from PlannerForm, whose translations are read once per language and process."""
    import importlib
    import inspect

    from flask_wtf import FlaskForm

    from planner.web.i18n import PlannerForm

    modules = ["planner.web.forms", "planner.web.helpers", "planner.web.routine_forms",
               "planner.web.views.feeds", "planner.web.views.rsvps", "planner.web.views.slots"]
    forms = [
        cls for name in modules for _, cls in inspect.getmembers(importlib.import_module(name))
        if inspect.isclass(cls) and issubclass(cls, FlaskForm)
        and cls not in (FlaskForm, PlannerForm)
    ]
    assert len(forms) > 20
    assert all(issubclass(cls, PlannerForm) for cls in forms), [
        cls.__name__ for cls in forms if not issubclass(cls, PlannerForm)
    ]


@pytest.mark.planner_backends("sqlite")
def test_wtforms_own_messages_follow_the_language(app):
    from planner.web.forms import LoginForm

    with app.test_request_context("/", headers={"Accept-Language": "de"}):
        form = LoginForm(meta={"csrf": False})
        assert form.meta.get_translations(form).gettext("Not a valid integer value.") != (
            "Not a valid integer value."
        )
