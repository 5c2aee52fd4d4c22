"""The booking service's own process: it reads its events back from the stream to know what
is due (holds, waitlist offers, acute release times) and which freed times the waitlist wants,
and gives the application the commands. The decisions stay in the aggregates; this only says
when to ask.

Every command it gives is idempotent, so a deadline fired twice (a restart, two instances)
changes nothing; one instance at a time fires them (a transaction-scoped advisory lock).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg
import structlog

from events import Envelope
from events.booking import (
    BookingCancelled,
    BookingCheckedIn,
    BookingLeftWaitlist,
    BookingNoShow,
    BookingPreAssessed,
    BookingRescheduled,
    BookingStarted,
    BookingWaitlisted,
    BookingWaitlistOffered,
    BookingWaitlistOfferExpired,
)
from events.schedule import (
    AcuteSeatsReleased,
    DayClosed,
    DayOpened,
    HoldReleased,
    SeatHeld,
    SeatReleased,
)
from infra.leadership import DEADLINES_LOCK
from infra.transient import TRANSIENT
from services.booking.application import BookingApplication
from services.booking.domain.opening_hours import COPENHAGEN

log = structlog.get_logger()

FIRING_LOCK = DEADLINES_LOCK
REFIRE_AFTER = timedelta(seconds=10)  # a fired deadline whose event has not come back yet

UPSERT_DEADLINE = """
INSERT INTO booking_deadline (kind, key, municipality, site, day, booking_id, due_at)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (kind, key) DO UPDATE SET due_at = EXCLUDED.due_at, fired_at = NULL
"""
FREED = """
INSERT INTO booking_freed_time (municipality, site, starts_at) VALUES ($1, $2, $3)
ON CONFLICT DO NOTHING
"""
LEAVES_WAITLIST = (
    BookingCancelled,
    BookingLeftWaitlist,
    BookingCheckedIn,
    BookingStarted,
    BookingNoShow,
)


class DeadlinesProjection:
    name = "booking-deadlines"
    subjects = ("bs.*.schedule.*", "bs.*.booking.*")

    async def apply(self, connection: asyncpg.Connection, event: Envelope[Any]) -> None:
        data, m, site = event.data, event.municipality, event.site or ""
        if isinstance(data, SeatHeld):
            await connection.execute(
                UPSERT_DEADLINE, "hold", data.hold_id, m, site, _day(data.starts_at), None,
                data.expires_at,
            )  # fmt: skip
        elif isinstance(data, HoldReleased):
            await _forget(connection, "hold", data.hold_id)
            if data.reason != "booked":
                await connection.execute(FREED, m, site, data.starts_at)
        elif isinstance(data, SeatReleased):
            await connection.execute(FREED, m, site, data.starts_at)
        elif isinstance(data, AcuteSeatsReleased):
            await _forget(connection, "acute", f"{m}:{site}:{_day(data.released_at)}")
            for slot in data.slots:
                await connection.execute(FREED, m, site, slot.starts_at)
        elif isinstance(data, DayOpened) and data.acute_release_at is not None:
            await connection.execute(
                UPSERT_DEADLINE, "acute", f"{m}:{site}:{data.date}", m, site, data.date, None,
                data.acute_release_at,
            )  # fmt: skip
        elif isinstance(data, DayClosed):
            await connection.execute(
                "DELETE FROM booking_freed_time WHERE municipality = $1 AND site = $2 "
                "AND starts_at >= $3 AND starts_at < $4",
                m, site, data.closed_from, data.closed_until,
            )  # fmt: skip
        elif isinstance(data, BookingWaitlisted):
            await connection.execute(
                "INSERT INTO booking_waitlist VALUES ($1, $2, $3, $4, $5, $6) "
                "ON CONFLICT (booking_id) DO NOTHING",
                event.aggregate_id, m, site, data.service, data.starts_at, data.waitlisted_at,
            )  # fmt: skip
        elif isinstance(data, BookingWaitlistOffered):
            await connection.execute(
                UPSERT_DEADLINE, "offer", str(event.aggregate_id), m, site,
                _day(data.offered_starts_at), event.aggregate_id, data.hold_expires_at,
            )  # fmt: skip
        elif isinstance(data, BookingWaitlistOfferExpired):
            await _forget(connection, "offer", str(event.aggregate_id))
            await connection.execute(
                "INSERT INTO booking_offer_lapsed VALUES ($1, $2) ON CONFLICT DO NOTHING",
                event.aggregate_id, data.offered_starts_at,
            )  # fmt: skip
        elif isinstance(data, BookingRescheduled):
            await _forget(connection, "offer", str(event.aggregate_id))
            await connection.execute(
                "UPDATE booking_waitlist SET starts_at = $2 WHERE booking_id = $1",
                event.aggregate_id, data.starts_at,
            )  # fmt: skip
        elif isinstance(data, LEAVES_WAITLIST) or (
            isinstance(data, BookingPreAssessed) and data.outcome == "solved_online"
        ):
            await _forget(connection, "offer", str(event.aggregate_id))
            await connection.execute(
                "DELETE FROM booking_waitlist WHERE booking_id = $1", event.aggregate_id
            )


def _day(moment: datetime) -> Any:
    return moment.astimezone(COPENHAGEN).date()


async def _forget(connection: asyncpg.Connection, kind: str, key: str) -> None:
    await connection.execute("DELETE FROM booking_deadline WHERE kind = $1 AND key = $2", kind, key)


class DeadlineRunner:
    """Fires what is due and offers freed times to the waitlist, every `interval` seconds."""

    def __init__(
        self,
        app: BookingApplication,
        pool: asyncpg.Pool,
        interval: float = 1.0,
        clock: Callable[[], datetime] | None = None,
        guarantee_every: timedelta = timedelta(seconds=10),
    ) -> None:
        self.app = app
        self.pool = pool
        self.interval = interval
        self.clock = clock or app.clock
        self.guarantee_every = guarantee_every
        self._guarantee_checked: datetime | None = None

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.tick()
            except (*TRANSIENT, asyncpg.PostgresError) as error:  # the event store's too
                log.warning("deadlines.outage", error=str(error))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.interval)

    async def tick(self) -> int:
        """One round; returns how many commands changed something."""
        async with self.pool.acquire() as connection, connection.transaction():
            if not await connection.fetchval("SELECT pg_try_advisory_xact_lock($1)", FIRING_LOCK):
                return 0  # another instance is firing
            changed = await self._fire_due(connection) + await self._offer_freed(connection)
            now = self.clock()
            if self._guarantee_checked is None or now - self._guarantee_checked >= (
                self.guarantee_every
            ):
                self._guarantee_checked = now
                changed += await self.watch_guarantees(connection)
            return changed

    async def watch_guarantees(self, connection: asyncpg.Connection) -> int:
        """The first free time of every service at every site (from the availability read
        model), compared with the target by each site's WaitingGuarantee aggregate."""
        rows = await connection.fetch(
            "SELECT municipality, site, service, "
            "min(starts_at) FILTER (WHERE seats_left > 0 AND NOT closed) AS first_free "
            "FROM availability_slot, unnest(services) AS service "
            "WHERE starts_at > $1 GROUP BY municipality, site, service",
            self.clock(),
        )
        crossed = 0
        for row in rows:
            try:
                crossed += await asyncio.to_thread(
                    self.app.observe_first_free_time,
                    row["municipality"], row["site"], row["service"], row["first_free"],
                )  # fmt: skip
            except Exception as error:
                log.warning("guarantee.failed", site=row["site"], error=str(error))
        return crossed

    async def _fire_due(self, connection: asyncpg.Connection) -> int:
        now = self.clock()
        due = await connection.fetch(
            "SELECT kind, key, municipality, site, day, booking_id FROM booking_deadline "
            "WHERE due_at <= $1 AND (fired_at IS NULL OR fired_at <= $2) ORDER BY due_at LIMIT 200",
            now, now - REFIRE_AFTER,
        )  # fmt: skip
        changed = 0
        for row in due:
            changed += bool(await asyncio.to_thread(self._fire, row))
            await connection.execute(
                "UPDATE booking_deadline SET fired_at = $3 WHERE kind = $1 AND key = $2",
                row["kind"], row["key"], now,
            )  # fmt: skip
        return changed

    def _fire(self, row: asyncpg.Record) -> bool | int:
        kind = row["kind"]
        try:
            if kind == "hold":
                return self.app.release_expired_holds(row["municipality"], row["site"], row["day"])
            if kind == "offer":
                return self.app.expire_offer(row["booking_id"])
            return self.app.release_acute_seats(row["municipality"], row["site"], row["day"])
        except Exception as error:  # a deadline that cannot be fired must not stop the others
            log.warning("deadlines.failed", kind=kind, key=row["key"], error=str(error))
            return False

    async def _offer_freed(self, connection: asyncpg.Connection) -> int:
        freed = await connection.fetch(
            "SELECT municipality, site, starts_at FROM booking_freed_time "
            "ORDER BY freed_at LIMIT 100"
        )
        offered = 0
        for time in freed:
            if time["starts_at"] > self.clock():
                offered += await self._offer_to_first(connection, time)
            await connection.execute(
                "DELETE FROM booking_freed_time WHERE municipality = $1 AND site = $2 "
                "AND starts_at = $3",
                time["municipality"], time["site"], time["starts_at"],
            )  # fmt: skip
        return offered

    async def _offer_to_first(self, connection: asyncpg.Connection, time: asyncpg.Record) -> int:
        """The freed time goes to the first waiting booking that wants it (the aggregate
        decides whether it fits: service, still waiting, still earlier)."""
        waiting = await connection.fetch(
            "SELECT w.booking_id FROM booking_waitlist w WHERE w.municipality = $1 "
            "AND w.site = $2 AND w.starts_at > $3 AND NOT EXISTS (SELECT 1 FROM "
            "booking_offer_lapsed l WHERE l.booking_id = w.booking_id AND l.starts_at = $3) "
            "ORDER BY w.waiting_since, w.booking_id LIMIT 20",
            time["municipality"], time["site"], time["starts_at"],
        )  # fmt: skip
        for candidate in waiting:
            booking_id: UUID = candidate["booking_id"]
            try:
                if await asyncio.to_thread(self.app.offer_waitlist, booking_id, time["starts_at"]):
                    return 1
            except Exception as error:
                log.warning("deadlines.offer_failed", booking=str(booking_id), error=str(error))
        return 0
