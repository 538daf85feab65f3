"""Configuration order (defaults, instance file, PLANNER_* env), the secret key, cookie flags."""

from __future__ import annotations

import stat

import pytest

from planner import create_app
from planner.config import SECRET_FILE


@pytest.fixture
def clean_env(monkeypatch):
    for name in ("PLANNER_SECRET_KEY", "PLANNER_SESSION_COOKIE_SECURE", "PLANNER_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def bare_app(tmp_path, **extra):
    config = {
        "TESTING": True,
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'config.sqlite3'}",
        **extra,
    }
    return create_app(config)


def test_secret_key_is_generated_once_with_private_mode(tmp_path, clean_env):
    first = bare_app(tmp_path)
    path = tmp_path / "instance" / SECRET_FILE
    assert path.exists()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    key = first.config["SECRET_KEY"]
    assert len(key) >= 32
    assert path.read_text().strip() == key
    second = bare_app(tmp_path)
    assert second.config["SECRET_KEY"] == key


def test_configured_secret_key_writes_no_file(tmp_path, clean_env):
    clean_env.setenv("PLANNER_SECRET_KEY", "from-the-environment")
    app = bare_app(tmp_path)
    assert app.config["SECRET_KEY"] == "from-the-environment"
    assert not (tmp_path / "instance" / SECRET_FILE).exists()


def test_instance_file_then_environment(tmp_path, clean_env):
    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "planner.cfg").write_text("FEED_REFRESH_MINUTES = 10\nFEED_PAST_DAYS = 30\n")
    app = bare_app(tmp_path)
    assert app.config["FEED_REFRESH_MINUTES"] == 10
    assert app.config["FEED_PAST_DAYS"] == 30

    clean_env.setenv("PLANNER_FEED_REFRESH_MINUTES", "20")
    app = bare_app(tmp_path)
    assert app.config["FEED_REFRESH_MINUTES"] == 20  # env wins over the file
    assert app.config["FEED_PAST_DAYS"] == 30  # the file still wins over defaults


def test_default_database_is_sqlite_in_instance(tmp_path, clean_env):
    app = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path / "inst")})
    assert app.config["DATABASE_URL"] == f"sqlite:///{tmp_path / 'inst' / 'planner.sqlite3'}"
    app.extensions["planner_db"].engine.dispose()


def _session_cookie(response) -> str:
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert cookies, response.headers
    return cookies[-1]


def test_session_cookie_flags(client, make_user):
    user = make_user()
    response = client.post("/login", data={"email": user.email, "password": "password"})
    assert response.status_code == 302
    cookie = _session_cookie(response)
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie


class TestSecureCookie:
    @pytest.fixture
    def app_config(self, app_config, monkeypatch):
        monkeypatch.setenv("PLANNER_SESSION_COOKIE_SECURE", "true")
        return app_config

    def test_secure_flag_from_environment(self, app, client, make_user):
        assert app.config["SESSION_COOKIE_SECURE"] is True
        user = make_user()
        response = client.post("/login", data={"email": user.email, "password": "password"})
        assert response.status_code == 302
        cookie = _session_cookie(response)
        assert "Secure" in cookie
        assert "HttpOnly" in cookie


def test_workers_starting_together_agree_on_the_key(tmp_path):
    import threading

    from planner.config import _instance_secret

    barrier = threading.Barrier(8)
    keys: list[str] = []

    def start() -> None:
        barrier.wait()
        keys.append(_instance_secret(tmp_path))

    threads = [threading.Thread(target=start) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(keys) == 8
    assert len(set(keys)) == 1 and keys[0]


def test_trusted_proxies_make_rate_limits_see_the_client(tmp_path, clean_env):
    """Behind one proxy, the client address comes from X-Forwarded-For; without the setting the
    header is ignored (a client could otherwise forge its address to dodge rate limits)."""
    from flask import request

    seen: list[str] = []

    def build(**extra):
        app = bare_app(tmp_path, **extra)

        @app.get("/whoami-test")
        def whoami():
            seen.append(request.remote_addr or "")
            return "ok"

        return app

    headers = {"X-Forwarded-For": "203.0.113.7"}
    build().test_client().get("/whoami-test", headers=headers)
    build(TRUSTED_PROXIES=1).test_client().get("/whoami-test", headers=headers)
    assert seen == ["127.0.0.1", "203.0.113.7"]
