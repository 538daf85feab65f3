"""How "Next up" shows what still needs an answer: one row per routine, not one per date.

A daily routine used to fill "Still needs your answer" with fourteen rows; now it shows its
first open date with "5 dates need your answer", and the rest of the list never repeats a row
that is already in the first section. Pure: it rearranges what :func:`next_up` loaded.
"""

from __future__ import annotations

from dataclasses import dataclass

from planner.routines.next_up import NextUp


@dataclass(frozen=True)
class Nudge:
    item: NextUp
    count: int  # how many dates of this routine in the window need an answer, this one included


def needing_answer(items: list[NextUp]) -> list[Nudge]:
    """The first open date of each routine, in start order, with how many more there are."""
    firsts: dict[int, NextUp] = {}
    counts: dict[int, int] = {}
    for n in items:
        if not n.needs_answer:
            continue
        routine_id = n.item.routine.id
        firsts.setdefault(routine_id, n)
        counts[routine_id] = counts.get(routine_id, 0) + 1
    return [Nudge(item=first, count=counts[rid]) for rid, first in firsts.items()]


def the_rest(items: list[NextUp], nudges: list[Nudge]) -> list[NextUp]:
    """Every item not already shown as a nudge, in order."""
    shown = {id(n.item) for n in nudges}
    return [n for n in items if id(n) not in shown]
