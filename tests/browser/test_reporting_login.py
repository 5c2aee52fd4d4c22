"""A login with the `reporting` role opens the dashboard and the period report, and is told in
Danish, not with an error, that the day view is not for it."""

from __future__ import annotations

import re
from typing import Any

from infra.staff_tokens import Role
from services.web.danish import today
from tests.browser.conftest import MUNICIPALITY, Demo

STAFF = f"/staff/{MUNICIPALITY}"


def test_a_reporting_login_opens_the_dashboard_but_not_the_day_view(
    demo: Demo, desk_page: Any
) -> None:
    page = desk_page
    page.goto(f"{demo.base}{STAFF}/login")
    page.get_by_label("Dit brugernavn").fill("stine")
    page.get_by_label("Adgangsnøgle").fill(demo.token(Role.REPORTING))
    page.get_by_role("button", name="Log ind").click()

    page.wait_for_url(re.compile(f"{STAFF}/dashboard$"))
    page.get_by_role("heading", name=re.compile("^Overblik")).wait_for()
    assert page.get_by_role("link", name="Dagsoversigt").count() == 0
    report = page.frame_locator("iframe")  # the period report, read with the same login
    report.get_by_role("heading", name=re.compile("period report")).wait_for()

    page.goto(f"{demo.base}{STAFF}/sites/korsoer/days/{today()}")
    page.get_by_role("heading", name="Din adgang giver ikke lov til denne side").wait_for()
    page.get_by_role("link", name="Til overblikket").click()
    page.wait_for_url(re.compile(f"{STAFF}/dashboard$"))
