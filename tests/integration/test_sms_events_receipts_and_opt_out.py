"""The service's own events on the bus (sent, failed, delivered; no phone number, no text),
delivery receipts from the gateway, and citizens opting out: on real NATS and PostgreSQL,
with the notifications HTTP app in process."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import httpx
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from events import decode
from infra.http import build_api
from infra.streams import SMS_STREAM
from services.notifications.adapters.sms import FailingProvider, RejectedByGateway, SmsProvider
from services.notifications.domain.messages import Sms
from services.notifications.service import NotificationsService
from services.notifications.settings import NotificationsSettings
from tests.booking_world import STAFF_KEYS, staff_headers
from tests.integration.test_notifications_reminders import (
    BOOKED_AT,
    REMINDER_DUE,
    Clock,
    booked,
    publish,
)
from tests.support import eventually, running_in_background

CALLBACK = {"Authorization": "Bearer gateway-callback-secret"}
STAFF = staff_headers()


@asynccontextmanager
async def service_with_api(
    database_url: str, nc: NatsClient, clock: Callable[[], Any], provider: SmsProvider | None = None
) -> AsyncIterator[tuple[NotificationsService, httpx.AsyncClient]]:
    settings = NotificationsSettings(
        database_url=database_url,
        dispatch_interval_seconds=0.05,
        sms_event_relay_interval_seconds=0.05,
        sms_callback_secret="gateway-callback-secret",
        staff_tokens=STAFF_KEYS,
    )
    service = await NotificationsService.start(settings, nc, provider=provider, clock=clock)
    app = build_api("notifications", [service.router()])
    transport = httpx.ASGITransport(app=app)
    try:
        async with (
            running_in_background(service),
            httpx.AsyncClient(transport=transport, base_url="http://test") as api,
        ):
            yield service, api
    finally:
        await service.close()


async def last_on_bus(js: JetStreamContext, subject: str) -> dict[str, Any] | None:
    try:
        message = await js.get_last_msg(SMS_STREAM, subject)
    except NotFoundError:
        return None
    envelope = decode(message.data)
    return {"envelope": envelope, "raw": message.data, "headers": message.headers or {}}


async def test_a_sent_sms_is_told_on_the_bus_without_phone_or_text(
    js: JetStreamContext, nc: NatsClient, database_url: str
) -> None:
    booking_id = uuid.uuid4()
    await publish(js, booked(booking_id))

    async with service_with_api(database_url, nc, Clock(BOOKED_AT)):
        await eventually(lambda: has_event(js, "bs.slagelse.sms.sent"))
    sent = await last_on_bus(js, "bs.slagelse.sms.sent")

    assert sent is not None
    data = sent["envelope"].data
    assert (data.booking_id, data.kind) == (booking_id, "confirmation")
    assert data.idempotency_key == f"{booking_id}:confirmation:1"
    assert data.provider_message_id == data.idempotency_key  # the outbox's id
    assert sent["headers"]["Nats-Msg-Id"] == str(sent["envelope"].event_id)
    assert b"+4520304050" not in sent["raw"] and b"Husk" not in sent["raw"]


async def has_event(js: JetStreamContext, subject: str) -> bool:
    return await last_on_bus(js, subject) is not None


class Refuses:
    async def send(self, message: Sms) -> str | None:
        raise RejectedByGateway("400: recipient is not a mobile number")


async def test_a_message_the_gateway_refuses_is_told_as_failed_with_the_reason(
    js: JetStreamContext, nc: NatsClient, database_url: str
) -> None:
    await publish(js, booked(uuid.uuid4()))

    async with service_with_api(database_url, nc, Clock(BOOKED_AT), provider=Refuses()):
        await eventually(lambda: has_event(js, "bs.slagelse.sms.failed"))
    failed = await last_on_bus(js, "bs.slagelse.sms.failed")

    assert failed is not None
    assert failed["envelope"].data.stage == "sending"
    assert failed["envelope"].data.reason == (
        "RejectedByGateway: 400: recipient is not a mobile number"
    )


async def test_delivery_receipts_are_recorded_once_and_told_on_the_bus(
    js: JetStreamContext, nc: NatsClient, database_url: str
) -> None:
    booking_id = uuid.uuid4()
    await publish(js, booked(booking_id))
    key = f"{booking_id}:confirmation:1"

    async with service_with_api(database_url, nc, Clock(BOOKED_AT)) as (service, api):
        await eventually(lambda: has_event(js, "bs.slagelse.sms.sent"))
        receipt = {"id": key, "status": "delivered", "at": "2025-05-02T09:01:00+00:00"}
        first = await api.post("/api/v1/sms/receipts", json=receipt, headers=CALLBACK)
        again = await api.post("/api/v1/sms/receipts", json=receipt, headers=CALLBACK)
        unknown = await api.post(
            "/api/v1/sms/receipts", json={**receipt, "id": "nope"}, headers=CALLBACK
        )
        malformed = await api.post(
            "/api/v1/sms/receipts", json={"id": key, "status": "read"}, headers=CALLBACK
        )
        unauthenticated = await api.post("/api/v1/sms/receipts", json=receipt)
        await eventually(lambda: has_event(js, "bs.slagelse.sms.delivered"))
        row = await service.pool.fetchrow(
            "SELECT delivery_status, delivered_at FROM sms_message WHERE idempotency_key = $1", key
        )

    assert (first.status_code, first.json()) == (200, {"recorded": True})
    assert (again.status_code, again.json()) == (200, {"recorded": False})
    assert unknown.status_code == 404
    assert malformed.status_code == 422 and "status" in malformed.json()["detail"]
    assert unauthenticated.status_code == 401
    assert row["delivery_status"] == "delivered"
    delivered = await last_on_bus(js, "bs.slagelse.sms.delivered")
    assert delivered is not None
    assert delivered["envelope"].data.idempotency_key == key
    info = await js.stream_info(SMS_STREAM, subjects_filter="bs.*.sms.delivered")
    assert sum((info.state.subjects or {}).values()) == 1


async def test_a_failed_delivery_receipt_is_told_as_failed_at_delivery(
    js: JetStreamContext, nc: NatsClient, database_url: str
) -> None:
    booking_id = uuid.uuid4()
    await publish(js, booked(booking_id))

    async with service_with_api(database_url, nc, Clock(BOOKED_AT)) as (_, api):
        await eventually(lambda: has_event(js, "bs.slagelse.sms.sent"))
        response = await api.post(
            "/api/v1/sms/receipts",
            json={"id": "gw-77", "reference": f"{booking_id}:confirmation:1", "status": "failed",
                  "reason": "phone switched off for 72 hours"},
            headers=CALLBACK,
        )  # fmt: skip
        await eventually(lambda: has_event(js, "bs.slagelse.sms.failed"))
    failed = await last_on_bus(js, "bs.slagelse.sms.failed")

    assert response.status_code == 200
    assert failed is not None
    assert failed["envelope"].data.stage == "delivery"
    assert failed["envelope"].data.reason == "phone switched off for 72 hours"
    assert failed["envelope"].data.provider_message_id == "gw-77"


async def test_opted_out_citizen_gets_the_confirmation_of_their_booking_but_no_reminder(
    js: JetStreamContext, nc: NatsClient, database_url: str
) -> None:
    booking_id = uuid.uuid4()
    clock = Clock(BOOKED_AT)

    async with service_with_api(database_url, nc, clock) as (service, api):
        opted = await api.put(
            "/api/v1/municipalities/slagelse/sms/opt-outs/20304050", headers=STAFF
        )
        await publish(js, booked(booking_id))
        await eventually(lambda: status_of(service, "confirmation", "sent"))
        clock.now = REMINDER_DUE + timedelta(minutes=1)
        await eventually(lambda: status_of(service, "reminder", "opted_out"))
        status = await api.get(
            "/api/v1/municipalities/slagelse/sms/opt-outs/+4520304050", headers=STAFF
        )

    assert opted.status_code == 200
    assert opted.json() == {"municipality": "slagelse", "phone": "+4520304050", "opted_out": True}
    assert status.json()["opted_out"] is True


async def status_of(service: NotificationsService, kind: str, status: str) -> bool:
    found = await service.pool.fetchval("SELECT status FROM sms_message WHERE kind = $1", kind)
    return bool(found == status)


async def test_opting_back_in_brings_later_messages_back_and_opt_out_is_per_municipality(
    js: JetStreamContext, nc: NatsClient, database_url: str
) -> None:
    clock = Clock(BOOKED_AT)
    async with service_with_api(database_url, nc, clock, FailingProvider()) as (service, api):
        path = "/api/v1/municipalities/slagelse/sms/opt-outs/+4520304050"
        await api.put(path, headers=STAFF)
        back_in = await api.delete(path, headers=STAFF)
        herning = await api.put(
            "/api/v1/municipalities/herning/sms/opt-outs/20304050", headers=STAFF
        )
        invalid = await api.put("/api/v1/municipalities/slagelse/sms/opt-outs/123", headers=STAFF)
        by_gateway = await api.put(path, headers=CALLBACK)
        remaining = await service.pool.fetch("SELECT municipality, phone FROM sms_opt_out")

    assert back_in.json()["opted_out"] is False
    assert herning.status_code == 404  # slagelse's staff cannot speak for herning's citizens
    assert invalid.status_code == 422 and "not a valid phone number" in invalid.json()["detail"]
    assert by_gateway.status_code == 200  # the gateway forwards a citizen's STOP reply
    assert [tuple(row) for row in remaining] == [("slagelse", "+4520304050")]
