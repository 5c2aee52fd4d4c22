"""Staff routes: the day view and a visit's lifecycle, scoped to the staff's municipality."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx

from services.booking.service import BookingService
from tests.booking_world import (
    BASE,
    DAY,
    FIRST_TIME,
    MUNICIPALITY,
    SITE,
    STAFF,
    book,
    later,
    seed_world,
    staff_headers,
)


async def seats_left(service: BookingService, minutes: int = 0) -> int:
    day = await asyncio.to_thread(service.app.get_site_day, MUNICIPALITY, SITE, DAY)
    return day.slot(later(minutes)).seats_left


async def test_staff_check_in_start_and_complete_a_visit(
    api: httpx.AsyncClient, booking_service: BookingService
) -> None:
    await asyncio.to_thread(seed_world, booking_service.app)
    booking_id = (await book(api))["booking_id"]
    url = f"{BASE}/bookings/{booking_id}"
    for step in ("check-in", "start"):
        response = await api.post(f"{url}/{step}", headers=STAFF)
        assert response.status_code == 200, response.text
    booking_service.app.clock = lambda: FIRST_TIME + timedelta(hours=1)
    completed = (await api.post(f"{url}/complete", headers=STAFF)).json()
    assert completed["status"] == "completed"
    day = (await api.get(f"{BASE}/sites/{SITE}/days/{DAY}/bookings", headers=STAFF)).json()
    assert [(b["booking_id"], b["status"], b["citizen_name"]) for b in day] == [
        (booking_id, "completed", "Karen Jensen")
    ]


async def test_steps_out_of_order_get_409(
    api: httpx.AsyncClient, booking_service: BookingService
) -> None:
    await asyncio.to_thread(seed_world, booking_service.app)
    booking_id = (await book(api))["booking_id"]
    response = await api.post(f"{BASE}/bookings/{booking_id}/complete", headers=STAFF)
    assert response.status_code == 409
    assert "cannot be completed" in response.json()["detail"]


async def test_solved_online_frees_the_seat(
    api: httpx.AsyncClient, booking_service: BookingService
) -> None:
    await asyncio.to_thread(seed_world, booking_service.app, 1)
    booking_id = (await book(api))["booking_id"]
    assert await seats_left(booking_service) == 0
    response = await api.post(
        f"{BASE}/bookings/{booking_id}/pre-assessment",
        json={"outcome": "solved_online", "note": "Adresse rettet online"},
        headers=STAFF,
    )
    assert response.json()["status"] == "resolved_online"
    assert await seats_left(booking_service) == 1


async def test_staff_cancellation_needs_a_reason_and_frees_the_seat(
    api: httpx.AsyncClient, booking_service: BookingService
) -> None:
    await asyncio.to_thread(seed_world, booking_service.app, 1)
    booking_id = (await book(api))["booking_id"]
    url = f"{BASE}/bookings/{booking_id}/staff-cancel"
    assert (await api.post(url, json={}, headers=STAFF)).status_code == 422
    cancelled = await api.post(url, json={"reason": "Medarbejder syg"}, headers=STAFF)
    assert cancelled.json()["status"] == "cancelled"
    assert await seats_left(booking_service) == 1


async def test_bulk_cancellation_cancels_every_booking_in_the_window(
    api: httpx.AsyncClient, booking_service: BookingService
) -> None:
    await asyncio.to_thread(seed_world, booking_service.app, 2)
    early = [await book(api, citizen_name=f"Borger {i}", phone=f"2030405{i}") for i in range(2)]
    late = await book(api, starts_at=later(45).isoformat(), phone="20304059")
    at_the_end = await book(api, starts_at=later(30).isoformat(), phone="20304058")
    response = await api.post(
        f"{BASE}/sites/{SITE}/days/{DAY}/cancel-bookings",
        json={"reason": "Borgerservice Korsør lukket", "from_time": "10:00", "to_time": "10:30"},
        headers=STAFF,
    )
    assert sorted(response.json()["cancelled"]) == sorted(b["booking_id"] for b in early)
    assert await seats_left(booking_service) == 0  # closed: no new bookings in the window
    assert await seats_left(booking_service, 45) == 1
    events = await booking_service.pool.fetchval(
        "SELECT count(*) FROM booking_events WHERE topic LIKE '%Booking.Cancelled'"
    )
    assert events == 2
    assert late["status"] == "booked"
    assert at_the_end["booking_id"] not in response.json()["cancelled"]  # the end is exclusive


async def test_staff_need_their_own_municipalitys_token(
    api: httpx.AsyncClient, booking_service: BookingService
) -> None:
    await asyncio.to_thread(seed_world, booking_service.app)
    booking_id = (await book(api))["booking_id"]
    url = f"{BASE}/bookings/{booking_id}/check-in"
    assert (await api.post(url)).status_code == 401
    assert (await api.post(url, headers={"Authorization": "Bearer guess"})).status_code == 401
    herning = staff_headers("herning")
    assert (await api.post(url, headers=herning)).status_code == 404  # not theirs: not there
    foreign = await api.post(
        f"/api/v1/municipalities/herning/bookings/{booking_id}/check-in", headers=herning
    )
    assert foreign.status_code == 404
