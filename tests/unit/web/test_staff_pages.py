"""The staff pages against a stand-in API: login, the day view and its steps, and what a
login with the `reporting` role may open."""

from __future__ import annotations

import httpx

from services.web.danish import today
from tests.unit.web.fake_api import (
    BOOKING_ID,
    REPORTING_TOKEN,
    STAFF_TOKEN,
    FakeApi,
    booking,
    form_token_of,
    ok,
    pages,
)

M = "/api/v1/municipalities/slagelse"
NOT_ALLOWED = "Din adgang giver ikke lov til denne side"


def reporting_api() -> FakeApi:
    """The stand-in with the reporting routes the dashboard reads."""
    fake = FakeApi()
    fake.routes["GET", f"{M}/key-figures"] = fake.reader(lambda r: ok({"booked_today": 4}))
    fake.routes["GET", f"{M}/reports/period.html"] = fake.reader(
        lambda r: httpx.Response(200, html="<h1>Periodens rapport</h1>")
    )
    return fake


async def log_in(web: httpx.AsyncClient, token: str, account: str = "stine") -> httpx.Response:
    """As a browser logs in: the form first, then the form posted with its form token."""
    form = await web.get("/staff/slagelse/login")
    posted = {"account": account, "token": token, "csrf_token": form_token_of(form)}
    return await web.post("/staff/slagelse/login", data=posted)


async def test_staff_pages_send_a_visitor_without_login_to_the_login() -> None:
    async with pages(FakeApi()) as web:
        page = await web.get(f"/staff/slagelse/sites/korsoer/days/{today()}")
    assert page.status_code == 303
    assert page.headers["location"] == "/staff/slagelse/login"


async def test_a_wrong_staff_token_is_refused_at_login() -> None:
    async with pages(FakeApi()) as web:
        page = await log_in(web, "x", account="mette")
    assert page.status_code == 401
    assert "passer ikke" in page.text
    assert "set-cookie" not in page.headers


async def test_check_in_acts_with_the_staff_login_and_returns_to_the_day() -> None:
    fake = FakeApi()
    async with pages(fake) as web:
        login = await log_in(web, STAFF_TOKEN, account="mette")
        assert login.status_code == 303
        assert login.headers["location"] == "/staff/slagelse"
        assert "httponly" in login.headers["set-cookie"].lower()
        day = await web.get(f"/staff/slagelse/sites/korsoer/days/{today()}")
        assert "Karen Jensen" in day.text and "Tjek ind" in day.text
        done = await web.post(
            f"/staff/slagelse/bookings/{BOOKING_ID}/check-in",
            data={"site": "korsoer", "day": today().isoformat(), "csrf_token": form_token_of(day)},
        )
    assert done.status_code == 303
    assert "done=check-in" in done.headers["location"]
    [request] = fake.sent("POST", "/check-in")
    assert request.headers["x-staff-account"] == "mette"


async def test_an_expired_staff_login_asks_to_log_in_again() -> None:
    async with pages(FakeApi()) as web:
        web.cookies.set("bs_staff_token", "expired", path="/staff/slagelse")
        page = await web.get(f"/staff/slagelse/sites/korsoer/days/{today()}")
    assert page.status_code == 303
    assert page.headers["location"] == "/staff/slagelse/login?udloebet=1"


async def test_a_booking_whose_citizen_was_erased_shows_slettet_instead_of_a_name() -> None:
    fake = FakeApi()
    erased = booking(citizen_name="", phone="", personal_data_erased=True)
    fake.routes["GET", f"{M}/sites/korsoer/days/{today()}/bookings"] = fake.staff(
        lambda r: ok([erased, booking(booking_id="00000000-0000-4000-8000-000000000002")])
    )
    async with pages(fake) as web:
        await log_in(web, STAFF_TOKEN)
        day = await web.get(f"/staff/slagelse/sites/korsoer/days/{today()}")
    assert day.status_code == 200
    row = day.text.split(f'id="booking-{BOOKING_ID}"')[1].split("</tr>")[0]
    assert "<em>(slettet)</em>" in row and "Borgerens oplysninger er slettet" in row
    assert 'aria-label="Tjek ind: (slettet) kl.' in row
    assert "Karen Jensen" in day.text  # the other booking keeps its name


async def test_a_reporting_login_opens_the_dashboard_and_the_period_report() -> None:
    async with pages(reporting_api()) as web:
        login = await log_in(web, REPORTING_TOKEN)
        start = await web.get("/staff/slagelse")
        dashboard = await web.get("/staff/slagelse/dashboard")
        report = await web.get("/staff/slagelse/report")
    assert login.status_code == 303
    assert login.headers["location"] == "/staff/slagelse/dashboard"
    assert start.headers["location"] == "/staff/slagelse/dashboard"
    assert dashboard.status_code == 200
    assert '<span class="value" data-figure="booked_today">4</span>' in dashboard.text
    assert "Dagsoversigt" not in dashboard.text and "Book for borger" not in dashboard.text
    assert report.status_code == 200 and "Periodens rapport" in report.text


async def test_a_staff_login_keeps_the_links_to_the_day_and_booking() -> None:
    async with pages(reporting_api()) as web:
        await log_in(web, STAFF_TOKEN)
        dashboard = await web.get("/staff/slagelse/dashboard")
    assert dashboard.status_code == 200
    assert "Dagsoversigt" in dashboard.text and "Book for borger" in dashboard.text


async def test_a_reporting_login_is_told_in_danish_that_bookings_are_not_for_it() -> None:
    fake = reporting_api()
    async with pages(fake) as web:
        await log_in(web, REPORTING_TOKEN)
        day = await web.get(f"/staff/slagelse/sites/korsoer/days/{today()}")
        book = await web.get("/staff/slagelse/book")
        dashboard = await web.get("/staff/slagelse/dashboard")
        token = form_token_of(dashboard)
        step = await web.post(
            f"/staff/slagelse/bookings/{BOOKING_ID}/check-in",
            data={"site": "korsoer", "day": today().isoformat(), "csrf_token": token},
        )
    for page in (day, book, step):
        assert page.status_code == 403
        assert NOT_ALLOWED in page.text
        assert 'href="/staff/slagelse/dashboard"' in page.text
    assert "Karen Jensen" not in day.text
    assert len(fake.sent("POST", "/check-in")) == 1  # refused by booking, not by the page


async def test_the_day_view_refused_by_booking_is_a_page_without_the_login_cookie_too() -> None:
    async with pages(reporting_api()) as web:
        web.cookies.set("bs_staff_token", REPORTING_TOKEN, path="/staff/slagelse")
        day = await web.get(f"/staff/slagelse/sites/korsoer/days/{today()}")
    assert day.status_code == 403
    assert NOT_ALLOWED in day.text


async def test_a_new_login_with_the_staff_role_opens_the_day_view_again() -> None:
    async with pages(reporting_api()) as web:
        await log_in(web, REPORTING_TOKEN)
        login = await log_in(web, STAFF_TOKEN)
        day = await web.get(f"/staff/slagelse/sites/korsoer/days/{today()}")
    assert login.headers["location"] == "/staff/slagelse"
    assert day.status_code == 200 and "Dagsoversigt" in day.text
