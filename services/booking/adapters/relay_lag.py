"""How far the relay is behind the event store, read from the database (the relay's recorded
position), so every instance can tell, the one relaying or one standing by."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime

import asyncpg

from infra.health import Lag
from services.booking.application import BookingApplication


@dataclass
class RelayLag:
    app: BookingApplication
    pool: asyncpg.Pool
    name: str = "booking"
    # Its own thread: on the default pool it would wait behind the booking commands under
    # load, and a readiness probe that times out then reads as an outage.
    _reader: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(1, thread_name_prefix="relay-lag")
    )

    async def lag(self) -> Lag:
        """The stored events after the relay's position, and the age of the first of them."""
        position = await self.pool.fetchval(
            "SELECT notification_id FROM relay_position WHERE relay = $1", self.name
        )
        recorder = self.app.recorder
        table = f'"{recorder.datastore.schema}"."{recorder.events_table_name}"'  # type: ignore[attr-defined]
        behind = await self.pool.fetchval(
            f"SELECT count(*) FROM {table} WHERE notification_id > $1",  # the store's own names
            position or 0,
        )
        if not behind:
            return Lag(0, 0.0)
        loop = asyncio.get_running_loop()
        stored_at = await loop.run_in_executor(self._reader, self._first_after, position or 0)
        seconds = 0.0 if stored_at is None else (datetime.now(UTC) - stored_at).total_seconds()
        return Lag(int(behind), max(0.0, seconds))

    def _first_after(self, position: int) -> datetime | None:
        found = self.app.recorder.select_notifications(
            start=position, limit=1, inclusive_of_start=False
        )
        if not found:
            return None
        timestamp: datetime = self.app.mapper.to_domain_event(found[0]).timestamp  # type: ignore[attr-defined]
        return timestamp if timestamp.tzinfo else timestamp.replace(tzinfo=UTC)

    def close(self) -> None:
        self._reader.shutdown(wait=False)
