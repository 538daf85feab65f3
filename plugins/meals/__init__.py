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
    HistoryContext,
    SlotDefault,
    choices,
    gettext,
    hookimpl,
    is_member,
    lazy_gettext,
    member_routine,
    ngettext,
    occurrence_number,
    safe_redirect,
    update_details,
)

KEY = "meals"
STYLES = {
    "potluck": lazy_gettext("Potluck: everyone brings a dish"),
    "hosted": lazy_gettext("Hosted: the host cooks"),
}
HOST_SLOT = "host"


class MealsForm(DetailsForm):
    theme = StringField(
        lazy_gettext("Theme or cuisine"),
        validators=[OptionalField(), Length(max=80)],
        description=lazy_gettext("For example: Lebanese, soups, whatever is in season."),
    )
    style = RadioField(lazy_gettext("How it works"), choices=choices(STYLES), default="potluck")
    dietary = TextAreaField(
        lazy_gettext("Dietary notes"),
        validators=[OptionalField(), Length(max=500)],
        description=lazy_gettext("Allergies and preferences the cooks should know about."),
    )
    rotate_hosts = BooleanField(
        lazy_gettext("Rotate the host among members who opt in"), default=True
    )


class Meals(ActivityType):
    def describe(self, details: dict[str, Any]) -> str:
        parts = []
        if details.get("theme"):
            parts.append(gettext("Theme: %(theme)s.", theme=details["theme"]))
        if details.get("style") == "hosted":
            parts.append(gettext("Hosted: the host cooks."))
        else:
            parts.append(gettext("Potluck: everyone brings a dish; claim one on the page."))
        if details.get("dietary"):
            parts.append(gettext("Dietary notes: %(notes)s", notes=details["dietary"]))
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
        line = gettext("Host: %(name)s", name=host["name"])
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
                lines.append(
                    gettext("You're hosting.") if you
                    else gettext("Host: %(name)s", name=host["name"])
                )
        if ctx.attendance is not None:
            missing = [s.label for s in ctx.attendance.slots
                       if not s.is_full and s.label.strip().lower() != HOST_SLOT]  # fmt: skip
            if missing:
                lines.append(gettext("Still missing: %(slots)s", slots=", ".join(missing)))
        if ctx.details.get("dietary"):
            lines.append(gettext("Dietary notes: %(notes)s", notes=ctx.details["dietary"]))
        return lines

    def history_lines(self, ctx: HistoryContext) -> list[str]:
        """Hosting is the work a supper rests on, so history credits it: "You hosted 3 times"
        on your own page, and on the routine page whose turn is fairest (who hosted least
        recently), which a strict rotation forgets once people swap turns."""
        hosted = past_hosts(ctx)
        if ctx.person_id is None:
            line = fairest_host(ctx, hosted)
            return [line] if line else []
        if ctx.other_id is None:
            times = sum(1 for host in hosted if host == ctx.person_id)
            if not times:
                return []
            return [ngettext("You hosted %(num)d time.", "You hosted %(num)d times.", times)]
        shared = [h for d, h in zip(ctx.dates, hosted, strict=True)
                  if {ctx.person_id, ctx.other_id} <= d.came]  # fmt: skip
        theirs = sum(1 for h in shared if h == ctx.other_id)
        yours = sum(1 for h in shared if h == ctx.person_id)
        lines = []
        if theirs:
            lines.append(ngettext("They hosted %(num)d of the meals you shared.",
                                  "They hosted %(num)d of the meals you shared.", theirs))
        if yours:
            lines.append(ngettext("You hosted %(num)d of them.", "You hosted %(num)d of them.",
                                  yours))
        return lines


MEALS = Meals(
    key=KEY,
    label=lazy_gettext("Shared meal"),
    icon="🍲",
    description=lazy_gettext(
        "A supper together: potluck or hosted, with a host rotation and dish slots."
    ),
    form=MealsForm,
    default_slots=(
        SlotDefault(lazy_gettext("Main"), 2),
        SlotDefault(lazy_gettext("Salad")),
        SlotDefault(lazy_gettext("Dessert")),
        SlotDefault(lazy_gettext("Drinks"), 2),
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


def past_hosts(ctx: HistoryContext) -> list[int | None]:
    """Who hosted each past date: the "Host" slot's holder, else whose turn it was, counted
    only when they came (a turn swapped away on the day is not a date hosted)."""
    found: list[int | None] = []
    for d in ctx.dates:
        host = d.host_id
        if host is None:
            number = occurrence_number(ctx.routine, d.occurrence.original_start)
            turn = next_host(ctx.details, number)
            host = turn["user_id"] if turn else None
        found.append(host if host in d.came else None)
    return found


def fairest_host(ctx: HistoryContext, hosted: list[int | None]) -> str | None:
    """The rotation member who hosted least recently (never beats long ago; ties keep the
    rotation's order), as a line for the routine page; None without a rotation."""
    hosts = hosts_of(ctx.details)
    if not hosts or not hosted:
        return None
    last: dict[int, int] = {}
    for index, host in enumerate(hosted):
        if host is not None:
            last[host] = index
    pick = min(hosts, key=lambda h: last.get(h["user_id"], -1))
    if pick["user_id"] not in last:
        return gettext("Fairest next host: %(name)s, who hasn't hosted yet.", name=pick["name"])
    since = len(hosted) - 1 - last[pick["user_id"]]
    if since == 0:
        return gettext("Fairest next host: %(name)s, who hosted last time.", name=pick["name"])
    return ngettext(
        "Fairest next host: %(name)s, who hasn't hosted for %(num)d date.",
        "Fairest next host: %(name)s, who hasn't hosted for %(num)d dates.",
        since,
        name=pick["name"],
    )


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
        abort(400, gettext("Choose whether to join or leave the host rotation."))
    me = {"user_id": current_user.id, "name": current_user.display_name}

    def change(details: dict[str, Any]) -> dict[str, Any]:
        hosts = [h for h in hosts_of(details) if h["user_id"] != me["user_id"]]
        if action == "join":
            hosts.append(me)
        details["hosts"] = hosts
        return details

    update_details(routine, change)
    if action == "join":
        flash(gettext("You're in the host rotation. Thank you!"), "success")
    else:
        flash(gettext("You've left the host rotation."), "success")
    return safe_redirect(request.form.get("next"), url_for("home.index"))


@hookimpl
def register_routes() -> list[Blueprint]:
    return [bp]
