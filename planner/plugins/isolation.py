"""Run-time hook calls that go through pluggy while one plugin's failure stays its own.

pluggy stops a hook call at the first exception. At run time that would let one broken plugin
take down a page, a feed or a saved answer, so each implementation's function is wrapped once
in a guard that, during :func:`call`, logs the failure with the plugin's name and returns
``None`` (which pluggy drops from the results). Outside :func:`call` the guard re-raises: at
start-up (``register_routes``, ``register_commands``) a failure must stop the app loudly.

The call itself is pluggy's, so ordering (``tryfirst``/``trylast``) and ``wrapper=True``
implementations behave as pluggy documents them. Old-style ``hookwrapper=True`` is refused when
plugins are loaded (:mod:`planner.plugins.manager`).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Generator
from contextvars import ContextVar
from typing import Any, cast

from pluggy import HookCaller, HookImpl

log = logging.getLogger("planner.plugins.manager")

_ISOLATING: ContextVar[bool] = ContextVar("planner_plugin_isolation", default=False)
_GUARDED = "__planner_guarded__"


def call(caller: HookCaller, **kwargs: Any) -> list[Any]:
    """Call the hook through pluggy with every implementation's failure isolated; the list of
    results pluggy collected (``None`` results and failures left out)."""
    for impl in caller.get_hookimpls():
        _guard(impl, caller.name)
    token = _ISOLATING.set(True)
    try:
        results = caller(**kwargs)
    except Exception:  # an old-style hookwrapper registered after load, a missing argument
        log.exception("hook %s failed as a whole; its results are skipped", caller.name)
        return []
    finally:
        _ISOLATING.reset(token)
    return [r for r in (results if isinstance(results, list) else [results]) if r is not None]


def _guard(impl: HookImpl, hook: str) -> None:
    function = impl.function
    if getattr(function, _GUARDED, False) or impl.hookwrapper:
        return
    if impl.wrapper:
        guarded = _guard_wrapper(
            cast(Callable[..., Generator[None, Any, Any]], function), impl.plugin_name, hook
        )
    else:
        guarded = _guard_plain(function, impl.plugin_name, hook)
    setattr(guarded, _GUARDED, True)
    # pluggy marks the attribute Final for its own code; swapping in a guard that calls the
    # original keeps argnames, options and ordering exactly as pluggy computed them.
    impl.function = guarded  # type: ignore[misc]


def _guard_plain(function: Callable[..., Any], plugin: str, hook: str) -> Callable[..., Any]:
    @functools.wraps(function)
    def guarded(*args: Any) -> Any:
        if not _ISOLATING.get():
            return function(*args)
        try:
            return function(*args)
        except Exception:
            log.exception("plugin %r failed in %s", plugin, hook)
            return None

    return guarded


def _guard_wrapper(
    function: Callable[..., Generator[None, Any, Any]], plugin: str, hook: str
) -> Callable[..., Generator[None, Any, Any]]:
    """A ``wrapper=True`` implementation that fails before or after its ``yield`` is logged
    and the inner result passes through unchanged, as if the wrapper were not there."""

    @functools.wraps(function)
    def guarded(*args: Any) -> Generator[None, Any, Any]:
        if not _ISOLATING.get():
            return (yield from function(*args))
        try:
            inner = function(*args)
            next(inner)
        except Exception:  # StopIteration too: a wrapper that never yields
            log.exception("plugin %r failed in %s (before its yield)", plugin, hook)
            return (yield)
        result = yield
        try:
            inner.send(result)
        except StopIteration as stop:
            return stop.value
        except Exception:
            log.exception("plugin %r failed in %s (after its yield)", plugin, hook)
            return result
        inner.close()
        log.error("plugin %r: its %s wrapper yielded more than once", plugin, hook)
        return result

    return guarded
