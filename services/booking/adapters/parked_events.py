"""Events the relay parked: stored, but not publishable for a reason no retry mends (an event
of a type the code no longer knows, one larger than the bus accepts, data its wire model
refuses). The relay goes on without them, so one bad event never holds back the others; each
is kept here with its reason until an operator has fixed the cause and asks for a resend
(`borgerservice relay parked`, `borgerservice relay resend`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg

REASON_LIMIT = 2000  # characters of the reason kept: enough to act on, never a whole payload


@dataclass(frozen=True)
class ParkedEvent:
    notification_id: int
    topic: str
    reason: str
    parked_at: datetime
    resend_requested_at: datetime | None


@dataclass
class ParkedEvents:
    pool: asyncpg.Pool
    relay: str = "booking"

    async def park(self, notification_id: int, topic: str, reason: str) -> None:
        await self.pool.execute(
            "INSERT INTO relay_parked (relay, notification_id, topic, reason) "
            "VALUES ($1, $2, $3, $4) ON CONFLICT (relay, notification_id) DO UPDATE "
            "SET reason = EXCLUDED.reason, parked_at = now(), resend_requested_at = NULL",
            self.relay,
            notification_id,
            topic,
            reason[:REASON_LIMIT],
        )

    async def ids_after(self, position: int) -> set[int]:
        """The parked notification ids after `position`: the relay passes over them."""
        rows = await self.pool.fetch(
            "SELECT notification_id FROM relay_parked WHERE relay = $1 AND notification_id > $2",
            self.relay,
            position,
        )
        return {row["notification_id"] for row in rows}

    async def listed(self) -> list[ParkedEvent]:
        rows = await self.pool.fetch(
            "SELECT notification_id, topic, reason, parked_at, resend_requested_at "
            "FROM relay_parked WHERE relay = $1 ORDER BY notification_id",
            self.relay,
        )
        return [ParkedEvent(**dict(row)) for row in rows]

    async def count(self) -> int:
        return int(
            await self.pool.fetchval(
                "SELECT count(*) FROM relay_parked WHERE relay = $1", self.relay
            )
        )

    async def request_resend(self, notification_ids: Sequence[int] | None = None) -> int:
        """Asks the relay to try these parked events again (all when None); how many."""
        if notification_ids is None:
            status = await self.pool.execute(
                "UPDATE relay_parked SET resend_requested_at = now() WHERE relay = $1",
                self.relay,
            )
        else:
            status = await self.pool.execute(
                "UPDATE relay_parked SET resend_requested_at = now() "
                "WHERE relay = $1 AND notification_id = ANY($2::bigint[])",
                self.relay,
                list(notification_ids),
            )
        return int(status.split()[-1])

    async def requested(self) -> list[int]:
        rows = await self.pool.fetch(
            "SELECT notification_id FROM relay_parked "
            "WHERE relay = $1 AND resend_requested_at IS NOT NULL ORDER BY notification_id",
            self.relay,
        )
        return [row["notification_id"] for row in rows]

    async def resent(self, notification_id: int) -> None:
        await self.pool.execute(
            "DELETE FROM relay_parked WHERE relay = $1 AND notification_id = $2",
            self.relay,
            notification_id,
        )
