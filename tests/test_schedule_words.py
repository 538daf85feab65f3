"""Schedules and scheduling's messages in every language planner speaks (the ``schedules``
gettext domain): whole sentences, each language's own word order, dates and clock."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from planner import locales
from planner.scheduling import catalog
from planner.scheduling.recurrence import RecurrenceError, Series, end_rule
from planner.scheduling.rules import describe, to_rrule, validate_duration, validate_rule
from planner.scheduling.words import describe_duration

BERLIN = "Europe/Berlin"
THU = datetime(2026, 3, 12, 19, 0)  # a Thursday
SCHEDULING = Path(catalog.__file__).parent
SOURCES = locales.CATALOGS  # the fixture points planner at compiled copies
POT = SOURCES / "schedules.pot"
KEYWORDS = {
    "N_": None,
    "NN_": (1, 2),
    "gettext": None,
    "ngettext": (1, 2),
    "pgettext": ((1, "c"), 2),
    "npgettext": ((1, "c"), 2, 3),
}
PLURAL_FORMS = {
    "de": "nplurals=2; plural=(n != 1);",
    "fr": "nplurals=2; plural=(n > 1);",
    "es": "nplurals=2; plural=(n != 1);",
}


def _po(lang: str) -> Path:
    return SOURCES / lang / "LC_MESSAGES" / "schedules.po"


@pytest.fixture(autouse=True, scope="module")
def compiled_catalogs(tmp_path_factory: pytest.TempPathFactory):
    """The .po files compiled into a directory of this worker's own (.mo are not committed)."""
    root = tmp_path_factory.mktemp("catalogs")
    for lang in locales.TRANSLATED:
        with _po(lang).open("rb") as source:
            messages = read_po(source, locale=lang, domain="schedules")
        target = root / lang / "LC_MESSAGES" / "schedules.mo"
        target.parent.mkdir(parents=True)
        with target.open("wb") as out:
            write_mo(out, messages)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(locales, "CATALOGS", root)
        catalog.translations.cache_clear()
        yield root
    catalog.translations.cache_clear()


# --------------------------------------------------------------------------- the table

