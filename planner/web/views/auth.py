"""Sign up, log in, log out; and how a request finds its logged-in person.

Login starts a fresh session (``session.clear()`` then ``login_user``) so nothing planted before
login survives it, and stamps the session with a fingerprint of the password hash and with the
account's session token. Signed cookies cannot be revoked by themselves, so the token is checked
against the database on every request: logging out gives the account a new one, which ends every
session of that account, a copied cookie included (and on every device: one token per account).
``next`` only ever redirects within this site. An invite opened while logged out is remembered
across the login and joined right after.
"""

from __future__ import annotations

from hmac import compare_digest

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
from flask_babel import gettext
from flask_login import current_user, logout_user
from werkzeug.wrappers import Response

from planner.accounts.people import (
    EmailTaken,
    authenticate,
    end_sessions,
    password_stamp,
    sign_up,
)
from planner.db import get_session
from planner.groups.invites import join_by_token
from planner.models import User
from planner.web.extensions import limiter, login_manager
from planner.web.forms import LoginForm, SignupForm, status
from planner.web.helpers import AUTH_STAMP, PENDING_INVITE, SESSION_TOKEN, viewer
from planner.web.i18n import current_locale
from planner.web.lazy_text import lazy_gettext as _l
from planner.web.login_session import start_session
from planner.web.redirects import safe_path

bp = Blueprint("auth", __name__)

DUPLICATE_EMAIL = _l("An account with this email address already exists. Log in instead?")
WRONG_LOGIN = _l("That email and password do not match an account.")


def auth_limit() -> str:
    """Per-address limit on log-in attempts (PLANNER_AUTH_RATE_LIMIT)."""
    limit: str = current_app.config["AUTH_RATE_LIMIT"]
    return limit


def account_limit() -> str:
    """Per-account limit on wrong passwords (PLANNER_LOGIN_ACCOUNT_RATE_LIMIT)."""
    limit: str = current_app.config["LOGIN_ACCOUNT_RATE_LIMIT"]
    return limit


def signup_limit() -> str:
    """Per-address limit on sign-ups (PLANNER_SIGNUP_RATE_LIMIT)."""
    limit: str = current_app.config["SIGNUP_RATE_LIMIT"]
    return limit


def account_key() -> str:
    """The account a log-in is for, as typed: guessing one password from many addresses still
    meets one counter."""
    email = request.form.get("email", "").strip().lower()[:254]
    return f"account:{email}"


def refused(response: Response) -> bool:
    """Only refused attempts count against an account, so logging in often is never limited."""
    return response.status_code >= 400


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    try:
        user = get_session().get(User, int(user_id))
    except (TypeError, ValueError):
        return None
    if user is None or session.get(AUTH_STAMP) != password_stamp(user):
        return None
    token = session.get(SESSION_TOKEN)
    if not token or not user.session_token or not compare_digest(token, user.session_token):
        return None
    return user


def next_target() -> str | None:
    return safe_path(request.form.get("next") or request.args.get("next"))


def after_login(user: User) -> Response:
    """Join a remembered invite's group, else go where the person was heading."""
    token = session.pop(PENDING_INVITE, None)
    if token:
        group, message = join_by_token(get_session(), token, user)
        flash(message, "success" if group else "error")
        if group is not None:
            return redirect(url_for("groups.show", slug=group.slug))
    return redirect(next_target() or url_for("home.index"))


@bp.route("/signup", methods=["GET", "POST"])
@limiter.limit(signup_limit, methods=["POST"])
def signup() -> Response | tuple[str, int]:
    if current_user.is_authenticated:
        return redirect(next_target() or url_for("home.index"))
    form = SignupForm()
    if request.method == "GET":
        form.timezone.data = current_app.config.get("DEFAULT_TIMEZONE", "UTC")
        form.locale.data = current_locale()  # what this page is in: keep it, or change it
    if form.validate_on_submit():
        try:
            user = sign_up(
                get_session(),
                form.email.data,
                form.display_name.data,
                form.password.data,
                form.timezone.data,
            )
        except EmailTaken:
            form.email.errors.append(str(DUPLICATE_EMAIL))
        else:
            user.locale = form.locale.data or None
            get_session().commit()
            start_session(user)
            flash(
                gettext("Welcome, %(name)s! Your account is ready.", name=user.display_name),
                "success",
            )
            return after_login(user)
    return render_template("auth/signup.html", form=form, next=next_target()), status(form)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(auth_limit, methods=["POST"])
@limiter.limit(
    account_limit, methods=["POST"], key_func=account_key, deduct_when=refused, scope="account"
)
def login() -> Response | tuple[str, int]:
    if current_user.is_authenticated:
        return redirect(next_target() or url_for("home.index"))
    form = LoginForm()
    if form.validate_on_submit():
        user = authenticate(get_session(), form.email.data, form.password.data)
        if user is None:
            form.form_errors.append(str(WRONG_LOGIN))
        else:
            start_session(user)
            flash(gettext("Welcome back, %(name)s.", name=user.display_name), "success")
            return after_login(user)
    return render_template("auth/login.html", form=form, next=next_target()), status(form)


@bp.route("/logout", methods=["POST"])
def logout() -> Response:
    person = viewer()
    if person is not None:
        end_sessions(get_session(), person)
    logout_user()
    session.clear()
    flash(gettext("You are logged out."), "info")
    return redirect(url_for("home.index"))
