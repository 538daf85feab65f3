"""The small pure helpers behind faces and phrases (planner.web.people)."""

from __future__ import annotations

from planner.web.people import COLOURS, avatar, initials, name_list, plural, with_article


def test_initials_and_a_colour_from_the_id_not_the_name():
    assert initials("Ada Lovelace") == "AL"
    assert initials("Jean-Luc Picard") == "JP"
    assert initials("cher") == "CH" and initials("  ") == "?"
    assert avatar(7, "Sam").colour == avatar(7, "Samantha").colour  # renaming keeps it
    colours = {avatar(i, "Sam").colour for i in range(1, 40)}
    assert len(colours) == COLOURS  # consecutive ids spread over the whole palette


def test_name_lists_and_articles():
    assert name_list([]) == "nobody yet"
    assert name_list(["Amy"]) == "Amy"
    assert name_list(["Amy", "Bob", "Cem"]) == "Amy, Bob and Cem"
    assert name_list(["Amy", "Bob", "Cem", "Dan"]) == "Amy, Bob and 2 others"
    assert name_list(["Amy", "Bob", "Cem", "Dan", "Eve"]) == "Amy, Bob and 3 others"
    assert with_article("organizer") == "an organizer" and with_article("member") == "a member"
    assert plural(1, "member") == "1 member" and plural(3, "member") == "3 members"