# (rule, start, duration, {locale: the whole description, written by hand})
TABLE = [
    ("FREQ=WEEKLY;BYDAY=TH", THU, None, {
        "en_GB": "Every Thursday at 19:00",
        "de": "Jeden Donnerstag um 19:00",
        "fr": "Tous les jeudis à 19 h",
        "es": "Todos los jueves a las 19:00",
    }),
    ("FREQ=WEEKLY;INTERVAL=2;BYDAY=TH", THU, None, {
        "en_GB": "Every 2 weeks on Thursday at 19:00",
        "de": "Jeden zweiten Donnerstag um 19:00",
        "fr": "Un jeudi sur deux à 19 h",
        "es": "Cada dos semanas, los jueves a las 19:00",
    }),
    ("FREQ=WEEKLY;INTERVAL=3;BYDAY=TH", THU, None, {
        "en_GB": "Every 3 weeks on Thursday at 19:00",
        "de": "Alle 3 Wochen am Donnerstag um 19:00",
        "fr": "Toutes les 3 semaines le jeudi à 19 h",
        "es": "Cada 3 semanas, los jueves a las 19:00",
    }),
    ("FREQ=WEEKLY;BYDAY=MO,TH", THU, None, {
        "en_GB": "Every Monday and Thursday at 19:00",
        "de": "Jeden Montag und Donnerstag um 19:00",
        "fr": "Tous les lundis et jeudis à 19 h",
        "es": "Todos los lunes y jueves a las 19:00",
    }),
    ("FREQ=WEEKLY;BYDAY=MO,WE,SA", datetime(2026, 3, 14, 10, 0), None, {
        "en_GB": "Every Monday, Wednesday and Saturday at 10:00",
        "de": "Jeden Montag, Mittwoch und Samstag um 10:00",
        "fr": "Tous les lundis, mercredis et samedis à 10 h",
        "es": "Todos los lunes, miércoles y sábados a las 10:00",
    }),
    ("FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TH", THU, None, {
        "en_GB": "Every 2 weeks on Monday and Thursday at 19:00",
        "de": "Alle zwei Wochen am Montag und Donnerstag um 19:00",
        "fr": "Toutes les deux semaines, le lundi et le jeudi à 19 h",
        "es": "Cada dos semanas, los lunes y jueves a las 19:00",
    }),
    ("FREQ=DAILY", THU, None, {
        "en_GB": "Every day at 19:00",
        "de": "Täglich um 19:00",
        "fr": "Tous les jours à 19 h",
        "es": "Todos los días a las 19:00",
    }),
    ("FREQ=DAILY;INTERVAL=2", datetime(2026, 3, 12, 1, 0), None, {
        "en_GB": "Every 2 days at 01:00",
        "de": "Alle 2 Tage um 01:00",
        "fr": "Tous les 2 jours à 1 h",
        "es": "Cada 2 días a la 1:00",
    }),
    ("FREQ=MONTHLY;BYMONTHDAY=15", datetime(2026, 3, 15, 19, 30), None, {
        "en_GB": "Monthly on day 15 at 19:30",
        "de": "Monatlich am 15. um 19:30",
        "fr": "Tous les mois le 15 à 19 h 30",
        "es": "Cada mes el día 15 a las 19:30",
    }),
    ("FREQ=MONTHLY;BYMONTHDAY=1", datetime(2026, 4, 1, 19, 0), None, {
        "en_GB": "Monthly on day 1 at 19:00",
        "de": "Monatlich am 1. um 19:00",
        "fr": "Tous les mois le 1er à 19 h",
        "es": "Cada mes el día 1 a las 19:00",
    }),
    ("FREQ=MONTHLY;BYMONTHDAY=31", datetime(2026, 3, 31, 18, 0), None, {
        "en_GB": "Monthly on day 31 at 18:00 (months without a 31st are skipped)",
        "de": "Monatlich am 31. um 18:00 (Monate ohne 31. Tag werden übersprungen)",
        "fr": "Tous les mois le 31 à 18 h (les mois sans 31e jour sont sautés)",
        "es": "Cada mes el día 31 a las 18:00 (se omiten los meses sin día 31)",
    }),
    ("FREQ=MONTHLY;BYDAY=1SA", datetime(2026, 3, 7, 10, 0), None, {
        "en_GB": "Monthly on the first Saturday at 10:00",
        "de": "Jeden ersten Samstag im Monat um 10:00",
        "fr": "Le premier samedi de chaque mois à 10 h",
        "es": "El primer sábado de cada mes a las 10:00",
    }),
    ("FREQ=MONTHLY;BYDAY=-1FR", datetime(2026, 3, 27, 19, 0), None, {
        "en_GB": "Monthly on the last Friday at 19:00",
        "de": "Jeden letzten Freitag im Monat um 19:00",
        "fr": "Le dernier vendredi de chaque mois à 19 h",
        "es": "El último viernes de cada mes a las 19:00",
    }),
    ("FREQ=MONTHLY;INTERVAL=2;BYDAY=-1FR", datetime(2026, 3, 27, 19, 0), None, {
        "en_GB": "Every 2 months on the last Friday at 19:00",
        "de": "Alle 2 Monate am letzten Freitag um 19:00",
        "fr": "Tous les 2 mois, le dernier vendredi à 19 h",
        "es": "Cada 2 meses, el último viernes a las 19:00",
    }),
    ("FREQ=YEARLY", THU, None, {
        "en_GB": "Every year on 12 March at 19:00",
        "de": "Jährlich am 12. März um 19:00",
        "fr": "Tous les ans le 12 mars à 19 h",
        "es": "Todos los años el 12 de marzo a las 19:00",
    }),
    ("FREQ=YEARLY", datetime(2028, 2, 29, 9, 0), None, {
        "en_GB": "Every year on 29 February at 09:00 (only in leap years)",
        "de": "Jährlich am 29. Februar um 09:00 (nur in Schaltjahren)",
        "fr": "Tous les ans le 29 février à 9 h (uniquement les années bissextiles)",
        "es": "Todos los años el 29 de febrero a las 9:00 (solo en años bisiestos)",
    }),
    ("", THU, None, {
        "en_GB": "Once on Thursday 12 March 2026 at 19:00",
        "de": "Einmalig am Donnerstag, 12. März 2026, um 19:00",
        "fr": "Une fois, le jeudi 12 mars 2026 à 19 h",
        "es": "Una vez, el jueves 12 de marzo de 2026 a las 19:00",
    }),
    ("FREQ=WEEKLY;BYDAY=TH;UNTIL=20260630T215959Z", THU, None, {
        "en_GB": "Every Thursday at 19:00 until 30 June 2026",
        "de": "Jeden Donnerstag um 19:00 bis zum 30. Juni 2026",
        "fr": "Tous les jeudis à 19 h jusqu’au 30 juin 2026",
        "es": "Todos los jueves a las 19:00 hasta el 30 de junio de 2026",
    }),
    ("FREQ=WEEKLY;BYDAY=TH;COUNT=10", THU, None, {
        "en_GB": "Every Thursday at 19:00, 10 times",
        "de": "Jeden Donnerstag um 19:00, 10-mal",
        "fr": "Tous les jeudis à 19 h, 10 fois",
        "es": "Todos los jueves a las 19:00, 10 veces",
    }),
    ("FREQ=WEEKLY;BYDAY=TH;COUNT=1", THU, None, {
        "en_GB": "Every Thursday at 19:00, 1 time",
        "de": "Jeden Donnerstag um 19:00, 1-mal",
        "fr": "Tous les jeudis à 19 h, une seule fois",
        "es": "Todos los jueves a las 19:00, 1 vez",
    }),
    ("FREQ=WEEKLY;BYDAY=TH", THU, timedelta(hours=2), {
        "en_GB": "Every Thursday at 19:00 for 2 hours",
        "de": "Jeden Donnerstag um 19:00 für 2 Stunden",
        "fr": "Tous les jeudis à 19 h pendant 2 heures",
        "es": "Todos los jueves a las 19:00 durante 2 horas",
    }),
    ("FREQ=DAILY", THU, timedelta(minutes=90), {
        "en_GB": "Every day at 19:00 for 1 hour 30 minutes",
        "de": "Täglich um 19:00 für 1 Stunde 30 Minuten",
        "fr": "Tous les jours à 19 h pendant 1 heure 30 minutes",
        "es": "Todos los días a las 19:00 durante 1 hora y 30 minutos",
    }),
    ("FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1", datetime(2026, 3, 31, 19, 0), None, {
        "en_GB": "Repeats by the custom rule FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1, "
                 "from Tuesday 31 March 2026 at 19:00",
        "de": "Wiederholt sich nach der eigenen Regel FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;"
              "BYSETPOS=-1, ab Dienstag, 31. März 2026 um 19:00",
        "fr": "Se répète selon la règle personnalisée FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;"
              "BYSETPOS=-1, à partir du mardi 31 mars 2026 à 19 h",
        "es": "Se repite según la regla personalizada FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;"
              "BYSETPOS=-1, desde el martes 31 de marzo de 2026 a las 19:00",
    }),
]
CASES = [
    pytest.param(rule, start, duration, lang, expected, id=f"{lang}-{rule or 'once'}-{duration}")
    for rule, start, duration, texts in TABLE
    for lang, expected in texts.items()
]


