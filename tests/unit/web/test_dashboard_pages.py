"""The dashboard against a stand-in API: figures on load, the live stream passed through."""

from __future__ import annotations

import httpx

from tests.unit.web.fake_api import STAFF_TOKEN, FakeApi, ok, pages

STREAM = "/api/v1/municipalities/slagelse/events/stream"


def logged_in(web: httpx.AsyncClient) -> None:
    web.cookies.set("bs_staff_token", STAFF_TOKEN, path="/staff/slagelse")


async def test_dashboard_shows_todays_figures_and_the_first_free_time_per_service() -> None:
    fake = FakeApi()
    fake.routes["GET", "/api/v1/municipalities/slagelse/reports/bookings"] = lambda r: ok(
        {"target_working_days": 7, "total": {"active_bookings": 12, "cancelled_bookings": 1}}
    )
    async with pages(fake) as web:
        logged_in(web)
        page = await web.get("/staff/slagelse/dashboard")
    assert page.status_code == 200
    assert '<span class="value" data-figure="booked_today">13</span>' in page.text
    assert "inden for 7 arbejdsdage" in page.text
    assert 'data-figure="first_free.pas">tirsdag' in page.text or "kl. 09.00" in page.text
    assert "new EventSource(" in page.text


async def test_the_live_stream_is_passed_through_with_the_staff_login() -> None:
    fake = FakeApi()
    fake.routes["GET", STREAM] = fake.staff(
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
