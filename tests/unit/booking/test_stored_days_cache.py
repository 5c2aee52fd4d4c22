"""A time that is full as stored is refused without queueing on its day's lock, from a kept
copy of the day that the store confirms is current; the alternatives a refusal offers come
from that copy (in-memory store, cache on)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta
from uuid import UUID, uuid4

import pytest
from eventsourcing.persistence import StoredEvent

from services.booking.application import BookingApplication
from services.booking.application.stored_days import GroupRead
from services.booking.commands import BookTime, CancelBooking
from services.booking.domain.citizen import OverLimit
from services.booking.domain.errors import SlotFull
from services.booking.domain.opening_hours import COPENHAGEN, OpeningHours
from services.booking.domain.schedule import SiteDay

M, SITE = "slagelse", "korsoer"
MONDAY = date(2030, 3, 4)
HOURS = OpeningHours.parse({"mon": "10:00-11:00"}, 15, 1, ["pas"])


def at(minutes: int) -> datetime:
    return datetime.combine(MONDAY, datetime.min.time(), COPENHAGEN) + timedelta(
        hours=10, minutes=minutes
    )


class PausingClock:
    """Now; but the first reading after `pause_next` waits until `resume` is set, so the
    command reading it holds its day's lock meanwhile."""

    def __init__(self) -> None:
        self.now = datetime(2030, 3, 1, 8, 0, tzinfo=COPENHAGEN)
        self.paused = threading.Event()
        self.resume = threading.Event()
        self._pause = False

    def pause_next(self) -> None:
        self._pause = True

    def __call__(self) -> datetime:
        if self._pause:
            self._pause = False
            self.paused.set()
            assert self.resume.wait(10)
        return self.now


@pytest.fixture
def clock() -> PausingClock:
    return PausingClock()


@pytest.fixture
def app(clock: PausingClock) -> Iterator[BookingApplication]:
    application = BookingApplication(env={"AGGREGATE_CACHE_MAXSIZE": "100"}, clock=clock)
    application.register_municipality(
        M, "Slagelse Kommune", 7,
        [{"id": SITE, "name": "Borgerservice Korsør", "address": "Caspar Brands Plads 7"}],
        [{"id": "pas", "name": "Pas", "duration_minutes": 15, "documents": ["Gammelt pas"]}],
        active_bookings_limit=1,
    )  # fmt: skip
    application.open_day(M, SITE, MONDAY, HOURS.slots_on(MONDAY))
    yield application
    application.close()


def command(starts_at: datetime, phone: str) -> BookTime:
    return BookTime(
        municipality=M, site=SITE, service="pas", starts_at=starts_at,
        citizen_name="Karen Jensen", phone=phone,
    )  # fmt: skip


