"""The outbox, delivery and the queue against real parts: aiosmtpd with STARTTLS and AUTH on
127.0.0.1, ``.eml`` files, huey's own consumer on its SQLite storage (and on Redis at
``PLANNER_TEST_REDIS_URL``, default db 14 on 127.0.0.1), and the app's database on both
backends. Time moves through an injected clock (``CLOCK``), never by sleeping."""

from __future__ import annotations

import email
import email.policy
import os
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from planner.cli import cli
from planner.mail import delivery
from planner.mail.outbox import Draft, MailInputError, queue
from planner.mail.queue import get_queue, start_in_threads
from planner.models import OutboxMessage, utcnow


class Clock:
    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def app_config(app_config, clock, smtp):
    return {
        **app_config,
        "CLOCK": clock,
        "SMTP_URL": smtp.url,
        "SMTP_CA_FILE": str(smtp.cert),
        "MAIL_FROM": "Planner <planner@example.org>",
        "SITE_URL": "https://planner.example.org",
    }


def draft(n: int = 1, **fields) -> Draft:
    values = dict(
        kind="test",
        recipient=f"person{n}@example.org",
        subject=f"Hello {n}",
        body_text=f"Text {n}",
        body_html=f"<p>HTML {n}</p>",
        dedupe_key=f"test:{n}",
    )
    values.update(fields)
    return Draft(**values)


def put(app, db, *drafts: Draft) -> None:
    with app.test_request_context():
        for d in drafts:
            queue(db, d)
        db.commit()


