"""Groups: the directory, creating and editing, the group page, joining, leaving, members.

Who may do what, and why the last owner cannot go, is :mod:`planner.groups.membership`; these
views check the request, call it, and say what happened.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user, login_required
from werkzeug.wrappers import Response
from wtforms.validators import ValidationError

from planner.db import get_session
from planner.enums import Role, Visibility
from planner.groups import manage, membership
from planner.groups.access import GroupAccess, group_access, member_access, organizer_access
from planner.groups.membership import LAST_OWNER, LastOwner, NotMember, may_grant, may_manage
from planner.groups.mine import groups_of
from planner.models import Group
from planner.routines.listing import group_overview
from planner.routines.mine import my_groups
from planner.web.confirm import confirm_page, confirmed
from planner.web.forms import (
    ActionForm,
    DeleteGroupForm,
    GroupForm,
    GroupMailDefaultsForm,
    RoleForm,
    status,
    valid_slug,
)
from planner.web.helpers import viewer
from planner.web.lazy_text import lazy_gettext as _l
from planner.web.page_cache import cached_page, group_page, member_versions

bp = Blueprint("groups", __name__)


@bp.record_once
def _setup(state) -> None:
    @state.app.context_processor
    def _my_groups():
        # Called by templates/groups/_my_links.html only where a page shows the list.
        def my_group_links() -> list[Group]:
            person = viewer()
            return groups_of(get_session(), person.id) if person else []

        return {"my_group_links": my_group_links}

DIRECTORY_PAGE = 50
DIRECTORY_MAX_PAGE = 100_000
UPCOMING_DAYS = 21  # the group page's dates; "show more" goes to the long list
SLUG_TAKEN = _l("That web address is taken; choose another.")


def _values(form: GroupForm) -> manage.GroupValues | None:
    """The form as the group to save, or None with a message on the slug field."""
    slug = form.derived_slug()
    if not form.slug.data:
        # Made from the name: check it like a typed one so the person sees why it failed.
        form.slug.data = slug
        try:
            valid_slug(form, form.slug)
        except ValidationError:
            form.slug.errors = [
                gettext(
                    "Could not make a web address from that name; type one (letters, digits, "
                    "hyphens)."
                )
            ]
            return None
    return manage.GroupValues(
        slug=slug,
        name=form.name.data,
        description=form.description.data or "",
        visibility=Visibility(form.visibility.data),
        timezone=form.timezone.data,
        language=form.language.data or None,
    )


def role_changed(name: str, role: Role) -> str:
    """"Ann is now an organizer": one whole sentence per role, for every language's grammar."""
    if role == Role.OWNER:
        return gettext("%(name)s is now an owner.", name=name)
    if role == Role.ORGANIZER:
        return gettext("%(name)s is now an organizer.", name=name)
    return gettext("%(name)s is now a member.", name=name)


def _members_page(slug: str) -> Response:
    return redirect(url_for("groups.members", slug=slug), code=303)


# --- directory and creating -------------------------------------------------------------------


@bp.route("/groups")
def directory() -> str:
    db = get_session()
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    if page > DIRECTORY_MAX_PAGE:
        # The offset would overflow the database's integers long before a real page runs out.
        abort(404, gettext("The directory has no page with that number."))
    groups, more = manage.public_groups(db, page, DIRECTORY_PAGE)
    ids = [g.id for g in groups]
    person = viewer()
    return render_template(
        "groups/directory.html",
        groups=groups,
        counts=membership.member_counts(db, ids),
        mine=manage.groups_joined(db, person.id, ids) if person else set(),
        page=page,
        more=more,
    )


@bp.route("/groups/mine")
@login_required
def mine() -> Response:
    """Every group the person belongs to, private ones too: the way back to a private group."""
    db = get_session()
    return cached_page(
        member_versions(db, current_user.id),
        lambda **marks: render_template(
            "groups/mine.html", rows=my_groups(db, current_user), **marks
        ),
    )


