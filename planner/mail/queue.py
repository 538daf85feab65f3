"""The job queue: huey on a SQLite file in the instance folder, or on Redis when
``PLANNER_REDIS_URL`` is set (then workers on several hosts share it).

The queue carries no mail, only "look at the outbox now" (``deliver``) and a minute sweep
(``sweep``): the outbox is the durable record, so a lost or doubled queue entry costs nothing.
One huey instance per app (``app.extensions["planner_huey"]``), its tasks closing over the app.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Flask
from huey import Huey, RedisHuey, SqliteHuey, crontab
from huey.consumer import Consumer

from planner.mail.delivery import Report, deliver_due

log = logging.getLogger(__name__)


#: A periodic job: called with the app (inside an app context) once a minute; returns how many
#: things it did (for the log). Higher rooms register theirs with :func:`add_job`, so ``mail``
#: never imports them.
Job = Callable[[Flask], int]


@dataclass
class Queue:
    huey: Huey
    deliver: Any  # huey TaskWrapper: deliver() enqueues, deliver.call_local() runs here
    sweep: Any
    jobs: dict[str, Any] = field(default_factory=dict)  # name -> huey periodic TaskWrapper


def add_job(app: Flask, name: str, job: Job) -> None:
    """Run ``job(app)`` every minute on the queue's consumer (reminder scans, notice flushes).

    Call it while building the app, before the queue is first used. A job must be idempotent and
    read the time from the injected clock: the minute sweep may run it late, twice, or on two
    workers at once.
    """
    if "planner_huey" in app.extensions:
        raise RuntimeError(f"job {name!r} added after the queue was built")
    app.extensions.setdefault("planner_jobs", {})[name] = job


def run_jobs(app: Flask) -> dict[str, int]:
    """Run every registered job once, here and now (tests drive the clock and call this)."""
    done: dict[str, int] = {}
    for name, job in app.extensions.get("planner_jobs", {}).items():
        with app.app_context():
            done[name] = job(app)
    return done


def make_queue(app: Flask) -> Queue:
    name = f"planner-{app.config['FEED_UID_DOMAIN']}"
    redis_url = app.config.get("REDIS_URL")
    huey: Huey
    if redis_url:
        huey = RedisHuey(name, url=redis_url, results=False)
    else:
        path = Path(app.instance_path) / "huey.sqlite3"
        huey = SqliteHuey(name, filename=str(path), results=False)

    @huey.task(name="deliver")  # type: ignore[untyped-decorator]
    def deliver() -> int:
        with app.app_context():
            return _run(app)

    @huey.periodic_task(crontab(minute="*"), name="sweep")  # type: ignore[untyped-decorator]
    def sweep() -> int:
        """Rows that are due (retries) or were left behind by a crashed worker or lost nudge."""
        with app.app_context():
            return _run(app)

    queue = Queue(huey=huey, deliver=deliver, sweep=sweep)
    for job_name, job in app.extensions.get("planner_jobs", {}).items():
        queue.jobs[job_name] = _periodic(app, huey, job_name, job)
    return queue


def _periodic(app: Flask, huey: Huey, name: str, job: Job) -> Any:
    @huey.periodic_task(crontab(minute="*"), name=name)  # type: ignore[untyped-decorator]
    def run() -> int:
        with app.app_context():
            done = job(app)
        if done:
            log.info("%s: %s", name, done)
        return done

    return run


def _run(app: Flask) -> int:
    report: Report = deliver_due(app)
    if report.handled:
        log.info("mail: %s sent, %s to retry, %s failed", report.sent, report.retried,
                 report.failed)
    return report.handled


def get_queue(app: Flask) -> Queue:
    queue: Queue | None = app.extensions.get("planner_huey")
    if queue is None:
        queue = app.extensions["planner_huey"] = make_queue(app)
    return queue


def nudge(app: Flask) -> None:
    """Enqueue a delivery run; a queue that is down only delays mail until the next sweep."""
    try:
        get_queue(app).deliver()
    except Exception:  # Redis down, SQLite file locked: the sweep will find the rows
        log.warning("could not enqueue mail delivery; the minute sweep will", exc_info=True)


def consumer(app: Flask, workers: int = 1, periodic: bool = True) -> Consumer:
    """huey's own consumer with thread workers (what ``planner worker`` runs)."""
    return Consumer(get_queue(app).huey, workers=workers, periodic=periodic,
                    worker_type="thread", initial_delay=0.1, max_delay=1.0)


def start_in_threads(app: Flask, workers: int = 1) -> Consumer:
    """Run the consumer beside the dev server (``make run``): its daemon threads, without the
    signal handlers ``Consumer.start`` installs (the server owns the main thread's signals).
    ``stop()`` on the result ends it."""
    running = consumer(app, workers=workers)
    running.scheduler.start()
    for _worker, thread in running.worker_threads:
        thread.start()
    return running
