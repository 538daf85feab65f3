"""The servers and the load generator ``make bench`` measures with.

Every figure over HTTP is a closed loop of ``CONNECTIONS`` keep-alive connections for
``SECONDS`` against gunicorn (``-w 2``, gthread workers so connections stay open), between two
runs of the bare endpoint it is divided by (:func:`planner.dev.bench._interleaved`). The load
generator is ``wrk`` when it is installed (``apt-get install wrk``: C, so it leaves the two
cores to the servers) and otherwise this module's own threads over ``http.client``; the bench
prints which.

Radicale (the ``bench`` extra) serves the same calendar from a folder: it is PUT once as a
calendar collection, then read back with GET, which is how a calendar app polls it.
"""

from __future__ import annotations

import http.client
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

CONNECTIONS = 8
SECONDS = 2.0
WORKERS = 2
THREADS = 4


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for(
    port: int, process: subprocess.Popen[bytes] | None = None, seconds: float = 30
) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the server on port {port} exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"no server on port {port} after {seconds} s")


def bench_app() -> Any:
    """The app gunicorn serves: planner plus a bare endpoint and the feed as static bytes."""
    from flask import Response

    from planner import create_app

    app = create_app()
    static = Path(os.environ["PLANNER_BENCH_STATIC"]).read_bytes()
    app.add_url_rule("/bench/trivial", "bench_trivial", lambda: "ok")
    app.add_url_rule(
        "/bench/static",
        "bench_static",
        lambda: Response(static, content_type="text/calendar; charset=utf-8"),
    )
    return app


@contextmanager
def gunicorn(
    env: dict[str, str], workers: int = WORKERS, threads: int = THREADS
) -> Iterator[int]:
    """``gunicorn -w workers`` serving :func:`bench_app` on a free port (yields the port):
    gthread workers of ``threads`` threads each, or with ``threads=0`` gunicorn's default sync
    workers (the README's production command)."""
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "-w", str(workers)]
    if threads:
        command += ["-k", "gthread", "--threads", str(threads), "--keep-alive", "30"]
    command += [
        "-b", f"127.0.0.1:{port}", "--log-level", "warning", "planner.dev.bench_http:bench_app()"
    ]  # fmt: skip
    process = subprocess.Popen(command, env={**os.environ, **env})
    try:
        wait_for(port, process)
        yield port
    finally:
        process.terminate()
        process.wait(10)


@contextmanager
def radicale(calendar: bytes) -> Iterator[str | None]:
    """Radicale serving ``calendar`` at the yielded path, or None when it is not installed."""
    try:
        import radicale  # noqa: F401
    except ImportError:
        yield None
        return
    folder = Path(tempfile.mkdtemp(prefix="planner-bench-radicale-"))
    port = free_port()
    command = [
        sys.executable, "-m", "radicale", "--server-hosts", f"127.0.0.1:{port}",
        "--storage-filesystem-folder", str(folder), "--auth-type", "none",
        "--rights-type", "authenticated", "--logging-level", "warning",
    ]  # fmt: skip
    process = subprocess.Popen(command)
    try:
        wait_for(port, process)
        path = "/bench/reference/"
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        headers = {"Content-Type": "text/calendar", "Authorization": "Basic YmVuY2g6YmVuY2g="}
        conn.request("PUT", path, body=calendar, headers=headers)
        status = conn.getresponse()
        status.read()
        if status.status not in (200, 201, 204):
            raise RuntimeError(f"Radicale refused the calendar: {status.status}")
        conn.close()
        yield f"http://127.0.0.1:{port}{path}"
    finally:
        process.terminate()
        process.wait(10)
        shutil.rmtree(folder, ignore_errors=True)


RADICALE_AUTH = {"Authorization": "Basic YmVuY2g6YmVuY2g="}


def generator() -> str:
    return "wrk" if shutil.which("wrk") else "python threads + http.client"


def rate(url: str, headers: dict[str, str] | None = None, seconds: float = SECONDS,
         connections: int = CONNECTIONS, expect: int = 200) -> float:
    """Requests per second over a closed loop of ``connections`` for ``seconds``."""
    headers = headers or {}
    check(url, headers, expect)
    if shutil.which("wrk"):
        return _wrk(url, headers, seconds, connections)
    return _threads(url, headers, seconds, connections, expect)


def check(url: str, headers: dict[str, str], expect: int) -> bytes:
    host, port, path = _split(url)
    conn = http.client.HTTPConnection(host, port, timeout=60)
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    body = response.read()
    conn.close()
    if response.status != expect:
        raise RuntimeError(f"{url}: {response.status}, expected {expect}")
    return body


def _split(url: str) -> tuple[str, int, str]:
    found = re.match(r"http://([^:/]+):(\d+)(/.*)", url)
    assert found, url
    return found.group(1), int(found.group(2)), found.group(3)


def _wrk(url: str, headers: dict[str, str], seconds: float, connections: int) -> float:
    command = ["wrk", "-t", "2", "-c", str(connections), "-d", f"{seconds:g}s", "--latency"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    out = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    if "Non-2xx or 3xx responses" in out:
        raise RuntimeError(f"{url}: wrong statuses under load\n{out}")
    found = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if not found:
        raise RuntimeError(out)
    return float(found.group(1))


def _threads(url: str, headers: dict[str, str], seconds: float, connections: int,
             expect: int) -> float:
    host, port, path = _split(url)
    counts = [0] * connections
    errors: list[str] = []
    stop = time.monotonic() + seconds

    def loop(n: int) -> None:
        conn = http.client.HTTPConnection(host, port, timeout=60)
        while time.monotonic() < stop:
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            response.read()
            if response.status != expect:
                errors.append(f"{url}: {response.status}")
                return
            counts[n] += 1
        conn.close()

    started = time.monotonic()
    threads = [threading.Thread(target=loop, args=(n,)) for n in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise RuntimeError(errors[0])
    return sum(counts) / (time.monotonic() - started)
