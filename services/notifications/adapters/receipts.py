"""Delivery receipts from the gateway, recorded on the message they are about."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import asyncpg

from events.sms import FailureStage, SmsDelivered, SmsFailed
from services.notifications.adapters import sms_events


class DeliveryStatus(StrEnum):
    delivered = "delivered"
    failed = "failed"


class UnknownMessage(LookupError):
    """A receipt for a message this service never sent."""


@dataclass(frozen=True)
class Receipt:
    provider_message_id: str
    # the idempotency key the gateway was given, if it repeats it: finds the message even
    # when the receipt overtakes the dispatcher's record of the gateway's id
    reference: str | None
    status: DeliveryStatus
    reason: str | None
    at: datetime


async def record(connection: asyncpg.Connection, receipt: Receipt) -> bool:
    """Records `receipt` and tells the bus (`sms.delivered` or `sms.failed`) in the same
    transaction; False if the message already has a receipt (the first one stands, so a
    gateway repeating its callback changes nothing). Raises `UnknownMessage`."""
    row = await connection.fetchrow(
        "SELECT idempotency_key, municipality, booking_id, kind, delivery_status "
        "FROM sms_message WHERE provider_message_id = $1 OR idempotency_key = $2 "
        "LIMIT 1 FOR UPDATE",
        receipt.provider_message_id,
        receipt.reference,
    )
    if row is None:
        raise UnknownMessage(f"no message {receipt.provider_message_id!r} was sent")
    if row["delivery_status"] is not None:
        return False
    key = row["idempotency_key"]
    version = await connection.fetchval(
        "UPDATE sms_message SET delivery_status = $2, delivered_at = $3, "
        "provider_message_id = coalesce(provider_message_id, $4), "
        "event_version = event_version + 1, "
        "last_error = CASE WHEN $2 = 'failed' THEN $5 ELSE last_error END "
        "WHERE idempotency_key = $1 RETURNING event_version",
        key,
        receipt.status.value,
        receipt.at,
        receipt.provider_message_id,
        f"delivery failed: {receipt.reason or 'no reason given'}"[:1000],
    )
    common = {
        "booking_id": row["booking_id"],
        "kind": row["kind"],
        "idempotency_key": key,
    }
    if receipt.status is DeliveryStatus.delivered:
        event: SmsDelivered | SmsFailed = SmsDelivered(
            **common, provider_message_id=receipt.provider_message_id, delivered_at=receipt.at
        )
    else:
        event = SmsFailed(
            **common,
            provider_message_id=receipt.provider_message_id,
            stage=FailureStage.delivery,
            reason=receipt.reason or "the gateway gave no reason",
            failed_at=receipt.at,
        )
    await sms_events.append(connection, row["municipality"], key, version, event, receipt.at)
    return True