@pytest.mark.parametrize(("rule", "start", "duration", "lang", "expected"), CASES)
def test_describe_in_every_language(rule, start, duration, lang, expected):
    assert describe(rule, start, BERLIN, duration, with_zone=False, locale=lang) == expected


def test_english_is_the_default_and_the_zone_is_appended_in_every_language():
    rule = "FREQ=WEEKLY;INTERVAL=2;BYDAY=TH"
    assert describe(rule, THU, BERLIN) == "Every 2 weeks on Thursday at 19:00, Europe/Berlin"
    assert describe(rule, THU, BERLIN, locale="de") == (
        "Jeden zweiten Donnerstag um 19:00, Europe/Berlin"
    )
    assert describe("FREQ=MONTHLY;BYMONTHDAY=31", datetime(2026, 3, 31, 18, 0), BERLIN,
                    locale="fr") == (
        "Tous les mois le 31 à 18 h, Europe/Berlin (les mois sans 31e jour sont sautés)"
    )
    # A language planner does not speak, and a regional variant, fall back sensibly.
    assert describe(rule, THU, BERLIN, with_zone=False, locale="ja") == (
        "Every 2 weeks on Thursday at 19:00"
    )
    assert describe(rule, THU, BERLIN, with_zone=False, locale="de_AT") == (
        "Jeden zweiten Donnerstag um 19:00"
    )


