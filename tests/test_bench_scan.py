"""The scan bench's claim, kept true by a test: a minute's reminder scan sends the same number
of statements for a small world as for one six times its size (the outbox's insert batches
aside, one per ``INSERT_BATCH`` mails), both when everything is due and when everything is
queued already. The worlds are those of ``make bench`` (:mod:`planner.dev.bench_scan`), small
enough to take a second."""

from __future__ import annotations

from datetime import timedelta

from planner.db import get_session
from planner.dev import bench_scan


def _minutes(folder, groups, members):
    folder.mkdir()
    app = bench_scan.make_app(folder)
    try:
        with app.app_context():
            bench_scan.populate(get_session(), groups, members)
        due = bench_scan.scan_minute(app, bench_scan.DUE_MINUTE)
        again = bench_scan.scan_minute(app, bench_scan.DUE_MINUTE + timedelta(minutes=1))
    finally:
        app.extensions["planner_db"].engine.dispose()
    return due, again


def test_the_scan_s_statements_do_not_grow_with_members(tmp_path):
    small_due, small_again = _minutes(tmp_path / "small", 7, 70)
    large_due, large_again = _minutes(tmp_path / "large", 42, 420)
    assert 0 < small_due.queued < large_due.queued  # more mail written, same statements
    assert small_due.inserts == large_due.inserts == 1
    assert small_due.statements == large_due.statements, (small_due, large_due)
    assert small_again.statements == large_again.statements
    assert small_again.queued == large_again.queued == 0
    assert large_due.statements <= 22
    assert large_again.statements < large_due.statements
