"""The dashboard's key figures change while it is open, without a reload."""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import MUNICIPALITY, Demo, screenshot, staff_login, wait_for


def test_dashboard_figures_change_while_open_without_reload(demo: Demo, desk_page: Any) -> None:
    page = desk_page
    free = wait_for(lambda: demo.free_times("mitid", "korsoer"), what="free times")
    staff_login(page, demo)
    page.goto(f"{demo.base}/staff/{MUNICIPALITY}/dashboard")
    screenshot(page, "20-personale-overblik")
    page.evaluate("window.sameDocument = true")
    figures = page.locator("#figures")
    page.wait_for_function(  # the event stream is open
        "/^Live( ·|$)/.test(document.getElementById('live-status').textContent)", timeout=10_000
    )
    before = figures.inner_text()

    demo.book("mitid", "korsoer", free[0]["starts_at"], "20 30 40 71")

    page.wait_for_function(
        "before => document.getElementById('figures').innerText !== before",
        arg=before,
        timeout=20_000,
    )
    assert page.evaluate("window.sameDocument") is True  # no reload happened
    screenshot(page, "21-personale-overblik-live")