@pytest.mark.parametrize(
    ("rule", "start", "duration", "expected"),
    [
        ("FREQ=WEEKLY;BYDAY=TH", THU, None, "Every Thursday at 7:00 PM"),
        ("FREQ=WEEKLY;INTERVAL=2;BYDAY=TH", THU, None, "Every 2 weeks on Thursday at 7:00 PM"),
        ("FREQ=DAILY;INTERVAL=2", datetime(2026, 3, 12, 1, 0), None, "Every 2 days at 1:00 AM"),
        ("FREQ=YEARLY", datetime(2028, 2, 29, 9, 0), None,
         "Every year on February 29 at 9:00 AM (only in leap years)"),
        ("", THU, None, "Once on Thursday, March 12, 2026 at 7:00 PM"),
        ("FREQ=WEEKLY;BYDAY=TH;UNTIL=20260630T215959Z", THU, None,
         "Every Thursday at 7:00 PM until June 30, 2026"),
        ("FREQ=DAILY", THU, timedelta(minutes=90), "Every day at 7:00 PM for 1 hour 30 minutes"),
    ],
)
def test_describe_in_american_english(rule, start, duration, expected):
    assert describe(rule, start, BERLIN, duration, with_zone=False, locale="en_US") == expected


def test_durations_use_plural_forms():
    assert describe_duration(timedelta(days=2, hours=3, minutes=1)) == "2 days 3 hours 1 minute"
    assert describe_duration(timedelta(days=1, hours=1), "de") == "1 Tag 1 Stunde"
    assert describe_duration(timedelta(0), "fr") == "0 minute"  # French: 0 is singular
    assert describe_duration(timedelta(days=2, hours=3, minutes=1), "es") == (
        "2 días, 3 horas y 1 minuto"
    )


# --------------------------------------------------------------------------- validation messages


def test_validation_message_in_every_language():
    friday = "FREQ=WEEKLY;BYDAY=FR"
    with pytest.raises(RecurrenceError) as caught:
        validate_rule(friday, THU, BERLIN)
    error = caught.value
    english = (
        "The start (Thursday 12 March 2026 at 19:00) does not fit the pattern; the first date "
        "that fits is Friday 13 March 2026 at 19:00. Move the start there or change the pattern."
    )
    assert str(error) == english
    assert error.message("en_GB") == english
    assert error.message("en_US") == (
        "The start (Thursday, March 12, 2026 at 7:00 PM) does not fit the pattern; the first "
        "date that fits is Friday, March 13, 2026 at 7:00 PM. Move the start there or change "
        "the pattern."
    )
    assert error.message("de") == (
        "Der Beginn (Donnerstag, 12. März 2026 um 19:00) passt nicht zum Muster; der erste "
        "passende Termin ist Freitag, 13. März 2026 um 19:00. Verschiebe den Beginn dorthin "
        "oder ändere das Muster."
    )
    assert error.message("fr") == (
        "Le début (jeudi 12 mars 2026 à 19 h) ne correspond pas au motif\u00a0; la première "
        "date qui convient est le vendredi 13 mars 2026 à 19 h. Déplacez le début à cette date "
        "ou changez le motif."
    )
    assert error.message("es") == (
        "El inicio (jueves 12 de marzo de 2026 a las 19:00) no encaja con el patrón; la primera "
        "fecha que encaja es el viernes 13 de marzo de 2026 a las 19:00. Mueve el inicio allí "
        "o cambia el patrón."
    )


