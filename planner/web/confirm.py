"""Two steps for destructive actions, without JavaScript.

A destructive form posts without ``confirm``; the view answers with a page that says what will
happen and carries the same fields back with ``confirm=yes``. Only that second post acts, so a
slip of the thumb on a phone changes nothing, and no dialog script is needed (the strict CSP
allows none inline anyway).
"""

from __future__ import annotations

from flask import render_template, request

CONFIRM_FIELD = "confirm"
SKIPPED = {"csrf_token", CONFIRM_FIELD}


def confirmed() -> bool:
    return request.form.get(CONFIRM_FIELD) == "yes"


def confirm_page(
    *,
    title: str,
    consequences: list[str],
    button: str,
    back: str,
    danger: bool = True,
) -> str:
    """The second step: the posted fields, kept, behind one button that confirms them."""
    fields = [(k, v) for k, v in request.form.items(multi=True) if k not in SKIPPED]
    return render_template(
        "confirm.html",
        title=title,
        consequences=consequences,
        button=button,
        back=back,
        danger=danger,
        action=request.path,
        fields=fields,
    )
