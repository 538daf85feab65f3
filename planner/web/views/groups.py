"""Groups: the directory, creating and editing, the group page, joining, leaving, members.

Who may do what (also in ``docs/accounts.md``):

- members see the group and its members, and may leave;
- organizers also edit the group, manage invites, and promote/demote/remove members and
  organizers;
- owners also make and unmake owners, remove owners, and delete the group.

A group never ends up without an owner: the last owner cannot leave, be removed or demoted.
That check and the change run in one locked transaction (``immediate`` plus a row lock on the
group), so two owners demoting each other at the same moment cannot both succeed.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from wtforms.validators import ValidationError

from planner.db import get_session, immediate
from planner.groups.access import group_access, member_access, organizer_access
from planner.models import Group, Membership, User, bump_group_version
from planner.routines import occurrences
from planner.web.forms import ActionForm, DeleteGroupForm, GroupForm, RoleForm, status, valid_slug

bp = Blueprint("groups", __name__)

DIRECTORY_PAGE = 50
DIRECTORY_MAX_PAGE = 100_000
ROLE_ORDER = {"owner": 0, "organizer": 1, "member": 2}
SLUG_TAKEN = "That web address is taken; choose another."
LAST_OWNER = (
    "{group} needs at least one owner. Make someone else an owner first, or delete the group."
)


class LastOwner(Exception):
    """The change would leave the group without an owner."""


def may_manage(actor_role: str, target_role: str) -> bool:
    """Owners manage everyone; organizers manage organizers and members, never owners."""
    if actor_role == "owner":
        return True
    return actor_role == "organizer" and target_role != "owner"


def may_grant(actor_role: str, new_role: str) -> bool:
    """Only owners make owners; organizers may make organizers and members."""
    if actor_role == "owner":
        return True
    return actor_role == "organizer" and new_role != "owner"


def member_counts(db: Session, group_ids: list[int]) -> dict[int, int]:
    if not group_ids:
        return {}
    rows = db.execute(
        select(Membership.group_id, func.count(Membership.id))
        .where(Membership.group_id.in_(group_ids))
        .group_by(Membership.group_id)
    )
    return {group_id: count for group_id, count in rows}


def lock_group(db: Session, group_id: int) -> None:
    """Serialize owner changes per group: a row lock on PostgreSQL (SQLite: BEGIN IMMEDIATE)."""
    db.execute(select(Group.id).where(Group.id == group_id).with_for_update())


def owner_count(db: Session, group_id: int) -> int:
    return db.scalar(
        select(func.count(Membership.id)).where(
            Membership.group_id == group_id, Membership.role == "owner"
        )
    ) or 0


def slug_taken(db: Session, slug: str, except_id: int | None = None) -> bool:
    query = select(Group.id).where(Group.slug == slug)
    if except_id is not None:
        query = query.where(Group.id != except_id)
    return db.scalar(query) is not None


def _apply_slug(form: GroupForm, db: Session, except_id: int | None = None) -> str | None:
    """The slug to save, or None with a message on the slug field."""
    slug = form.derived_slug()
    if not form.slug.data:
        # Made from the name: check it like a typed one so the person sees why it failed.
        form.slug.data = slug
        try:
            valid_slug(form, form.slug)
        except ValidationError:
            form.slug.errors = [
                "Could not make a web address from that name; type one (letters, digits, "
                "hyphens)."
            ]
            return None
    if slug_taken(db, slug, except_id):
        form.slug.errors = [SLUG_TAKEN]
        return None
    return slug


# --- directory and creating -------------------------------------------------------------------


@bp.route("/groups")
def directory():
    db = get_session()
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    if page > DIRECTORY_MAX_PAGE:
        # The offset would overflow the database's integers long before a real page runs out.
        abort(404, "The directory has no page with that number.")
    groups = list(
        db.scalars(
            select(Group)
            .where(Group.visibility == "public")
            .order_by(Group.name, Group.id)
            .limit(DIRECTORY_PAGE + 1)
            .offset((page - 1) * DIRECTORY_PAGE)
        )
    )
    more = len(groups) > DIRECTORY_PAGE
    groups = groups[:DIRECTORY_PAGE]
    counts = member_counts(db, [g.id for g in groups])
    mine: set[int] = set()
    if current_user.is_authenticated and groups:
        mine = set(
            db.scalars(
                select(Membership.group_id).where(
                    Membership.user_id == current_user.id,
                    Membership.group_id.in_([g.id for g in groups]),
                )
            )
        )
    return render_template(
        "groups/directory.html", groups=groups, counts=counts, mine=mine, page=page, more=more
    )


@bp.route("/groups/new", methods=["GET", "POST"])
@login_required
def create():
    db = get_session()
    form = GroupForm()
    if request.method == "GET":
        form.timezone.data = current_user.timezone
    if form.validate_on_submit():
        slug = _apply_slug(form, db)
        if slug is not None:
            group = Group(
                slug=slug,
                name=form.name.data,
                description=form.description.data or "",
                visibility=form.visibility.data,
                timezone=form.timezone.data,
            )
            db.add(group)
            try:
                db.flush()
                db.add(Membership(group_id=group.id, user_id=current_user.id, role="owner"))
                db.commit()
            except IntegrityError:  # the slug was taken a moment ago
                db.rollback()
                form.slug.errors = [SLUG_TAKEN]
            else:
                flash(f"{group.name} is ready. Invite people or add a routine.", "success")
                return redirect(url_for("groups.show", slug=group.slug))
    return render_template("groups/form.html", form=form, group=None), status(form)


# --- one group ---------------------------------------------------------------------------------


@bp.route("/g/<slug>")
def show(slug: str):
    access = group_access(slug)
    db = get_session()
    group = access.group
    viewer = (
        current_user._get_current_object()  # type: ignore[attr-defined]
        if current_user.is_authenticated
        else None
    )
    upcoming = occurrences.group_upcoming(db, group, viewer)
    return render_template(
        "groups/show.html",
        group=group,
        access=access,
        members=member_counts(db, [group.id]).get(group.id, 0),
        upcoming=upcoming,
        action=ActionForm(),
    )


@bp.route("/g/<slug>/edit", methods=["GET", "POST"])
def edit(slug: str):
    access = organizer_access(slug)
    group = access.group
    db = get_session()
    form = GroupForm(obj=group)
    if form.validate_on_submit():
        new_slug = _apply_slug(form, db, except_id=group.id)
        if new_slug is not None:
            group.slug = new_slug
            group.name = form.name.data
            group.description = form.description.data or ""
            group.visibility = form.visibility.data
            group.timezone = form.timezone.data
            try:
                db.flush()
                bump_group_version(db, group.id)
                db.commit()
            except IntegrityError:
                db.rollback()
                form.slug.errors = [SLUG_TAKEN]
            else:
                flash("The group is saved.", "success")
                return redirect(url_for("groups.show", slug=group.slug))
    return render_template("groups/form.html", form=form, group=group), status(form)


@bp.route("/g/<slug>/delete", methods=["GET", "POST"], endpoint="delete")
def delete_group(slug: str):
    access = organizer_access(slug)
    if not access.is_owner:
        abort(403, "Only the group's owners can delete it.")
    group = access.group
    form = DeleteGroupForm()
    if form.validate_on_submit():
        if form.confirm_slug.data != group.slug:
            form.confirm_slug.errors.append(f"Type {group.slug} exactly to confirm.")
        else:
            db = get_session()
            name = group.name
            db.execute(delete(Group).where(Group.id == group.id))
            db.commit()
            flash(f"{name} is deleted.", "info")
            return redirect(url_for("home.index"))
    return render_template("groups/delete.html", form=form, group=group), status(form)



@bp.route("/g/<slug>/join", methods=["POST"])
@login_required
def join(slug: str):
    access = group_access(slug)  # a private group stays 404: joining it takes an invite
    group = access.group
    if access.is_member:
        flash(f"You are already a member of {group.name}.", "info")
        return redirect(url_for("groups.show", slug=slug))
    db = get_session()
    db.add(Membership(group_id=group.id, user_id=current_user.id, role="member"))
    try:
        db.commit()
    except IntegrityError:  # a double click
        db.rollback()
        flash(f"You are already a member of {group.name}.", "info")
    else:
        flash(f"Welcome to {group.name}!", "success")
    return redirect(url_for("groups.show", slug=slug))


@bp.route("/g/<slug>/leave", methods=["POST"])
def leave(slug: str):
    access = member_access(slug)
    group = access.group
    try:
        _remove(get_session(), group, current_user.id)
    except LastOwner:
        flash(LAST_OWNER.format(group=group.name), "error")
        return redirect(url_for("groups.members", slug=slug))
    flash(f"You left {group.name}.", "info")
    if group.is_public:
        return redirect(url_for("groups.show", slug=slug))
    return redirect(url_for("home.index"))


# --- members -----------------------------------------------------------------------------------


@bp.route("/g/<slug>/members")
def members(slug: str):
    access = member_access(slug)
    db = get_session()
    rows = db.execute(
        select(Membership, User)
        .join(User, User.id == Membership.user_id)
        .where(Membership.group_id == access.group.id)
    ).all()
    rows.sort(key=lambda row: (ROLE_ORDER.get(row[0].role, 9), row[1].display_name.lower()))
    actor = access.membership.role if access.membership else "member"
    return render_template(
        "groups/members.html",
        group=access.group,
        access=access,
        rows=rows,
        actor=actor,
        may_manage=may_manage,
        may_grant=may_grant,
        owners=sum(1 for m, _u in rows if m.role == "owner"),
        role_form=RoleForm(),
        action=ActionForm(),
    )


def _target(db: Session, group: Group, user_id: int) -> Membership:
    membership = db.scalar(
        select(Membership)
        .where(Membership.group_id == group.id, Membership.user_id == user_id)
        .execution_options(populate_existing=True)  # fresh role inside the locked transaction
    )
    if membership is None:
        abort(404, "That person is not a member of this group.")
    return membership


@bp.route("/g/<slug>/members/<int:user_id>/role", methods=["POST"])
def set_role(slug: str, user_id: int):
    access = organizer_access(slug)
    group = access.group
    db = get_session()
    target = _target(db, group, user_id)
    form = RoleForm()
    if not form.validate_on_submit():
        flash("Choose owner, organizer or member.", "error")
        return redirect(url_for("groups.members", slug=slug), code=303)
    new_role = form.role.data
    actor = access.membership.role  # type: ignore[union-attr]
    if not may_manage(actor, target.role) or not may_grant(actor, new_role):
        abort(403, "Only owners can make or unmake owners.")
    try:
        with immediate(db):
            lock_group(db, group.id)
            current = _target(db, group, user_id)
            if current.role == "owner" and new_role != "owner" and owner_count(db, group.id) < 2:
                raise LastOwner
            current.role = new_role
    except LastOwner:
        flash(LAST_OWNER.format(group=group.name), "error")
        return redirect(url_for("groups.members", slug=slug), code=303)
    article = "an" if new_role == "owner" else "a"
    flash(f"{current.user.display_name} is now {article} {new_role}.", "success")
    return redirect(url_for("groups.members", slug=slug), code=303)


@bp.route("/g/<slug>/members/<int:user_id>/remove", methods=["POST"])
def remove_member(slug: str, user_id: int):
    access = organizer_access(slug)
    group = access.group
    db = get_session()
    target = _target(db, group, user_id)
    if not may_manage(access.membership.role, target.role):  # type: ignore[union-attr]
        abort(403, "Only owners can remove an owner.")
    name = target.user.display_name
    try:
        _remove(db, group, user_id)
    except LastOwner:
        flash(LAST_OWNER.format(group=group.name), "error")
        return redirect(url_for("groups.members", slug=slug), code=303)
    if user_id == current_user.id:
        flash(f"You left {group.name}.", "info")
        return redirect(url_for("home.index"), code=303)
    flash(f"{name} is no longer a member.", "info")
    return redirect(url_for("groups.members", slug=slug), code=303)


def _remove(db: Session, group: Group, user_id: int) -> None:
    """Remove one membership, refusing to remove the last owner (raises :class:`LastOwner`)."""
    with immediate(db):
        lock_group(db, group.id)
        membership = db.scalar(
            select(Membership)
            .where(Membership.group_id == group.id, Membership.user_id == user_id)
            .execution_options(populate_existing=True)
        )
        if membership is None:
            return
        if membership.role == "owner" and owner_count(db, group.id) < 2:
            raise LastOwner
        db.delete(membership)
