"""Benchmark (``make bench``): prints figures side by side, asserts nothing.

A reference group (50 weekly routines, each with 10 changed and 10 cancelled upcoming
occurrences, 200 members with their answers) in a fresh SQLite file. Measured in one run:

* in process: the cold render (feed cache empty: load from the database, build, serialize) and
  the same calendar built naively with icalendar (``Event.add`` for every property,
  ``add_missing_timezones()`` with its default 1970-2038 range, ``to_ical()``) from the same
  rows, both with and without the database load;
* over HTTP (:mod:`planner.dev.bench_http`): gunicorn -w 2, 8 keep-alive connections in a
  closed loop, requests per second for a bare Flask endpoint on the same app, the feed's bytes
  as a static response, the warm group feed (plain and gzip), a 304, the group, routine and
  occurrence pages, Next up and My groups (as a logged-in member), and Radicale serving the same
  calendar; every run follows an untimed second on the same endpoint (so every worker holds
  its cached page) and sits between two runs of the bare endpoint, and is divided by their
  mean, in five rounds, and the medians are printed;
* answers (:mod:`planner.dev.bench_answers`): 200 concurrent "going" on PostgreSQL with
  gunicorn -w 4, when PostgreSQL is reachable;
* mail (:mod:`planner.dev.bench_mail`): 10,000 messages delivered to a local aiosmtpd;
* the reminder scan (:mod:`planner.dev.bench_scan`): a minute's statements and time over
  5,000 members in 200 groups, and over 1,000 to show the statements do not grow.

Each acceptance target of issue 14 is printed next to its figure, met or not.
"""

from __future__ import annotations

import argparse
import http.client
import os
import secrets
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from planner.dev import bench_http
from planner.dev.bench_naive import naive_calendar

ROUTINES = 50
CHANGED = 10
CANCELLED = 10
MEMBERS = 200
ZONE = "Europe/Berlin"
SLUG = "reference"


def _config(instance: Path) -> dict[str, Any]:
    return {
        "DATABASE_URL": f"sqlite:///{instance / 'bench.sqlite3'}",
        "INSTANCE_PATH": str(instance),
        "SECRET_KEY": "bench-" + secrets.token_hex(8),
        "RATELIMIT_ENABLED": False,
        "REDIS_URL": None,
    }


def populate(session) -> int:
    """The reference group; returns its id. Overrides fall inside the feed's window."""
    from planner.models import Group, Override, Routine

    group = Group(slug=SLUG, name="Reference group", visibility="public", timezone=ZONE)
    session.add(group)
    session.flush()
    today = datetime.now(ZoneInfo(ZONE)).replace(tzinfo=None, hour=0, minute=0, second=0)
    today = today.replace(microsecond=0)
    for i in range(ROUTINES):
        start = today - timedelta(weeks=52) + timedelta(days=i % 7, hours=17 + i % 4)
        routine = Routine(
            group_id=group.id,
            activity_key="gathering",
            title=f"Routine {i}: supper, games; talk",
            description="Bring something to share.\nEveryone welcome.",
            location="Community hall, room 2",
            timezone=ZONE,
            start=start,
            duration_minutes=120,
            rrule="FREQ=WEEKLY",
        )
        session.add(routine)
        session.flush()
        first = start + timedelta(weeks=52)
        for w in range(CHANGED + CANCELLED):
            original = first + timedelta(weeks=w)
            if w % 2:
                session.add(Override(routine_id=routine.id, original_start=original,
                                     status="cancelled"))
            else:
                session.add(
                    Override(
                        routine_id=routine.id,
                        original_start=original,
                        status="changed",
                        start=original + timedelta(hours=1),
                        title=f"Routine {i} (moved)",
                        note="A different room this time.",
                        sequence=1,
                    )
                )
    session.commit()
    return group.id


def _median_ms(fn: Callable[[], Any], runs: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), result


