"""The strict CSP is really enforced, and the suite's watcher (``watch_csp``) really sees a
violation: without this, "no violation seen" could mean "not looking"."""

from __future__ import annotations

from .server import new_context


def test_inline_code_is_blocked_and_reported(browser, live_server):
    ctx = new_context(browser)
    try:
        page = ctx.new_page()
        page.goto(live_server.url("/signup"))
        # The timezone script is a file now: it still preselects the browser's zone.
        assert page.eval_on_selector("#timezone", "s => s.value") == "Europe/Berlin"
        with (
            page.expect_console_message(lambda m: "script-src" in m.text),
            page.expect_console_message(lambda m: "style-src" in m.text),
        ):
            page.evaluate(
                """() => {
                    const s = document.createElement("script");
                    s.textContent = "window.injected = true";
                    document.body.appendChild(s);
                    document.body.insertAdjacentHTML("beforeend", '<p style="color: red">x</p>');
                }"""
            )
        assert page.evaluate("() => window.injected === undefined")
        assert any("script-src" in v for v in ctx.csp_violations), ctx.csp_violations
        assert any("style-src" in v for v in ctx.csp_violations), ctx.csp_violations
    finally:
        ctx.close()
