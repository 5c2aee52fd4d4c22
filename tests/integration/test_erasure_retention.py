"""Automatic erasure: a citizen is erased a configured time after their latest appointment, by
the booking service's periodic job (here with a clock the test sets), and an erasure staff
asked for that a crash cut short is finished by it."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from events.citizen import ErasureReason
from services.booking.adapters.erasure import ErasureRunner
from services.booking.commands import BookTime, RescheduleBooking
from services.booking.domain.booking import Booking
from services.booking.domain.citizen import CitizenBookings
from services.booking.service import BookingService
from tests.booking_world import DAY, FIRST_TIME, HOURS, MUNICIPALITY, SITE, later, seed_world

RETENTION = timedelta(days=30)
WEEK_LATER = DAY + timedelta(days=7)


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now


def book(service: BookingService, phone: str, starts_at: datetime) -> Booking:
    command = BookTime(
        municipality=MUNICIPALITY, site=SITE, service="pas", starts_at=starts_at,
        citizen_name=f"Borger {phone}", phone=phone,
    )  # fmt: skip
    return service.app.book(command)


def erased(service: BookingService, booking: Booking) -> CitizenBookings | None:
    """The citizen aggregate, if the booking's citizen is erased."""
    assert booking.subject_id is not None
    citizen: CitizenBookings = service.app.repository.get(booking.subject_id)
    return citizen if citizen.erased else None


async def test_citizens_are_erased_the_retention_period_after_their_latest_appointment(
    booking_service: BookingService,
) -> None:
    app = booking_service.app

    def world() -> tuple[Booking, Booking]:
        seed_world(app)
        app.open_day(MUNICIPALITY, SITE, WEEK_LATER, HOURS.slots_on(WEEK_LATER))
        gudrun = book(booking_service, "+4520302001", FIRST_TIME)
        karen = book(booking_service, "+4520302002", later(15))
        moved_to = FIRST_TIME + timedelta(days=7)  # Karen's latest appointment moves on
        app.reschedule(RescheduleBooking(booking_id=karen.id, starts_at=moved_to))
        return gudrun, karen

    gudrun, karen = await asyncio.to_thread(world)
    clock = Clock(FIRST_TIME + RETENTION - timedelta(hours=1))
    app.clock = clock
    runner = ErasureRunner(app, booking_service.pool, RETENTION, clock=clock)
    assert await runner.tick() == 0

    clock.now = FIRST_TIME + RETENTION + timedelta(hours=1)
    assert await runner.tick() == 1
    assert await asyncio.to_thread(erased, booking_service, gudrun) is not None
    assert await asyncio.to_thread(app.details_of, gudrun) is None
    assert await asyncio.to_thread(erased, booking_service, karen) is None
    assert await runner.tick() == 0  # nothing left to do; erasing is not repeated

    clock.now = FIRST_TIME + timedelta(days=7) + RETENTION + timedelta(hours=1)
    assert await runner.tick() == 1
    assert await asyncio.to_thread(app.details_of, karen) is None
    (*_, last) = await asyncio.to_thread(lambda: list(app.events.get(karen.subject_id)))
    assert (last.reason, last.by) == (ErasureReason.retention.value, "retention")  # type: ignore[attr-defined]


async def test_an_erasure_cut_short_is_finished_by_the_next_round(
    booking_service: BookingService,
) -> None:
    app = booking_service.app

    def world() -> Booking:
        seed_world(app)
        return book(booking_service, "+4520302003", FIRST_TIME)

    ole = await asyncio.to_thread(world)
    assert ole.subject_id is not None
    clock = Clock(FIRST_TIME + timedelta(days=1))
    app.clock = clock
    # Staff asked; the process stopped after marking the key and before deleting it.
    await asyncio.to_thread(app.personal_data.request_erasure, ole.subject_id, "lone", clock.now)
    runner = ErasureRunner(app, booking_service.pool, retention=None, clock=clock)
    assert await runner.tick() == 1
    (*_, last) = await asyncio.to_thread(lambda: list(app.events.get(ole.subject_id)))
    assert (last.reason, last.by) == (ErasureReason.requested.value, "lone")  # type: ignore[attr-defined]
    reason = await booking_service.pool.fetchval(
        "SELECT reason FROM personal_data_erased WHERE subject_id = $1", ole.subject_id
    )
    assert reason == "requested"
    assert (
        await booking_service.pool.fetchval(
            "SELECT count(*) FROM personal_data_key WHERE subject_id = $1",
            UUID(str(ole.subject_id)),
        )
        == 0
    )


async def test_automatic_erasure_waits_for_a_booking_still_to_come(
    booking_service: BookingService,
) -> None:
    app = booking_service.app

    def world() -> Booking:
        seed_world(app)
        return book(booking_service, "+4520302004", FIRST_TIME)

    mette = await asyncio.to_thread(world)
    assert mette.subject_id is not None
    # The row says her latest appointment is long past (as after a move the job never saw),
    # but the booking is still to come: the job leaves her and counts retention from now.
    await booking_service.pool.execute(
        "UPDATE personal_data_key SET last_appointment_at = $1 WHERE subject_id = $2",
        FIRST_TIME - timedelta(days=400), mette.subject_id,
    )  # fmt: skip
    clock = Clock(FIRST_TIME - timedelta(days=1))
    app.clock = clock
    runner = ErasureRunner(app, booking_service.pool, RETENTION, clock=clock)
    assert await runner.tick() == 0
    assert await asyncio.to_thread(app.details_of, mette) is not None
    retained_from = await booking_service.pool.fetchval(
        "SELECT last_appointment_at FROM personal_data_key WHERE subject_id = $1", mette.subject_id
    )
    assert retained_from == clock.now
