"""The dashboard against a stand-in API: figures on load, the live stream passed through."""

from __future__ import annotations

from typing import Any

import httpx

from services.web import danish
from services.web.danish import today
from tests.unit.web.fake_api import FIRST, STAFF_TOKEN, FakeApi, ok, pages

STREAM = "/api/v1/municipalities/slagelse/events/stream"


def logged_in(web: httpx.AsyncClient) -> None:
    web.cookies.set("bs_staff_token", STAFF_TOKEN, path="/staff/slagelse")


FIGURES = "/api/v1/municipalities/slagelse/key-figures"


def key_figures(**changes: Any) -> dict[str, Any]:
    return {
        "day": today().isoformat(),
        "booked_today": 13,
        "cancelled_today": 1,
        "appointments_today": 20,
        "no_shows_today": 2,
        "sms_sent_today": 9,
        "sms_delivered_today": 7,
        "sms_failed_today": 1,
        "waiting_target_working_days": 7,
        "first_free": {
            "pas": {"starts_at": FIRST.isoformat(), "working_days": 1, "within_target": True}
        },
        "reporting_position": 120,
        "sms_position": 30,
        **changes,
    }


async def test_dashboard_opens_with_the_snapshot_of_todays_figures() -> None:
    fake = FakeApi()
    fake.routes["GET", FIGURES] = fake.reader(lambda r: ok(key_figures()))
    async with pages(fake) as web:
        logged_in(web)
        page = await web.get("/staff/slagelse/dashboard")
        script = await web.get("/static/dashboard.js")
    assert page.status_code == 200
    for name, value in (("booked_today", 13), ("no_shows_today", 2), ("sms_delivered_today", 7)):
        assert f'<span class="value" data-figure="{name}">{value}</span>' in page.text
    assert "inden for <span" in page.text and ">7</span> arbejdsdage" in page.text
    first_free = page.text.split('data-figure="first_free.pas.starts_at">')[1]
    assert first_free.startswith(danish.when(FIRST))
    assert 'data-figure="first_free.pas.within_target">Inden for målet' in page.text
    assert '"reporting_position": 120' in page.text  # figures older than these are not shown
    assert '<script src="/static/dashboard.js" defer></script>' in page.text
    assert "new EventSource(" in script.text


async def test_before_anything_is_reported_the_dashboard_says_so_with_zeros() -> None:
    async with pages(FakeApi()) as web:  # the snapshot answers 404: nothing reported yet
        logged_in(web)
        page = await web.get("/staff/slagelse/dashboard")
        figures = await web.get("/staff/slagelse/dashboard/figures")
    assert page.status_code == 200
    assert "ingen tal endnu" in page.text
    assert '<span class="value" data-figure="sms_sent_today">0</span>' in page.text
    assert 'data-figure="first_free.pas.starts_at">Ingen ledige tider' in page.text
    assert figures.json()["booked_today"] == 0


async def test_the_snapshot_is_passed_to_the_page_script_with_the_staff_login() -> None:
    fake = FakeApi()
    fake.routes["GET", FIGURES] = fake.reader(lambda r: ok(key_figures(extra_figure=1)))
    async with pages(fake) as web:
        logged_in(web)
        figures = await web.get("/staff/slagelse/dashboard/figures")
    assert figures.status_code == 200
    assert figures.json()["sms_failed_today"] == 1
    assert figures.json()["first_free"]["pas"]["working_days"] == 1


async def test_the_live_stream_is_passed_through_with_the_staff_login() -> None:
    fake = FakeApi()
    fake.routes["GET", STREAM] = fake.reader(
        lambda r: httpx.Response(
            200,
            content=b'data: {"booked_today": 13}\n\n',
            headers={"content-type": "text/event-stream"},
        )
    )
    async with pages(fake) as web:
        logged_in(web)
        stream = await web.get("/staff/slagelse/dashboard/stream")
    assert stream.status_code == 200
    assert stream.headers["content-type"].startswith("text/event-stream")
    assert stream.text == 'data: {"booked_today": 13}\n\n'


async def test_a_missing_report_page_is_said_in_danish() -> None:
    async with pages(FakeApi()) as web:
        logged_in(web)
        page = await web.get("/staff/slagelse/report")
    assert page.status_code == 200
    assert "ikke tilgængelig endnu" in page.text
