"""The `reporting_sms` projection on BS_SMS: one `report_sms` row per SMS message, with when it
was sent, delivered or given up, for the dashboard's delivery figures and the SMS report.

Idempotent on its own, beside the runner's position: a row carries the message's event version,
so a republished event (a new stream sequence, an old version) changes nothing."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg

from events import Envelope, subject_for
from events.sms import SmsDelivered, SmsFailed, SmsSent
from infra.read_models import ReadModel
from infra.streams import SMS_STREAM

HANDLED = (SmsSent, SmsDelivered, SmsFailed)

# Each event fills in its own column; the others keep what earlier events set.
UPSERT = """
INSERT INTO report_sms (message_id, municipality, booking_id, kind, sent_at, delivered_at,
    failed_at, failure_stage, version)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
ON CONFLICT (message_id) DO UPDATE
SET sent_at = coalesce(EXCLUDED.sent_at, report_sms.sent_at),
    delivered_at = coalesce(EXCLUDED.delivered_at, report_sms.delivered_at),
    failed_at = coalesce(EXCLUDED.failed_at, report_sms.failed_at),
    failure_stage = coalesce(EXCLUDED.failure_stage, report_sms.failure_stage),
    version = EXCLUDED.version
WHERE report_sms.version < EXCLUDED.version
"""


class UnreportableSms(ValueError):
    """An event this projection cannot apply; the runner dead-letters it."""


class SmsDeliveryProjection:
    name: str = "reporting_sms"
    stream: str = SMS_STREAM
    subjects: Sequence[str] = tuple(subject_for("*", handled.TYPE) for handled in HANDLED)

    async def apply(self, connection: asyncpg.Connection, event: Envelope[Any]) -> None:
        data = event.data
        sent_at = delivered_at = failed_at = stage = None
        if isinstance(data, SmsSent):
            sent_at = data.sent_at
        elif isinstance(data, SmsDelivered):
            delivered_at = data.delivered_at
        elif isinstance(data, SmsFailed):
            failed_at, stage = data.failed_at, data.stage.value
        else:
            raise UnreportableSms(f"{self.name} does not handle {event.type}")
        await connection.execute(
            UPSERT,
            event.aggregate_id,
            event.municipality,
            data.booking_id,
            data.kind,
            sent_at,
            delivered_at,
            failed_at,
            stage,
            event.aggregate_version,
        )


# What replay needs of it (from BS_SMS, its own stream): every column comes from the history.
READ_MODEL = ReadModel(
    SmsDeliveryProjection,
    "reporting_sms",
    {
        "report_sms": (
            "message_id", "municipality", "booking_id", "kind", "sent_at", "delivered_at",
            "failed_at", "failure_stage", "version",
        )
    },
)  # fmt: skip
