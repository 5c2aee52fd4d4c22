"""The `sms_message` table: messages decided on, and their way to being sent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg

from services.notifications.domain.messages import MessageKind, Sms

COLUMNS = (
    "idempotency_key, municipality, booking_id, kind, phone, body, "
    "booking_version, due_at, appointment_at"
)


@dataclass(frozen=True)
class DueSms:
    """A pending message whose time to (re)try has come, claimed by one dispatcher."""

    sms: Sms
    attempts: int


async def add_pending(connection: asyncpg.Connection, sms: Sms) -> bool:
    """Records `sms` to be sent from its `due_at`; False if its key exists already (in any
    status: a cancelled reminder is not brought back by a republished event)."""
    status = await connection.execute(
        f"INSERT INTO sms_message ({COLUMNS}, next_attempt_at) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $8) "
        "ON CONFLICT (idempotency_key) DO NOTHING",
        sms.idempotency_key,
        sms.municipality,
        sms.booking_id,
        sms.kind.value,
        sms.phone,
        sms.body,
        sms.booking_version,
        sms.due_at,
        sms.appointment_at,
    )
    return bool(status == "INSERT 0 1")


async def cancel_pending(
    connection: asyncpg.Connection, booking_id: UUID, kind: MessageKind, before_version: int
) -> int:
    """Cancels the booking's pending messages of `kind` decided on before `before_version`.
    A message being sent right now is locked: this waits, then leaves it as sent."""
    status = await connection.execute(
        "UPDATE sms_message SET status = 'cancelled' "
        "WHERE booking_id = $1 AND kind = $2 AND booking_version < $3 AND status = 'pending'",
        booking_id,
        kind.value,
        before_version,
    )
    return int(status.split()[-1])


async def claim_due(connection: asyncpg.Connection, now: datetime, limit: int) -> list[DueSms]:
    """Locks up to `limit` messages due at `now` for this transaction; other dispatchers
    skip them."""
    rows = await connection.fetch(
        f"SELECT {COLUMNS}, attempts FROM sms_message "
        "WHERE status = 'pending' AND next_attempt_at <= $1 "
        "ORDER BY next_attempt_at, created_at LIMIT $2 FOR UPDATE SKIP LOCKED",
        now,
        limit,
    )
    return [
        DueSms(
            sms=Sms(
                idempotency_key=row["idempotency_key"],
                municipality=row["municipality"],
                booking_id=row["booking_id"],
                kind=MessageKind(row["kind"]),
                phone=row["phone"],
                body=row["body"],
                booking_version=row["booking_version"],
                due_at=row["due_at"],
                appointment_at=row["appointment_at"],
            ),
            attempts=row["attempts"],
        )
        for row in rows
    ]


async def mark_sent(connection: asyncpg.Connection, key: str, now: datetime) -> None:
    """Marks `key` sent; `last_error` keeps the last failure before it, for staff to see."""
    await connection.execute(
        "UPDATE sms_message SET status = 'sent', sent_at = $2, attempts = attempts + 1 "
        "WHERE idempotency_key = $1",
        key,
        now,
    )


async def hold(connection: asyncpg.Connection, key: str, until: datetime) -> None:
    """Keeps `key` pending until `until` (the end of quiet hours); no attempt is counted."""
    await connection.execute(
        "UPDATE sms_message SET next_attempt_at = $2 WHERE idempotency_key = $1", key, until
    )


async def drop(connection: asyncpg.Connection, key: str) -> None:
    """Gives up `key` without sending: it would arrive after its appointment began."""
    await connection.execute(
        "UPDATE sms_message SET status = 'dropped' WHERE idempotency_key = $1", key
    )


async def record_failure(
    connection: asyncpg.Connection,
    key: str,
    error: str,
    retry_at: datetime | None,
) -> None:
    """Counts a failed attempt; `retry_at=None` gives the message up as failed."""
    await connection.execute(
        "UPDATE sms_message SET attempts = attempts + 1, last_error = $2, "
        "status = CASE WHEN $3::timestamptz IS NULL THEN 'failed' ELSE 'pending' END, "
        "next_attempt_at = coalesce($3::timestamptz, next_attempt_at) "
        "WHERE idempotency_key = $1",
        key,
        error[:1000],
        retry_at,
    )
