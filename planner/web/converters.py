"""URL converters: an ``<int:...>`` id beyond any row's id is a 404 before the database sees it.

werkzeug's ``int`` converter takes any run of digits, and 99999999999999999999 then reaches a
query: SQLite's driver raises OverflowError and PostgreSQL compares against a NUMERIC; neither
should get that far. Primary keys are ``Integer`` columns (32-bit on PostgreSQL), so a larger
id cannot exist.
"""

from __future__ import annotations

from typing import Any

from werkzeug.routing import IntegerConverter

#: The largest value of a 32-bit signed integer column, the type of every primary key.
MAX_ID = 2**31 - 1


class IdConverter(IntegerConverter):
    """``int`` bounded to what an ``Integer`` column holds (an explicit ``max=`` still wins)."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def init_app(app: Any) -> None:
    """Call before any blueprint is registered: rules pick their converter when added."""
    app.url_map.converters["int"] = IdConverter
