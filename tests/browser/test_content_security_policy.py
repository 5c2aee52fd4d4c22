"""The pages under their Content-Security-Policy in Chromium: the citizen's booking, the staff
day view and the dashboard (with its framed report) raise no violation and their scripts still
work, the dashboard still live; and a script injected into a page does not run."""

from __future__ import annotations

import re
from typing import Any

from tests.browser.conftest import (
    MUNICIPALITY,
    Demo,
    policy_violations,
    staff_login,
    wait_for,
)

SITE, SERVICE = "korsoer", "pas"
STAFF = f"/staff/{MUNICIPALITY}"


def test_the_citizens_booking_runs_under_the_policy(demo: Demo, phone_page: Any) -> None:
    """Every step of the booking, styled by the static stylesheet (the desk and phone pages
    fail on any violation: conftest's policy watch)."""
    page = phone_page
    wait_for(lambda: demo.free_times(SERVICE, SITE), what="the demo's times to be visible")
    policy = page.goto(f"{demo.base}/book/{MUNICIPALITY}").headers["content-security-policy"]
    assert "script-src 'self';" in policy and "'unsafe-inline'" not in policy
    page.get_by_role("radio", name=re.compile(r"^Pas\b")).check()
    page.get_by_role("button", name="Vælg sted").click()
    page.get_by_role("radio", name=re.compile("Borgerservice Korsør")).check()
    page.get_by_role("button", name="Se ledige tider").click()
    page.get_by_role("button", name=re.compile("^Vælg første ledige tid")).click()
    page.get_by_label("Fulde navn").fill("Karen Jensen")
    page.get_by_label("Mobilnummer").fill("20 30 40 91")
    page.get_by_label("Mobilnummer").press("Enter")
    page.get_by_role("heading", name="Din tid er booket").wait_for()
    # the stylesheet applied: the header's brand colour comes from /static/pages.css
    header = page.evaluate(
        "getComputedStyle(document.querySelector('header.site')).backgroundColor"
    )
    assert header == "rgb(7, 55, 99)"


def test_the_staff_day_and_a_live_dashboard_run_under_the_policy(
    demo: Demo, desk_page: Any
) -> None:
    page = desk_page
    free = wait_for(lambda: demo.free_times(SERVICE, SITE), what="free times")
    booked = demo.book(SERVICE, SITE, free[0]["starts_at"], "20 30 40 92")
    staff_login(page, demo)
    page.goto(f"{demo.base}{STAFF}/sites/{SITE}/days/{booked['starts_at'][:10]}")
    row = page.locator(f"#booking-{booked['booking_id']}")
    row.get_by_role("button", name=re.compile("^Tjek ind:")).click()  # a form with its token
    page.get_by_role("status").first.wait_for()
    assert row.locator(".status").inner_text() == "Tjekket ind"

    page.goto(f"{demo.base}{STAFF}/dashboard")
    page.wait_for_function(  # the static script opened the event stream
        "/^Live( ·|$)/.test(document.getElementById('live-status').textContent)", timeout=10_000
    )
    page.frame_locator("iframe").get_by_role("heading", name=re.compile("period report")).wait_for()
    before = int(page.locator('[data-figure="booked_today"]').inner_text().replace(".", ""))
    demo.book(SERVICE, SITE, free[1]["starts_at"], "20 30 40 93")
    page.wait_for_function(
        "least => Number(document.querySelector(\"[data-figure='booked_today']\")"
        ".textContent.replace(/\\./g, '')) >= least",
        arg=before + 1,
        timeout=20_000,
    )


def test_a_script_injected_into_a_page_does_not_run(demo: Demo, browser: Any) -> None:
    """What an injected `<script>` or `onerror=` would do is refused, and seen as a violation
    (so the watch of the other tests sees what it is for)."""
    context = browser.new_context()
    page = context.new_page()
    violations = policy_violations(page)
    page.goto(f"{demo.base}/book/{MUNICIPALITY}")
    page.evaluate(
        """() => {
          const script = document.createElement("script");
          script.textContent = "window.injected = true";
          document.body.appendChild(script);
          const image = '<img src="x" onerror="window.injected = true">';
          document.body.insertAdjacentHTML("beforeend", image);
        }"""
    )
    wait_for(  # Playwright hands over the browser's events while it waits
        lambda: page.wait_for_timeout(100) or len(violations) >= 2,
        timeout=10,
        what="the violations to be reported",
    )
    assert page.evaluate("window.injected") is None
    assert any("script" in v for v in violations), violations
    context.close()
