"""The webhook plugin against a real HTTP server on 127.0.0.1, driven through planner's real
routes with the fixtures of ``planner.testing`` (nothing of planner's internals imported)."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import planner_webhook
import pytest

from planner.api import Status


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.received.append((dict(self.headers), body))
        status = self.server.statuses.pop(0) if self.server.statuses else 204
        self.send_response(status)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    server.received = []
    server.statuses = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def planner_app_config(planner_app_config, receiver):
    host, port = receiver.server_address
    return {
        **planner_app_config,
        "WEBHOOK_URL": f"http://{host}:{port}/hook",
        "WEBHOOK_SECRET": "s3cret",
        "WEBHOOK_TIMEOUT": 2,
    }


@pytest.fixture
def club(make_user, make_group, make_routine):
    owner, member = make_user("Olga"), make_user("Ana")
    group = make_group(owner, members=[member], slug="club")
    routine = make_routine(group, "meals", title="Thursday supper")
    return owner, member, routine


def key(routine):
    return routine.start.strftime("%Y%m%dT%H%M")


def cancel(planner_as_user, owner, routine):
    path = f"/g/club/r/{routine.id}/{key(routine)}/cancel"
    data = {"reason": "Holiday", "confirm": "yes"}  # "yes": the second step of cancelling
    assert planner_as_user(owner).post(path, data=data).status_code in (302, 303)


def test_rsvp_changed_posts_json(club, answer, receiver):
    owner, member, routine = club
    answer(member, routine, Status.GOING)
    planner_webhook.wait()
    [(headers, body)] = receiver.received
    assert json.loads(body) == {
        "event": "rsvp_changed",
        "routine": {
            "id": routine.id,
            "title": "Thursday supper",
            "activity": "meals",
            "group": "club",
        },
        "occurrence": key(routine),
        "user": {"id": member.id, "name": "Ana"},
        "status": Status.GOING,
        "previous": None,
    }
    assert headers["Content-Type"] == "application/json"
    expected = hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert headers["X-Planner-Signature"] == f"sha256={expected}"


def test_occurrence_changed_posts_json_and_retries_server_errors(club, planner_as_user, receiver):
    receiver.statuses = [503]
    owner, _, routine = club
    cancel(planner_as_user, owner, routine)
    planner_webhook.wait()
    assert len(receiver.received) == 2  # the 503, then the retry
    payload = json.loads(receiver.received[-1][1])
    assert payload["event"] == "occurrence_changed" and payload["change"] == "cancelled"


def test_a_refused_payload_is_not_retried(club, planner_as_user, receiver):
    receiver.statuses = [400]
    owner, _, routine = club
    cancel(planner_as_user, owner, routine)
    planner_webhook.wait()
    assert len(receiver.received) == 1


def test_a_dead_url_never_breaks_the_answer(planner_app, club, answer, caplog):
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        dead = sock.getsockname()[1]
    planner_app.config.update(WEBHOOK_URL=f"http://127.0.0.1:{dead}/hook", WEBHOOK_RETRIES=1)
    owner, member, routine = club
    began = time.monotonic()
    answer(member, routine, Status.GOING)  # the answer is saved: a 303, never an error page
    assert time.monotonic() - began < 2  # delivery is off the request path
    planner_webhook.wait()
    assert "giving up on rsvp_changed" in caplog.text


def test_no_url_configured_sends_nothing(planner_app, receiver):
    planner_app.config["WEBHOOK_URL"] = None
    assert planner_webhook.send({"event": "x"}) is None
    planner_webhook.wait()
    assert receiver.received == []


def test_notification_queued_posts_one_event_per_recipient(club, planner_as_user, receiver):
    owner, member, routine = club
    page = f"/g/club/r/{routine.id}/{key(routine)}/message"
    response = planner_as_user(owner).post(page, data={"audience": "members", "text": "Hi!"})
    assert response.status_code == 302
    planner_webhook.wait()
    events = [json.loads(body) for _, body in receiver.received]
    [event] = [e for e in events if e["event"] == "notification_queued"]
    assert event["kind"] == "message" and event["category"] == "message"
    assert event["user"] == member.id
    assert event["subject"].endswith("a message from Olga")
    assert event["dedupe_key"].startswith("message:")
    assert member.email not in json.dumps(events)  # no addresses leave planner
