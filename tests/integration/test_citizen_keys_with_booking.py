"""A new citizen's key is inserted in the same transaction as their first booking, without
asking the database first: the process guesses "new" for a phone number it has not seen, and
the unique lookup in `personal_data_key` decides. What that must never cost: a second key for
a returning citizen, a key without its booking, or a booking without its key."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import psycopg
import pytest
from eventsourcing.persistence import IntegrityError, StoredEvent

from infra.personal_data_keys import NewKey, PostgresKeys
from services.booking.adapters.event_store import NEW_KEYS, BookingRecorder, is_known_citizen
from services.booking.application import BookingApplication
from services.booking.commands import BookTime
from services.booking.domain.booking import Booking
from services.booking.domain.citizen import CitizenBookings
from services.booking.settings import BookingSettings
from tests.booking_world import FIRST_TIME, MUNICIPALITY, SITE, later, seed_world

pytestmark = pytest.mark.usefixtures("database_url")


@contextmanager
def two_instances(database_url: str) -> Iterator[tuple[BookingApplication, BookingApplication]]:
    env = BookingSettings(database_url=database_url).eventsourcing_env()
    apps = (BookingApplication(env), BookingApplication(env))
    try:
        yield apps
    finally:
        for app in apps:
            app.close()


def book(phone: str, starts_at: datetime = FIRST_TIME) -> BookTime:
    return BookTime(
        municipality=MUNICIPALITY, site=SITE, service="pas", starts_at=starts_at,
        citizen_name="Karen Jensen", phone=phone,
    )  # fmt: skip


def key_rows(database_url: str) -> int:
    with psycopg.connect(database_url) as connection:
        row = connection.execute("SELECT count(*) FROM personal_data_key").fetchone()
        assert row is not None
        return int(row[0])


async def test_a_citizen_known_only_to_another_instance_keeps_their_one_key(
    database_url: str,
) -> None:
    with two_instances(database_url) as (first, second):
        seed_world(first, seats=4)
        earlier = first.book(book("+4520304050"))
        # `second` has never seen this phone number: it guesses "new", is refused by the
        # database, and decides again with the key the first booking made.
        again = second.book(book("+4520304050", later(15)))

        assert again.subject_id is not None and again.subject_id == earlier.subject_id
        assert key_rows(database_url) == 1
        details = second.details_of(again)
        assert details is not None and details.phone == "+4520304050"
        citizen: CitizenBookings = second.repository.get(again.subject_id)
        assert set(citizen.bookings) == {str(earlier.id), str(again.id)}
        # Now known here: the next booking asks for the key instead of guessing.
        assert isinstance(second.personal_data, PostgresKeys)
        assert second.personal_data.candidate(MUNICIPALITY, "+4520304050", later(30)) is None


async def test_new_citizens_booking_together_with_a_returning_one_all_get_their_times(
    database_url: str,
) -> None:
    with two_instances(database_url) as (first, second):
        seed_world(first, seats=5)  # four times of five seats
        returning = first.book(book("+4520300000"))
        phones = ["+4520300000", *(f"+45203001{n:02}" for n in range(15))]
        booked: dict[str, Booking] = {}
        failures: list[BaseException] = []

        def citizen(index: int, phone: str) -> None:
            try:
                booked[phone] = second.book(book(phone, later(15 * (index // 4))))
            except BaseException as error:
                failures.append(error)

        threads = [threading.Thread(target=citizen, args=item) for item in enumerate(phones)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        assert failures == []
        assert len(booked) == len(phones)
        assert booked["+4520300000"].subject_id == returning.subject_id
        assert key_rows(database_url) == len(phones)


def test_the_key_row_is_stored_exactly_when_its_events_are(database_url: str) -> None:
    env = BookingSettings(database_url=database_url).eventsourcing_env()
    app = BookingApplication(env)
    try:
        keys = app.personal_data
        assert isinstance(keys, PostgresKeys) and isinstance(app.recorder, BookingRecorder)
        recorder = app.recorder
        now = datetime.now(UTC)

        def key(phone: str) -> NewKey:
            guess = keys.candidate(MUNICIPALITY, phone, now + timedelta(days=1))
            assert guess is not None
            return guess[1]

        def event(originator: UUID) -> StoredEvent:
            return StoredEvent(originator_id=originator, originator_version=1,
                               topic="bench:Event", state=b"{}")  # fmt: skip

        taken = uuid4()
        recorder.insert_events([event(taken)])
        # The events conflict (a version already stored): the key row goes with them.
        lost = key("+4520300001")
        with pytest.raises(IntegrityError) as refused:
            recorder.insert_events([event(taken)], **{NEW_KEYS: [lost]})
        assert not is_known_citizen(refused.value)
        assert keys.subject(lost.subject_id) is None

        first = key("+4520300002")
        recorder.insert_events([event(uuid4())], **{NEW_KEYS: [first]})
        assert keys.subject(first.subject_id) is not None
        # The same phone number again, as a new key: refused, and its events not stored.
        second, orphan = key("+4520300002"), uuid4()
        with pytest.raises(IntegrityError) as known:
            recorder.insert_events([event(orphan)], **{NEW_KEYS: [second]})
        assert is_known_citizen(known.value)
        assert recorder.select_events(orphan) == []
        assert keys.subject(second.subject_id) is None
    finally:
        app.close()
