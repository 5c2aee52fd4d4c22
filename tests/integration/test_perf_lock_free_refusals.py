"""Refusing a full time without the day's lock, with booking applications in two processes on
one event store: a refusal is only ever given on the day as stored at that moment, so a seat
the other process frees is booked at once, and a rush from both books every seat exactly once."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import psycopg

from services.booking.application import BookingApplication
from services.booking.commands import BookTime, CancelBooking
from services.booking.domain.errors import SlotFull
from services.booking.settings import BookingSettings
from tests.booking_world import DAY, FIRST_TIME, MUNICIPALITY, SITE, later, seed_world


def book_command(phone: str, minutes: int = 0) -> BookTime:
    return BookTime(
        municipality=MUNICIPALITY, site=SITE, service="pas", starts_at=later(minutes),
        citizen_name="Karen Jensen", phone=phone,
    )  # fmt: skip


@contextmanager
def two_processes(database_url: str) -> Iterator[tuple[BookingApplication, BookingApplication]]:
    env = BookingSettings(database_url=database_url).eventsourcing_env()
    ours, theirs = BookingApplication(env), BookingApplication(env)
    try:
        yield ours, theirs
    finally:
        ours.close()
        theirs.close()


def refused(app: BookingApplication, command: BookTime) -> bool:
    try:
        app.book(command)
    except SlotFull:
        return True
    return False


async def test_a_seat_the_other_process_frees_is_booked_at_once(database_url: str) -> None:
    def scenario() -> None:
        with two_processes(database_url) as (ours, theirs):
            seed_world(ours, seats=1)
            taken = theirs.book(book_command("+4520300001"))
            assert refused(ours, book_command("+4520300002"))
            assert refused(ours, book_command("+4520300003"))  # from our kept copy of the day
            theirs.cancel(CancelBooking(booking_id=taken.id))
            assert ours.book(book_command("+4520300003")).starts_at == FIRST_TIME
            assert refused(ours, book_command("+4520300004"))
            offered = ours.free_times_after_refusal(MUNICIPALITY, SITE, DAY, "pas")
            assert offered is not None and FIRST_TIME not in [a.starts_at for a in offered]

    await asyncio.to_thread(scenario)


async def test_a_rush_from_two_processes_books_every_seat_once(database_url: str) -> None:
    def scenario() -> None:
        with two_processes(database_url) as (ours, theirs):
            seed_world(ours, seats=5)  # 4 times of 5 seats
            attempts = [
                ((ours, theirs)[i % 2], book_command(f"+452031{i:04d}", 15 * (i % 4)))
                for i in range(200)
            ]
            with ThreadPoolExecutor(8) as threads:
                outcomes = list(threads.map(lambda a: refused(*a), attempts))
            assert outcomes.count(False) == 20
            for app in (ours, theirs):
                day = app.get_site_day(MUNICIPALITY, SITE, DAY)
                assert sum(len(slot.holders) for slot in day.slots.values()) == 20
                assert all(slot.seats_left == 0 for slot in day.slots.values())

    await asyncio.to_thread(scenario)


async def test_refusals_go_on_after_the_database_ended_every_connection(
    database_url: str,
) -> None:
    def scenario() -> None:
        with two_processes(database_url) as (ours, _):
            seed_world(ours, seats=1)
            ours.book(book_command("+4520300001"))
            assert refused(ours, book_command("+4520300002"))
            with psycopg.connect(database_url, autocommit=True) as connection:
                connection.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            assert refused(ours, book_command("+4520300003"))

    await asyncio.to_thread(scenario)