def rows(db) -> list[OutboxMessage]:
    db.commit()  # end the read snapshot: the worker wrote in its own session
    db.expire_all()
    return list(db.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def test_a_queued_mail_arrives_over_starttls_with_auth_multipart_with_standard_headers(
    app, db, smtp, clock
):
    put(app, db, draft(headers={"List-Id": "Supper club <supper.planner>"}))
    report = delivery.deliver_due(app)
    assert (report.sent, report.retried, report.failed) == (1, 0, 0)
    [message] = smtp.inbox.wait_for(1)
    assert message["To"] == "person1@example.org"
    assert message["From"] == "Planner <planner@example.org>"
    assert message["Subject"] == "Hello 1"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["List-Id"] == "Supper club <supper.planner>"
    assert message["Message-ID"].startswith("<outbox-") and message["Date"]
    assert message.is_multipart()
    assert message.get_body(("plain",)).get_content().strip() == "Text 1"
    assert message.get_body(("html",)).get_content().strip() == "<p>HTML 1</p>"
    [row] = rows(db)
    assert row.state == "sent" and row.sent_at == clock.now and row.attempts == 1


def test_the_dedupe_key_keeps_one_row_however_often_it_is_queued(app, db, smtp):
    put(app, db, draft(), draft(subject="again"))
    put(app, db, draft())
    assert db.scalar(select(func.count(OutboxMessage.id))) == 1
    delivery.deliver_due(app)
    delivery.deliver_due(app)
    assert len(smtp.inbox.wait_for(1)) == 1


def test_nothing_is_sent_before_the_worker_runs(app, db, smtp):
    put(app, db, draft())
    assert smtp.inbox.messages == []
    assert rows(db)[0].state == "queued"


@pytest.mark.parametrize(
    "bad",
    [
        dict(recipient="not an address"),
        dict(recipient="a@example.org\r\nBcc: victim@example.org"),
        dict(subject="Hi\r\nBcc: victim@example.org"),
        dict(headers={"List-Id": "x\nBcc: victim@example.org"}),
    ],
)
def test_header_injection_and_bad_addresses_are_refused_before_a_row_exists(app, db, bad):
    with app.test_request_context(), pytest.raises(MailInputError) as error:
        queue(db, draft(**bad))
    db.rollback()
    assert str(error.value)
    assert rows(db) == []


def test_smtp_down_waits_retries_with_backoff_and_delivers_when_it_is_back(
    app, db, smtp, clock
):
    smtp.stop()
    put(app, db, draft(1), draft(2))
    report = delivery.deliver_due(app)
    assert (report.sent, report.retried) == (0, 2)
    first = rows(db)
    assert all(r.state == "queued" and r.attempts == 1 and "cannot reach" in r.last_error
               for r in first)
    assert all(r.due_at == clock.now + timedelta(seconds=60) for r in first)
    clock.advance(seconds=30)
    assert delivery.deliver_due(app).handled == 0  # not due yet: no retry storm
    clock.advance(seconds=31)
    assert delivery.deliver_due(app).retried == 2
    doubled = [(2, timedelta(seconds=120))] * 2
    assert [(r.attempts, r.due_at - clock.now) for r in rows(db)] == doubled
    smtp.start()
    clock.advance(seconds=121)
    assert delivery.deliver_due(app).sent == 2
    assert {m["To"] for m in smtp.inbox.wait_for(2)} == {
        "person1@example.org", "person2@example.org"
    }
    assert all(r.state == "sent" and r.attempts == 3 for r in rows(db))


def test_after_the_last_attempt_the_row_is_failed_with_the_error(app, db, smtp, clock):
    app.config["MAIL_MAX_ATTEMPTS"] = 2
    smtp.stop()
    put(app, db, draft())
    delivery.deliver_due(app)
    clock.advance(hours=1)
    assert delivery.deliver_due(app).failed == 1
    [row] = rows(db)
    assert row.state == "failed" and row.attempts == 2 and "cannot reach" in row.last_error
    clock.advance(days=1)
    assert delivery.deliver_due(app).handled == 0


def test_a_5xx_is_failed_at_once_and_never_retried(app, db, smtp, clock, runner):
    smtp.inbox.reply = "550 5.1.1 no such mailbox"
    put(app, db, draft())
    assert delivery.deliver_due(app).failed == 1
    clock.advance(days=2)
    assert delivery.deliver_due(app).handled == 0
    [row] = rows(db)
    assert row.state == "failed" and row.attempts == 1
    assert "550" in row.last_error and "no such mailbox" in row.last_error
    listing = runner.invoke(cli, ["outbox"]).output
    assert "failed" in listing and "550" in listing


def test_a_4xx_is_retried(app, db, smtp):
    smtp.inbox.reply = "451 4.3.0 try later"
    put(app, db, draft())
    assert delivery.deliver_due(app).retried == 1
    [row] = rows(db)
    assert row.state == "queued" and "451" in row.last_error


def test_without_smtp_mail_is_an_eml_file_listed_by_planner_outbox(app, db, runner, clock):
    app.config["SMTP_URL"] = None
    put(app, db, draft())
    assert delivery.deliver_due(app).sent == 1
    [row] = rows(db)
    assert row.path.endswith(".eml") and row.path.startswith(app.instance_path)
    with open(row.path, "rb") as handle:
        message = email.message_from_binary_file(handle, policy=email.policy.default)
    assert message["Subject"] == "Hello 1" and message.is_multipart()
    listing = runner.invoke(cli, ["outbox"]).output
    assert row.path in listing and "sent" in listing


def test_a_claimed_row_is_not_taken_by_a_second_worker_until_its_lease_ends(app, db, clock):
    put(app, db, draft(1), draft(2))
    lease = timedelta(seconds=300)
    session = app.extensions["planner_db"].sessions()
    try:
        first = delivery.claim(session, clock.now, lease, 10)
        assert len(first) == 2
        assert delivery.claim(session, clock.now, lease, 10) == []
        clock.advance(seconds=301)
        assert len(delivery.claim(session, clock.now, lease, 10)) == 2
    finally:
        session.close()


def test_huey_consumer_in_threads_delivers_what_a_request_queued(app, db, smtp):
    """The real queue: the commit nudges huey, huey's own consumer (thread workers, on its
    SQLite file in the instance folder) runs the delivery task."""
    queued = get_queue(app)
    assert type(queued.huey).__name__ == ("RedisHuey" if app.config.get("REDIS_URL")
                                           else "SqliteHuey")
    assert not queued.huey.immediate
    consumer = start_in_threads(app)
    try:
        put(app, db, draft(1), draft(2), draft(3))
        assert len(smtp.inbox.wait_for(3)) == 3
    finally:
        consumer.stop(graceful=True)
    assert {r.state for r in rows(db)} == {"sent"}


@pytest.fixture
def redis_app_config(app_config):
    # Its own Redis database (the feed cache tests use 15), never the operator's PLANNER_REDIS_URL.
    url = os.environ.get("PLANNER_TEST_REDIS_URL", "redis://127.0.0.1:6379/14")
    import redis

    try:
        redis.Redis.from_url(url).ping()
    except redis.RedisError as exc:
        from planner.testing import skip_or_fail

        skip_or_fail(f"the Redis queue test needs Redis at {url}: {exc}")
    return {**app_config, "REDIS_URL": url, "FEED_UID_DOMAIN": f"t{os.getpid()}"}


@pytest.mark.planner_backends("sqlite")
def test_huey_on_redis_delivers_too(redis_app_config, smtp):
    from planner import create_app
    from planner.db import Base

    app = create_app(redis_app_config)
    Base.metadata.create_all(app.extensions["planner_db"].engine)
    with app.app_context():
        from planner.db import get_session

        db = get_session()
        queued = get_queue(app)
        assert type(queued.huey).__name__ == "RedisHuey"
        queued.huey.flush()
        consumer = start_in_threads(app)
        try:
            put(app, db, draft(1))
            assert len(smtp.inbox.wait_for(1)) == 1
        finally:
            consumer.stop(graceful=True)
            queued.huey.flush()
    app.extensions["planner_db"].engine.dispose()


def test_a_worker_killed_mid_batch_loses_nothing_and_doubles_at_most_the_one_in_flight(
    app, db, smtp, clock, tmp_path
):
    """``planner worker`` (huey's consumer, a separate process) is SIGKILLed while the server
    holds its third message; a restarted consumer delivers every row once the lease is over."""
    import signal
    import subprocess
    import sys
    import threading
    from pathlib import Path

    put(app, db, *(draft(n) for n in range(1, 7)))
    smtp.inbox.hold, smtp.inbox.hold_at = threading.Event(), 3
    env = {
        **os.environ,
        "PLANNER_DATABASE_URL": app.config["DATABASE_URL"],
        "PLANNER_INSTANCE_PATH": app.instance_path,
        "PLANNER_SECRET_KEY": app.config["SECRET_KEY"],
        "PLANNER_SMTP_URL": app.config["SMTP_URL"],
        "PLANNER_SMTP_CA_FILE": app.config["SMTP_CA_FILE"],
        "PLANNER_MAIL_BATCH_SIZE": "10",
    }
    env.pop("PLANNER_REDIS_URL", None)
    with open(tmp_path / "worker.log", "wb") as log:
        worker = subprocess.Popen(
            [str(Path(sys.executable).parent / "planner"), "worker", "--workers", "1"],
            env=env, stdout=log, stderr=subprocess.STDOUT,
        )
        try:
            get_queue(app).deliver()  # the nudge a commit sends: the worker process takes it
            assert smtp.inbox.held.wait(60), (tmp_path / "worker.log").read_text()
            worker.send_signal(signal.SIGKILL)
            worker.wait(30)
        finally:
            if worker.poll() is None:
                worker.kill()
            smtp.inbox.hold.set()
    states = [r.state for r in rows(db)]
    assert states[:2] == ["sent", "sent"] and "sent" not in states[2:]
    assert len(smtp.inbox.messages) == 3  # the third arrived, but was never stamped

    smtp.inbox.hold = None
    # The killed worker claimed on its own (real) clock a few seconds after ours started.
    clock.advance(seconds=app.config["MAIL_LEASE_SECONDS"] + 120)
    consumer = start_in_threads(app)
    try:
        get_queue(app).deliver()
        received = smtp.inbox.wait_for(7)
    finally:
        consumer.stop(graceful=True)
    assert {r.state for r in rows(db)} == {"sent"}
    counts = {n: [m["To"] for m in received].count(f"person{n}@example.org") for n in range(1, 7)}
    assert counts == {1: 1, 2: 1, 3: 2, 4: 1, 5: 1, 6: 1}


def test_queries_per_message_do_not_grow_with_the_backlog(app, db, smtp):
    from planner.testing import count_statements

    def per_message(backlog: int, deliver: int) -> float:
        put(app, db, *(draft(n) for n in range(backlog, 2 * backlog)))
        with count_statements(app) as statements:
            sent = delivery.deliver_due(app, limit=deliver).sent
        assert sent == deliver
        return len(statements) / sent

    app.config["MAIL_BATCH_SIZE"] = 10
    small = per_message(20, 10)
    large = per_message(400, 10)
    assert small == large
    assert small <= 2.5  # one update (plus its BEGIN) a message; the claim is per batch
