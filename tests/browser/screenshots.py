"""``make screenshots``: the main pages on the demo data, at phone and desktop size.

Saves ``docs/screenshots/<page>-phone.png`` (375x812) and ``<page>-desktop.png`` (1280x800),
the visible screen only, so the files stay small enough to commit and show in the README.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from .pages import VISITOR_PAGES, log_in_demo, member_pages
from .server import DESKTOP, PHONE, ROOT, LiveServer, chromium_path, launch, make_app, new_context

OUT = ROOT / "docs" / "screenshots"
# The pages the README shows, in reading order: arriving, answering, organizing, subscribing.
SHOWN = (
    "start",
    "signup",
    "dashboard",
    "my-groups",
    "group",
    "occurrence",
    "game-occurrence",
    "walk-occurrence",
    "routine",
    "routine-form",
    "subscribe",
)
SIZES = {"phone": PHONE, "desktop": DESKTOP}
# At desktop size only these (the phone is where members meet the product; keep the repo small).
WIDE = ("start", "dashboard", "my-groups", "group", "occurrence", "subscribe")
# Extra shots of a part further down a page: (name, page, element scrolled to the top).
PARTS = (
    ("answers", "occurrence", "#answers"),
    ("game", "game-occurrence", ".sports-panel"),
    ("group-routines", "group", "#routines-title"),
)


def shoot(out: Path = OUT) -> list[Path]:
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    saved = []
    with tempfile.TemporaryDirectory() as folder:
        app = make_app(Path(folder), demo=True)
        with LiveServer(app) as server, sync_playwright() as playwright:
            browser = launch(playwright)
            for size, viewport in SIZES.items():
                visitor = new_context(browser, viewport=viewport)
                member = new_context(browser, viewport=viewport)
                member_page = member.new_page()
                log_in_demo(member_page, server)
                pages = [(visitor.new_page(), p) for p in VISITOR_PAGES]
                pages += [(member_page, p) for p in member_pages(member_page, server)]
                for page, main in pages:
                    if main.name not in SHOWN or (size == "desktop" and main.name not in WIDE):
                        continue
                    page.goto(server.url(main.path))
                    path = out / f"{main.name}-{size}.png"
                    page.screenshot(path=str(path), full_page=False)
                    saved.append(path)
                    for part, of, selector in PARTS:
                        if of == main.name:
                            page.eval_on_selector(selector, "e => e.scrollIntoView()")
                            path = out / f"{part}-{size}.png"
                            page.screenshot(path=str(path), full_page=False)
                            saved.append(path)
                visitor.close()
                member.close()
            browser.close()
        app.extensions["planner_db"].engine.dispose()
    return saved


def main() -> int:
    if chromium_path() is None:
        print("Chromium not found: apt-get install -y chromium", file=sys.stderr)
        return 1
    for path in shoot():
        print(path.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
