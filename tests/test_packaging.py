"""The wheel is the product: build one from the tracked files, install it into a fresh venv and
serve pages from it, far from the checkout.

An editable install hides every packaging mistake (a template, a static file or a migration
left out of the wheel still loads from the checkout), so this is the only test that would
notice. It builds from a copy of ``git ls-files``, as a fresh clone in CI would, installs with
the pip of the running interpreter into a venv without pip of its own (dependencies come from
the configured index and pip's cache), and runs the console script from an empty folder.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow


def run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None, timeout: int = 300) -> str:
    done = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, f"{args}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def tracked_copy(dest: Path) -> Path:
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: cannot tell tracked files from build leftovers")
    files = run("git", "ls-files", "-z", cwd=ROOT).split("\0")
    for name in filter(None, files):
        source = ROOT / name
        if source.is_file():
            target = dest / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return dest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.read()


def wait_until_serving(url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"server exited with {server.returncode}:\n{log.read_text()}")
        try:
            get(url)
            return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"server did not answer within 30 s:\n{log.read_text()}")


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv with only the wheel (and its dependencies) in it; returns its bin folder."""
    base = tmp_path_factory.mktemp("wheel")
    source = tracked_copy(base / "src")
    dist = base / "dist"
    run(sys.executable, "-m", "build", "--wheel", "--outdir", dist, source, cwd=base)
    (wheel,) = dist.glob("planner-*.whl")
    venv = base / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=base)
    python = venv / "bin" / "python"
    run(sys.executable, "-m", "pip", "--python", python, "install", "-q", wheel, cwd=base)
    return venv / "bin"


def test_the_wheel_carries_templates_static_files_and_migrations(installed: Path) -> None:
    names = run(
        installed / "python",
        "-c",
        "import importlib.metadata as m; print('\\n'.join(str(f) for f in m.files('planner')))",
        cwd=installed,
    ).split()
    for expected in (
        "planner/web/static/app.css",
        "planner/migrations/env.py",
        "planner/migrations/script.py.mako",
        "planner/migrations/versions/0001_initial_schema.py",
        "planner_templates/base.html",
        "planner_plugins/ical/__init__.py",
    ):
        assert expected in names
    assert not any(name.startswith(("tests/", "examples/")) for name in names)


def test_the_installed_app_migrates_loads_the_demo_and_serves_pages(
    installed: Path, tmp_path: Path
) -> None:
    # An empty folder far from the checkout: nothing may be found relative to the cwd.
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PLANNER_", "PYTHON", "FLASK_"))
    }
    env["PLANNER_INSTANCE_PATH"] = str(tmp_path / "instance")
    planner = installed / "planner"
    assert "revision head" in run(planner, "db", "upgrade", cwd=tmp_path, env=env)
    assert "Loaded demo data" in run(planner, "demo", cwd=tmp_path, env=env)

    port = free_port()
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [str(planner), "run", "--host", "127.0.0.1", "--port", str(port)],
            cwd=tmp_path,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_serving(base + "/", server, log)
        status, home = get(base + "/")
        assert status == 200 and b"</html>" in home
        status, group = get(base + "/g/thursday-supper-club")
        assert status == 200 and b"Thursday Supper Club" in group
        routine = re.search(rb'href="(/g/thursday-supper-club/r/\d+)[/"]', group)
        assert routine, "the group page links no routine"
        status, page = get(base + routine.group(1).decode())
        assert status == 200 and b"</html>" in page
        status, feed = get(base + "/feeds/g/thursday-supper-club.ics")
        assert status == 200 and feed.startswith(b"BEGIN:VCALENDAR\r\n")
        assert b"BEGIN:VEVENT" in feed
        status, css = get(base + "/static/app.css")
        assert status == 200 and len(css) > 100
    finally:
        server.terminate()
        server.wait(timeout=10)
