"""Meals: a shared supper, potluck or hosted, with a host rotation and dish slots.

The rotation is the list of members who opted in, kept in ``Routine.details["hosts"]`` (a
state key the routine form never overwrites). The host of an occurrence is whoever claimed its
"Host" slot, else the member whose turn it is: ``hosts[n % len(hosts)]`` with ``n`` the
occurrence's number in the series, so the turn follows the schedule and survives cancellations.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, render_template, request, url_for
from flask_login import current_user
from icalendar import Event
from markupsafe import Markup
from werkzeug.wrappers import Response
from wtforms import BooleanField, RadioField, StringField, TextAreaField
from wtforms.validators import Length
from wtforms.validators import Optional as OptionalField

from planner.api import (
    ActivityContext,
    ActivityType,
    Attendance,
    DetailsForm,
    SlotDefault,
    choices,
    hookimpl,
    is_member,
    member_routine,
    occurrence_number,
    safe_redirect,
    update_details,
)

KEY = "meals"
STYLES = {"potluck": "Potluck: everyone brings a dish", "hosted": "Hosted: the host cooks"}
HOST_SLOT = "host"


class MealsForm(DetailsForm):
    theme = StringField(
        "Theme or cuisine",
        validators=[OptionalField(), Length(max=80)],
        description="For example: Lebanese, soups, whatever is in season.",
    )
    style = RadioField("How it works", choices=choices(STYLES), default="potluck")
    dietary = TextAreaField(
        "Dietary notes",
        validators=[OptionalField(), Length(max=500)],
        description="Allergies and preferences the cooks should know about.",
    )
    rotate_hosts = BooleanField("Rotate the host among members who opt in", default=True)


class Meals(ActivityType):
    def describe(self, details: dict[str, Any]) -> str:
        parts = []
        if details.get("theme"):
            parts.append(f"Theme: {details['theme']}.")
        if details.get("style") == "hosted":
            parts.append("Hosted: the host cooks.")
        else:
            parts.append("Potluck: everyone brings a dish; claim one on the page.")
        if details.get("dietary"):
            parts.append(f"Dietary notes: {details['dietary']}")
        return " ".join(parts)

    def panel(self, ctx: ActivityContext) -> Markup:
        """Whose turn it is to host, and a button to join or leave the rotation."""
        assert ctx.occurrence is not None  # pages always show one occurrence
        number = occurrence_number(ctx.routine, ctx.occurrence.original_start)
        member = is_member(ctx.viewer, ctx.routine)
        me = ctx.viewer.id if member and ctx.viewer is not None else None
        return Markup(
            render_template(
                "meals/panel.html",
                details=ctx.details,
                routine=ctx.routine,
                activity=self,
                occurrence=ctx.occurrence,
                host=next_host(ctx.details, number, ctx.attendance),
                member=member,
                opted_in=any(h["user_id"] == me for h in hosts_of(ctx.details)),
                viewer=ctx.viewer,
            )
        )

    def ical_event(self, event: Event, ctx: ActivityContext) -> None:
        """Name the host in a single occurrence's DESCRIPTION ("add to calendar")."""
        if ctx.occurrence is None:
            return
        number = occurrence_number(ctx.routine, ctx.occurrence.original_start)
        host = next_host(ctx.details, number, ctx.attendance)
        if host is None:
            return
        line = f"Host: {host['name']}"
        description = str(event.get("DESCRIPTION", ""))
        if line not in description:
            event.pop("DESCRIPTION", None)
            event.add("DESCRIPTION", f"{description}\n\n{line}".strip())


    def host(self, ctx: ActivityContext) -> tuple[int, str] | None:
        """The claimed Host slot, else whose turn it is: the same host the mail lines name."""
        if ctx.occurrence is None:
            return None
        number = occurrence_number(ctx.routine, ctx.occurrence.original_start)
        host = next_host(ctx.details, number, ctx.attendance)
        return (host["user_id"], host["name"]) if host is not None else None

    def mail_lines(self, ctx: ActivityContext, kind: str) -> list[str]:
        """Who hosts and which dishes nobody has claimed yet."""
        lines = []
        if ctx.occurrence is not None:
            number = occurrence_number(ctx.routine, ctx.occurrence.original_start)
            host = next_host(ctx.details, number, ctx.attendance)
            if host is not None:
                you = ctx.viewer is not None and host["user_id"] == ctx.viewer.id
                lines.append("You're hosting." if you else f"Host: {host['name']}")
        if ctx.attendance is not None:
            missing = [s.label for s in ctx.attendance.slots
                       if not s.is_full and s.label.strip().lower() != HOST_SLOT]  # fmt: skip
            if missing:
                lines.append(f"Still missing: {', '.join(missing)}")
        if ctx.details.get("dietary"):
            lines.append(f"Dietary notes: {ctx.details['dietary']}")
        return lines


MEALS = Meals(
    key=KEY,
    label="Shared meal",
    icon="🍲",
    description="A supper together: potluck or hosted, with a host rotation and dish slots.",
    form=MealsForm,
    default_slots=(
        SlotDefault("Main", 2),
        SlotDefault("Salad"),
        SlotDefault("Dessert"),
        SlotDefault("Drinks", 2),
    ),
    default_categories=("Meal",),
    template="meals/details.html",
    state_keys=("hosts",),
)


def hosts_of(details: dict[str, Any]) -> list[dict[str, Any]]:
    """The rotation as stored, skipping malformed entries (JSON outlives plugin versions)."""
    hosts = details.get("hosts")
    if not isinstance(hosts, list):
        return []
    return [
        h
        for h in hosts
        if isinstance(h, dict) and isinstance(h.get("user_id"), int) and h.get("name")
    ]


def next_host(
    details: dict[str, Any], number: int, attendance: Attendance | None = None
) -> dict[str, Any] | None:
    """``{"user_id", "name", "claimed"}`` for the occurrence numbered ``number``, or ``None``.

    A member who claimed the "Host" slot wins over the rotation (``claimed=True``).
    """
    if attendance is not None:
        for slot in attendance.slots:
            if slot.label.strip().lower() == HOST_SLOT and slot.takers:
                taker = slot.takers[0]
                return {"user_id": taker.user_id, "name": taker.display_name, "claimed": True}
    hosts = hosts_of(details)
    if not hosts or not details.get("rotate_hosts", True):
        return None
    host = hosts[number % len(hosts)]
    return {"user_id": host["user_id"], "name": host["name"], "claimed": False}


@hookimpl
def register_activity_types() -> list[ActivityType]:
    return [MEALS]


bp = Blueprint("meals", __name__)


@bp.post("/g/<slug>/r/<int:routine_id>/meals/hosting")
def hosting(slug: str, routine_id: int) -> Response:
    """Join or leave the host rotation (``action=join|leave``); members only."""
    routine = member_routine(slug, routine_id, activity_key=KEY)
    action = request.form.get("action")
    if action not in ("join", "leave"):
        abort(400, "Choose whether to join or leave the host rotation.")
    me = {"user_id": current_user.id, "name": current_user.display_name}

    def change(details: dict[str, Any]) -> dict[str, Any]:
        hosts = [h for h in hosts_of(details) if h["user_id"] != me["user_id"]]
        if action == "join":
            hosts.append(me)
        details["hosts"] = hosts
        return details

    update_details(routine, change)
    if action == "join":
        flash("You're in the host rotation. Thank you!", "success")
    else:
        flash("You've left the host rotation.", "success")
    return safe_redirect(request.form.get("next"), url_for("home.index"))


@hookimpl
def register_routes() -> list[Blueprint]:
    return [bp]
