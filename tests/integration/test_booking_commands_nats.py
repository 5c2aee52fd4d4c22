"""Booking commands over NATS request-reply, on a real nats-server."""

from __future__ import annotations

import asyncio
import json
from typing import Any
from uuid import UUID

from nats.aio.client import Client as NatsClient

from services.booking.service import BookingService
from tests.booking_world import MUNICIPALITY, booking_body, seed_world


async def request(nc: NatsClient, subject: str, body: Any) -> dict[str, Any]:
    payload = body if isinstance(body, bytes) else json.dumps(body).encode()
    reply = await nc.request(subject, payload, timeout=5)
    return dict(json.loads(reply.data))


async def test_book_and_cancel_over_request_reply(
    running_booking: BookingService, nc: NatsClient
) -> None:
    await asyncio.to_thread(seed_world, running_booking.app)
    booked = await request(nc, f"bs.{MUNICIPALITY}.cmd.book", booking_body(channel="phone"))
    assert booked["ok"] is True, booked
    assert booked["booking"]["channel"] == "phone"
    booking_id = booked["booking"]["booking_id"]
    cancelled = await request(
        nc, f"bs.{MUNICIPALITY}.cmd.cancel", {"booking_id": booking_id, "reason": "syg"}
    )
    assert cancelled["booking"]["status"] == "cancelled"


async def test_bad_commands_get_a_reason_not_silence(
    running_booking: BookingService, nc: NatsClient
) -> None:
    await asyncio.to_thread(seed_world, running_booking.app)
    not_json = await request(nc, f"bs.{MUNICIPALITY}.cmd.book", b"{oops")
    assert not_json["status"] == 422 and "not JSON" in not_json["detail"]
    missing = await request(nc, f"bs.{MUNICIPALITY}.cmd.book", {"site": "korsoer"})
    assert missing["status"] == 422 and "citizen_name" in missing["detail"]
    unknown = await request(nc, "bs.atlantis.cmd.book", booking_body())
    assert unknown["status"] == 404


async def test_another_municipality_cannot_cancel_a_booking(
    running_booking: BookingService, nc: NatsClient
) -> None:
    await asyncio.to_thread(seed_world, running_booking.app)
    booked = await request(nc, f"bs.{MUNICIPALITY}.cmd.book", booking_body())
    booking_id = booked["booking"]["booking_id"]
    foreign = await request(nc, "bs.herning.cmd.cancel", {"booking_id": booking_id})
    assert foreign["status"] == 404
    booking = await asyncio.to_thread(running_booking.app.get_booking, UUID(booking_id))
    assert booking.status.value == "booked"