def free_minutes(app: BookingApplication) -> list[int]:
    found = app.free_times_after_refusal(M, SITE, MONDAY, "pas")
    assert found is not None
    return [int((s.starts_at - at(0)).total_seconds() // 60) for s in found]


def test_a_full_time_is_refused_while_another_command_holds_its_day(
    app: BookingApplication, clock: PausingClock
) -> None:
    app.book(command(at(0), "+4520300001"))
    with pytest.raises(SlotFull):  # the refusal that keeps a copy of the day
        app.book(command(at(0), "+4520300002"))
    clock.pause_next()
    other = threading.Thread(target=app.book, args=(command(at(15), "+4520300003"),))
    other.start()
    try:
        assert clock.paused.wait(10)  # it holds Monday's lock now
        with ThreadPoolExecutor(1) as attempt:
            refused = attempt.submit(app.book, command(at(0), "+4520300004"))
            assert isinstance(refused.exception(timeout=5), SlotFull)
    finally:
        clock.resume.set()
        other.join(10)
    assert app.get_site_day(M, SITE, MONDAY).slot(at(15)).seats_left == 0


def test_a_seat_freed_after_a_refusal_is_booked(app: BookingApplication) -> None:
    first = app.book(command(at(0), "+4520300001"))
    with pytest.raises(SlotFull):
        app.book(command(at(0), "+4520300002"))
    app.cancel(CancelBooking(booking_id=first.id))
    assert app.book(command(at(0), "+4520300002")).starts_at == at(0)
    with pytest.raises(SlotFull):
        app.book(command(at(0), "+4520300003"))


def test_the_alternatives_of_a_refusal_are_the_free_times_as_stored_then(
    app: BookingApplication,
) -> None:
    app.book(command(at(0), "+4520300001"))
    with pytest.raises(SlotFull):
        app.book(command(at(0), "+4520300002"))
    assert free_minutes(app) == [15, 30, 45]
    app.book(command(at(30), "+4520300003"))
    with pytest.raises(SlotFull):
        app.book(command(at(30), "+4520300004"))  # seen by this refusal, without the lock
    assert free_minutes(app) == [15, 45]
    assert free_minutes(app) == [
        int((s.starts_at - at(0)).total_seconds() // 60)
        for s in app.free_times_on(M, SITE, MONDAY, "pas")
    ]


def test_a_refusal_after_changing_the_day_offers_nothing_from_memory(
    app: BookingApplication,
) -> None:
    app.book(command(at(0), "+4520300001"))
    with pytest.raises(SlotFull):
        app.book(command(at(0), "+4520300002"))
    assert app.free_times_after_refusal(M, SITE, MONDAY, "pas") is not None
    # The seat is taken on the cached day before the citizen's limit refuses the booking: the
    # kept copy may predate this refusal, so alternatives must read the store.
    with pytest.raises(OverLimit):
        app.book(command(at(15), "+4520300001"))
    assert app.free_times_after_refusal(M, SITE, MONDAY, "pas") is None
    assert [s.starts_at for s in app.free_times_on(M, SITE, MONDAY, "pas")] == [
        at(15), at(30), at(45)
    ]  # fmt: skip


def stored(aggregate_id: UUID, version: int) -> StoredEvent:
    return StoredEvent(aggregate_id, version, "topic", b"")


def test_questions_asked_during_a_query_share_the_next_one() -> None:
    """Each answer comes from a query begun after its question: one asked while a query runs
    waits for the next, which answers every question asked meanwhile."""
    day, other = SiteDay.create_id(M, SITE, MONDAY), uuid4()
    queries: list[dict[UUID, int]] = []
    first_running, finish_first = threading.Event(), threading.Event()
    recorded = {day: 3, other: 7}  # the latest version stored of each

    def select(after: dict[UUID, int]) -> dict[UUID, list[StoredEvent]]:
        queries.append(dict(after))
        found = {  # what is stored when the query begins
            i: [stored(i, v) for v in range(version + 1, recorded[i] + 1)]
            for i, version in after.items()
        }
        if len(queries) == 1:
            first_running.set()
            assert finish_first.wait(10)
        return found

    read = GroupRead(select)
    answers: dict[str, list[int]] = {}

    def ask(name: str, aggregate_id: UUID, version: int) -> None:
        answers[name] = [e.originator_version for e in read.newer(aggregate_id, version)]

    first = threading.Thread(target=ask, args=("first", day, 3))
    first.start()
    assert first_running.wait(10)
    recorded[day] = 5  # stored while the first query runs: the later questions must see it
    later = [
        threading.Thread(target=ask, args=("second", day, 3)),
        threading.Thread(target=ask, args=("third", day, 4)),
        threading.Thread(target=ask, args=("fourth", other, 6)),
    ]
    for thread in later:
        thread.start()
    while len(read._queued.after) < 2:  # all three are waiting for the next query
        time.sleep(0.001)
    finish_first.set()
    for thread in (first, *later):
        thread.join(10)
    assert answers == {"first": [], "second": [4, 5], "third": [5], "fourth": [7]}
    assert len(queries) == 2 and queries[1] == {day: 3, other: 6}
