"""The served app and Debian's Chromium, shared by the pytest fixtures and ``make screenshots``.

No pytest here, so ``python -m tests.browser.screenshots`` runs without it.
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
from pathlib import Path

from werkzeug.serving import make_server

from planner import create_app
from planner.db import get_session
from planner.dev.demo import PASSWORD as DEMO_PASSWORD
from planner.dev.demo import load_demo
from planner.migrate import upgrade
from planner.testing import FAST_ARGON2

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("PLANNER_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 800}
__all__ = ["DEMO_PASSWORD", "LiveServer", "chromium_path", "launch", "make_app", "new_context"]

# Request lines of every page and stylesheet would bury a failure's own message.
logging.getLogger("werkzeug").setLevel(logging.WARNING)


class LiveServer:
    """The real app on a free port, in a thread; ``url(path)`` builds absolute URLs."""

    def __init__(self, app):
        self.app = app
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.port = self.server.server_port
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def __enter__(self) -> LiveServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.thread.join(5)


def make_app(folder: Path, demo: bool = False):
    """An app on a migrated SQLite file in ``folder``, configured as in production (CSRF on)
    but with fast hashing; with ``demo`` it holds the demo people, groups and routines."""
    url = f"sqlite:///{folder / 'browser.sqlite3'}"
    upgrade(url)
    app = create_app(
        {
            "DATABASE_URL": url,
            "INSTANCE_PATH": str(folder / "instance"),
            "SECRET_KEY": "browser-tests",
            "ARGON2_PARAMS": FAST_ARGON2,
            "RATELIMIT_ENABLED": False,
        }
    )
    if demo:
        with app.app_context():
            load_demo(get_session())
    return app


def chromium_path() -> str | None:
    if Path(CHROMIUM).exists():
        return CHROMIUM
    return shutil.which("chromium")


def launch(playwright):
    return playwright.chromium.launch(
        executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS
    )


def new_context(browser, **options):
    """A phone-sized context in Berlin, English; ``options`` override (viewport, JavaScript)."""
    settings = {"viewport": PHONE, "timezone_id": "Europe/Berlin", "locale": "en-GB", **options}
    ctx = browser.new_context(**settings)
    ctx.set_default_timeout(10_000)
    watch_csp(ctx)
    return ctx


#: Reported by the page itself: the browser fires ``securitypolicyviolation`` for every blocked
#: script, style or frame, so a template that slips inline code back in fails the suite.
CSP_REPORTER = """
document.addEventListener("securitypolicyviolation", (e) => {
  console.error("CSP violation: " + e.violatedDirective + " blocked " + (e.blockedURI || "inline")
    + " at " + e.sourceFile + ":" + e.lineNumber);
});
"""


def watch_csp(ctx) -> None:
    """Collect CSP violations of every page of ``ctx`` in ``ctx.csp_violations``."""
    violations: list[str] = []
    ctx.csp_violations = violations
    ctx.add_init_script(CSP_REPORTER)

    def on_console(message) -> None:
        text = message.text
        if "CSP violation" in text or "Content Security Policy" in text:
            violations.append(f"{message.page.url if message.page else '?'}: {text}")

    ctx.on("console", on_console)
