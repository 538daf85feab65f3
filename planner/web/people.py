"""How people and small phrases read on a page: generated avatars, "Amy, Bob and 3 others",
"an organizer".

Avatars are initials on a colour derived from the person's id, not their name, so renaming
yourself keeps your colour and two people called Sam still look different. No uploads: nothing
to store, moderate or leak.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, has_request_context
from flask_babel import gettext, ngettext

from planner import locales
from planner.web.lazy_text import lazy_gettext as _l

# The number of avatar colours in app.css (.avatar.c0 .. .c11), each dark enough for white
# initials at 4.5:1 contrast.
COLOURS = 12

ANSWERS = {
    "going": _l("You're going"),
    "waitlisted": _l("You're on the waitlist"),
    "maybe": _l("You said maybe"),
    "declined": _l("You can't go"),
}
#: A role with its article, whole: "an organizer" (English decides a/an by sound, others by
#: gender, so each language words the phrase itself).
ROLE_PHRASES = {
    "member": _l("a member"),
    "organizer": _l("an organizer"),
    "owner": _l("an owner"),
}


@dataclass(frozen=True)
class Avatar:
    initials: str
    colour: str  # a CSS class, c0..c11: the page stays free of style attributes


def initials(name: str) -> str:
    words = [w for w in name.replace("-", " ").split() if w[:1].isalnum()]
    if not words:
        return "?"
    if len(words) == 1:
        return words[0][:2].upper() if len(words[0]) > 1 else words[0].upper()
    return (words[0][0] + words[-1][0]).upper()


def avatar(user_id: int, name: str) -> Avatar:
    # 5 is coprime with 12: consecutive ids (people who signed up together) get different
    # colours, and every twelve ids use the whole palette.
    index = (user_id * 5) % COLOURS
    return Avatar(initials=initials(name), colour=f"c{index}")


def _locale() -> str:
    """The request's locale; outside a request (a test, the shell) the fallback."""
    if not has_request_context():
        return locales.FALLBACK
    from planner.web.i18n import current_locale

    return current_locale()


def name_list(names: list[str], shown: int = 2) -> str:
    """"Amy", "Amy and Bob", "Amy, Bob and Cem", "Amy, Bob and 3 others", joined the way the
    current language joins a list ("Amy, Bob und 3 weitere")."""
    if not names:
        return gettext("nobody yet")
    if len(names) <= shown + 1:
        return locales.and_list(list(names), _locale())
    rest = len(names) - shown
    others = ngettext("%(num)d other", "%(num)d others", rest)
    return locales.and_list([*names[:shown], others], _locale())


def with_article(word: str) -> str:
    """A role with its article ("an organizer"); other words keep the English a/an rule."""
    phrase = ROLE_PHRASES.get(str(word))
    if phrase is not None:
        return str(phrase)
    return ("an " if str(word)[:1].lower() in "aeiou" else "a ") + str(word)


def answer_words(status: str | None) -> str:
    found = ANSWERS.get(status or "")
    return str(found) if found is not None else gettext("You haven't answered yet")


def plural(count: int, word: str, many: str | None = None) -> str:
    """``3 members``: translated for the words the pages count; others keep the English rule
    (templates should prefer ``ngettext`` themselves)."""
    if word == "member" and many is None:
        return ngettext("%(num)d member", "%(num)d members", count)
    return f"{count} {word if count == 1 else (many or word + 's')}"


def register(app: Flask) -> None:
    app.add_template_filter(with_article, "with_article")
    app.add_template_filter(name_list, "name_list")
    app.add_template_global(avatar, "avatar")
    app.add_template_global(answer_words, "answer_words")
    app.add_template_global(plural, "plural")


