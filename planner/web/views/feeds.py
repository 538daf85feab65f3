"""Calendar feeds, the Subscribe page and the member's feed token.

URLs (``<ext>`` is a registered format's extension: ``ics``, ``json``):

* ``/feeds/g/<slug>.<ext>``: a public group's feed, for anyone;
* ``/feeds/t/<token>/g/<slug>.<ext>``: a group's feed for a member (private groups);
* ``/feeds/t/<token>/me.<ext>``: the member's personal feed across groups;
* ``/feeds/[t/<token>/]g/<slug>/r/<id>.<ext>``: one routine;
* ``/feeds/g/<slug>/r/<id>/<key>.ics``: one occurrence ("add to calendar", browser session).

Anything a caller may not see answers 404 (a wrong, revoked or malformed token, a non-member's
token on a private group, a deleted group), never another group's data. A poll first computes
the validators (:mod:`planner.feeds.sources`) and answers 304 when they match; otherwise the
bytes come from :mod:`planner.feeds.cache` or are rendered once for this version. A Range
header is ignored (the whole feed, 200): calendar clients never need partial content.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from urllib.parse import quote

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import force_locale, gettext
from flask_login import current_user, login_required
from werkzeug.http import http_date, parse_date, parse_etags

from planner.db import get_session
from planner.feeds import sources as feed_sources
from planner.feeds import versions
from planner.feeds.cache import feed_cache
from planner.feeds.delivery import FeedBytes, representation_etag
from planner.feeds.ics import CalendarFormat, formats_from
from planner.feeds.tokens import TOKEN_PATTERN, install_redaction, new_token
from planner.groups import membership
from planner.groups.access import group_access
from planner.locales import of_person, supported
from planner.models import Group, User
from planner.routines.occurrences import load_routine, occurrence_or_404
from planner.web.helpers import viewer
from planner.web.i18n import PlannerForm, current_locale, default_locale
from planner.web.redirects import safe_path

bp = Blueprint("feeds", __name__)
FORMATS_KEY = "planner_calendar_formats"


@bp.record_once
def _setup(state) -> None:
    install_redaction(state.app.logger)
    versions.track(state.app, state.app.extensions["planner_db"].engine)

    @state.app.context_processor
    def _feed_helpers():
        return {"feed_links": feed_links, "routine_feed_links": routine_feed_links}


# -- formats ------------------------------------------------------------------------------------


def formats() -> dict[str, CalendarFormat]:
    """Registered formats by URL extension (collected from the plugins once per app)."""
    found = current_app.extensions.get(FORMATS_KEY)
    if found is None:
        plugins = current_app.extensions["planner"]
        results = plugins.call_safely("register_calendar_formats")
        found = {fmt.extension: fmt for fmt in formats_from(results).values()}
        current_app.extensions[FORMATS_KEY] = found
    return found


def _format(ext: str) -> CalendarFormat:
    fmt = formats().get(ext)
    if fmt is None:
        abort(404, gettext("There is no calendar format with that file extension."))
    return fmt


# -- serving ------------------------------------------------------------------------------------


_http_date = lru_cache(maxsize=1024)(http_date)  # a warm poll formats the same date again


def _not_modified(etag: str, validators: feed_sources.Validators) -> bool:
    """RFC 9110: If-None-Match (weak comparison, against the ETag of the representation this
    request selects) wins; else If-Modified-Since."""
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match is not None:
        if if_none_match == f'W/"{etag}"':  # what a client sends back: no parsing
            return True
        return parse_etags(if_none_match).contains_weak(etag)
    since = parse_date(request.headers.get("If-Modified-Since"))
    return since is not None and validators.last_modified <= since


def serve(
    fmt: CalendarFormat,
    version: feed_sources.Validators,
    build: Callable[[], feed_sources.Feed],
    *,
    filename: str,
    private: bool,
    language: str,
    attachment: bool = False,
    schedule: feed_sources.Validators | None = None,
    replayable: bool = True,
) -> Response:
    """``version`` names the data the feed is built from (``schedule`` the group's schedule
    alone, when known); the ETag sent is the hash of the feed's content at that version
    (:mod:`planner.feeds.delivery`), with ``-gzip`` added for the gzipped representation.
    ``language`` is the locale the feed is written in (its schedules in words, plugins' lines):
    the group's language, or the owner's for a personal feed; the validators name it too.

    ``replayable`` False keeps the poll front (:mod:`planner.web.poll_front`) from replaying
    the response: for one that depends on more than the URL and the stamps its rows were read
    under (the single-occurrence download is in the viewer's language).

    HEAD gets the same headers as GET (Flask drops the body). A Range header is ignored and
    ``Accept-Ranges: none`` says so: a feed is always sent whole (RFC 9110 14.3).
    """
    if not replayable:  # it depends on more than its URL and stamps: never replayed
        request.environ.pop(versions.VOUCHED, None)

    def built() -> feed_sources.Feed:
        # A calendar app sends no useful Accept-Language: the feed's own language decides.
        with force_locale(language):
            return build()

    def rendered(feed: feed_sources.Feed) -> bytes:
        with force_locale(language):
            return fmt.render(feed)

    feed = FeedBytes(feed_cache(), fmt.key, version, _base_url(), built, rendered, schedule)
    validators = feed.validators()
    compressed = _accepts_gzip(request.headers.get("Accept-Encoding", ""))
    etag = representation_etag(validators.etag, compressed)
    headers = {
        "ETag": f'W/"{etag}"',
        "Last-Modified": _http_date(validators.last_modified),
        "Cache-Control": ("private" if private else "public") + ", no-cache",
        "Vary": "Accept-Encoding",
        "Accept-Ranges": "none",
        "X-Content-Type-Options": "nosniff",
    }
    if private:
        headers["X-Robots-Tag"] = "noindex, nofollow"
        headers["Referrer-Policy"] = "no-referrer"
    if _not_modified(etag, validators):
        return Response(status=304, headers=headers)
    body = feed.body(validators.etag, compressed)
    if compressed:
        headers["Content-Encoding"] = "gzip"
    disposition = "attachment" if attachment else "inline"
    headers["Content-Disposition"] = f'{disposition}; filename="{filename}.{fmt.extension}"'
    return Response(body, status=200, headers=headers, content_type=fmt.media_type)


def _accepts_gzip(header: str) -> bool:
    """As werkzeug's ``accept_encodings["gzip"] > 0`` ("gzip;q=0" refuses it, "*" allows it),
    without parsing the common headers that carry no q-values."""
    if ";" not in header:
        return any(part.strip().lower() in ("gzip", "*") for part in header.split(","))
    return request.accept_encodings["gzip"] > 0


def _base_url() -> str:
    """The scheme and host the feed's links use (behind ProxyFix, the forwarded ones)."""
    return f"{request.scheme}://{request.host}"


def group_language(group: feed_sources.GroupRow | Group) -> str:
    """The language a group's feeds are written in: its own setting, else the site's."""
    return supported(group.language, default_locale()) or default_locale()


def _public_group(slug: str) -> feed_sources.GroupRow:
    group = feed_sources.group_row(slug)
    if group is None or not group.is_public:
        abort(404)
    return group


def _token_group(token: str, slug: str) -> feed_sources.GroupRow:
    """The group, if the token's owner may see it (a member, or the group is public)."""
    if not TOKEN_PATTERN.match(token):
        abort(404)
    group = feed_sources.token_group_row(token, slug)
    if group is None or not (group.member or group.is_public):
        abort(404)
    return group


def _group_response(group: feed_sources.GroupRow, ext: str, private: bool) -> Response:
    fmt = _format(ext)
    win = feed_sources.window()
    validators = feed_sources.group_validators(group, "group", fmt.key, win)
    return serve(
        fmt,
        validators,
        lambda: feed_sources.group_feed(get_session(), group, _base_url(), win),
        filename=group.slug,
        private=private,
        language=group_language(group),
        schedule=feed_sources.schedule_validators(group, "group", fmt.key, win),
    )


def _routine_response(
    group: feed_sources.GroupRow, routine_id: int, ext: str, private: bool
) -> Response:
    """The ETag names the routine, so a 304 needs no lookup: a client can only hold the ETag of
    a routine that existed, and deleting one bumps the group's version."""
    fmt = _format(ext)
    win = feed_sources.window()
    validators = feed_sources.group_validators(group, "routine", fmt.key, win, (routine_id,))

    def build():
        session = get_session()
        routine = load_routine(session, group, routine_id)  # 404 when not in this group
        return feed_sources.routine_feed(session, group, routine, _base_url(), win)

    schedule = feed_sources.schedule_validators(group, "routine", fmt.key, win, (routine_id,))
    return serve(
        fmt, validators, build, filename=f"{group.slug}-{routine_id}", private=private,
        language=group_language(group), schedule=schedule,
    )


@bp.get("/feeds/g/<slug>.<ext>")
def group_public(slug: str, ext: str):
    return _group_response(_public_group(slug), ext, private=False)


@bp.get("/feeds/t/<token>/g/<slug>.<ext>")
def group_token(token: str, slug: str, ext: str):
    return _group_response(_token_group(token, slug), ext, private=True)


@bp.get("/feeds/g/<slug>/r/<int:routine_id>.<ext>")
def routine_public(slug: str, routine_id: int, ext: str):
    return _routine_response(_public_group(slug), routine_id, ext, private=False)


@bp.get("/feeds/t/<token>/g/<slug>/r/<int:routine_id>.<ext>")
def routine_token(token: str, slug: str, routine_id: int, ext: str):
    return _routine_response(_token_group(token, slug), routine_id, ext, private=True)


@bp.get("/feeds/t/<token>/me.<ext>")
def personal(token: str, ext: str):
    fmt = _format(ext)
    found = feed_sources.token_owner_rows(token) if TOKEN_PATTERN.match(token) else None
    if found is None:
        abort(404)
    user, groups = found
    win = feed_sources.window()
    validators = feed_sources.personal_validators(user, groups, fmt.key, win)
    return serve(
        fmt,
        validators,
        lambda: feed_sources.personal_feed(get_session(), user, groups, _base_url(), win),
        filename="my-routines",
        private=True,
        language=of_person(user, default_locale()),
    )


@bp.get("/feeds/g/<slug>/r/<int:routine_id>/<key>.ics")
def occurrence(slug: str, routine_id: int, key: str):
    """One occurrence as a file to import; seen with the browser session like its page."""
    access = group_access(slug)
    session = get_session()
    routine = load_routine(session, access.group, routine_id)
    found = occurrence_or_404(routine, key)
    fmt = _format("ics")
    win = feed_sources.window()
    language = current_locale()  # a file the viewer downloads: in the page's language
    validators = feed_sources.group_validators(
        access.group, "occurrence", fmt.key, win, (routine_id, key, language)
    )
    return serve(
        fmt,
        validators,
        lambda: feed_sources.occurrence_feed(
            session, access.group, routine, found, _base_url(), win
        ),
        filename=f"{access.group.slug}-{routine_id}-{key}",
        private=not access.group.is_public,
        language=language,
        attachment=True,
        replayable=False,  # in the viewer's language, for their browser session
    )


# -- links for pages ----------------------------------------------------------------------------


def subscription_links(https_url: str) -> dict[str, str]:
    """The ways to offer one feed: webcal:// (opens the calendar app), https://, Google."""
    webcal = "webcal://" + https_url.split("://", 1)[1]
    return {
        "https": https_url,
        "webcal": webcal,
        "google": "https://calendar.google.com/calendar/r?cid=" + quote(webcal, safe=""),
    }


def feed_links(group: Group, is_member: bool | None = None) -> dict | None:
    """Links to a group's feed for the current person, or None when they have none.

    Public groups get the public URL (shareable, no account needed). Private groups get the
    member's own token URL; a member whose token is revoked gets ``{"needs_token": True}``.
    """
    if group.is_public:
        url = url_for("feeds.group_public", slug=group.slug, ext="ics", _external=True)
        return subscription_links(url)
    person = viewer()
    if person is None:
        return None
    if is_member is None:
        is_member = membership.is_member(get_session(), group.id, person.id)
    if not is_member:
        return None
    if not person.feed_token:
        return {"needs_token": True}
    url = url_for(
        "feeds.group_token", token=person.feed_token, slug=group.slug, ext="ics", _external=True
    )
    return {**subscription_links(url), "private": True}


def routine_feed_links(group: Group, routine_id: int, is_member: bool | None = None) -> dict | None:
    """Like :func:`feed_links`, for one routine's own feed (the same tokens and rules)."""
    if group.is_public:
        url = url_for(
            "feeds.routine_public", slug=group.slug, routine_id=routine_id, ext="ics",
            _external=True,
        )
        return subscription_links(url)
    links = feed_links(group, is_member)
    if not links or links.get("needs_token"):
        return links
    person = viewer()
    assert person is not None and person.feed_token
    url = url_for(
        "feeds.routine_token", token=person.feed_token, slug=group.slug, routine_id=routine_id,
        ext="ics", _external=True,
    )
    return {**subscription_links(url), "private": True}


def personal_links(user: User) -> dict | None:
    if not user.feed_token:
        return None
    url = url_for("feeds.personal", token=user.feed_token, ext="ics", _external=True)
    return subscription_links(url)


# -- pages --------------------------------------------------------------------------------------


class TokenForm(PlannerForm):
    """Only the CSRF token: regenerating and revoking are single-button actions."""


def _no_referrer(response: Response) -> Response:
    # The page shows secret URLs: never send it as a Referer to Google or anywhere else.
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.get("/feeds")
@login_required
def subscribe():
    """The member's personal feed and the feeds of their groups, with instructions."""
    user = viewer()
    assert user is not None
    groups = feed_sources.member_groups(get_session(), user)
    entries = [(g, feed_links(g, is_member=True)) for g in groups]
    page = render_template(
        "feeds/subscribe.html",
        personal=personal_links(user),
        entries=entries,
        group=None,
        form=TokenForm(),
    )
    return _no_referrer(Response(page))


@bp.get("/feeds/g/<slug>/subscribe")
def subscribe_group(slug: str):
    """One group's Subscribe page (public groups: anyone; private groups: members)."""
    access = group_access(slug)
    links = feed_links(access.group, is_member=access.is_member)
    page = render_template(
        "feeds/subscribe.html",
        personal=None,
        entries=[(access.group, links)],
        group=access.group,
        form=TokenForm(),
    )
    return _no_referrer(Response(page))


def _set_token(value: str | None) -> None:
    session = get_session()
    user = session.get(User, current_user.id)
    if user is None:
        abort(404)
    user.feed_token = value
    session.commit()


def _back() -> str:
    return safe_path(request.form.get("next")) or url_for("account.profile")


@bp.post("/feeds/token/regenerate")
@login_required
def regenerate_token():
    form = TokenForm()
    if not form.validate_on_submit():
        abort(400, gettext("The form expired. Reload the page and try again."))
    _set_token(new_token())
    flash(
        gettext(
            "You have a new calendar link. The old one stops working: subscribe again in your "
            "calendar apps with the new link."
        ),
        "success",
    )
    return redirect(_back())


@bp.post("/feeds/token/revoke")
@login_required
def revoke_token():
    form = TokenForm()
    if not form.validate_on_submit():
        abort(400, gettext("The form expired. Reload the page and try again."))
    _set_token(None)
    flash(
        gettext("Your calendar links are switched off. Calendar apps will stop updating."),
        "success",
    )
    return redirect(_back())
