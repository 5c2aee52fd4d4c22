"""An Idempotency-Key replays only an identical request (IETF Idempotency-Key draft): the same
key with the same request answers exactly as the first time; the same key with any difference
is 422 and says nothing of the first booking; booking ids cannot be derived from the key."""

from __future__ import annotations

import asyncio
import json
from uuid import NAMESPACE_URL, UUID, uuid5

import httpx
import pytest
from nats.aio.client import Client as NatsClient

from services.booking.service import BookingService
from tests.booking_world import MUNICIPALITY, STAFF, booking_body, later, seed_world
from tests.integration.conftest import api, booking_service, running_booking  # noqa: F401
from tests.integration.test_booking_commands_nats import request

BOOKINGS = f"/api/v1/municipalities/{MUNICIPALITY}/bookings"
STAFF_BOOKINGS = f"/api/v1/municipalities/{MUNICIPALITY}/staff/bookings"
KEY = {"Idempotency-Key": "karens-first-try"}


async def test_the_same_key_with_the_same_request_answers_exactly_as_the_first_time(
    api: httpx.AsyncClient,  # noqa: F811
    booking_service: BookingService,  # noqa: F811
) -> None:
    await asyncio.to_thread(seed_world, booking_service.app)
    first = await api.post(BOOKINGS, json=booking_body(), headers=KEY)
    again = await api.post(BOOKINGS, json=booking_body(), headers=KEY)
    assert first.status_code == again.status_code == 201, again.text
    assert again.json() == first.json()
    # the same instant written in another offset is the same request
    utc = later(0).astimezone(tz=None).isoformat()
    same_instant = await api.post(BOOKINGS, json=booking_body(starts_at=utc), headers=KEY)
    assert same_instant.status_code == 201, same_instant.text
    assert same_instant.json() == first.json()


async def test_a_replay_after_the_booking_changed_answers_as_the_first_time(
    api: httpx.AsyncClient,  # noqa: F811
    booking_service: BookingService,  # noqa: F811
) -> None:
    await asyncio.to_thread(seed_world, booking_service.app)
    first = (await api.post(BOOKINGS, json=booking_body(), headers=KEY)).json()
    moved = await api.post(
        f"/api/v1/bookings/{first['booking_id']}/reschedule",
        json={"starts_at": later(30).isoformat()},
        headers={"X-Manage-Token": first["manage_token"]},
    )
    assert moved.status_code == 200, moved.text
    again = await api.post(BOOKINGS, json=booking_body(), headers=KEY)
    assert again.status_code == 201, again.text
    assert again.json() == first


@pytest.mark.parametrize(
    "difference",
    [
        {"citizen_name": "Mallory Hansen"},
        {"phone": "+45 60 70 80 90"},
        {"starts_at": later(15).isoformat()},
        {"service": "mitid"},
        {"site": "skaelskoer"},
    ],
    ids=["name", "phone", "time", "service", "site"],
)
async def test_the_same_key_with_another_request_is_422_and_reveals_nothing(
    api: httpx.AsyncClient,  # noqa: F811
    booking_service: BookingService,  # noqa: F811
    difference: dict[str, str],
) -> None:
    await asyncio.to_thread(seed_world, booking_service.app)
    first = await api.post(BOOKINGS, json=booking_body(), headers=KEY)
    assert first.status_code == 201, first.text
    borrowed = await api.post(BOOKINGS, json=booking_body(**difference), headers=KEY)
    assert borrowed.status_code == 422, borrowed.text
    assert "Idempotency-Key" in borrowed.json()["detail"]
    assert "different request" in borrowed.json()["detail"]
    for secret in (first.json()["booking_id"], first.json()["manage_token"], "Karen", "4050"):
        assert secret not in borrowed.text


async def test_the_same_key_for_a_full_time_with_another_request_is_422(
    api: httpx.AsyncClient,  # noqa: F811
    booking_service: BookingService,  # noqa: F811
) -> None:
    """A refusal of the new request (the time is full) does not fall back on the first one's
    booking either."""
    await asyncio.to_thread(seed_world, booking_service.app, 1)
    first = await api.post(BOOKINGS, json=booking_body(), headers=KEY)
    assert first.status_code == 201, first.text
    borrowed = await api.post(BOOKINGS, json=booking_body(citizen_name="Mallory"), headers=KEY)
    assert borrowed.status_code == 422, borrowed.text
    assert first.json()["booking_id"] not in borrowed.text


async def test_a_staff_booking_replays_only_an_identical_request(
    api: httpx.AsyncClient,  # noqa: F811
    booking_service: BookingService,  # noqa: F811
) -> None:
    await asyncio.to_thread(seed_world, booking_service.app)
    headers = {**STAFF, **KEY}
    first = await api.post(STAFF_BOOKINGS, json=booking_body(channel="phone"), headers=headers)
    again = await api.post(STAFF_BOOKINGS, json=booking_body(channel="phone"), headers=headers)
    assert first.status_code == again.status_code == 201, again.text
    assert again.json() == first.json()
    other = await api.post(
        STAFF_BOOKINGS, json=booking_body(channel="phone", phone="60708090"), headers=headers
    )
    assert other.status_code == 422, other.text
    assert "Karen" not in other.text
    # the citizen route with the staff booking's key is another request too
    citizen = await api.post(BOOKINGS, json=booking_body(), headers=KEY)
    assert citizen.status_code == 422, citizen.text


async def test_booking_ids_are_not_derivable_from_the_key(
    api: httpx.AsyncClient,  # noqa: F811
    booking_service: BookingService,  # noqa: F811
) -> None:
    await asyncio.to_thread(seed_world, booking_service.app)
    booked = await api.post(BOOKINGS, json=booking_body(), headers=KEY)
    booking_id = UUID(booked.json()["booking_id"])
    key = KEY["Idempotency-Key"]
    for guess in (
        uuid5(NAMESPACE_URL, f"borgerservice:booking:{MUNICIPALITY}:{key}"),
        uuid5(NAMESPACE_URL, key),
        uuid5(NAMESPACE_URL, f"{MUNICIPALITY}:{key}"),
    ):
        assert booking_id != guess
    assert booking_id.version == 4  # looks like any random id


async def test_the_book_command_over_nats_replays_only_an_identical_request(
    running_booking: BookingService,  # noqa: F811
    nc: NatsClient,
) -> None:
    await asyncio.to_thread(seed_world, running_booking.app)
    subject = f"bs.{MUNICIPALITY}.cmd.book"
    command = booking_body(channel="phone", idempotency_key="over-the-bus")
    first = await request(nc, subject, command)
    again = await request(nc, subject, command)
    assert first["ok"] is True, first
    assert again == first
    other = await request(nc, subject, {**command, "citizen_name": "Mallory"})
    assert other["ok"] is False and other["status"] == 422, other
    assert first["booking"]["booking_id"] not in json.dumps(other)
