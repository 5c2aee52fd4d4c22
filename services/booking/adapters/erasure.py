"""Automatic erasure: every `interval`, the citizens whose latest appointment is longer ago
than the retention period are erased, and erasures staff asked for that a crash cut short are
finished. One instance at a time runs it (a transaction-scoped advisory lock); erasing is
idempotent, so a round repeated changes nothing."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import asyncpg
import structlog

from infra.transient import TRANSIENT
from services.booking.application import BookingApplication

log = structlog.get_logger()

ERASURE_LOCK = 7356005
NO_RETENTION = datetime(1970, 1, 1, tzinfo=UTC)  # before every appointment: none is due


class ErasureRunner:
    def __init__(
        self,
        app: BookingApplication,
        pool: asyncpg.Pool,
        retention: timedelta | None,  # None: only erasures staff asked for
        interval: float = 60.0,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.app = app
        self.pool = pool
        self.retention = retention
        self.interval = interval
        self.clock = clock or app.clock

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.tick()
            except (*TRANSIENT, asyncpg.PostgresError) as error:  # the event store's too
                log.warning("erasure.outage", error=str(error))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.interval)

    async def tick(self) -> int:
        """One round; returns how many citizens were erased."""
        async with self.pool.acquire() as connection, connection.transaction():
            if not await connection.fetchval("SELECT pg_try_advisory_xact_lock($1)", ERASURE_LOCK):
                return 0  # another instance is erasing
            until = NO_RETENTION if self.retention is None else self.clock() - self.retention
            erased = await asyncio.to_thread(self.app.erase_due, until)
        if erased:
            log.info("erasure.erased", citizens=erased)
        return erased
