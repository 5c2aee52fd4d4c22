"""The citizen's booking pages against a stand-in API."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx

from tests.unit.web.fake_api import BOOKING_ID, FIRST, TOKEN, FakeApi, body_of, free_time, ok, pages


async def test_free_times_are_listed_earliest_first_with_the_next_one_prominent() -> None:
    async with pages(FakeApi()) as web:
        page = await web.get("/book/slagelse/times", params={"service": "pas", "site": "korsoer"})
    assert page.status_code == 200
    prominent = page.text.split('class="next"')[1].split("</section>")[0]
    assert "kl. 09.00" in prominent and FIRST.isoformat() in prominent
    assert page.text.index(">09.00<") < page.text.index(">11.00<")


async def test_a_time_taken_meanwhile_offers_the_nearest_alternatives() -> None:
    fake = FakeApi()
    alternative = free_time(FIRST.replace(hour=13))
    fake.routes["POST", "/api/v1/municipalities/slagelse/holds"] = lambda r: ok(
        {"detail": "slot full", "alternatives": [alternative]}, 409
    )
    async with pages(fake) as web:
        page = await web.post(
            "/book/slagelse/hold",
            data={"service": "pas", "site": "korsoer", "starts_at": FIRST.isoformat()},
        )
    assert page.status_code == 409
    alert = page.text.split('role="alert"')[1].split("</div>")[0]
    assert "lige blevet taget" in alert and alternative["starts_at"] in alert


async def test_booking_uses_the_hold_and_one_idempotency_key_and_lists_the_documents() -> None:
    fake = FakeApi()
    async with pages(fake) as web:
        held = await web.post(
            "/book/slagelse/hold",
            data={"service": "pas", "site": "korsoer", "starts_at": FIRST.isoformat()},
        )
        assert held.status_code == 303
        details = await web.get(held.headers["location"])
        assert "reserveret til dig" in details.text
        form = {k: v[0] for k, v in parse_qs(urlsplit(held.headers["location"]).query).items()}
        key = details.text.split('name="idempotency_key" value="')[1].split('"')[0]
        form |= {"idempotency_key": key, "citizen_name": "Karen Jensen", "phone": "20304050"}
        booked = await web.post("/book/slagelse/bookings", data=form)
        assert booked.status_code == 303
        confirmation = await web.get(booked.headers["location"])
    [request] = fake.sent("POST", "/bookings")
    assert body_of(request)["hold_id"] == "h1"
    assert request.headers["idempotency-key"] == key
    assert f"/confirmation/{BOOKING_ID}?token={TOKEN}" in booked.headers["location"]
    assert "Husk at medbringe" in confirmation.text and "Dit nuværende pas" in confirmation.text
    assert f"/manage/{BOOKING_ID}?token={TOKEN}" in confirmation.text


async def test_without_a_holds_route_the_citizen_still_books_the_time() -> None:
    fake = FakeApi()
    del fake.routes["POST", "/api/v1/municipalities/slagelse/holds"]
    async with pages(fake) as web:
        held = await web.post(
            "/book/slagelse/hold",
            data={"service": "pas", "site": "korsoer", "starts_at": FIRST.isoformat()},
        )
    assert held.status_code == 303
    assert "hold_id" not in held.headers["location"]


async def test_a_refused_phone_number_is_marked_on_its_field() -> None:
    fake = FakeApi()
    fake.routes["POST", "/api/v1/municipalities/slagelse/bookings"] = lambda r: ok(
        {"detail": "phone: not a Danish mobile number"}, 422
    )
    form = {
        "service": "pas",
        "site": "korsoer",
        "starts_at": FIRST.isoformat(),
        "idempotency_key": "k",
        "citizen_name": "Karen",
        "phone": "123",
    }
    async with pages(fake) as web:
        page = await web.post("/book/slagelse/bookings", data=form)
    assert page.status_code == 422
    assert 'aria-describedby="phone-problem"' in page.text
    assert 'value="123"' in page.text  # what the citizen typed is kept


async def test_manage_link_with_a_wrong_token_says_not_found() -> None:
    async with pages(FakeApi()) as web:
        page = await web.get(f"/manage/{BOOKING_ID}", params={"token": "guess"})
    assert page.status_code == 404
    assert "Vi kunne ikke finde siden" in page.text


async def test_an_api_that_is_down_gives_a_danish_error_page() -> None:
    fake = FakeApi()

    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    fake.routes["GET", "/api/v1/municipalities/slagelse/services"] = down
    async with pages(fake) as web:
        page = await web.get("/book/slagelse")
    assert page.status_code == 502
    assert "Der er en fejl hos os" in page.text
