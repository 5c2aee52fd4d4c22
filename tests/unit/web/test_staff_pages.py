"""The staff pages against a stand-in API: login, the day view and its steps."""

from __future__ import annotations

from services.web.danish import today
from tests.unit.web.fake_api import BOOKING_ID, STAFF_TOKEN, FakeApi, pages


async def test_staff_pages_send_a_visitor_without_login_to_the_login() -> None:
    async with pages(FakeApi()) as web:
        page = await web.get(f"/staff/slagelse/sites/korsoer/days/{today()}")
    assert page.status_code == 303
    assert page.headers["location"] == "/staff/slagelse/login"


async def test_a_wrong_staff_token_is_refused_at_login() -> None:
    async with pages(FakeApi()) as web:
        page = await web.post("/staff/slagelse/login", data={"account": "mette", "token": "x"})
    assert page.status_code == 401
    assert "passer ikke" in page.text
    assert "set-cookie" not in page.headers


async def test_check_in_acts_with_the_staff_login_and_returns_to_the_day() -> None:
    fake = FakeApi()
    async with pages(fake) as web:
        login = await web.post(
            "/staff/slagelse/login", data={"account": "mette", "token": STAFF_TOKEN}
        )
        assert login.status_code == 303
        assert "httponly" in login.headers["set-cookie"].lower()
        day = await web.get(f"/staff/slagelse/sites/korsoer/days/{today()}")
        assert "Karen Jensen" in day.text and "Tjek ind" in day.text
        done = await web.post(
            f"/staff/slagelse/bookings/{BOOKING_ID}/check-in",
            data={"site": "korsoer", "day": today().isoformat()},
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