def _paired_ms(a: Callable[[], Any], b: Callable[[], Any], runs: int) -> tuple[float, float]:
    """Medians of two functions run alternately, so a busy machine slows both alike."""
    times_a, times_b = [], []
    for _ in range(runs):
        times_a.append(_median_ms(a, 1)[0])
        times_b.append(_median_ms(b, 1)[0])
    return statistics.median(times_a), statistics.median(times_b)


def in_process(app, group_id: int, runs: int) -> dict[str, float]:
    from planner.db import get_session
    from planner.feeds import sources as feed_sources
    from planner.feeds import vtimezone
    from planner.models import Group
    from planner.routines.occurrences import load_routines
    from planner_plugins.ical import ICS

    base = "http://127.0.0.1"
    figures: dict[str, float] = {}
    with app.test_request_context("/", base_url=base):
        session = get_session()
        group = session.get(Group, group_id)
        if group is None:
            raise SystemExit(f"no group with id {group_id}")
        win = feed_sources.window()

        def ours():
            session.expunge_all()
            return ICS.render(feed_sources.group_feed(session, group, base, win))

        def naive():
            session.expunge_all()
            return naive_calendar(load_routines(session, group_id, since=win.start), base)

        vtimezone._cached.cache_clear()
        figures["first render ever (zone not yet cached) ms"], body = _median_ms(ours, 1)
        figures["feed size KB"] = len(body) / 1024
        figures["events"] = body.count(b"BEGIN:VEVENT")
        figures["naive size KB"] = len(naive()) / 1024
        figures["cold render ms"], figures["naive build ms"] = _paired_ms(ours, naive, runs)

        session.expunge_all()
        routines = load_routines(session, group_id, since=win.start)
        feed = feed_sources.group_feed(session, group, base, win)

        def ours_render_only():
            feed._calendar = None
            return ICS.render(feed)

        (
            figures["cold render without DB load ms"],
            figures["naive build without DB load ms"],
        ) = _paired_ms(ours_render_only, lambda: naive_calendar(routines, base), runs)
    return figures


def add_members(session, group_id: int, count: int = MEMBERS) -> int:
    """``count`` members of the reference group; each answers the next three dates of a fifth
    of the routines (going, maybe, declined in turn). Returns the id of the first member, the
    one the pages are viewed as."""
    from planner.accounts.passwords import hash_password
    from planner.models import Membership, Routine, Rsvp, User
    from planner.routines.occurrences import routine_occurrences

    stored = hash_password("bench-password")
    users = [
        User(email=f"member{n}@bench.invalid", display_name=f"Member {n}",
             password_hash=stored, timezone=ZONE)
        for n in range(count)
    ]  # fmt: skip
    session.add_all(users)
    session.flush()
    for n, user in enumerate(users):
        session.add(Membership(group_id=group_id, user_id=user.id,
                               role="owner" if n == 0 else "member"))  # fmt: skip
    routines = session.query(Routine).filter_by(group_id=group_id).order_by(Routine.id).all()
    for r, routine in enumerate(routines):
        upcoming, _ = routine_occurrences(routine, future=3)
        for n, user in enumerate(users):
            if n % 5 != r % 5:
                continue
            for occurrence in upcoming:
                session.add(Rsvp(routine_id=routine.id, original_start=occurrence.original_start,
                                 user_id=user.id, status=("going", "maybe", "declined")[n % 3]))
    session.commit()
    return users[0].id


def session_cookie(app, user_id: int) -> str:
    """A logged-in session cookie for ``user_id``, made by the app's own login code (what a
    browser holds after logging in), so the servers need no password hashing under load."""
    from flask import session
    from flask_wtf.csrf import generate_csrf

    from planner.db import get_session
    from planner.models import User
    from planner.web.login_session import start_session

    with app.test_request_context("/"):
        user = get_session().get(User, user_id)
        assert user is not None
        start_session(user)
        generate_csrf()  # a browser's cookie holds the CSRF secret after its first page
        value = app.session_interface.get_signing_serializer(app).dumps(dict(session))
    return f"{app.config['SESSION_COOKIE_NAME']}={value}"


