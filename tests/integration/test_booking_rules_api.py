"""The booking rules through the HTTP API, with the service running for real: relay,
availability, deadlines and the waitlist on JetStream and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import httpx
from nats.js import JetStreamContext

from infra.staff_tokens import Role
from infra.streams import EVENTS_STREAM
from services.booking.service import BookingService
from tests.booking_world import (
    BASE,
    DAY,
    FIRST_TIME,
    HOURS,
    MUNICIPALITY,
    SITE,
    STAFF,
    book,
    booking_body,
    later,
    seed_world,
    staff_headers,
)
from tests.support import eventually


async def free_seats(api: httpx.AsyncClient, minutes: int = 0) -> int | None:
    found = await api.get(
        f"{BASE}/availability",
        params={"service": "pas", "site": SITE, "from": str(DAY), "to": str(DAY)},
    )
    wanted = later(minutes)
    return next(
        (t["seats_left"] for t in found.json() if datetime.fromisoformat(t["starts_at"]) == wanted),
        None,
    )


async def test_a_held_time_is_booked_by_its_holder_and_shown_taken_meanwhile(
    running_booking: BookingService, api: httpx.AsyncClient
) -> None:
    await asyncio.to_thread(seed_world, running_booking.app, 1)
    held = await api.post(
        f"{BASE}/holds", json={"site": SITE, "service": "pas", "starts_at": FIRST_TIME.isoformat()}
    )
    assert held.status_code == 201, held.text
    hold_id = held.json()["hold_id"]

    async def taken() -> bool:
        return await free_seats(api) is None

    await eventually(taken)  # citizens no longer see it while it is held
    refused = await api.post(f"{BASE}/bookings", json=booking_body(phone="20304051"))
    assert refused.status_code == 409
    assert refused.json()["alternatives"], "a refusal offers the next free times"
    booked = await book(api, hold_id=hold_id)
    assert booked["status"] == "booked"


async def test_a_released_hold_gives_the_time_back(
    running_booking: BookingService, api: httpx.AsyncClient
) -> None:
    await asyncio.to_thread(seed_world, running_booking.app, 1)
    held = await api.post(
        f"{BASE}/holds", json={"site": SITE, "service": "pas", "starts_at": FIRST_TIME.isoformat()}
    )
    released = await api.delete(f"{BASE}/holds/{held.json()['hold_id']}")
    assert released.status_code == 204
    assert (await api.delete(f"{BASE}/holds/{'0' * 64}")).status_code == 404
    assert (await api.delete(f"{BASE}/holds/not-a-hold")).status_code == 422

    async def free_again() -> bool:
        return await free_seats(api) == 1

    await eventually(free_again)


async def test_the_waitlist_offers_a_freed_earlier_time_which_the_citizen_takes(
    running_booking: BookingService, api: httpx.AsyncClient
) -> None:
    await asyncio.to_thread(seed_world, running_booking.app, 1)
    early = await book(api, phone="20304051")
    waiting = await book(api, starts_at=later(45).isoformat(), phone="20304052")
    token = {"X-Manage-Token": waiting["manage_token"]}
    joined = await api.post(f"/api/v1/bookings/{waiting['booking_id']}/waitlist", headers=token)
    assert joined.json()["waitlisted"] is True
    await api.post(
        f"/api/v1/bookings/{early['booking_id']}/cancel",
        json={},
        headers={"X-Manage-Token": early["manage_token"]},
    )

    async def offered() -> bool:
        found = await api.get(f"/api/v1/bookings/{waiting['booking_id']}", headers=token)
        return bool(found.json()["offered_starts_at"])

    await eventually(offered, timeout=15)
    accepted = await api.post(
        f"/api/v1/bookings/{waiting['booking_id']}/waitlist/accept", headers=token
    )
    assert accepted.status_code == 200, accepted.text
    assert datetime.fromisoformat(accepted.json()["starts_at"]) == FIRST_TIME
    assert accepted.json()["waitlisted"] is False


async def test_unused_acute_seats_become_visible_at_their_release_time(
    running_booking: BookingService, api: httpx.AsyncClient
) -> None:
    app = running_booking.app
    await asyncio.to_thread(seed_world, app, 1, DAY + timedelta(days=7))  # registers
    slots = [{**s, "acute_capacity": 1} for s in HOURS.slots_on(DAY)]
    for slot in slots:
        slot["capacity"] = 1
    released_at = datetime.now(UTC) - timedelta(minutes=1)
    await asyncio.to_thread(app.open_day, MUNICIPALITY, SITE, DAY, slots, released_at)

    async def both_seats_free() -> bool:
        return await free_seats(api) == 2

    await eventually(both_seats_free, timeout=15)


async def test_a_first_free_time_beyond_the_target_is_announced_on_the_bus(
    running_booking: BookingService, js: JetStreamContext
) -> None:
    await asyncio.to_thread(seed_world, running_booking.app)  # 2030: far beyond 7 working days
    subscription = await js.pull_subscribe(
        f"bs.{MUNICIPALITY}.guarantee.breached", stream=EVENTS_STREAM
    )
    messages = await subscription.fetch(2, timeout=20)
    breaches = {json.loads(m.data)["data"]["service"] for m in messages}
    assert breaches <= {"pas", "mitid"} and breaches
    assert json.loads(messages[0].data)["data"]["target_working_days"] == 7


async def test_a_completed_visit_answers_the_survey_once(
    booking_service: BookingService, api: httpx.AsyncClient
) -> None:
    await asyncio.to_thread(seed_world, booking_service.app)
    booking = await book(api)
    url = f"/api/v1/bookings/{booking['booking_id']}/survey"
    answer = {"satisfied_with_booking": True, "easy_to_find_time": True, "score": 5}
    early = await api.post(url, json=answer, params={"token": booking["manage_token"]})
    assert early.status_code == 409
    for step in ("start", "complete"):
        done = await api.post(f"{BASE}/bookings/{booking['booking_id']}/{step}", headers=STAFF)
        assert done.status_code == 200, done.text
    assert (await api.post(url, json=answer, params={"token": "forged"})).status_code == 404
    answered = await api.post(url, json=answer, params={"token": booking["manage_token"]})
    assert answered.status_code == 200, answered.text
    again = await api.post(url, json=answer, params={"token": booking["manage_token"]})
    assert again.status_code == 409 and "already answered" in again.json()["detail"]
    bad = await api.post(url, json={**answer, "score": 9}, params={"token": "x"})
    assert bad.status_code == 422


async def test_staff_book_for_a_citizen_on_the_phone_and_acute_only_today(
    booking_service: BookingService, api: httpx.AsyncClient
) -> None:
    await asyncio.to_thread(seed_world, booking_service.app)
    body = {**booking_body(), "channel": "phone"}
    made = await api.post(f"{BASE}/staff/bookings", json=body, headers=STAFF)
    assert made.status_code == 201, made.text
    assert made.json()["channel"] == "phone"
    acute = await api.post(
        f"{BASE}/staff/bookings",
        json={**body, "phone": "20304051", "acute_reason": "Frist udløber"},
        headers=STAFF,
    )
    assert acute.status_code == 422 and "today only" in acute.json()["detail"]
    citizen = await api.post(f"{BASE}/staff/bookings", json=body)
    assert citizen.status_code == 401


async def test_a_citizen_over_the_limit_gets_409_and_nothing_is_stored(
    booking_service: BookingService, api: httpx.AsyncClient
) -> None:
    await asyncio.to_thread(seed_world, booking_service.app, 3)
    await book(api)
    await book(api, starts_at=later(15).isoformat())
    before = await booking_service.pool.fetchval("SELECT count(*) FROM booking_events")
    refused = await api.post(f"{BASE}/bookings", json=booking_body(starts_at=later(30).isoformat()))
    assert refused.status_code == 409
    assert "at most 2" in refused.json()["detail"]
    assert await booking_service.pool.fetchval("SELECT count(*) FROM booking_events") == before


async def test_only_an_admin_changes_the_catalog_and_the_change_is_served(
    booking_service: BookingService, api: httpx.AsyncClient
) -> None:
    await asyncio.to_thread(seed_world, booking_service.app)
    change = {"name": "Pas (voksen)", "duration_minutes": 20, "documents": ["Gammelt pas"],
              "competence": "id-dokumenter", "online_url": None, "video": False}  # fmt: skip
    url = f"{BASE}/services/pas"
    assert (await api.put(url, json=change, headers=STAFF)).status_code == 403
    admin = staff_headers(role=Role.ADMIN)
    changed = await api.put(url, json=change, headers=admin)
    assert changed.status_code == 200, changed.text
    served = {s["id"]: s for s in (await api.get(f"{BASE}/services")).json()}
    assert served["pas"]["name"] == "Pas (voksen)" and served["pas"]["duration_minutes"] == 20
    target = await api.put(f"{BASE}/waiting-target", json={"working_days": 5}, headers=admin)
    assert target.json() == {"working_days": 5}
    assert (
        await api.put(f"{BASE}/waiting-target", json={"working_days": 0}, headers=admin)
    ).status_code == 422
