"""Mail bench (``make bench`` prints it): queue 10,000 messages, deliver them with one worker to
a local aiosmtpd, and count SQL statements per message at two backlog sizes.

Why two sizes: "queries per message" only means something if it is the same with 1,000 rows
waiting as with 10,000 (a claim that scanned or a loop that re-read the backlog would show as a
growing figure). aiosmtpd comes with the test extra; without it the section says so and skips.
"""

from __future__ import annotations

import socket
import tempfile
import time
from pathlib import Path
from typing import Any


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class _Sink:
    def __init__(self) -> None:
        self.count = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.count += 1
        return "250 OK"


def _queue(app: Any, start: int, stop: int) -> None:
    from planner.db import get_session
    from planner.mail.outbox import Draft, queue

    with app.test_request_context():
        db = get_session()
        for n in range(start, stop):
            queue(db, Draft(kind="bench", recipient=f"p{n}@example.org", subject=f"Bench {n}",
                            body_text=f"Hello {n}\n", body_html=f"<p>Hello {n}</p>",
                            dedupe_key=f"bench:{n}"))
            if n % 500 == 499:
                db.commit()
        db.commit()


def _deliver(app: Any, limit: int | None) -> tuple[int, int, float]:
    from sqlalchemy import event

    from planner.mail.delivery import deliver_due

    engine = app.extensions["planner_db"].engine
    statements = [0]

    def record(*_args: Any) -> None:
        statements[0] += 1

    event.listen(engine, "before_cursor_execute", record)
    try:
        began = time.perf_counter()
        report = deliver_due(app, limit=limit)
        elapsed = time.perf_counter() - began
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return report.sent, statements[0], elapsed


def run(total: int = 10_000) -> dict[str, float]:
    from aiosmtpd.controller import Controller

    from planner import create_app, models  # noqa: F401  (models fill Base.metadata)
    from planner.db import Base, make_engine

    sink = _Sink()
    port = _free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    figures: dict[str, float] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="planner-bench-mail-") as tmp:
            url = f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
            engine = make_engine(url)
            Base.metadata.create_all(engine)
            engine.dispose()
            app = create_app({
                "DATABASE_URL": url, "INSTANCE_PATH": str(Path(tmp) / "instance"),
                "SECRET_KEY": "bench", "SMTP_URL": f"smtp://127.0.0.1:{port}",
                "SERVER_NAME": "planner.bench",
            })
            small = total // 10
            _queue(app, 0, small)
            sent, queries, _ = _deliver(app, small // 2)
            figures[f"mail queries/message, {small} waiting"] = queries / max(sent, 1)
            began = time.perf_counter()
            _queue(app, small, total + small // 2)
            figures["mail queue ms/message"] = (time.perf_counter() - began) * 1000 / total
            sent, queries, elapsed = _deliver(app, None)
            figures[f"mail queries/message, {sent} waiting"] = queries / max(sent, 1)
            figures["mail delivered/second (1 worker)"] = sent / elapsed
            figures["mail received by aiosmtpd"] = float(sink.count)
            app.extensions["planner_db"].engine.dispose()
    finally:
        controller.stop()
    return figures


def main_section(total: int = 10_000) -> None:
    """Print the mail figures (called from :func:`planner.dev.bench.main`)."""
    try:
        import aiosmtpd  # noqa: F401
    except ImportError:
        print("Mail bench skipped: aiosmtpd is not installed (pip install -e '.[test]').")
        return
    print(f"Mail: {total} messages queued, delivered by one worker to a local aiosmtpd; SQLite.")
    figures = run(total)
    width = max(len(k) for k in figures)
    for name, value in figures.items():
        print(f"  {name:<{width}}  {value:10.2f}")


if __name__ == "__main__":
    main_section()
