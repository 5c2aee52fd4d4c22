"""The event store and what every command shares: reading aggregates, serialising commands on
the same site day, and retrying a save that lost an optimistic-concurrency race."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import JSONTranscoder, RecordConflictError, Transcoding

from services.booking.domain.booking import Booking
from services.booking.domain.errors import Conflict, NotFound
from services.booking.domain.municipality import Municipality
from services.booking.domain.opening_hours import COPENHAGEN
from services.booking.domain.schedule import SiteDay, Slot

T = TypeVar("T")
CONFLICT_RETRIES = 20
LOCK_STRIPES = 256


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


def now() -> datetime:
    return datetime.now(UTC)


def local_date(moment: datetime) -> date:
    """The Danish calendar day of a moment: site days are Copenhagen days."""
    return moment.astimezone(COPENHAGEN).date()


class BookingStore(Application[UUID]):
    name = "booking"

    def __init__(
        self,
        env: dict[str, str],
        clock: Callable[[], datetime] = now,
        hold_ttl: timedelta = timedelta(minutes=5),
        offer_ttl: timedelta = timedelta(hours=2),
    ) -> None:
        super().__init__(env=env)
        self.clock = clock
        self.hold_ttl = hold_ttl  # a citizen's hold while entering their details
        self.offer_ttl = offer_ttl  # how long a waitlist offer is held for the citizen
        # Commands on the same site day queue here instead of racing to a version conflict;
        # across processes, optimistic concurrency still decides and the loser retries.
        self._stripes = [threading.Lock() for _ in range(LOCK_STRIPES)]

    @contextmanager
    def _serialised(self, *aggregate_ids: UUID) -> Iterator[None]:
        stripes = sorted({aggregate_id.int % LOCK_STRIPES for aggregate_id in aggregate_ids})
        with ExitStack() as held:
            for stripe in stripes:  # always in the same order, so never a deadlock
                held.enter_context(self._stripes[stripe])
            yield

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())

    # queries

    def get_municipality(self, municipality: str) -> Municipality:
        try:
            found: Municipality = self.repository.get(Municipality.create_id(municipality))
        except AggregateNotFoundError:
            raise NotFound(f"unknown municipality {municipality!r}") from None
        return found

    def get_booking(self, booking_id: UUID) -> Booking:
        try:
            found: Booking = self.repository.get(booking_id)
        except AggregateNotFoundError:
            raise NotFound(f"no booking {booking_id}") from None
        if not isinstance(found, Booking):
            raise NotFound(f"no booking {booking_id}")
        return found

    def _site_day_by_id(self, day_id: UUID) -> SiteDay | None:
        try:
            found: object = self.repository.get(day_id)
        except AggregateNotFoundError:
            return None
        return found if isinstance(found, SiteDay) else None

    def get_site_day(self, municipality: str, site: str, day: date) -> SiteDay:
        try:
            found: SiteDay = self.repository.get(SiteDay.create_id(municipality, site, day))
        except AggregateNotFoundError:
            raise NotFound(f"{site} has no bookable times on {day}") from None
        return found

    def free_times_on(self, municipality: str, site: str, day: date, service: str) -> list[Slot]:
        """The free times of one site day, from the aggregate itself: never stale."""
        try:
            return self.get_site_day(municipality, site, day).free_times(service)
        except NotFound:
            return []

    def get_booking_of(self, municipality: str, booking_id: UUID) -> Booking:
        """A booking, only if it belongs to `municipality` (otherwise as if it did not exist)."""
        booking = self.get_booking(booking_id)
        if booking.municipality != municipality:
            raise NotFound(f"no booking {booking_id}")
        return booking

    def _retry_conflicts(self, attempt: Callable[[], T]) -> T:
        for _ in range(CONFLICT_RETRIES):
            try:
                return attempt()
            except RecordConflictError:
                continue  # another command saved first; decide again on the fresh state
        raise Conflict("too many concurrent changes; try again")
