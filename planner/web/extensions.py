"""Flask extensions, created unbound and attached in :func:`planner.create_app`."""

from __future__ import annotations

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

from planner.web.lazy_text import lazy_gettext as _l

csrf = CSRFProtect()
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = _l("Please log in to see that page.")
# Flashed as text in the request's language (a lazy string cannot go into the session).
login_manager.localize_callback = str
login_manager.login_message_category = "info"
# Storage comes from RATELIMIT_STORAGE_URI, which create_app points at Redis when configured.
limiter = Limiter(key_func=get_remote_address, default_limits=[])
