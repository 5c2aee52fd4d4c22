"""Two booking applications on one event store, each serving site days from its own cache: a
save that loses the race to the other must leave nothing of itself in the loser's cache, or it
would later count seats that were never saved and overbook.

A booking decides on its cached site day without asking the store first (the save checks the
day's version), and on its cached municipality if the store confirmed it within the last
second. What that must never cost: a seat booked twice, a booking refused on a copy the other
instance has changed, or a citizen's limit of active bookings skipped."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

import psycopg
import pytest

from services.booking.application import BookingApplication
from services.booking.application import base as application_base
from services.booking.commands import BookTime, CancelBooking, HoldTime
from services.booking.domain.citizen import OverLimit
from services.booking.domain.errors import SlotFull
from services.booking.settings import BookingSettings
from tests.booking_world import DAY, FIRST_TIME, HOURS, MUNICIPALITY, SITE, seed_world


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


def book_command(phone: str, site: str = SITE, starts_at: datetime = FIRST_TIME) -> BookTime:
    return BookTime(
        municipality=MUNICIPALITY, site=site, service="pas", starts_at=starts_at,
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


async def test_a_seat_taken_by_another_instance_after_we_cached_the_day_is_not_booked_twice(
    database_url: str, clock: InterferingClock
) -> None:
    """Unlike the race above, our copy is stale before the command begins: no read of the
    store tells us, the save's version check does."""

    def scenario() -> None:
        with two_processes(database_url, clock) as (ours, theirs):
            seed_world(ours, seats=2)
            ours.book(book_command("+4520300001"))  # the day is in our cache, as stored
            theirs.book(book_command("+4520300002"))  # our copy is now stale
            with pytest.raises(SlotFull):
                ours.book(book_command("+4520300003"))
            slot = ours.get_site_day(MUNICIPALITY, SITE, DAY).slot(FIRST_TIME)
            assert len(slot.holders) == 2 and slot.seats_left == 0

    await asyncio.to_thread(scenario)


async def test_a_time_full_in_our_stale_copy_but_freed_by_another_instance_is_booked(
    database_url: str, clock: InterferingClock
) -> None:
    """Without deciding again on the stored day, our copy would refuse the freed seat."""

    def scenario() -> None:
        with two_processes(database_url, clock) as (ours, theirs):
            seed_world(ours, seats=1)
            first = ours.book(book_command("+4520300001"))  # full, in our cache
            theirs.cancel(CancelBooking(booking_id=first.id))
            booked = ours.book(book_command("+4520300002"))
            slot = theirs.get_site_day(MUNICIPALITY, SITE, DAY).slot(FIRST_TIME)
            assert list(slot.holders) == [str(booked.id)]

    await asyncio.to_thread(scenario)


async def test_a_site_another_instance_just_added_can_be_booked_at_once(
    database_url: str, clock: InterferingClock
) -> None:
    """Our municipality was confirmed less than a second ago, so it is trusted: a refusal for
    a site it does not know is decided again on the stored one."""

    def scenario() -> None:
        with two_processes(database_url, clock) as (ours, theirs):
            seed_world(ours, seats=2)
            ours.book(book_command("+4520300001"))
            site = {"id": "skaelskoer", "name": "Borgerservice Skælskør", "address": "Torvet 1"}
            theirs.configure_site(MUNICIPALITY, site, by="mette")
            theirs.open_day(MUNICIPALITY, "skaelskoer", DAY, HOURS.slots_on(DAY))
            booked = ours.book(book_command("+4520300002", site="skaelskoer"))
            assert booked.site == "skaelskoer"

    await asyncio.to_thread(scenario)


async def test_a_change_by_another_instance_reaches_our_bookings_within_the_trusted_time(
    database_url: str, clock: InterferingClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A change that refuses nothing (here: a longer visit for the service) is used by our
    bookings once the trusted time has passed."""
    monkeypatch.setattr(application_base, "TRUSTED_FOR_SECONDS", 0.2)

    def scenario() -> None:
        with two_processes(database_url, clock) as (ours, theirs):
            seed_world(ours, seats=2)
            first = ours.book(book_command("+4520300001"))
            assert first.ends_at == FIRST_TIME + timedelta(minutes=15)
            longer = {"id": "pas", "name": "Pas", "duration_minutes": 45, "documents": []}
            theirs.configure_service(MUNICIPALITY, longer, by="mette")
            time.sleep(0.3)
            booked = ours.book(book_command("+4520300002"))
            assert booked.ends_at == FIRST_TIME + timedelta(minutes=45)

    await asyncio.to_thread(scenario)


async def test_a_returning_citizen_is_counted_whichever_instance_booked_before(
    database_url: str, clock: InterferingClock
) -> None:
    """Only a citizen whose key was created by this very booking skips reading their earlier
    bookings: a key another instance created means bookings to count."""

    def scenario() -> None:
        with two_processes(database_url, clock) as (ours, theirs):
            seed_world(ours, seats=2)
            ours.book(book_command("+4520300001"))
            theirs.book(book_command("+4520300001", starts_at=FIRST_TIME + timedelta(minutes=15)))
            with pytest.raises(OverLimit, match="at most 2"):
                ours.book(book_command("+4520300001", starts_at=FIRST_TIME + timedelta(minutes=30)))

    await asyncio.to_thread(scenario)