def _env(config: dict[str, Any], static: Path, redis: str | None = None) -> dict[str, str]:
    return {
        "PLANNER_DATABASE_URL": config["DATABASE_URL"],
        "PLANNER_INSTANCE_PATH": config["INSTANCE_PATH"],
        "PLANNER_SECRET_KEY": config["SECRET_KEY"],
        "PLANNER_RATELIMIT_ENABLED": "false",
        "PLANNER_REDIS_URL": redis or "null",
        "PLANNER_BENCH_STATIC": str(static),
    }


def _fresh_redis(url: str | None) -> str | None:
    """``url`` with its feed keys deleted, or None (and why) when it is not reachable."""
    if not url:
        return None
    try:
        import redis

        client = redis.Redis.from_url(url, socket_connect_timeout=1)
        for key in client.scan_iter("planner:feed:*"):
            client.delete(key)
        client.close()
    except Exception as exc:
        print(f"  Redis at {url} is not reachable ({exc}): feeds use in-process caches.")
        return None
    return url


#: Seconds of untimed load on an endpoint just before its timed run (see ``_interleaved``).
WARM_SECONDS = 1.0

PAGES = ("group page", "routine page", "occurrence page", "Next up", "My groups")


def over_http(
    app, config: dict[str, Any], viewer_id: int, seconds: float, pages: bool = True,
    redis: str | None = None, rounds: int = 3,
) -> dict[str, float]:
    """Requests per second for each endpoint, in one run against one gunicorn (``pages``
    False: the feed figures only). With ``redis`` the workers share feed bytes and version
    stamps through it; without, the workers share the stamps through a file beside the
    SQLite database (planner/feeds/versions.py)."""
    from planner.db import get_session
    from planner.models import Routine
    from planner.routines.occurrences import routine_occurrences

    with app.test_request_context("/", base_url="http://127.0.0.1"):
        calendar = app.test_client().get(f"/feeds/g/{SLUG}.ics").data
        routine = get_session().get(Routine, 1)
        assert routine is not None
        upcoming, _ = routine_occurrences(routine)
        occurrence = f"/g/{SLUG}/r/{routine.id}/{upcoming[0].key}"
    static = Path(config["INSTANCE_PATH"]) / "static.ics"
    static.write_bytes(calendar)
    member = {"Cookie": session_cookie(app, viewer_id)}
    figures: dict[str, float] = {"feed KB": len(calendar) / 1024}
    redis = _fresh_redis(redis)
    stamps = f"Redis at {redis}" if redis else "a stamps file beside the SQLite database"
    print(f"  feed caches: {'Redis at ' + redis if redis else 'in process'}; version stamps: "
          f"{stamps}; warm polls answered by the poll front (planner/web/poll_front.py)")
    with bench_http.gunicorn(_env(config, static, redis)) as port:
        base = f"http://127.0.0.1:{port}"
        feed = f"{base}/feeds/g/{SLUG}.ics"
        etag = _etag(port, f"/feeds/g/{SLUG}.ics")
        figures["feed KB gzip"] = _gzip_size(port, f"/feeds/g/{SLUG}.ics") / 1024
        endpoints: list[tuple[str, str, dict[str, str], int]] = [
            ("static bytes of the feed", f"{base}/bench/static", {}, 200),
            ("warm group feed", feed, {}, 200),
            ("warm group feed, gzip", feed, {"Accept-Encoding": "gzip"}, 200),
            ("304 on If-None-Match", feed, {"If-None-Match": etag}, 304),
            ("group page", f"{base}/g/{SLUG}", member, 200),
            ("routine page", f"{base}/g/{SLUG}/r/1", member, 200),
            ("occurrence page", base + occurrence, member, 200),
            ("Next up", f"{base}/", member, 200),
            ("My groups", f"{base}/groups/mine", member, 200),
        ]
        endpoints = [e for e in endpoints if pages or e[0] not in PAGES]
        with bench_http.radicale(calendar) as radicale_url:
            if radicale_url is None:
                print("  Radicale is not installed: `make bench` installs the bench extra "
                      "(pip install -e '.[bench]').")
            else:
                endpoints.append(("Radicale GET", radicale_url, bench_http.RADICALE_AUTH, 200))
            figures.update(_interleaved(f"{base}/bench/trivial", endpoints, seconds, rounds))
    return figures


