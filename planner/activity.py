"""``ActivityType``: the public API that activity plugins implement.

An activity type owns the ``Routine.details`` JSON: its ``form`` validates it, ``describe``
turns it into plain text for the page and the iCal DESCRIPTION, and ``template`` renders it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from wtforms import Form

KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")


class DetailsForm(Form):
    """Base for an activity type's details form. CSRF is handled by the enclosing page form."""


@dataclass(frozen=True)
class SlotDefault:
    """A sign-up slot a new routine of this type starts with (organizers can edit them)."""

    label: str
    capacity: int = 1


@dataclass
class ActivityType:
    key: str
    label: str
    icon: str = "•"
    description: str = ""
    form: type[DetailsForm] = DetailsForm
    default_slots: tuple[SlotDefault, ...] = ()
    categories: tuple[str, ...] = ()
    # A Jinja template path rendered with ``details``, ``routine`` and ``activity``; None: none.
    template: str | None = None
    # Filled in by the plugin manager: the entry-point name of the plugin that registered it.
    plugin: str = field(default="", compare=False)

    def describe(self, details: dict[str, Any]) -> str:
        """Plain text for the page and the iCal DESCRIPTION; override for a richer text."""
        return ""

    def clean(self, details: dict[str, Any] | None) -> dict[str, Any]:
        """Details as the form would accept them: unknown keys dropped, defaults filled.

        Used to read stored JSON written by an older version of the plugin without a 500.
        """
        form = self.form(data=details or {})
        return {name: f.data for name, f in form._fields.items()}


GENERIC = ActivityType(
    key="unknown",
    label="Activity",
    icon="•",
    description="The plugin for this activity type is not installed or is disabled.",
)
