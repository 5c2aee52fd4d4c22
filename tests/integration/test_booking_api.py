"""The booking API on the real application, PostgreSQL and JetStream."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import httpx
import pytest

from services.booking.domain.opening_hours import COPENHAGEN, OpeningHours
from services.booking.service import BookingService
from tests.booking_world import FIRST_TIME, MUNICIPALITY, SITE, booking_body, later, seed_world
from tests.support import eventually

BOOKINGS = f"/api/v1/municipalities/{MUNICIPALITY}/bookings"


async def test_booking_returns_id_token_and_documents(
    api: httpx.AsyncClient, booking_service: BookingService
) -> None:
    await asyncio.to_thread(seed_world, booking_service.app)
    response = await api.post(BOOKINGS, json=booking_body())
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["documents"] == ["Gammelt pas"]
    assert body["status"] == "booked"
    fetched = await api.get(
        f"/api/v1/bookings/{body['booking_id']}", headers={"X-Manage-Token": body["manage_token"]}
    )
    assert fetched.status_code == 200
    assert fetched.json()["starts_at"] == body["starts_at"]


async def test_booking_without_token_is_not_found(
    api: httpx.AsyncClient, booking_service: BookingService
) -> None:
    await asyncio.to_thread(seed_world, booking_service.app)
    booking_id = (await api.post(BOOKINGS, json=booking_body())).json()["booking_id"]
    for headers in ({}, {"X-Manage-Token": "forged"}):
        assert (await api.get(f"/api/v1/bookings/{booking_id}", headers=headers)).status_code == 404


async def test_missing_or_malformed_field_gets_422_naming_it(
    api: httpx.AsyncClient, booking_service: BookingService
) -> None:
    await asyncio.to_thread(seed_world, booking_service.app)
    body = booking_body()
    del body["citizen_name"]
    missing = await api.post(BOOKINGS, json=body)
    assert missing.status_code == 422
    assert "citizen_name" in missing.json()["detail"]
    bad_phone = await api.post(BOOKINGS, json=booking_body(phone="12"))
    assert bad_phone.status_code == 422
    assert "phone" in bad_phone.json()["detail"]
    naive = await api.post(BOOKINGS, json=booking_body(starts_at="2030-03-04T10:00:00"))
    assert naive.status_code == 422
    assert "starts_at" in naive.json()["detail"]


async def test_unknown_municipality_site_or_time_is_refused_clearly(
    api: httpx.AsyncClient, booking_service: BookingService
) -> None:
    await asyncio.to_thread(seed_world, booking_service.app)
    unknown = await api.post("/api/v1/municipalities/atlantis/bookings", json=booking_body())
    assert unknown.status_code == 404
    assert "atlantis" in unknown.json()["detail"]
    no_site = await api.post(BOOKINGS, json=booking_body(site="roskilde"))
    assert no_site.status_code == 404
    assert "roskilde" in no_site.json()["detail"]
    off_hours = await api.post(BOOKINGS, json=booking_body(starts_at=later(7).isoformat()))
    assert off_hours.status_code == 422
    assert "outside opening hours" in off_hours.json()["detail"]
    holiday = await api.post(BOOKINGS, json=booking_body(starts_at="2030-12-25T10:00:00+01:00"))
    assert holiday.status_code == 422
    assert "public holiday" in holiday.json()["detail"]
    wrong_service = await api.post(BOOKINGS, json=booking_body(service="vielse"))
    assert wrong_service.status_code == 404
    assert "vielse" in wrong_service.json()["detail"]


async def test_taken_time_gets_409_with_alternatives(
    running_booking: BookingService, api: httpx.AsyncClient
) -> None:
    await asyncio.to_thread(seed_world, running_booking.app, 1)
    first = await api.post(BOOKINGS, json=booking_body())
    assert first.status_code == 201

    async def projected() -> bool:
        free = (
            await api.get(
                f"/api/v1/municipalities/{MUNICIPALITY}/availability", params={"from": "2030-03-04"}
            )
        ).json()
        return bool(free) and free[0]["starts_at"] != FIRST_TIME.isoformat()

    await eventually(projected)
    second = await api.post(BOOKINGS, json=booking_body(citizen_name="Ole Hansen"))
    assert second.status_code == 409
    assert "fully booked" in second.json()["detail"]
    assert [a["starts_at"] for a in second.json()["alternatives"]][:1] == [later(15).isoformat()]


async def test_same_idempotency_key_returns_the_same_booking(
    api: httpx.AsyncClient, booking_service: BookingService
) -> None:
    await asyncio.to_thread(seed_world, booking_service.app)
    headers = {"Idempotency-Key": "abc-123"}
    first = await api.post(BOOKINGS, json=booking_body(), headers=headers)
    again = await api.post(BOOKINGS, json=booking_body(), headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json()["booking_id"] == again.json()["booking_id"]
    day = await asyncio.to_thread(
        booking_service.app.get_site_day, MUNICIPALITY, "korsoer", FIRST_TIME.date()
    )
    assert day.slot(FIRST_TIME).seats_left == 1


async def test_two_concurrent_bookings_of_the_last_seat_only_one_succeeds(
    api: httpx.AsyncClient, booking_service: BookingService
) -> None:
    await asyncio.to_thread(seed_world, booking_service.app, 1)
    responses = await asyncio.gather(
        *(api.post(BOOKINGS, json=booking_body(citizen_name=f"Borger {i}")) for i in range(8))
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [409] * 7
    day = await asyncio.to_thread(
        booking_service.app.get_site_day, MUNICIPALITY, "korsoer", FIRST_TIME.date()
    )
    assert day.slot(FIRST_TIME).seats_left == 0


async def test_reschedule_and_cancel_move_and_free_the_seat(
    api: httpx.AsyncClient, booking_service: BookingService
) -> None:
    await asyncio.to_thread(seed_world, booking_service.app, 1)
    created = (await api.post(BOOKINGS, json=booking_body())).json()
    token = {"X-Manage-Token": created["manage_token"]}
    url = f"/api/v1/bookings/{created['booking_id']}"
    moved = await api.post(
        f"{url}/reschedule", json={"starts_at": later(30).isoformat()}, headers=token
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["starts_at"] == later(30).isoformat()
    cancelled = await api.post(f"{url}/cancel", json={}, headers=token)
    assert cancelled.json()["status"] == "cancelled"
    again = await api.post(f"{url}/cancel", json={}, headers=token)
    assert again.status_code == 409
    day = await asyncio.to_thread(
        booking_service.app.get_site_day, MUNICIPALITY, "korsoer", FIRST_TIME.date()
    )
    assert day.slot(FIRST_TIME).seats_left == 1
    assert day.slot(later(30)).seats_left == 1


async def test_moving_to_a_day_with_no_times_is_refused_as_booking_it_is(
    api: httpx.AsyncClient, booking_service: BookingService
) -> None:
    await asyncio.to_thread(seed_world, booking_service.app, 1)
    created = (await api.post(BOOKINGS, json=booking_body())).json()
    closed_day = (FIRST_TIME + timedelta(days=1)).isoformat()  # a Tuesday: never opened
    booked = await api.post(BOOKINGS, json=booking_body(starts_at=closed_day, phone="20304051"))
    moved = await api.post(
        f"/api/v1/bookings/{created['booking_id']}/reschedule",
        json={"starts_at": closed_day},
        headers={"X-Manage-Token": created["manage_token"]},
    )
    assert booked.status_code == moved.status_code == 422, moved.text
    assert "no bookable times" in moved.json()["detail"]


async def test_times_that_have_begun_are_not_offered(
    running_booking: BookingService, api: httpx.AsyncClient
) -> None:
    """Today's earlier times are not free times: booking one is refused as passed (the pages
    offered 08:00 at 10:45 and the citizen got 'the time has passed')."""
    now = datetime.now(COPENHAGEN)
    today = now.date()
    weekday = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[today.weekday()]
    hours = OpeningHours.parse({weekday: "00:00-23:45"}, slot_minutes=15, seats=1, services=["pas"])
    slots = hours.slots_on(today)
    if not slots:
        pytest.skip("today is a closed day: no times to open")
    await asyncio.to_thread(seed_world, running_booking.app)
    await asyncio.to_thread(running_booking.app.open_day, MUNICIPALITY, SITE, today, slots)

    async def offered() -> list[datetime]:
        found = await api.get(
            f"/api/v1/municipalities/{MUNICIPALITY}/availability",
            params={"service": "pas", "from": today.isoformat(), "to": today.isoformat()},
        )
        return [datetime.fromisoformat(t["starts_at"]) for t in found.json()]

    async def has_times() -> bool:
        return bool(await offered())

    await eventually(has_times)
    times = await offered()
    assert times and all(t > now for t in times), times[:3]
    assert len(times) < len(slots) or now.time() < slots[0].starts_at.time()
