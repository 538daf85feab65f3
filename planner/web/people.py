"""How people and small phrases read on a page: generated avatars, "Amy, Bob and 3 others",
"an organizer".

Avatars are initials on a colour derived from the person's id, not their name, so renaming
yourself keeps your colour and two people called Sam still look different. No uploads: nothing
to store, moderate or leak.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask

# The number of avatar colours in app.css (.avatar.c0 .. .c11), each dark enough for white
# initials at 4.5:1 contrast.
COLOURS = 12

ANSWERS = {
    "going": "You're going",
    "waitlisted": "You're on the waitlist",
    "maybe": "You said maybe",
    "declined": "You can't go",
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


def name_list(names: list[str], shown: int = 2) -> str:
    """"Amy", "Amy and Bob", "Amy, Bob and Cem", "Amy, Bob and 3 others"."""
    if not names:
        return "nobody yet"
    if len(names) <= shown + 1:
        if len(names) == 1:
            return names[0]
        return ", ".join(names[:-1]) + " and " + names[-1]
    rest = len(names) - shown
    return ", ".join(names[:shown]) + f" and {rest} other" + ("" if rest == 1 else "s")


def with_article(word: str) -> str:
    return ("an " if str(word)[:1].lower() in "aeiou" else "a ") + str(word)


def answer_words(status: str | None) -> str:
    return ANSWERS.get(status or "", "You haven't answered yet")


def plural(count: int, word: str, many: str | None = None) -> str:
    return f"{count} {word if count == 1 else (many or word + 's')}"


def register(app: Flask) -> None:
    app.add_template_filter(with_article, "with_article")
    app.add_template_filter(name_list, "name_list")
    app.add_template_global(avatar, "avatar")
    app.add_template_global(answer_words, "answer_words")
    app.add_template_global(plural, "plural")


