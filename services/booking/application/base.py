"""The event store and what every command shares: reading aggregates, serialising commands on
the same site day, and retrying a save that lost an optimistic-concurrency race.

Site days, the hot aggregates, are changed in place in the aggregate cache instead of being
copied on every read. That is safe because of two rules kept here:
- a site day is only read while its lock stripe is held: a command changing it holds the stripe
  from read to save, a query holds it while it copies what it returns;
- a site day changed but not saved (the command failed, its save conflicted or raised, or it
  decided not to save) is evicted from the cache, so the next read rebuilds it from the store
  and no seat that was never saved is ever counted.

A booking does not ask the store whether its cached site day is current before deciding: it
saves the day, and a stale copy fails that save (optimistic concurrency), after which the
attempt is made again on the day as stored. A refusal decided on such an unconfirmed copy is
not given until the attempt is made again on confirmed ones (`_read_together`).

A rush on one day would queue every attempt on that day's lock. So a copy of each contended
day as stored is kept (`stored_days`), and an attempt at a time full as stored now is refused
without the lock: the answer the locked path would give at that moment. A refusal does not
evict a day it did not change, and keeps a copy of it for the alternatives it offers.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager, suppress
from copy import deepcopy
from datetime import UTC, date, datetime, timedelta
from typing import Any, ClassVar, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import JSONTranscoder, RecordConflictError, Recording, Transcoding
from eventsourcing.utils import get_topic

from services.booking.adapters.event_store import NEW_KEYS, BookingRecorder
from services.booking.adapters.wire import check_publishable
from services.booking.application.group_commit import GroupCommit
from services.booking.application.stored_days import GroupRead, StoredDays, select_newer
from services.booking.domain.booking import Booking
from services.booking.domain.errors import BookingError, Conflict, NotFound, SlotFull
from services.booking.domain.municipality import Municipality
from services.booking.domain.opening_hours import COPENHAGEN
from services.booking.domain.schedule import SiteDay, Slot

T = TypeVar("T")
CONFLICT_RETRIES = 20
LOCK_STRIPES = 256
STORED_DAYS_KEPT = 1_000  # copies of contended site days for lock-free refusals
# How long an aggregate a booking reads but does not change (its municipality) is trusted
# after the store last confirmed it current: a change made by another instance reaches this
# one's bookings within this time.
TRUSTED_FOR_SECONDS = 1.0


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


def _full(day: SiteDay, starts_at: datetime, service: str, holder: str) -> bool:
    """Whether `day` shows the time as full for `service`, and not held by `holder` (who is
    told so by the locked path instead)."""
    slot = day.slots.get(starts_at)
    if slot is None or slot.closed or slot.seats_left > 0 or service not in slot.services:
        return False
    return holder not in slot.holders and holder not in slot.acute_holders


def stripe_of(aggregate_id: UUID) -> int:
    return aggregate_id.int % LOCK_STRIPES


class _Unlocked(Exception):
    """A command reached a site day whose stripe it does not hold: it starts again holding it."""

    def __init__(self, day_id: UUID) -> None:
        super().__init__(f"site day {day_id} read without its lock")
        self.day_id = day_id


class _Held(threading.local):
    """What the current thread holds: its lock stripes, the cached site days it was given, the
    cached aggregates taken as current in this attempt (`_read_together`), whether any of them
    was trusted without asking the store, and whether this command asks it for every one."""

    def __init__(self) -> None:
        self.stripes: list[int] = []
        self.days: list[SiteDay] = []
        self.current: set[UUID] = set()
        self.trusted = False
        self.confirm = False


class BookingStore(Application[UUID]):
    name = "booking"
    # On PostgreSQL, the library's recorder with its statements composed once.
    env: ClassVar[dict[str, str]] = {"APPLICATION_RECORDER_TOPIC": get_topic(BookingRecorder)}

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
        self._held = _Held()
        self._newer_events = GroupRead(select_newer(self.recorder))
        self._stored_days = StoredDays(self._newer_events, self.mapper, STORED_DAYS_KEPT)
        self._group_commit = GroupCommit(super()._record)
        # Aggregates read but not saved (municipalities) -> when the store last confirmed them.
        self._confirmed: dict[UUID, float] = {}

    @contextmanager
    def _serialised(self, *day_ids: UUID) -> Iterator[None]:
        """Holds the stripes of `day_ids` (and of any other site day the command turns out to
        change, see `_retry_conflicts`) until the block ends."""
        if self._held.stripes:
            raise RuntimeError("commands do not nest")
        self._lock({stripe_of(day_id) for day_id in day_ids})
        try:
            yield
        except BaseException:
            self._settle(failed=True)
            raise
        else:
            self._settle(failed=False)
        finally:
            self._unlock()

    def _lock(self, stripes: set[int]) -> None:
        for stripe in sorted(stripes):  # always in the same order, so never a deadlock
            self._stripes[stripe].acquire()
            self._held.stripes.append(stripe)

    def _unlock(self) -> None:
        while self._held.stripes:
            self._stripes[self._held.stripes.pop()].release()

    def _settle(self, *, failed: bool, refused: bool = False) -> None:
        """Evicts the cached site days this thread was given that may differ from the store:
        all of them after a failure, otherwise those changed and not saved. A command the
        domain refused leaves the days it did not change as stored: a copy is kept of them,
        for the alternatives it offers (`free_times_after_refusal`)."""
        days, self._held.days = self._held.days, []
        self._held.current.clear()
        for day in days:
            if failed or day.pending_events:
                self._evict(day.id)
            elif refused:
                self._stored_days.keep(day)

    def _evict(self, aggregate_id: UUID) -> None:
        if self.repository.cache is not None:
            with suppress(KeyError):
                self.repository.cache.get(aggregate_id, evict=True)

    def save(self, *objs: Any, **kwargs: Any) -> list[Recording[UUID]]:
        """As the library's; a save that fails leaves none of its aggregates in the cache."""
        try:
            return super().save(*objs, **kwargs)
        except BaseException:
            for obj in objs:
                if isinstance(obj, Aggregate):
                    self._evict(obj.id)
            raise

    def _record(self, processing_event: ProcessingEvent[UUID]) -> list[Recording[UUID]]:
        """Concurrent commands' saves are written together (`group_commit`). An event the
        relay could not publish is refused before anything of its save is written."""
        for domain_event in processing_event.events:
            check_publishable(domain_event)
        if processing_event.tracking is not None or set(processing_event.saved_kwargs) - {NEW_KEYS}:
            return super()._record(processing_event)
        return self._group_commit.record(processing_event)

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())

    # queries

    def get_municipality(self, municipality: str, *, to_change: bool = False) -> Municipality:
        """The cached municipality itself, to read (only the library's fast-forward changes
        it: a command changing it asks for a copy, `to_change`)."""
        municipality_id = Municipality.create_id(municipality)
        current = None if to_change else self._current(municipality_id)
        if isinstance(current, Municipality):
            return current
        try:
            found: Municipality = self.repository.get(
                municipality_id, deepcopy_from_cache=to_change
            )
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
        """In a command holding its stripe: the cached day itself, to change and save.
        Otherwise (a query, or a command that serialises on no day): a copy, read under the
        stripe."""
        stripe = stripe_of(day_id)
        if stripe in self._held.stripes:
            found = self._cached_day(day_id)
            if found is not None:
                self._held.days.append(found)
            return found
        if self._held.stripes:
            raise _Unlocked(day_id)
        with self._stripes[stripe]:
            return deepcopy(self._cached_day(day_id))

    def _cached_day(self, day_id: UUID) -> SiteDay | None:
        found: object = self._current(day_id)
        if found is None:
            try:
                found = self.repository.get(day_id, deepcopy_from_cache=False)
            except AggregateNotFoundError:
                return None
        return found if isinstance(found, SiteDay) else None

    def _read_together(self, *aggregate_ids: UUID, saving: Collection[UUID] = ()) -> None:
        """Takes these cached aggregates (site days only under their stripe) as current for
        the rest of this attempt, instead of fast-forwarding them one by one:
        - those the attempt saves (`saving`) as they are: a stale copy fails the save, and
          the attempt is made again;
        - those the store confirmed current less than TRUSTED_FOR_SECONDS ago as they are;
        - the others once the store confirms it holds nothing newer, asked in one query shared
          with concurrent commands.
        An attempt that trusted a copy and is refused is made again asking about all of them
        (`_retry_conflicts`), so a refusal is never decided on a stale copy."""
        cache = self.repository.cache
        if cache is None:
            return
        asked = time.monotonic()
        cached = {}
        for aggregate_id in aggregate_ids:
            with suppress(KeyError):
                version = cache.get(aggregate_id).version
                confirmed = self._confirmed.get(aggregate_id, -TRUSTED_FOR_SECONDS)
                if not self._held.confirm and (
                    aggregate_id in saving or asked - confirmed < TRUSTED_FOR_SECONDS
                ):
                    self._held.current.add(aggregate_id)
                    self._held.trusted = True
                else:
                    cached[aggregate_id] = version
        newer = self._newer_events.newer_of(cached) if cached else {}
        for aggregate_id, events in newer.items():
            if not events:
                self._held.current.add(aggregate_id)
                if aggregate_id not in saving:  # only what is trusted by time is remembered
                    self._confirmed[aggregate_id] = asked

    def _current(self, aggregate_id: UUID) -> object | None:
        """The cached aggregate, if `_read_together` found it current in this attempt."""
        if aggregate_id not in self._held.current or self.repository.cache is None:
            return None
        try:
            return self.repository.cache.get(aggregate_id)
        except KeyError:
            return None

    def _refuse_when_full(
        self, municipality: str, site: str, service: str, starts_at: datetime, holder: str
    ) -> None:
        """Raises SlotFull, without waiting for the day's lock, when the locked path would:
        a known site and service, a time full as stored now, no hold of it that may have
        expired, not already `holder`'s. Otherwise returns, and the locked path decides.
        (Sites and services are only ever added, so the cached municipality suffices.)"""
        cached = self._cached_municipality(municipality)
        if cached is None or site not in cached.sites or service not in cached.services:
            return
        day = self._stored_days.now(SiteDay.create_id(municipality, site, local_date(starts_at)))
        if day is None or not _full(day, starts_at, service, holder):
            return
        now = self.clock()
        if starts_at > now and not day.slots[starts_at].expired_holds(now):
            raise SlotFull(starts_at.isoformat())

    def _cached_municipality(self, municipality: str) -> Municipality | None:
        if self.repository.cache is None:
            return None
        try:
            found: object = self.repository.cache.get(Municipality.create_id(municipality))
        except KeyError:
            return None
        return found if isinstance(found, Municipality) else None

    def get_site_day(self, municipality: str, site: str, day: date) -> SiteDay:
        found = self._site_day_by_id(SiteDay.create_id(municipality, site, day))
        if found is None:
            raise NotFound(f"{site} has no bookable times on {day}")
        return found

    def free_times_on(self, municipality: str, site: str, day: date, service: str) -> list[Slot]:
        """The free times of one site day, read under its stripe (so after the commands on it
        in progress here): never stale. A copy is kept. To read, not change."""
        day_id = SiteDay.create_id(municipality, site, day)
        with self._stripes[stripe_of(day_id)]:
            found = self._cached_day(day_id)
            kept = None if found is None else self._stored_days.keep(found)
        return [] if kept is None else kept.free_times(service)

    def free_times_after_refusal(
        self, municipality: str, site: str, day: date, service: str
    ) -> list[Slot] | None:
        """Without I/O or waiting (fit for the event loop): the free times of a site day from
        the copy kept by a refusal of a time on it (or a later read), if no command of this
        process is changing that day now or has changed it since; None otherwise."""
        day_id = SiteDay.create_id(municipality, site, day)
        kept = self._stored_days.kept(day_id)
        if kept is None or self._stripes[stripe_of(day_id)].locked():
            return None
        with suppress(KeyError):
            cached = self.repository.cache.get(day_id) if self.repository.cache else None
            if isinstance(cached, SiteDay) and cached.version == kept.version:
                return kept.free_times(service)
        return None

    def get_booking_of(self, municipality: str, booking_id: UUID) -> Booking:
        """A booking, only if it belongs to `municipality` (otherwise as if it did not exist)."""
        booking = self.get_booking(booking_id)
        if booking.municipality != municipality:
            raise NotFound(f"no booking {booking_id}")
        return booking

    def _retry_conflicts(self, attempt: Callable[[], T]) -> T:
        try:
            return self._attempts(attempt)
        finally:
            self._held.trusted = self._held.confirm = False

    def _attempts(self, attempt: Callable[[], T]) -> T:
        for _ in range(CONFLICT_RETRIES):
            self._held.trusted = False
            try:
                result = attempt()
            except RecordConflictError:
                self._settle(failed=True)
                continue  # another command saved first; decide again on the fresh state
            except _Unlocked as unlocked:
                # Start again holding that day's stripe too (all released first, then taken
                # in order, so never a deadlock).
                self._settle(failed=True)
                stripes = {*self._held.stripes, stripe_of(unlocked.day_id)}
                self._unlock()
                self._lock(stripes)
                continue
            except BookingError:
                if self._held.trusted:  # decided on a copy not confirmed: decide again
                    self._settle(failed=False)
                    self._held.confirm = True
                    continue
                self._settle(failed=False, refused=True)
                raise
            except BaseException:
                self._settle(failed=True)
                raise
            self._settle(failed=False)
            return result
        raise Conflict("too many concurrent changes; try again")
