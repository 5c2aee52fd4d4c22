"""Big histories for setup, generated in bulk: booking events straight onto the stream (what
a consumer replays), or the booking service's own stored events (what the relay publishes)."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

from nats.js import JetStreamContext

from bench.world import FIRST_DAY, MUNICIPALITY, Layout
from events import Envelope, encode
from events.booking import BookingBooked, BookingCancelled, BookingRescheduled, Channel
from events.municipality import MunicipalityRegistered
from infra.personal_data import DEMO_PERSONAL_DATA_KEY, MasterKey
from services.booking.application import BookingApplication
from services.booking.domain.booking import Booking
from services.booking.domain.municipality import Municipality
from services.booking.domain.schedule import SiteDay

MUNICIPALITIES = tuple(f"{MUNICIPALITY}-{n}" for n in range(3))
PUBLISH_WINDOW = 2_000
BENCH_CITIZEN, _ = MasterKey(DEMO_PERSONAL_DATA_KEY).new_subject()  # seals as a booking does


def _envelope(data: Any, municipality: str, aggregate: Any, version: int, at: datetime) -> bytes:
    return encode(
        Envelope[Any](
            event_id=uuid4(),
            type=data.TYPE,
            schema_version=data.VERSION,
            municipality=municipality,
            site="site-0",
            aggregate_id=aggregate,
            aggregate_version=version,
            occurred_at=at,
            data=data,
        )
    )


def reporting_history(count: int, seed: int = 7) -> Iterator[tuple[str, bytes]]:
    """(subject, message) of `count` events the reporting projection handles: registrations,
    then bookings, a tenth of them moved and a tenth cancelled."""
    rng = random.Random(seed)
    start = datetime(2025, 1, 2, 8, 0, tzinfo=UTC)
    made = 0
    for municipality in MUNICIPALITIES:
        data = MunicipalityRegistered(
            name=municipality, waiting_target_working_days=7, sites=[], services=[]
        )
        yield f"bs.{municipality}.{data.TYPE}", _envelope(data, municipality, uuid4(), 1, start)
        made += 1
    while made < count:
        municipality = rng.choice(MUNICIPALITIES)
        booking_id = uuid4()
        booked_at = start + timedelta(minutes=made)
        starts_at = booked_at + timedelta(days=rng.randrange(1, 20))
        booked = BookingBooked(
            service="pas",
            service_name="Pas",
            site_name="Site 0",
            documents=["Gammelt pas"],
            starts_at=starts_at,
            ends_at=starts_at + timedelta(minutes=15),
            citizen_name="Bench Borger",
            phone="+4520304050",
            channel=Channel.web,
            booked_at=booked_at,
            acute_reason=None,
        )
        events: list[Any] = [booked]
        chance = rng.random()
        if chance < 0.1:
            moved_to = starts_at + timedelta(days=1)
            events.append(
                BookingRescheduled(
                    service="pas",
                    previous_starts_at=starts_at,
                    starts_at=moved_to,
                    ends_at=moved_to + timedelta(minutes=15),
                    rescheduled_at=booked_at + timedelta(hours=1),
                )
            )
        elif chance < 0.2:
            events.append(
                BookingCancelled(
                    service="pas",
                    starts_at=starts_at,
                    reason="kan ikke komme",
                    cancelled_by="citizen",
                    cancelled_at=booked_at + timedelta(hours=1),
                )
            )
        for version, data in enumerate(events[: count - made], start=1):
            message = _envelope(data, municipality, booking_id, version, booked_at)
            yield f"bs.{municipality}.{data.TYPE}", message
            made += 1


async def publish_in_bulk(js: JetStreamContext, messages: Iterator[tuple[str, bytes]]) -> int:
    """Publishes in order of sending, many acknowledgements outstanding at a time."""
    published = 0
    window: list[Any] = []
    for subject, message in messages:
        window.append(js.publish(subject, message, timeout=30))
        if len(window) >= PUBLISH_WINDOW:
            await asyncio.gather(*window)
            published, window = published + len(window), []
    await asyncio.gather(*window)
    return published + len(window)


def store_booking_history(app: BookingApplication, layout: Layout, events: int) -> int:
    """About `events` stored events of the booking service (days opened, seats taken,
    bookings), written through the library's recorder in large transactions."""
    stored: list[Any] = []
    written = 0

    def flush() -> None:
        nonlocal written, stored
        app.recorder.insert_events([app.mapper.to_stored_event(e) for e in stored])
        written, stored = written + len(stored), []

    municipality = Municipality(
        MUNICIPALITY,
        "Bench Kommune",
        7,
        [{"id": s, "name": s, "address": "Torvet 1"} for s in layout.site_ids],
        [{"id": "pas", "name": "Pas", "duration_minutes": 15, "documents": ["Gammelt pas"]}],
    )
    stored.extend(municipality.collect_events())
    booked_at = datetime.combine(FIRST_DAY, datetime.min.time(), UTC) - timedelta(days=30)
    day = 0
    while written + len(stored) < events:
        for site in layout.site_ids:
            schedule = SiteDay(MUNICIPALITY, site, layout.day(day), layout.slots_on(day))
            for slot in layout.slots_on(day):
                for _ in range(layout.capacity):
                    booking_id = uuid4()
                    schedule.take_seat(slot["starts_at"], str(booking_id), "pas")
                    stored.extend(
                        Booking.book(
                            booking_id,
                            BENCH_CITIZEN,
                            municipality=MUNICIPALITY,
                            site=site,
                            service="pas",
                            service_name="Pas",
                            site_name=site,
                            documents=["Gammelt pas"],
                            starts_at=slot["starts_at"],
                            ends_at=slot["ends_at"],
                            citizen_name="Bench Borger",
                            phone="+4520304050",
                            channel="web",
                            booked_at=booked_at,
                        ).collect_events()
                    )
            stored.extend(schedule.collect_events())
            if len(stored) >= 5_000:
                flush()
        day += 1
    flush()
    return written
