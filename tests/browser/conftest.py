"""Real-browser fixtures: the app served on 127.0.0.1 by werkzeug, driven by Debian's Chromium.

Outside CI a missing Chromium (or npm's axe-core) skips these tests with the reason; with
``CI=true`` that is a failure, so CI can never pass without having run them.
"""

from __future__ import annotations

import json
import pathlib
from collections.abc import Iterator

import pytest

from planner.testing import skip_or_fail

from .pages import log_in_demo, member_pages
from .server import CHROMIUM, PHONE, ROOT, LiveServer, chromium_path, launch, make_app, new_context

AXE = ROOT / ".cache" / "node" / "node_modules" / "axe-core" / "axe.min.js"
__all__ = ["PHONE", "audit", "horizontal_overflow"]


@pytest.fixture
def live_app(tmp_path):
    """A fresh app on its own migrated SQLite file: for tests that change things."""
    app = make_app(tmp_path)
    yield app
    app.extensions["planner_db"].engine.dispose()


@pytest.fixture
def live_server(live_app) -> Iterator[LiveServer]:
    with LiveServer(live_app) as server:
        yield server


@pytest.fixture(scope="session")
def demo_server(tmp_path_factory) -> Iterator[LiveServer]:
    """One server with the demo data for the whole session, for tests that only look: pages
    are audited, measured and photographed here. Tests that change things use ``live_server``.
    """
    app = make_app(tmp_path_factory.mktemp("demo"), demo=True)
    with LiveServer(app) as server:
        yield server
    app.extensions["planner_db"].engine.dispose()


@pytest.fixture(scope="session")
def browser():
    if chromium_path() is None:
        skip_or_fail(f"Chromium not found at {CHROMIUM} (apt-get install -y chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - playwright is a test dependency
        skip_or_fail("playwright is not installed")
    with sync_playwright() as playwright:
        browser = launch(playwright)
        yield browser
        browser.close()


@pytest.fixture
def context(browser):
    """A phone-sized browser context (another person = another context)."""
    ctx = new_context(browser)
    yield ctx
    violations = ctx.csp_violations
    ctx.close()
    assert not violations, "\n".join(violations)


@pytest.fixture
def page(context):
    return context.new_page()


@pytest.fixture
def person(browser):
    """``person(**options)`` opens one more person's page in its own context (own cookies)."""
    contexts = []

    def open_page(**options):
        ctx = new_context(browser, **options)
        contexts.append(ctx)
        return ctx.new_page()

    yield open_page
    violations = [v for ctx in contexts for v in ctx.csp_violations]
    for ctx in contexts:
        ctx.close()
    assert not violations, "\n".join(violations)


@pytest.fixture(scope="session")
def owner(browser, demo_server):
    """A phone context logged in as a demo organizer (Ben), and the main pages found there."""
    ctx = new_context(browser)
    page = ctx.new_page()
    log_in_demo(page, demo_server)
    pages = member_pages(page, demo_server)
    yield page, pages
    violations = ctx.csp_violations
    ctx.close()
    assert not violations, "\n".join(violations)


@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE.exists():
        skip_or_fail(f"axe-core not installed at {AXE} (make test installs it with npm)")
    return AXE.read_text()


def audit(page, axe_source: str) -> list[dict]:
    """Serious or critical axe-core violations on the current page."""
    # Evaluated, not added as a <script>: the strict CSP refuses inline scripts, as it should.
    page.evaluate(axe_source)
    result = page.evaluate("async () => JSON.stringify(await axe.run(document))")
    violations = json.loads(result)["violations"]
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in violations
        if v["impact"] in ("serious", "critical")
    ]


def horizontal_overflow(page) -> int:
    """How many CSS pixels the page is wider than the viewport (0 means no sideways scroll)."""
    return page.evaluate(
        "() => Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"
        " - window.innerWidth"
    )


def pytest_collection_modifyitems(items):
    """Mark everything here ``browser`` so ``pytest -m "not browser"`` runs the rest alone."""
    here = pathlib.Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.browser)
