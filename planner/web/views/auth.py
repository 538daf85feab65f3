"""Sign up, log in, log out; and how a request finds its logged-in person.

Login starts a fresh session (``session.clear()`` then ``login_user``) so nothing planted before
login survives it, and stamps the session with a fingerprint of the password hash: changing the
password ends every other session. ``next`` only ever redirects within this site. An invite
opened while logged out is remembered across the login and joined right after.
"""

from __future__ import annotations

import hashlib
import secrets
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from planner.accounts.passwords import check_password, hash_password, needs_rehash
from planner.db import get_session
from planner.models import User
from planner.web.extensions import limiter, login_manager
from planner.web.forms import LoginForm, SignupForm, status

bp = Blueprint("auth", __name__)

PENDING_INVITE = "pending_invite"
AUTH_STAMP = "auth_stamp"
DUPLICATE_EMAIL = "An account with this email address already exists. Log in instead?"
WRONG_LOGIN = "That email and password do not match an account."


def auth_limit() -> str:
    """Per-address limit on login and sign-up attempts; PLANNER_AUTH_RATE_LIMIT changes it."""
    return current_app.config["AUTH_RATE_LIMIT"]


def password_stamp(user: User) -> str:
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    try:
        user = get_session().get(User, int(user_id))
    except (TypeError, ValueError):
        return None
    if user is None or session.get(AUTH_STAMP) != password_stamp(user):
        return None
    return user


def start_session(user: User) -> None:
    """A fresh session for ``user``, keeping only a pending invite across the reset."""
    pending = session.get(PENDING_INVITE)
    session.clear()
    login_user(user)
    session[AUTH_STAMP] = password_stamp(user)
    if pending:
        session[PENDING_INVITE] = pending


def safe_next(target: str | None) -> str | None:
    """``target`` when it is a path on this site, else None (no open redirects)."""
    if not target or len(target) > 2000:
        return None
    if "\\" in target or any(ord(ch) < 32 for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def next_target() -> str | None:
    return safe_next(request.form.get("next") or request.args.get("next"))


def after_login(user: User):
    """Join a remembered invite's group, else go where the person was heading."""
    token = session.pop(PENDING_INVITE, None)
    if token:
        from planner.web.views.invites import join_by_token

        group, message = join_by_token(token, user)
        flash(message, "success" if group else "error")
        if group is not None:
            return redirect(url_for("groups.show", slug=group.slug))
    return redirect(next_target() or url_for("home.index"))


def _dummy_hash() -> str:
    """A hash to verify against when the email is unknown, so timing does not tell."""
    cached = current_app.extensions.get("planner_dummy_hash")
    if cached is None:
        cached = current_app.extensions["planner_dummy_hash"] = hash_password(
            secrets.token_hex(16)
        )
    return cached


@bp.route("/signup", methods=["GET", "POST"])
@limiter.limit(auth_limit, methods=["POST"])
def signup():
    if current_user.is_authenticated:
        return redirect(next_target() or url_for("home.index"))
    form = SignupForm()
    if request.method == "GET":
        form.timezone.data = current_app.config.get("DEFAULT_TIMEZONE", "UTC")
    if form.validate_on_submit():
        db = get_session()
        if db.scalar(select(User.id).where(User.email == form.email.data)) is not None:
            form.email.errors.append(DUPLICATE_EMAIL)
        else:
            user = User(
                email=form.email.data,
                display_name=form.display_name.data,
                password_hash=hash_password(form.password.data),
                timezone=form.timezone.data,
                feed_token=secrets.token_urlsafe(24),
            )
            db.add(user)
            try:
                db.commit()
            except IntegrityError:  # the same address signed up a moment ago
                db.rollback()
                form.email.errors.append(DUPLICATE_EMAIL)
            else:
                start_session(user)
                flash(f"Welcome, {user.display_name}! Your account is ready.", "success")
                return after_login(user)
    return render_template("auth/signup.html", form=form, next=next_target()), status(form)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(auth_limit, methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(next_target() or url_for("home.index"))
    form = LoginForm()
    if form.validate_on_submit():
        db = get_session()
        user = db.scalar(select(User).where(User.email == form.email.data))
        if user is None:
            check_password(_dummy_hash(), form.password.data)
            form.form_errors.append(WRONG_LOGIN)
        elif not check_password(user.password_hash, form.password.data):
            form.form_errors.append(WRONG_LOGIN)
        else:
            if needs_rehash(user.password_hash):
                user.password_hash = hash_password(form.password.data)
                db.commit()
            start_session(user)
            flash(f"Welcome back, {user.display_name}.", "success")
            return after_login(user)
    return render_template("auth/login.html", form=form, next=next_target()), status(form)


@bp.route("/logout", methods=["POST"])
def logout():
    logout_user()
    session.clear()
    flash("You are logged out.", "info")
    return redirect(url_for("home.index"))