@bp.route("/groups/new", methods=["GET", "POST"])
@login_required
def create() -> Response | tuple[str, int]:
    form = GroupForm()
    if request.method == "GET":
        form.timezone.data = current_user.timezone
    values = _values(form) if form.validate_on_submit() else None
    if values is not None:
        try:
            group = manage.create_group(get_session(), values, current_user.id)
        except manage.SlugTaken:
            form.slug.errors = [str(SLUG_TAKEN)]
        else:
            flash(
                gettext("%(group)s is ready. Invite people or add a routine.", group=group.name),
                "success",
            )
            return redirect(url_for("groups.show", slug=group.slug))
    return render_template("groups/form.html", form=form, group=None), status(form)


# --- one group ---------------------------------------------------------------------------------


@bp.route("/g/<slug>")
def show(slug: str) -> Response:
    return group_page(slug, _render_show)


def _render_show(access: GroupAccess, **marks: object) -> str:
    group = access.group
    db = get_session()
    routines, upcoming = group_overview(db, group, viewer(), days=UPCOMING_DAYS)
    return render_template(
        "groups/show.html",
        group=group,
        access=access,
        members=membership.member_counts(db, [group.id]).get(group.id, 0),
        routines=routines,
        upcoming=upcoming,
        upcoming_days=UPCOMING_DAYS,
        action=ActionForm(),
        **marks,
    )


@bp.route("/g/<slug>/edit", methods=["GET", "POST"])
def edit(slug: str) -> Response | tuple[str, int]:
    group = organizer_access(slug).group
    form = GroupForm(obj=group)
    values = _values(form) if form.validate_on_submit() else None
    if values is not None:
        try:
            manage.update_group(get_session(), group, values)
        except manage.SlugTaken:
            form.slug.errors = [str(SLUG_TAKEN)]
        else:
            flash(gettext("The group is saved."), "success")
            return redirect(url_for("groups.show", slug=group.slug))
    return render_template("groups/form.html", form=form, group=group), status(form)


@bp.route("/g/<slug>/mail", methods=["GET", "POST"])
def mail_defaults(slug: str) -> Response | tuple[str, int]:
    """The reminders and mail members get unless they chose otherwise (organizers only)."""
    group = organizer_access(slug).group
    form = GroupMailDefaultsForm(obj=group)
    if request.method == "GET":
        form.default_reminder_hour.data = str(group.default_reminder_hour)
    if form.validate_on_submit():
        group.default_reminder = form.default_reminder.data
        group.default_reminder_hour = int(form.default_reminder_hour.data)
        group.default_scope = form.default_scope.data
        get_session().commit()
        flash(
            gettext("The group's mail defaults are saved. Members' own choices still win."),
            "success",
        )
        return redirect(url_for("groups.edit", slug=group.slug))
    return render_template("groups/mail.html", form=form, group=group), status(form)


@bp.route("/g/<slug>/delete", methods=["GET", "POST"], endpoint="delete")
def delete_group(slug: str) -> Response | tuple[str, int]:
    access = organizer_access(slug)
    if not access.is_owner:
        abort(403, gettext("Only the group's owners can delete it."))
    group = access.group
    form = DeleteGroupForm()
    if form.validate_on_submit():
        if form.confirm_slug.data != group.slug:
            form.confirm_slug.errors.append(
                gettext("Type %(slug)s exactly to confirm.", slug=group.slug)
            )
        else:
            name = group.name
            manage.delete_group(get_session(), group)
            flash(gettext("%(group)s is deleted.", group=name), "info")
            return redirect(url_for("home.index"))
    return render_template("groups/delete.html", form=form, group=group), status(form)


@bp.route("/g/<slug>/join", methods=["POST"])
@login_required
def join(slug: str) -> Response:
    access = group_access(slug)  # a private group stays 404: joining it takes an invite
    group = access.group
    if not access.is_member and membership.join(get_session(), group, current_user.id):
        flash(gettext("Welcome to %(group)s!", group=group.name), "success")
    else:
        flash(gettext("You are already a member of %(group)s.", group=group.name), "info")
    return redirect(url_for("groups.show", slug=slug))


