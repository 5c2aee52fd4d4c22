"""The `sms_message` table: messages decided on, and their way to being sent.

A message is claimed (status `sending`, a claim id and a lease) in one short transaction,
sent with no transaction open, and its outcome recorded in another, together with the
`sms.*` event that tells the bus. Only the claim's holder records an outcome; a claim whose
holder died lapses at `lease_until` (database time) and the message is sent again, under the
same idempotency key."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

import asyncpg

from events.sms import FailureStage, SmsFailed, SmsSent
from services.notifications.adapters import sms_events
from services.notifications.domain.messages import MessageKind, Sms

COLUMNS = (
    "idempotency_key, municipality, booking_id, kind, phone, body, "
    "booking_version, due_at, appointment_at"
)


@dataclass(frozen=True)
class DueSms:
    """A message whose time to (re)try has come, locked by one dispatcher's transaction."""

    sms: Sms
    attempts: int
    opted_out: bool  # its citizen asked for no such messages


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
    A message already claimed for sending is on its way and is left to finish."""
    status = await connection.execute(
        "UPDATE sms_message SET status = 'cancelled' "
        "WHERE booking_id = $1 AND kind = $2 AND booking_version < $3 AND status = 'pending'",
        booking_id,
        kind.value,
        before_version,
    )
    return int(status.split()[-1])


async def lock_due(connection: asyncpg.Connection, now: datetime, limit: int) -> list[DueSms]:
    """Locks, for this transaction, up to `limit` messages due at `now` and claims whose lease
    has lapsed; other dispatchers skip them."""
    rows = await connection.fetch(
        f"SELECT {COLUMNS}, attempts, EXISTS (SELECT 1 FROM sms_opt_out o "
        "  WHERE o.municipality = m.municipality AND o.phone = m.phone) AS opted_out "
        "FROM sms_message m "
        "WHERE (status = 'pending' AND next_attempt_at <= $1) "
        "   OR (status = 'sending' AND lease_until < clock_timestamp()) "
        "ORDER BY next_attempt_at, created_at LIMIT $2 FOR UPDATE OF m SKIP LOCKED",
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
            opted_out=row["opted_out"],
        )
        for row in rows
    ]


async def claim(
    connection: asyncpg.Connection, keys: list[str], claim_id: UUID, lease: timedelta
) -> None:
    """Marks the locked messages `keys` as being sent by the holder of `claim_id` until the
    lease lapses."""
    await connection.execute(
        "UPDATE sms_message SET status = 'sending', claim_id = $2, "
        "lease_until = clock_timestamp() + $3::interval "
        "WHERE idempotency_key = ANY($1::text[])",
        keys,
        claim_id,
        lease,
    )


async def mark_sent(
    connection: asyncpg.Connection,
    key: str,
    claim_id: UUID,
    now: datetime,
    provider_message_id: str | None,
) -> bool:
    """Marks `key` sent and tells the bus; False (nothing changed) if the claim lapsed and
    another dispatcher holds it now. `last_error` keeps the last failure, for staff to see."""
    row = await connection.fetchrow(
        "UPDATE sms_message SET status = 'sent', sent_at = $3, attempts = attempts + 1, "
        "provider_message_id = coalesce(provider_message_id, $4), lease_until = NULL, "
        "event_version = event_version + 1 "
        "WHERE idempotency_key = $1 AND claim_id = $2 AND status = 'sending' "
        "RETURNING municipality, booking_id, kind, event_version, provider_message_id",
        key,
        claim_id,
        now,
        provider_message_id,
    )
    if row is None:
        return False
    sent = SmsSent(
        booking_id=row["booking_id"],
        kind=row["kind"],
        idempotency_key=key,
        provider_message_id=row["provider_message_id"],
        sent_at=now,
    )
    await sms_events.append(connection, row["municipality"], key, row["event_version"], sent, now)
    return True


async def record_failure(
    connection: asyncpg.Connection,
    key: str,
    claim_id: UUID,
    error: str,
    now: datetime,
    retry_at: datetime | None,
) -> None:
    """Counts a failed attempt of the claim's holder; `retry_at=None` gives the message up
    as failed and tells the bus."""
    row = await connection.fetchrow(
        "UPDATE sms_message SET attempts = attempts + 1, last_error = $3, lease_until = NULL, "
        "status = CASE WHEN $4::timestamptz IS NULL THEN 'failed' ELSE 'pending' END, "
        "next_attempt_at = coalesce($4::timestamptz, next_attempt_at), "
        "event_version = event_version + CASE WHEN $4::timestamptz IS NULL THEN 1 ELSE 0 END "
        "WHERE idempotency_key = $1 AND claim_id = $2 AND status = 'sending' "
        "RETURNING municipality, booking_id, kind, event_version, provider_message_id",
        key,
        claim_id,
        error[:1000],
        retry_at,
    )
    if row is None or retry_at is not None:
        return
    failed = SmsFailed(
        booking_id=row["booking_id"],
        kind=row["kind"],
        idempotency_key=key,
        provider_message_id=row["provider_message_id"],
        stage=FailureStage.sending,
        reason=error[:1000],
        failed_at=now,
    )
    await sms_events.append(connection, row["municipality"], key, row["event_version"], failed, now)


async def hold(connection: asyncpg.Connection, key: str, until: datetime) -> None:
    """Keeps `key` pending until `until` (the end of quiet hours); no attempt is counted."""
    await connection.execute(
        "UPDATE sms_message SET status = 'pending', next_attempt_at = $2 "
        "WHERE idempotency_key = $1",
        key,
        until,
    )


async def settle_unsent(connection: asyncpg.Connection, key: str, status: str) -> None:
    """Gives up `key` without sending: `dropped` (it would arrive after what it is about)
    or `opted_out` (its citizen wants no such message)."""
    await connection.execute(
        "UPDATE sms_message SET status = $2 WHERE idempotency_key = $1", key, status
    )