@pytest.mark.parametrize(
    ("call", "english", "translated"),
    [
        (lambda: validate_rule("FREQ=WEEKLY;UNTIL=20260101", THU, BERLIN),
         "The end date (1 January 2026) is before the start (12 March 2026).",
         {"de": "Das Enddatum (1. Januar 2026) liegt vor dem Beginn (12. März 2026).",
          "fr": "La date de fin (1er janvier 2026) précède le début (12 mars 2026).",
          "es": "La fecha de fin (1 de enero de 2026) es anterior al inicio (12 de marzo de "
                "2026)."}),
        (lambda: validate_rule("FREQ=DAILY;BYHOUR=0,1,2,3", THU.replace(hour=0), BERLIN),
         "This rule gives more than 1,000 occurrences a year; routines are for people, so "
         "choose a sparser pattern.",
         {"de": "Diese Regel ergibt mehr als 1.000 Termine im Jahr; Routinen sind für Menschen, "
                "wähle also ein lockereres Muster.",
          "fr": "Cette règle donne plus de 1\u202f000 occurrences par an\u00a0; les routines sont "
                "faites pour des personnes, choisissez donc un motif plus espacé.",
          "es": "Esta regla da más de 1.000 repeticiones al año; las rutinas son para personas, "
                "así que elige un patrón más espaciado."}),
        (lambda: validate_rule("FREQ=MONTHLY;BYMONTH=13", THU, BERLIN),
         "BYMONTH=13: month 13 is out of range (1 to 12).",
         {"de": "BYMONTH=13: Monat 13 liegt außerhalb des Bereichs (1 bis 12).",
          "fr": "BYMONTH=13\u00a0: mois 13 hors limites (de 1 à 12).",
          "es": "BYMONTH=13: mes 13 fuera de rango (de 1 a 12)."}),
        (lambda: validate_rule("FREQ=WEEKLY", THU, "Mars/Olympus"),
         "“Mars/Olympus” is not a timezone we know. Use a name like Europe/Berlin.",
         {"de": "„Mars/Olympus“ ist keine Zeitzone, die wir kennen. Nimm einen Namen wie "
                "Europe/Berlin.",
          "fr": "«\u00a0Mars/Olympus\u00a0» n’est pas un fuseau horaire que nous connaissons. "
                "Utilisez un nom comme Europe/Berlin.",
          "es": "«Mars/Olympus» no es una zona horaria que conozcamos. Usa un nombre como "
                "Europe/Berlin."}),
        (lambda: validate_duration(0),
         "The duration must be longer than zero minutes.",
         {"de": "Die Dauer muss länger als null Minuten sein.",
          "fr": "La durée doit dépasser zéro minute.",
          "es": "La duración debe ser de más de cero minutos."}),
        (lambda: end_rule(Series(THU, BERLIN, timedelta(hours=1), "FREQ=DAILY"),
                          datetime(2026, 3, 1).date()),
         "The series has no occurrence on or before 01 March 2026; delete it instead.",
         {"de": "Die Serie hat am 1. März 2026 oder davor keinen Termin; lösche sie stattdessen.",
          "fr": "La série n’a pas d’occurrence le 1er mars 2026 ou avant\u00a0; supprimez-la "
                "plutôt.",
          "es": "La serie no tiene ninguna repetición el 1 de marzo de 2026 o antes; bórrala en "
                "su lugar."}),
    ],
)
def test_more_validation_messages(call, english, translated):
    with pytest.raises(RecurrenceError) as caught:
        call()
    assert str(caught.value) == english
    for lang, expected in translated.items():
        assert caught.value.message(lang) == expected


