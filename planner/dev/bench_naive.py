"""The naive build ``make bench`` compares the cold render with: the same calendar built with
icalendar the straightforward way (``Event.add`` for every property, ``add_missing_timezones()``
with its default 1970-2038 range, ``to_ical()``). Kept apart so bench.py stays readable."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

SLUG = "reference"  # the bench's reference group (planner.dev.bench.SLUG)

def naive_calendar(routines, base_url: str) -> bytes:
    """What a straightforward icalendar exporter does with the same rows."""
    from icalendar import Calendar, Event

    now = datetime.now(UTC)
    cal = Calendar()
    cal.add("PRODID", "-//naive//EN")
    cal.add("VERSION", "2.0")
    cal.add("X-WR-CALNAME", "Reference group")
    for routine in routines:
        zone = ZoneInfo(routine.timezone)
        url = f"{base_url}/g/{SLUG}/r/{routine.id}"
        master = Event()
        master.add("UID", f"routine-{routine.id}@naive")
        master.add("DTSTAMP", now)
        master.add("SEQUENCE", routine.sequence)
        master.add("LAST-MODIFIED", routine.updated_at.replace(tzinfo=UTC))
        master.add("DTSTART", routine.start.replace(tzinfo=zone))
        master.add("DTEND", (routine.start + routine.duration).replace(tzinfo=zone))
        master.add("RRULE", dict(item.split("=") for item in routine.rrule.split(";")))
        master.add("SUMMARY", routine.title)
        master.add("LOCATION", routine.location)
        master.add("DESCRIPTION", f"{routine.description}\n\n{url}")
        master.add("URL", url)
        master.add("CATEGORIES", ["Gathering"])
        master.add("STATUS", "CONFIRMED")
        for override in routine.overrides:
            if override.status == "cancelled":
                master.add("EXDATE", override.original_start.replace(tzinfo=zone))
                continue
            event = Event()
            key = override.original_start.strftime("%Y%m%dT%H%M")
            event.add("UID", f"routine-{routine.id}@naive")
            event.add("DTSTAMP", now)
            event.add("SEQUENCE", routine.sequence + override.sequence)
            event.add("LAST-MODIFIED", override.updated_at.replace(tzinfo=UTC))
            event.add("RECURRENCE-ID", override.original_start.replace(tzinfo=zone))
            event.add("DTSTART", override.start.replace(tzinfo=zone))
            event.add("DTEND", (override.start + routine.duration).replace(tzinfo=zone))
            event.add("SUMMARY", override.title or routine.title)
            event.add("LOCATION", routine.location)
            event.add("DESCRIPTION", f"{override.note}\n\n{routine.description}\n\n{url}/{key}")
            event.add("URL", f"{url}/{key}")
            event.add("CATEGORIES", ["Gathering"])
            event.add("STATUS", "CONFIRMED")
            cal.add_component(event)
        cal.add_component(master)
    cal.add_missing_timezones()
    return cal.to_ical()
