"""Strings translated when they are shown, for what is defined at import time (form labels,
validator messages, choices, constants).

Flask-Babel's ``LazyString.__html__`` hands its text to Markup unescaped, so a label such as
"haven't" (or a translation holding ``<`` or ``&``) would reach the page as markup. This one
escapes like any other string. Import it as ``_l`` so the extractor finds the messages:
``from planner.web.lazy_text import lazy_gettext as _l``.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext
from flask_babel.speaklater import LazyString
from markupsafe import Markup, escape


class LazyText(LazyString):
    def __html__(self) -> Markup:
        return escape(str(self))


def lazy_gettext(string: str, **variables: Any) -> LazyText:
    return LazyText(gettext, string, **variables)
