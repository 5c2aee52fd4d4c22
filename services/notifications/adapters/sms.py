"""SMS providers: the gateway interface, the local outbox the demo and tests read, and a
provider that always fails (for tests of retries). The HTTP gateway is in `http_gateway`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import asyncpg

from services.notifications.domain.messages import Sms


class SmsProvider(Protocol):
    """Delivers one SMS and returns the gateway's id for it (if it gives one). Called again
    with the same message after a crash or a failure, so a provider must send at most one
    message per `idempotency_key` (the gateway deduplicates on it)."""

    async def send(self, message: Sms) -> str | None: ...


@dataclass
class OutboxProvider:
    """Sends by writing to `sms_outbox`; a repeated send of the same key changes nothing.
    Its message id is the idempotency key."""

    pool: asyncpg.Pool

    async def send(self, message: Sms) -> str:
        await self.pool.execute(
            "INSERT INTO sms_outbox (idempotency_key, municipality, phone, body) "
            "VALUES ($1, $2, $3, $4) ON CONFLICT (idempotency_key) DO NOTHING",
            message.idempotency_key,
            message.municipality,
            message.phone,
            message.body,
        )
        return message.idempotency_key


class SmsGatewayError(RuntimeError):
    """The provider did not take the message; it may take it on a later try."""


class RejectedByGateway(SmsGatewayError):
    """The gateway refused the message itself (a 4xx): trying again cannot help."""


@dataclass
class FailingProvider:
    """A gateway that is down: every send fails with `reason`."""

    reason: str = "gateway unavailable"
    calls: int = 0

    async def send(self, message: Sms) -> str | None:
        self.calls += 1
        raise SmsGatewayError(self.reason)


@dataclass(frozen=True)
class OutboxEntry:
    idempotency_key: str
    municipality: str
    phone: str | None  # None once the citizen is erased
    body: str | None
    sent_at: datetime


async def read_outbox(pool: asyncpg.Pool, municipality: str | None = None) -> list[OutboxEntry]:
    """The local outbox, oldest first; one municipality's messages only when it is given."""
    rows = await pool.fetch(
        "SELECT idempotency_key, municipality, phone, body, sent_at FROM sms_outbox "
        "WHERE $1::text IS NULL OR municipality = $1 ORDER BY sent_at, idempotency_key",
        municipality,
    )
    return [OutboxEntry(**dict(row)) for row in rows]