@bp.route("/g/<slug>/leave", methods=["POST"])
def leave(slug: str) -> Response:
    group = member_access(slug).group
    try:
        membership.remove(get_session(), group, current_user.id)
    except LastOwner:
        flash(LAST_OWNER.format(group=group.name), "error")
        return redirect(url_for("groups.members", slug=slug))
    flash(gettext("You left %(group)s.", group=group.name), "info")
    if group.is_public:
        return redirect(url_for("groups.show", slug=slug))
    return redirect(url_for("home.index"))


# --- members -----------------------------------------------------------------------------------


@bp.route("/g/<slug>/members")
def members(slug: str) -> str:
    access = member_access(slug)
    rows = membership.members_of(get_session(), access.group.id)
    return render_template(
        "groups/members.html",
        group=access.group,
        access=access,
        rows=rows,
        actor=access.membership.role if access.membership else Role.MEMBER,
        may_manage=may_manage,
        may_grant=may_grant,
        owners=sum(1 for m, _u in rows if m.role == Role.OWNER),
        role_form=RoleForm(),
        action=ActionForm(),
    )


def _target_role(group: Group, user_id: int) -> str:
    target = membership.membership_of(get_session(), group.id, user_id)
    if target is None:
        abort(404, gettext("That person is not a member of this group."))
    return target.role


@bp.route("/g/<slug>/members/<int:user_id>/role", methods=["POST"])
def set_role(slug: str, user_id: int) -> Response:
    access = organizer_access(slug)
    group = access.group
    target_role = _target_role(group, user_id)
    form = RoleForm()
    if not form.validate_on_submit():
        flash(gettext("Choose owner, organizer or member."), "error")
        return _members_page(slug)
    new_role = Role(form.role.data)
    actor = access.membership.role  # type: ignore[union-attr]
    if not may_manage(actor, target_role) or not may_grant(actor, new_role):
        abort(403, gettext("Only owners can make or unmake owners."))
    try:
        changed = membership.set_role(get_session(), group, user_id, new_role)
    except NotMember:
        abort(404, gettext("That person is not a member of this group."))
    except LastOwner:
        flash(LAST_OWNER.format(group=group.name), "error")
        return _members_page(slug)
    flash(role_changed(changed.user.display_name, new_role), "success")
    return _members_page(slug)


@bp.route("/g/<slug>/members/<int:user_id>/remove", methods=["POST"])
def remove_member(slug: str, user_id: int) -> Response | str:
    access = organizer_access(slug)
    group = access.group
    target = membership.membership_of(get_session(), group.id, user_id)
    if target is None:
        abort(404, gettext("That person is not a member of this group."))
    if not may_manage(access.membership.role, target.role):  # type: ignore[union-attr]
        abort(403, gettext("Only owners can remove an owner."))
    name = target.user.display_name
    if not confirmed():
        return confirm_page(
            title=gettext("Remove %(name)s from %(group)s?", name=name, group=group.name),
            consequences=[
                gettext(
                    "%(name)s stops being a member: no more answering, and no private calendar "
                    "link to this group.",
                    name=name,
                ),
                gettext("They can join again any time.")
                if group.is_public
                else gettext("They can join again with an invite."),
            ],
            button=gettext("Yes, remove %(name)s", name=name),
            back=url_for("groups.members", slug=slug),
        )
    try:
        membership.remove(get_session(), group, user_id)
    except LastOwner:
        flash(LAST_OWNER.format(group=group.name), "error")
        return _members_page(slug)
    if user_id == current_user.id:
        flash(gettext("You left %(group)s.", group=group.name), "info")
        return redirect(url_for("home.index"), code=303)
    flash(gettext("%(name)s is no longer a member.", name=name), "info")
    return _members_page(slug)
