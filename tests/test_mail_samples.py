"""docs/reminders.md shows real mails: ``python -m planner.dev.mail_samples`` prints them from
the code that sends them, and this test checks the page still holds exactly what it prints, so a
template change that forgets the docs fails here (paste the script's output again)."""

from __future__ import annotations

from pathlib import Path

from planner.dev import mail_samples

DOC = Path(__file__).resolve().parents[1] / "docs" / "reminders.md"


def test_the_docs_show_the_mails_the_code_sends():
    found = mail_samples.samples()
    assert [heading for heading, _ in found] == [
        "The weekly digest", "Asking for answers (the nudge)",
        "The reminder: a regular, with a newcomer coming", "The reminder: the newcomer's own",
        "A notice: a date cancelled", "An organizer's message",
    ]
    text = dict(found)
    reminder = text["The reminder: a regular, with a newcomer coming"]
    assert "Sam New is coming for the first time — say hi" in reminder
    assert "Last time: Pia's lentil soup, and we finally finished the puzzle" in reminder
    assert "Were you there on Thursday 7 October, 19:00?" in reminder
    assert "Olga Owner is hosting" in text["The reminder: the newcomer's own"]
    doc = DOC.read_text()
    for heading, body in found:
        assert f"### {heading}\n\n```text\n{body}```\n" in doc, heading
