"""One instance at a time: the PostgreSQL advisory locks the services take, and the loop a
singleton worker (a relay, a projection runner) runs under.

Every lock id is here, so two workers never share one by accident (the replay once shared the
booking relay's and refused to start while the relay ran)."""

from __future__ import annotations

import asyncio
import contextlib
import zlib
from collections.abc import Awaitable, Callable

import asyncpg
import structlog

from infra.transient import TRANSIENT

log = structlog.get_logger()

SCHEMA_LOCK = 7356001  # applying the read-model schema (infra/database.py)
BOOKING_RELAY_LOCK = 7356002  # the event store's relay onto BS_EVENTS
DEADLINES_LOCK = 7356003  # firing hold, offer and acute deadlines (transaction-scoped)
SMS_RELAY_LOCK = 7356004  # notifications' SMS events onto BS_SMS
REPLAY_LOCK = 7356005  # one `borgerservice replay` at a time
PROJECTION_LOCKS = range(7356100, 7357100)  # one per projection name

# The lock's connection lost, or none to be had (PostgreSQL restarting, full): stand by again.
LOST_CONNECTION = TRANSIENT


def projection_lock(name: str) -> int:
    return PROJECTION_LOCKS.start + zlib.crc32(name.encode()) % len(PROJECTION_LOCKS)


async def lead(
    pool: asyncpg.Pool,
    lock_id: int,
    stop: asyncio.Event,
    work: Callable[[asyncpg.Connection], Awaitable[None]],
    *,
    name: str,
    standby_poll: float = 1.0,
    retry_delay: float = 0.5,
) -> None:
    """Runs `work(lock_connection)` while holding the session lock `lock_id`, until `stop`.

    An instance that cannot take the lock stands by, trying again every `standby_poll` seconds,
    and takes over when the holder stops or dies. If the connection holding the lock is lost
    (PostgreSQL restarted, connections terminated), the lock is gone with it: `work` must return
    when `lock_connection.is_closed()`, and this instance stands by again."""
    while not stop.is_set():
        try:
            async with pool.acquire() as connection:
                if not await connection.fetchval("SELECT pg_try_advisory_lock($1)", lock_id):
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), standby_poll)
                    continue
                log.info("leadership.taken", worker=name)
                try:
                    await work(connection)
                finally:
                    with contextlib.suppress(*LOST_CONNECTION):
                        await connection.execute("SELECT pg_advisory_unlock($1)", lock_id)
        except LOST_CONNECTION as error:
            log.warning("leadership.lost", worker=name, error=repr(error))
            await asyncio.sleep(retry_delay)
