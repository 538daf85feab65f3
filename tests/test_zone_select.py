"""The zone select (``ZoneSelect``) writes its ~600 options once per process: its markup must
stay exactly what WTForms' own select writes, for any value the field may hold."""

from __future__ import annotations

import pytest
from flask_wtf import FlaskForm
from wtforms.widgets import Select

from planner.web.forms import TimezoneField


class ZoneForm(FlaskForm):
    timezone = TimezoneField("Zone")


@pytest.mark.planner_backends("sqlite")
@pytest.mark.parametrize(
    "value", [None, "Europe/Berlin", "America/Argentina/Buenos_Aires", "Not/AZone", '"><x>', ""]
)
def test_the_zone_select_is_written_as_wtforms_writes_it(app, value):
    with app.test_request_context("/"):
        form = ZoneForm(data={"timezone": value}, meta={"csrf": False})
        ours = str(form.timezone(class_="wide"))
        theirs = str(Select()(form.timezone, class_="wide"))
    assert ours == theirs
    assert ours.count("<option") > 400
    assert ours.count(" selected") == (1 if value in ("Europe/Berlin",
                                                      "America/Argentina/Buenos_Aires") else 0)
