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


class Lease:
    """A worker's hold of its lock on the pool's shared lock connection: `is_closed()` once
    the lock is gone (the connection lost), when the worker must stop leading. The connection
    also carries the worker's LISTENs, one statement at a time."""

    def __init__(self, holder: _LockHolder, connection: asyncpg.Connection) -> None:
        self._holder = holder
        self._connection = connection

    def is_closed(self) -> bool:
        return self._holder.lost(self._connection)

    async def add_listener(self, channel: str, callback: Callable[..., object]) -> None:
        async with self._holder.turn:
            await self._connection.add_listener(channel, callback)

    async def remove_listener(self, channel: str, callback: Callable[..., object]) -> None:
        async with self._holder.turn:
            await self._connection.remove_listener(channel, callback)


class _LockHolder:
    """One connection of a pool holds every session lock its workers lead under (a process's
    relay and projections hold one connection between them, not one each). Statements on it
    take turns; when it is lost, so are all its locks, and the next attempt takes a fresh one."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool
        self.turn = asyncio.Lock()
        self._connection: asyncpg.Connection | None = None
        self._held: set[int] = set()

    def lost(self, connection: asyncpg.Connection) -> bool:
        """Whether the locks taken on `connection` are gone (a connection given back to the
        pool is not asked: it may be another's by now)."""
        current = self._connection
        if current is None or connection is not current:
            return True
        try:
            return bool(current.is_closed())
        except asyncpg.InterfaceError:  # the pool took a lost connection back by itself
            return True

    async def try_lock(self, lock_id: int) -> Lease | None:
        async with self.turn:
            connection = await self._connected()
            if lock_id in self._held:  # a worker of this process leads: a session lock is
                return None  # re-entrant, so the same connection would be granted it again
            if not await connection.fetchval("SELECT pg_try_advisory_lock($1)", lock_id):
                return None
            self._held.add(lock_id)
            return Lease(self, connection)

    async def unlock(self, lease: Lease, lock_id: int) -> None:
        async with self.turn:
            self._held.discard(lock_id)
            if not lease.is_closed():
                with contextlib.suppress(*LOST_CONNECTION):
                    await lease._connection.execute("SELECT pg_advisory_unlock($1)", lock_id)
            await self._release_if_unused()

    async def _connected(self) -> asyncpg.Connection:
        if self._connection is not None and self.lost(self._connection):
            self._held.clear()  # the locks went with it
            await self._release()
        if self._connection is None:
            self._connection = await self.pool.acquire()
        return self._connection

    async def _release_if_unused(self) -> None:
        if not self._held:
            await self._release()
            if _holders.get(id(self.pool)) is self:
                del _holders[id(self.pool)]

    async def _release(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(*LOST_CONNECTION, asyncpg.InterfaceError):
                await self.pool.release(connection)


# The holder of each pool that holds a lock now (by id: a pool takes no weak reference); a
# holder leaves once it holds none, so pools closed long ago are not kept.
_holders: dict[int, _LockHolder] = {}


def _holder(pool: asyncpg.Pool) -> _LockHolder:
    holder = _holders.get(id(pool))
    if holder is None or holder.pool is not pool:
        holder = _holders[id(pool)] = _LockHolder(pool)
    return holder


async def lead(
    pool: asyncpg.Pool,
    lock_id: int,
    stop: asyncio.Event,
    work: Callable[[Lease], Awaitable[None]],
    *,
    name: str,
    standby_poll: float = 1.0,
    retry_delay: float = 0.5,
) -> None:
    """Runs `work(lease)` while holding the session lock `lock_id`, until `stop`.

    An instance that cannot take the lock stands by, trying again every `standby_poll` seconds,
    and takes over when the holder stops or dies. If the connection holding the lock is lost
    (PostgreSQL restarted, connections terminated), the lock is gone with it: `work` must return
    when `lease.is_closed()`, and this instance stands by again. The workers of one pool share
    one connection for their locks."""
    holder = _holder(pool)
    while not stop.is_set():
        try:
            lease = await holder.try_lock(lock_id)
            if lease is None:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), standby_poll)
                continue
            log.info("leadership.taken", worker=name)
            try:
                await work(lease)
            finally:
                await holder.unlock(lease, lock_id)
        except LOST_CONNECTION as error:
            log.warning("leadership.lost", worker=name, error=repr(error))
            await asyncio.sleep(retry_delay)
