"""The singleton workers of one process (relay, projections) hold their advisory locks on one
connection between them, not one each; only one worker leads a lock; losing the connection
loses every lock on it, and each worker leads again on a fresh one."""

from __future__ import annotations

import asyncio

import asyncpg

from infra.leadership import Lease, lead
from tests.support import eventually

LOCKS = [7399001, 7399002, 7399003, 7399004]


class Workers:
    """Workers that lead while their lease holds, noting who leads."""

    def __init__(self) -> None:
        self.leading: dict[str, int] = {}
        self.times_led: dict[str, int] = {}
        self.overlaps = 0

    def work(self, name: str, lock_id: int, stop: asyncio.Event):  # type: ignore[no-untyped-def]
        async def leading(lease: Lease) -> None:
            if any(n != name and lock == lock_id for n, lock in self.leading.items()):
                self.overlaps += 1
            self.leading[name] = lock_id
            self.times_led[name] = self.times_led.get(name, 0) + 1
            try:
                while not lease.is_closed() and not stop.is_set():  # noqa: ASYNC110 - as workers do
                    await asyncio.sleep(0.02)
            finally:
                del self.leading[name]

        return leading


async def lock_holders(pool: asyncpg.Pool) -> dict[int, int]:
    """Which backend holds each of LOCKS."""
    rows = await pool.fetch(
        "SELECT objid::int AS lock, pid FROM pg_locks WHERE locktype = 'advisory' AND granted "
        "AND objid = ANY($1::int[])",
        LOCKS,
    )
    return {row["lock"]: row["pid"] for row in rows}


async def test_a_process_leads_every_lock_on_one_connection_and_recovers_them_all(
    pool: asyncpg.Pool,
) -> None:
    stop = asyncio.Event()
    workers = Workers()
    tasks = [
        asyncio.create_task(
            lead(pool, lock, stop, workers.work(f"w{lock}", lock, stop), name=f"w{lock}",
                 standby_poll=0.05, retry_delay=0.05)
        )
        for lock in LOCKS
    ]  # fmt: skip
    try:

        async def all_held() -> bool:
            return len(await lock_holders(pool)) == len(LOCKS) and len(workers.leading) == 4

        await eventually(all_held)
        holders = set((await lock_holders(pool)).values())
        assert len(holders) == 1, "one connection holds every lock of the process"
        (pid,) = holders
        assert await pool.fetchval("SELECT pg_terminate_backend($1)", pid)

        async def all_led_again() -> bool:
            again = set((await lock_holders(pool)).values())
            return (
                len(again) == 1
                and pid not in again
                and all(workers.times_led.get(f"w{lock}") == 2 for lock in LOCKS)
            )

        await eventually(all_led_again)
        assert len(workers.leading) == 4
    finally:
        stop.set()
        await asyncio.gather(*tasks)
    assert await lock_holders(pool) == {}, "stopped workers give their locks back"


async def test_two_workers_of_one_lock_in_one_process_never_lead_together(
    pool: asyncpg.Pool,
) -> None:
    """A session lock is re-entrant: asked twice on the shared connection, PostgreSQL would
    grant it twice. The second stands by until the first stops."""
    first_stop, second_stop = asyncio.Event(), asyncio.Event()
    workers = Workers()
    lock = LOCKS[0]
    first = asyncio.create_task(
        lead(pool, lock, first_stop, workers.work("first", lock, first_stop), name="first",
             standby_poll=0.05)
    )  # fmt: skip
    await eventually(lambda: _leads(workers, "first"))
    second = asyncio.create_task(
        lead(pool, lock, second_stop, workers.work("second", lock, second_stop), name="second",
             standby_poll=0.05)
    )  # fmt: skip
    try:
        await asyncio.sleep(0.3)
        assert "second" not in workers.leading
        first_stop.set()
        await first
        await eventually(lambda: _leads(workers, "second"))
        assert workers.overlaps == 0
    finally:
        first_stop.set()
        second_stop.set()
        await asyncio.gather(first, second)


async def _leads(workers: Workers, name: str) -> bool:
    return name in workers.leading