def _interleaved(
    bare_url: str, endpoints: list[tuple[str, str, dict[str, str], int]], seconds: float,
    rounds: int,
) -> dict[str, float]:
    """Each endpoint between two runs of the bare endpoint, in ``rounds`` rounds: a ratio is
    the endpoint's rate over the mean of the bare runs on either side, so a machine that speeds
    up or slows down during the run (as a shared one does) moves both alike. Rates and ratios
    are the medians over the rounds; so are the ratios between endpoints, taken within a round.
    """
    rates: dict[str, list[float]] = {}
    ratios: dict[str, list[float]] = {}
    for _ in range(rounds):
        bare = bench_http.rate(bare_url, {}, seconds)
        rates.setdefault("bare endpoint", []).append(bare)
        this_round: dict[str, float] = {}
        for name, url, headers, expect in endpoints:
            # Untimed first: a page is cached per process, viewer and minute, and a timed run
            # that starts cold has every thread of both workers render it at once (about
            # 200 ms of CPU each for the group page), which steady traffic spreads over the
            # minute. A minute that turns during the timed run still counts.
            bench_http.rate(url, headers, WARM_SECONDS, expect=expect)
            value = bench_http.rate(url, headers, seconds, expect=expect)
            after = bench_http.rate(bare_url, {}, seconds)
            rates["bare endpoint"].append(after)
            rates.setdefault(name, []).append(value)
            ratios.setdefault(name, []).append(value / ((bare + after) / 2))
            this_round[name] = value
            bare = after
        static = this_round["static bytes of the feed"]
        for label, name, other in (
            ("warm feed / static bytes", "warm group feed", static),
            ("gzip feed / static bytes", "warm group feed, gzip", static),
            ("warm feed / Radicale", "warm group feed", this_round.get("Radicale GET")),
        ):
            if other:
                ratios.setdefault(label, []).append(this_round[name] / other)
    figures = {name: statistics.median(values) for name, values in rates.items()}
    figures.update({f"{name} / bare" if name in rates else name: statistics.median(values)
                    for name, values in ratios.items()})
    return figures


def _etag(port: int, path: str) -> str:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", path)
    response = conn.getresponse()
    response.read()
    conn.close()
    return response.getheader("ETag") or ""


def _gzip_size(port: int, path: str) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", path, headers={"Accept-Encoding": "gzip"})
    response = conn.getresponse()
    size = len(response.read())
    conn.close()
    return size


def _verdict(ok: bool) -> str:
    return "met" if ok else "NOT MET"


def report(figures: dict[str, float], rounds: int) -> None:
    print(f"Over HTTP: gunicorn -w {bench_http.WORKERS} (gthread, {bench_http.THREADS} threads), "
          f"{bench_http.CONNECTIONS} keep-alive connections, closed loop, "
          f"load generator: {bench_http.generator()}; {rounds} rounds, each endpoint warmed "
          f"for {WARM_SECONDS:g} s, then timed between two runs of the bare endpoint; medians "
          "over the rounds.")
    print(f"  {'endpoint':<28} {'req/s':>9} {'vs bare':>8}  target")
    targets = {
        "304 on If-None-Match": 0.8,
        **{page: 0.25 for page in PAGES},
    }  # fmt: skip
    print(f"  {'bare endpoint':<28} {figures['bare endpoint']:9.1f} {1:7.3f}x")
    for name, value in figures.items():
        ratio = figures.get(f"{name} / bare")
        if ratio is None:
            continue
        target = targets.get(name)
        note = f">= {target}x: {_verdict(ratio >= target)}" if target else ""
        print(f"  {name:<28} {value:9.1f} {ratio:7.3f}x  {note}")
    if "feed KB gzip" in figures:
        print(f"  feed size: {figures['feed KB']:.0f} KB, gzipped {figures['feed KB gzip']:.0f} KB")
    plain = figures["warm feed / static bytes"]
    gzip = figures["gzip feed / static bytes"]
    print(f"  warm feed / static bytes (same bytes)   {plain:6.2f}x  >= 0.8: "
          f"{_verdict(plain >= 0.8)}")
    print(f"  gzip feed / static bytes uncompressed   {gzip:6.2f}x  >= 2: {_verdict(gzip >= 2)}")
    if "warm feed / Radicale" in figures:
        ratio = figures["warm feed / Radicale"]
        print(f"  warm feed / Radicale                    {ratio:6.1f}x  >= 25: "
              f"{_verdict(ratio >= 25)}")
    cold = figures["naive build ms"] / figures["cold render ms"]
    print(f"  naive build / cold render (with DB)     {cold:6.2f}x  >= 5: {_verdict(cold >= 5)}")
    nodb = figures["naive build without DB load ms"] / figures["cold render without DB load ms"]
    print(f"  naive / cold render, without DB load    {nodb:6.2f}x")


