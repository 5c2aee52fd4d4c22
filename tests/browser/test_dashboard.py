"""The dashboard opens with today's figures from the snapshot, and its figures, SMS delivery
among them, change while it is open, without a reload."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.web.danish import when
from tests.browser.conftest import MUNICIPALITY, Demo, screenshot, staff_login, wait_for

DASHBOARD = f"/staff/{MUNICIPALITY}/dashboard"
SHOWN = ("booked_today", "no_shows_today", "sms_sent_today", "sms_delivered_today")


def figure(page: Any, name: str) -> int:
    return int(page.locator(f'[data-figure="{name}"]').inner_text().replace(".", ""))


def wait_for_figure(page: Any, name: str, at_least: int) -> None:
    """Until the page shows at least `at_least` (a reminder due meanwhile may add one more)."""
    page.wait_for_function(
        "([name, least]) => Number(document.querySelector(`[data-figure='${name}']`)"
        ".textContent.replace(/\\./g, '')) >= least",
        arg=[name, at_least],
        timeout=20_000,
    )


def test_the_dashboard_opens_with_the_current_figures_before_any_event(
    demo: Demo, browser: Any
) -> None:
    free = wait_for(lambda: demo.free_times("pas", "korsoer"), what="free times")
    demo.book("pas", "korsoer", free[0]["starts_at"], "20 30 40 81")
    snapshot = wait_for(
        lambda: (
            (f := demo.get("/key-figures"))["booked_today"] >= 1 and f["sms_sent_today"] >= 1 and f
        ),
        what="the booking and its confirmation SMS in the reporting figures",
    )

    # Without JavaScript there is no event stream at all: what shows is the server's snapshot.
    context = browser.new_context(
        java_script_enabled=False,
        viewport={"width": 1280, "height": 900},
        locale="da-DK",
        timezone_id="Europe/Copenhagen",
    )
    page = context.new_page()
    staff_login(page, demo)
    page.goto(f"{demo.base}{DASHBOARD}")
    assert {name: figure(page, name) for name in SHOWN} == {name: snapshot[name] for name in SHOWN}
    pas = snapshot["first_free"]["pas"]
    first_free = page.locator('[data-figure="first_free.pas.starts_at"]').inner_text()
    assert first_free == when(datetime.fromisoformat(pas["starts_at"]))
    target = page.locator('[data-figure="first_free.pas.within_target"]').inner_text()
    assert target == ("Inden for målet" if pas["within_target"] else "Over målet")
    screenshot(page, "19-personale-overblik-uden-javascript")
    context.close()


def test_dashboard_figures_change_while_open_without_reload(demo: Demo, desk_page: Any) -> None:
    page = desk_page
    free = wait_for(lambda: demo.free_times("mitid", "korsoer"), what="free times")
    staff_login(page, demo)
    page.goto(f"{demo.base}{DASHBOARD}")
    page.wait_for_function(  # the event stream is open, and the snapshot read again
        "/^Live( ·|$)/.test(document.getElementById('live-status').textContent)", timeout=10_000
    )
    screenshot(page, "20-personale-overblik")
    page.evaluate("window.sameDocument = true")
    before = {name: figure(page, name) for name in SHOWN}

    demo.book("mitid", "korsoer", free[0]["starts_at"], "20 30 40 71")
    wait_for_figure(page, "booked_today", before["booked_today"] + 1)
    wait_for_figure(page, "sms_sent_today", before["sms_sent_today"] + 1)  # the confirmation
    screenshot(page, "21-personale-overblik-live")

    [confirmation] = wait_for(lambda: demo.outbox("+4520304071"), what="the confirmation SMS")
    demo.delivery_receipt(confirmation["idempotency_key"])
    wait_for_figure(page, "sms_delivered_today", before["sms_delivered_today"] + 1)

    assert page.evaluate("window.sameDocument") is True  # no reload happened
    wait_for(
        lambda: all(figure(page, n) == demo.get("/key-figures")[n] for n in SHOWN),
        what="the page to show the reporting service's figures",
    )
    screenshot(page, "22-personale-overblik-sms-leveret")
