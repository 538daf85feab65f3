"""Mail in the recipient's language, whoever caused it (issue 16), read back from a real SMTP
server: a German member's reminder is German while an English one's stays English, an en-US
member reads "7:00 PM", and an English organizer's change reaches the German member in German.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tests.reminder_world import say, tick

START = datetime(2027, 3, 22, 19, 0)  # Monday 22 March 2027, 19:00 Berlin


@pytest.fixture
def app_config(app_config, smtp):
    return {**app_config, "SMTP_URL": smtp.url, "SMTP_CA_FILE": str(smtp.cert),
            "SITE_URL": "http://planner.test"}


def body(message) -> str:
    return message.get_body(("plain",)).get_content()


def by_recipient(smtp) -> dict[str, object]:
    return {m["To"].split("<")[-1].rstrip(">"): m for m in smtp.inbox.messages}


def test_each_member_gets_the_reminder_in_their_own_language(
    app, db, smtp, make_user, make_group, make_routine
):
    olga = make_user("Olga Owner", email="olga@example.org")  # English, the organizer
    greta = make_user("Greta", email="greta@example.org")
    greta.locale = "de"
    uma = make_user("Uma", email="uma@example.org")
    uma.locale = "en_US"
    eddie = make_user("Eddie", email="eddie@example.org")  # no choice: the site's English
    elena = make_user("Elena", email="elena@example.org")
    elena.locale = "es"
    db.commit()
    group = make_group(olga, members=[greta, uma, eddie, elena], name="Supper Club")
    routine = make_routine(group, "meals", title="Thursday supper", start=START)
    for person in (greta, uma, eddie, elena):
        say(db, routine, person, "going", START)
    tick(app, datetime(2027, 3, 21, 17, 0))  # Sunday 18:00 in Berlin: the evening before
    mails = by_recipient(smtp)
    assert set(mails) == {"greta@example.org", "uma@example.org", "eddie@example.org",
                          "elena@example.org"}
    spanish = mails["elena@example.org"]
    assert spanish["Content-Language"] == "es"
    assert spanish["Subject"] == "Mañana 19:00: Thursday supper"
    text = body(spanish)
    assert "Aún falta:" in text and "Still missing" not in text  # the meals plugin's own catalog

    german, american, english = (mails[a] for a in ("greta@example.org", "uma@example.org",
                                                    "eddie@example.org"))
    assert german["Content-Language"] == "de"
    assert german["Subject"] == "Morgen 19:00: Thursday supper"
    text = body(german)
    assert "Montag, 22. März, 19:00 (Europe/Berlin)" in text
    assert "Tomorrow" not in text and "Still missing" not in text  # meals' German lines too

    assert american["Content-Language"] == "en-US"
    assert american["Subject"] == "Tomorrow 7:00 PM: Thursday supper"
    assert "Monday, March 22, 7:00 PM (Europe/Berlin)" in body(american)

    assert english["Content-Language"] == "en-GB"
    assert english["Subject"] == "Tomorrow 19:00: Thursday supper"
    assert "Monday 22 March, 19:00 (Europe/Berlin)" in body(english)


def test_an_english_organizers_change_reaches_a_german_member_in_german(
    app, db, smtp, make_user, make_group, make_routine, as_user
):
    olga = make_user("Olga Owner", email="olga@example.org")
    greta = make_user("Greta", email="greta@example.org")
    greta.locale = "de"
    db.commit()
    group = make_group(olga, members=[greta], name="Supper Club")
    routine = make_routine(group, "meals", title="Thursday supper", start=START)
    say(db, routine, greta, "going", START)
    key = START.strftime("%Y%m%dT%H%M")
    page = as_user(olga).post(
        f"/g/{group.slug}/r/{routine.id}/{key}/cancel",
        data={"reason": "The kitchen is flooded", "confirm": "yes"},
        headers={"Accept-Language": "en-GB"},
    )
    assert page.status_code in (302, 303), page.get_data(as_text=True)[:500]
    tick(app, datetime(2027, 3, 20, 12, 0))
    tick(app, datetime(2027, 3, 20, 12, 0) + timedelta(minutes=10))
    [mail] = [m for m in smtp.inbox.messages if "greta@example.org" in m["To"]]
    assert mail["Content-Language"] == "de"
    assert "Abgesagt" in mail["Subject"] or "abgesagt" in mail["Subject"], mail["Subject"]
    assert "The kitchen is flooded" in body(mail)  # the organizer's own words, as written


@pytest.mark.parametrize(("lang", "expected"), [
    ("en_GB", "Moved to Friday 20:00, new place Community hall: Thursday supper"),
    ("de", "Verschoben auf Freitag 20:00, neuer Ort „Community hall“: Thursday supper"),
    ("fr", "Déplacé au vendredi 20:00, nouveau lieu «\u00a0Community hall\u00a0»\u00a0:"
           " Thursday supper"),
    ("es", "Cambiado a viernes 20:00, nuevo lugar «Community hall»: Thursday supper"),
])
def test_a_notice_subject_names_each_change_in_the_readers_words(app, lang, expected):
    """Several changes in one subject are joined by a translated message, and a place or a
    title is quoted the reader's way, so no language reads "new place: Hall: Supper"."""
    from planner.mail.render import speaking
    from planner.notify.notices import change_subject

    before = {"title": "Thursday supper", "start": "2027-03-18T19:00:00",
              "end": "2027-03-18T21:00:00", "zone": "Europe/Berlin", "location": "Kitchen"}
    after = {**before, "start": "2027-03-19T20:00:00", "end": "2027-03-19T22:00:00",
             "location": "Community hall"}
    with app.app_context(), speaking(lang):
        assert change_subject(before, after, "Europe/Berlin") == expected