#: Further sections of ``make bench``, run after the feed figures: each is called with no
#: arguments and prints its own figures (the mail bench adds itself here).
EXTRA_SECTIONS: list[Callable[[], None]] = []


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--renders", type=int, default=15, help="in-process runs (median)")
    parser.add_argument("--seconds", type=float, default=bench_http.SECONDS,
                        help="seconds of load per HTTP run")
    parser.add_argument("--rounds", type=int, default=5,
                        help="rounds of HTTP runs (each endpoint between two bare runs)")
    parser.add_argument("--skip-mail", action="store_true", help="leave out the mail bench")
    parser.add_argument("--skip-scan", action="store_true",
                        help="leave out the reminder scan bench")
    parser.add_argument("--redis", default=os.environ.get("PLANNER_BENCH_REDIS"),
                        help="a Redis URL for the servers' feed caches and stamps (its "
                             "planner:feed:* keys are deleted first); default "
                             "$PLANNER_BENCH_REDIS, else none")
    parser.add_argument("--feeds-only", action="store_true",
                        help="only the feed figures: no pages, answers or mail")
    args = parser.parse_args(argv)

    from planner import create_app, models  # noqa: F401  (models fill Base.metadata)
    from planner.db import Base, get_session, make_engine

    with tempfile.TemporaryDirectory(prefix="planner-bench-") as tmp:
        config = _config(Path(tmp))
        engine = make_engine(config["DATABASE_URL"])
        Base.metadata.create_all(engine)
        engine.dispose()
        app = create_app(config)
        with app.app_context():
            group_id = populate(get_session())
            viewer_id = add_members(get_session(), group_id)
        print(f"Reference group: {ROUTINES} weekly routines, each {CHANGED} changed and "
              f"{CANCELLED} cancelled occurrences, {MEMBERS} members with their answers; "
              f"SQLite; zone {ZONE}. Load average before: {_load()}.")
        figures = in_process(app, group_id, args.renders)
        width = max(len(k) for k in figures)
        for name, value in figures.items():
            print(f"  {name:<{width}}  {value:8.2f}")
        figures.update(
            over_http(app, config, viewer_id, args.seconds, pages=not args.feeds_only,
                      redis=args.redis, rounds=args.rounds)
        )
        app.extensions["planner_db"].engine.dispose()
    report(figures, args.rounds)
    print(f"Load average after: {_load()}.")
    if args.feeds_only:
        return

    from planner.dev import bench_answers

    bench_answers.main_section(args.seconds)
    for section in EXTRA_SECTIONS:
        section()
    if not args.skip_mail:
        from planner.dev import bench_mail  # self-contained: its own database and SMTP server

        bench_mail.main_section()
    if not args.skip_scan:
        from planner.dev import bench_scan  # self-contained: its own database

        bench_scan.main_section()


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


if __name__ == "__main__":
    main()
