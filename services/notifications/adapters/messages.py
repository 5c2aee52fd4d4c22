"""The `sms_message` table: messages decided on, and their way to being sent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import asyncpg

from services.notifications.domain.messages import MessageKind, Sms


@dataclass(frozen=True)
class DueSms:
    """A pending message whose time to (re)try has come, claimed by one dispatcher."""

    sms: Sms
    attempts: int


async def add_pending(connection: asyncpg.Connection, sms: Sms) -> bool:
    """Records `sms` to be sent; False if a message with its key already exists."""
    status = await connection.execute(
        "INSERT INTO sms_message "
        "(idempotency_key, municipality, booking_id, kind, phone, body) "
        "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (idempotency_key) DO NOTHING",
        sms.idempotency_key,
        sms.municipality,
        sms.booking_id,
        sms.kind.value,
        sms.phone,
        sms.body,
    )
    return bool(status == "INSERT 0 1")


async def claim_due(connection: asyncpg.Connection, limit: int) -> list[DueSms]:
    """Locks up to `limit` due messages for this transaction; other dispatchers skip them."""
    rows = await connection.fetch(
        "SELECT idempotency_key, municipality, booking_id, kind, phone, body, attempts "
        "FROM sms_message WHERE status = 'pending' AND next_attempt_at <= now() "
        "ORDER BY next_attempt_at, created_at LIMIT $1 FOR UPDATE SKIP LOCKED",
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
            ),
            attempts=row["attempts"],
        )
        for row in rows
    ]


async def mark_sent(connection: asyncpg.Connection, key: str) -> None:
    """Marks `key` sent; `last_error` keeps the last failure before it, for staff to see."""
    await connection.execute(
        "UPDATE sms_message SET status = 'sent', sent_at = now(), attempts = attempts + 1 "
        "WHERE idempotency_key = $1",
        key,
    )


async def record_failure(
    connection: asyncpg.Connection, key: str, error: str, retry_in: timedelta | None
) -> None:
    """Counts a failed attempt; `retry_in=None` gives the message up as failed."""
    await connection.execute(
        "UPDATE sms_message SET attempts = attempts + 1, last_error = $2, "
        "status = CASE WHEN $3::interval IS NULL THEN 'failed' ELSE 'pending' END, "
        "next_attempt_at = now() + coalesce($3::interval, interval '0') "
        "WHERE idempotency_key = $1",
        key,
        error[:1000],
        retry_in,
    )
