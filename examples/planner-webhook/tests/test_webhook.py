"""The webhook plugin against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
import time
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import planner_webhook
import pytest

from planner.plugins.manager import notify

START = datetime(2026, 12, 3, 19, 0)


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
def app_config(app_config, receiver):
    host, port = receiver.server_address
    return {
        **app_config,
        "WEBHOOK_URL": f"http://{host}:{port}/hook",
        "WEBHOOK_SECRET": "s3cret",
        "WEBHOOK_TIMEOUT": 2,
    }


def routine():
    return SimpleNamespace(
        id=7, title="Thursday supper", activity_key="meals", group=SimpleNamespace(slug="club")
    )


def test_rsvp_changed_posts_json(app, receiver):
    user = SimpleNamespace(id=3, display_name="Ana")
    notify(
        "rsvp_changed",
        routine=routine(),
        original_start=START,
        user=user,
        status="going",
        previous=None,
    )
    planner_webhook.wait()
    [(headers, body)] = receiver.received
    assert json.loads(body) == {
        "event": "rsvp_changed",
        "routine": {"id": 7, "title": "Thursday supper", "activity": "meals", "group": "club"},
        "occurrence": "20261203T1900",
        "user": {"id": 3, "name": "Ana"},
        "status": "going",
        "previous": None,
    }
    assert headers["Content-Type"] == "application/json"
    expected = hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert headers["X-Planner-Signature"] == f"sha256={expected}"


def test_occurrence_changed_posts_json_and_retries_server_errors(app, receiver):
    receiver.statuses = [503]
    notify("occurrence_changed", routine=routine(), original_start=START, change="cancelled")
    planner_webhook.wait()
    assert len(receiver.received) == 2  # the 503, then the retry
    payload = json.loads(receiver.received[-1][1])
    assert payload["event"] == "occurrence_changed" and payload["change"] == "cancelled"


def test_a_refused_payload_is_not_retried(app, receiver):
    receiver.statuses = [400]
    notify("occurrence_changed", routine=routine(), original_start=START, change="changed")
    planner_webhook.wait()
    assert len(receiver.received) == 1


def test_a_dead_url_never_breaks_the_hook_call(app, caplog):
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        dead = sock.getsockname()[1]
    app.config.update(WEBHOOK_URL=f"http://127.0.0.1:{dead}/hook", WEBHOOK_RETRIES=1)
    began = time.monotonic()
    notify("occurrence_changed", routine=routine(), original_start=START, change="cancelled")
    assert time.monotonic() - began < 0.5  # delivery is off the request path
    planner_webhook.wait()
    assert "giving up on occurrence_changed" in caplog.text


def test_no_url_configured_sends_nothing(app, receiver):
    app.config["WEBHOOK_URL"] = None
    assert planner_webhook.send({"event": "x"}) is None
    planner_webhook.wait()
    assert receiver.received == []