def test_an_error_from_outside_scheduling_stays_as_written():
    error = RecurrenceError("Choose the first date and time (100%).")
    assert str(error) == error.message("de") == "Choose the first date and time (100%)."
    from planner.scheduling.rules import Schedule

    with pytest.raises(RecurrenceError) as caught:
        to_rrule(Schedule(kind="weekly", interval=0), THU, BERLIN)
    assert caught.value.message("es") == "El intervalo debe ser 1 o más."


# --------------------------------------------------------------------------- the catalogs

_PLACEHOLDER = re.compile(r"%(?:\((\w+)\))?[#0 +-]?\d*(?:\.\d+)?([sdif%])")


def _placeholders(text: str) -> list[tuple[str, str]]:
    return sorted((name, kind) for name, kind in _PLACEHOLDER.findall(text) if kind != "%")


def _extracted() -> set[tuple[str | None, str]]:
    found = set()
    for _file, _line, message, _comments, context in extract_from_dir(
        str(SCHEDULING), keywords=KEYWORDS, comment_tags=("Translators:",)
    ):
        found.add((context, message[0] if isinstance(message, tuple) else message))
    return found


def test_the_template_holds_every_message_the_code_marks():
    with POT.open("rb") as f:
        template = read_po(f)
    held = {(m.context, m.id[0] if isinstance(m.id, tuple) else m.id) for m in template if m.id}
    assert held == _extracted()


@pytest.mark.parametrize("lang", locales.TRANSLATED)
def test_catalog_is_complete_and_keeps_every_placeholder(lang):
    with _po(lang).open("rb") as f:
        messages = read_po(f, locale=lang)
    with POT.open("rb") as f:
        template = read_po(f)
    assert not messages.fuzzy
    assert messages.mime_headers and dict(messages.mime_headers)["Plural-Forms"] == (
        PLURAL_FORMS[lang]
    )
    ids = {(m.context, m.id if isinstance(m.id, str) else m.id[0]) for m in messages if m.id}
    assert ids == {(m.context, m.id if isinstance(m.id, str) else m.id[0])
                   for m in template if m.id}
    for message in messages:
        if not message.id:
            continue
        assert not message.fuzzy, message.id
        if isinstance(message.id, tuple):
            assert len(message.string) == 2, message.id
            wanted = _placeholders(message.id[1])
            assert _placeholders(message.id[0]) == wanted, message.id
            strings = list(message.string)
        else:
            wanted = _placeholders(message.id)
            strings = [message.string]
        for index, string in enumerate(strings):
            assert string, f"untranslated: {message.id!r}"
            found = _placeholders(string)
            if isinstance(message.id, tuple) and index == 0:
                # The singular may say "one" in words ("une seule fois") instead of %(num)d,
                # as the catalog check allows; it keeps every other placeholder.
                assert set(found) <= set(wanted), (message.id, string)
                assert {p for p in wanted if p[0] != "num"} <= set(found), (message.id, string)
            else:
                assert found == wanted, (message.id, string)


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("en_GB", "Every 2 months on day 1 at 19:00 until 1 July 2026"),
        ("de", "Alle 2 Monate am 1. um 19:00 bis zum 1. Juli 2026"),
        ("fr", "Tous les 2 mois le 1er à 19 h jusqu’au 1er juillet 2026"),
        ("es", "Cada 2 meses el día 1 a las 19:00 hasta el 1 de julio de 2026"),
    ],
)
def test_the_first_of_the_month(lang, expected):
    rule = "FREQ=MONTHLY;INTERVAL=2;BYMONTHDAY=1;UNTIL=20260701T215959Z"
    start = datetime(2026, 3, 1, 19, 0)
    assert describe(rule, start, BERLIN, with_zone=False, locale=lang) == expected
