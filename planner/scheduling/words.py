"""Dates and durations in the words pages and error messages use ("Thursday 5 March",
"1 hour 30 minutes"), kept apart so validation messages and descriptions say them alike.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
ORDINALS = {1: "first", 2: "second", 3: "third", 4: "fourth", -1: "last"}


def clock(value: datetime) -> str:
    return value.strftime("%H:%M")


def short_day(value: date) -> str:
    return f"{value.day} {value:%B %Y}"


def long_day(value: date) -> str:
    return f"{DAY_NAMES[value.weekday()]} {short_day(value)}"


def and_list(words: list[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def describe_duration(duration: timedelta) -> str:
    """ "2 hours", "1 hour 30 minutes", "2 days"."""
    minutes = int(duration.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    words = []
    if days:
        words.append(plural(days, "day"))
    if hours:
        words.append(plural(hours, "hour"))
    if minutes or not words:
        words.append(plural(minutes, "minute"))
    return " ".join(words)


def every(interval: int, unit: str, single: str) -> str:
    return single if interval == 1 else f"Every {interval} {unit}s"


def ordinal_suffix(day: int) -> str:
    if day in (1, 21, 31):
        return "st"
    if day in (2, 22):
        return "nd"
    if day in (3, 23):
        return "rd"
    return "th"
