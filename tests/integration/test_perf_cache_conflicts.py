"""Two booking applications on one event store, each serving site days from its own cache: a
save that loses the race to the other must leave nothing of itself in the loser's cache, or it
would later count seats that were never saved and overbook."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime

import psycopg
import pytest

from services.booking.application import BookingApplication
from services.booking.commands import BookTime, HoldTime
from services.booking.domain.errors import SlotFull
from services.booking.settings import BookingSettings
from tests.booking_world import DAY, FIRST_TIME, MUNICIPALITY, SITE, seed_world


class InterferingClock:
    """Now, but the first time it is read after `interfere`, another process acts first."""

    def __init__(self) -> None:
        self.now = datetime(2030, 3, 1, 8, 0, tzinfo=FIRST_TIME.tzinfo)
        self.interference: Callable[[], object] | None = None

    def __call__(self) -> datetime:
        act, self.interference = self.interference, None
        if act is not None:
            act()
        return self.now


def book_command(phone: str) -> BookTime:
    return BookTime(
        municipality=MUNICIPALITY, site=SITE, service="pas", starts_at=FIRST_TIME,
        citizen_name="Karen Jensen", phone=phone,
    )  # fmt: skip


@contextmanager
def two_processes(
    database_url: str, clock: InterferingClock
) -> Iterator[tuple[BookingApplication, ...]]:
    env = BookingSettings(database_url=database_url).eventsourcing_env()
    apps = (BookingApplication(env, clock=clock), BookingApplication(env))
    try:
        yield apps
    finally:
        for app in apps:
            app.close()


@pytest.fixture
def clock() -> InterferingClock:
    return InterferingClock()


async def test_a_hold_that_lost_the_race_is_decided_again_on_the_stored_day(
    database_url: str, clock: InterferingClock
) -> None:
    def scenario() -> None:
        with two_processes(database_url, clock) as (ours, theirs):
            seed_world(ours, seats=2)
            ours.get_site_day(MUNICIPALITY, SITE, DAY)  # now in our cache
            # Between our reading the day and saving our hold, the other books a seat.
            clock.interference = lambda: theirs.book(book_command("+4520300001"))
            hold_id, _ = ours.hold(
                HoldTime(municipality=MUNICIPALITY, site=SITE, service="pas", starts_at=FIRST_TIME)
            )
            slot = ours.get_site_day(MUNICIPALITY, SITE, DAY).slot(FIRST_TIME)
            assert len(slot.holders) == 1 and set(slot.holds) == {hold_id}
            assert slot.seats_left == 0
            with pytest.raises(SlotFull):  # two seats: theirs and our hold; none for a third
                ours.book(book_command("+4520300002"))
            stored = theirs.get_site_day(MUNICIPALITY, SITE, DAY)
            assert stored.version == ours.get_site_day(MUNICIPALITY, SITE, DAY).version

    await asyncio.to_thread(scenario)


async def test_a_seat_another_process_just_took_is_not_booked_twice(
    database_url: str, clock: InterferingClock
) -> None:
    def scenario() -> None:
        with two_processes(database_url, clock) as (ours, theirs):
            seed_world(ours, seats=1)
            ours.get_site_day(MUNICIPALITY, SITE, DAY)
            clock.interference = lambda: theirs.book(book_command("+4520300001"))
            with pytest.raises(SlotFull):
                ours.book(book_command("+4520300002"))
            slot = ours.get_site_day(MUNICIPALITY, SITE, DAY).slot(FIRST_TIME)
            assert len(slot.holders) == 1 and slot.seats_left == 0

    await asyncio.to_thread(scenario)


async def test_commands_go_on_after_the_database_ended_every_connection(
    database_url: str,
) -> None:
    """No ping before each use of a pooled connection: a dead one fails, and is retried."""

    def scenario() -> None:
        with two_processes(database_url, InterferingClock()) as (ours, _):
            seed_world(ours, seats=2)
            ours.book(book_command("+4520300001"))
            with psycopg.connect(database_url, autocommit=True) as connection:
                connection.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            ours.book(book_command("+4520300002"))
            assert ours.get_site_day(MUNICIPALITY, SITE, DAY).slot(FIRST_TIME).seats_left == 0

    await asyncio.to_thread(scenario)
