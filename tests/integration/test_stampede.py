"""A rush on newly opened times: 1,000 concurrent attempts for 100 seats."""

from __future__ import annotations

import asyncio
import time
from datetime import date, timedelta

import asyncpg
import httpx
from nats.js import JetStreamContext

from infra.streams import EVENTS_STREAM
from services.booking.domain.opening_hours import OpeningHours
from services.booking.service import BookingService
from tests.booking_world import DAY, MUNICIPALITY, SITE, booking_body, seed_world
from tests.support import eventually

ATTEMPTS = 1_000
RUSH_HOURS = OpeningHours.parse({"mon": "09:00-11:30"}, slot_minutes=15, seats=10, services=["pas"])
NEXT_WEEK = DAY + timedelta(days=7)


def open_rush_day(service: BookingService) -> list[str]:
    seed_world(service.app, seats=1, day=date(2030, 3, 5))  # registers the municipality
    slots = RUSH_HOURS.slots_on(DAY)
    assert sum(s["capacity"] for s in slots) == 100
    service.app.open_day(MUNICIPALITY, SITE, DAY, slots)
    service.app.open_day(MUNICIPALITY, SITE, NEXT_WEEK, RUSH_HOURS.slots_on(NEXT_WEEK))
    return [s["starts_at"].isoformat() for s in slots]


async def test_thousand_attempts_for_hundred_seats_exactly_hundred_succeed(
    running_booking: BookingService, api: httpx.AsyncClient, js: JetStreamContext
) -> None:
    times = await asyncio.to_thread(open_rush_day, running_booking)

    async def next_week_visible() -> bool:
        found = await running_booking.pool.fetchval(
            "SELECT count(*) FROM availability_slot WHERE starts_at::date = $1", NEXT_WEEK
        )
        return bool(found)

    await eventually(next_week_visible)  # citizens rush times they can already see
    started = time.monotonic()
    responses = await asyncio.gather(
        *(
            api.post(
                f"/api/v1/municipalities/{MUNICIPALITY}/bookings",
                json=booking_body(
                    starts_at=times[i % len(times)],
                    citizen_name=f"Borger {i}",
                    phone=f"+45 2030{i:04d}",  # one citizen each: the limit is per citizen
                ),
            )
            for i in range(ATTEMPTS)
        )
    )
    elapsed = time.monotonic() - started
    statuses = [r.status_code for r in responses]
    assert statuses.count(201) == 100, {s: statuses.count(s) for s in set(statuses)}
    assert statuses.count(409) == ATTEMPTS - 100
    refused = [
        (times[i % len(times)], r.json()) for i, r in enumerate(responses) if r.status_code == 409
    ]
    assert all(body["alternatives"] for _, body in refused), "a refusal without alternatives"
    # Free times as they were at each refusal: the rush day's while it had some, next week's
    # once it was full; never the time just refused.
    offered_days = set()
    for asked, body in refused:
        offered = [a["starts_at"] for a in body["alternatives"]]
        assert asked not in offered
        offered_days |= {starts_at[:10] for starts_at in offered}
    assert NEXT_WEEK.isoformat() in offered_days
    assert offered_days <= {DAY.isoformat(), NEXT_WEEK.isoformat()}
    print(f"{ATTEMPTS} attempts in {elapsed:.1f}s")

    booked_ids = {r.json()["booking_id"] for r in responses if r.status_code == 201}
    pool: asyncpg.Pool = running_booking.pool
    stored = await pool.fetchval(
        "SELECT count(*) FROM booking_events WHERE topic LIKE '%Booking.Booked'"
    )
    assert stored == 100

    async def stream_has_all() -> bool:
        info = await js.stream_info(EVENTS_STREAM, subjects_filter="bs.*.booking.booked")
        return (info.state.subjects or {}).get(f"bs.{MUNICIPALITY}.booking.booked") == 100

    await eventually(stream_has_all, timeout=30)

    async def availability_full() -> bool:
        left = await pool.fetchval(
            "SELECT sum(seats_left) FROM availability_slot WHERE starts_at::date = $1", DAY
        )
        return left == 0

    await eventually(availability_full, timeout=30)
    day = await asyncio.to_thread(running_booking.app.get_site_day, MUNICIPALITY, SITE, DAY)
    assert {holder for slot in day.slots.values() for holder in slot.holders} == booked_ids
