"""A reporting world for tests: the reporting service running on the real nats-server and
PostgreSQL, and a vocabulary to write the event history it reports on.

Tests import the `service` and `client` fixtures from here (`__all__ = ["client", "service"]`).
The `client` reads as Slagelse's reporting role; `reader(m)` are the headers of another's.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5
from zoneinfo import ZoneInfo

import httpx
import pytest
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext

from events import Envelope, EventData, encode
from events.booking import (
    BookingBooked,
    BookingCancelled,
    BookingCompleted,
    BookingNoShow,
    BookingPreAssessed,
    BookingRescheduled,
    BookingSurveyAnswered,
    Channel,
    PreAssessment,
)
from events.guarantee import WaitingTargetBreached, WaitingTargetRestored
from events.municipality import MunicipalityRegistered
from events.schedule import DayOpened, SeatReleased, SeatTaken, Slot
from infra.http import build_api
from infra.staff_tokens import Role
from services.reporting.service import ReportingService
from services.reporting.settings import ReportingSettings
from tests.booking_world import STAFF_KEYS, staff_headers
from tests.support import eventually, running_in_background

CPH = ZoneInfo("Europe/Copenhagen")


def at(day: str, time: str = "10:00") -> datetime:
    """A Copenhagen local time, e.g. `at("2025-03-03", "09:00")`."""
    return datetime.fromisoformat(f"{day}T{time}").replace(tzinfo=CPH)


def envelope(
    data: EventData,
    aggregate_id: UUID,
    version: int,
    municipality: str,
    site: str | None,
    occurred_at: datetime | None = None,
) -> Envelope[Any]:
    typed: Any = Envelope[type(data)]  # type: ignore[misc]  # e.g. Envelope[BookingBooked]
    return typed(
        event_id=uuid4(),
        type=data.TYPE,
        schema_version=data.VERSION,
        municipality=municipality,
        site=site,
        aggregate_id=aggregate_id,
        aggregate_version=version,
        occurred_at=occurred_at or datetime.now(UTC),
        data=data,
    )


def booked(
    booking_id: UUID,
    booked_on: str,
    starts_on: str,
    *,
    municipality: str = "slagelse",
    site: str = "slagelse",
    service: str = "pas",
    booked_time: str = "10:00",
    starts_time: str = "09:00",
    channel: Channel = Channel.web,
    acute_reason: str | None = None,
) -> Envelope[Any]:
    starts_at = at(starts_on, starts_time)
    data = BookingBooked(
        service=service,
        service_name=service.title(),
        site_name=site.title(),
        documents=["Gammelt pas"],
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=15),
        citizen_name="Test Borger",
        phone="+4512345678",
        channel=channel,
        booked_at=at(booked_on, booked_time),
        acute_reason=acute_reason,
    )
    return envelope(data, booking_id, 1, municipality, site, occurred_at=data.booked_at)


def registered(municipality: str, target_working_days: int) -> Envelope[Any]:
    data = MunicipalityRegistered(
        name=municipality.title(),
        waiting_target_working_days=target_working_days,
        sites=[],
        services=[],
    )
    return envelope(data, uuid4(), 1, municipality, None, occurred_at=at("2024-01-01", "08:00"))


def rescheduled(booking_id: UUID, previous_on: str, starts_on: str) -> Envelope[Any]:
    starts_at = at(starts_on, "09:00")
    data = BookingRescheduled(
        service="pas",
        previous_starts_at=at(previous_on, "09:00"),
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=15),
        rescheduled_at=datetime.now(UTC),
    )
    return envelope(data, booking_id, 2, "slagelse", "slagelse")


def cancelled(
    booking_id: UUID,
    starts_on: str,
    *,
    version: int = 2,
    municipality: str = "slagelse",
    site: str = "slagelse",
    service: str = "pas",
    bulk: bool = False,
) -> Envelope[Any]:
    data = BookingCancelled(
        service=service,
        starts_at=at(starts_on, "09:00"),
        reason="kan ikke komme",
        cancelled_by="citizen",
        cancelled_at=datetime.now(UTC),
        bulk=bulk,
    )
    return envelope(data, booking_id, version, municipality, site)


def completed(
    first: Envelope[Any], minutes: float, *, version: int = 2, by: str = "mette"
) -> Envelope[Any]:
    """`first` is the booking's `booked` event: the visit ended after `minutes` of handling."""
    starts_at = first.data.starts_at
    data = BookingCompleted(
        service=first.data.service,
        starts_at=starts_at,
        completed_at=starts_at + timedelta(minutes=minutes),
        handling_minutes=minutes,
        by=by,
    )
    return _follow_up(first, data, version, data.completed_at)


def no_show(first: Envelope[Any], *, version: int = 2) -> Envelope[Any]:
    starts_at = first.data.starts_at
    data = BookingNoShow(
        service=first.data.service,
        starts_at=starts_at,
        recorded_at=starts_at + timedelta(minutes=15),
        by="mette",
    )
    return _follow_up(first, data, version, data.recorded_at)


def pre_assessed(
    first: Envelope[Any], outcome: PreAssessment = PreAssessment.solved_online, *, version: int = 2
) -> Envelope[Any]:
    data = BookingPreAssessed(
        service=first.data.service,
        starts_at=first.data.starts_at,
        outcome=outcome,
        note="",
        assessed_at=first.data.booked_at + timedelta(hours=1),
        by="mette",
    )
    return _follow_up(first, data, version, data.assessed_at)


def survey_answered(
    first: Envelope[Any],
    answered_on: str,
    *,
    satisfied: bool,
    easy: bool,
    score: int | None = None,
    version: int = 3,
) -> Envelope[Any]:
    data = BookingSurveyAnswered(
        service=first.data.service,
        starts_at=first.data.starts_at,
        satisfied_with_booking=satisfied,
        easy_to_find_time=easy,
        score=score,
        answered_at=at(answered_on, "12:00"),
    )
    return _follow_up(first, data, version, data.answered_at)


def _follow_up(
    first: Envelope[Any], data: EventData, version: int, occurred_at: datetime
) -> Envelope[Any]:
    return envelope(data, first.aggregate_id, version, first.municipality, first.site, occurred_at)


def day_opened(
    day: str,
    times: list[str],
    *,
    seats: int = 1,
    acute_seats: int = 0,
    services: tuple[str, ...] = ("pas",),
    municipality: str = "slagelse",
    site: str = "slagelse",
    opened_at: datetime | None = None,
) -> Envelope[Any]:
    """A site day with 15-minute times; its aggregate id is derived from the site and day."""
    data = DayOpened(
        date=date.fromisoformat(day),
        slots=[
            Slot(
                starts_at=at(day, time),
                ends_at=at(day, time) + timedelta(minutes=15),
                capacity=seats,
                services=list(services),
                acute_capacity=acute_seats,
            )
            for time in times
        ],
    )
    return envelope(data, site_day_id(municipality, site, day), 1, municipality, site, opened_at)


def site_day_id(municipality: str, site: str, day: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"site-day/{municipality}/{site}/{day}")


def seat_taken(
    day: str,
    time: str,
    seats_left: int,
    *,
    observed_at: datetime,
    version: int = 2,
    acute: bool = False,
    acute_seats_left: int = 0,
    municipality: str = "slagelse",
    site: str = "slagelse",
) -> Envelope[Any]:
    data = SeatTaken(
        starts_at=at(day, time),
        booking_id=str(uuid4()),
        seats_left=seats_left,
        acute=acute,
        acute_seats_left=acute_seats_left,
    )
    aggregate = site_day_id(municipality, site, day)
    return envelope(data, aggregate, version, municipality, site, observed_at)


def seat_released(
    day: str,
    time: str,
    seats_left: int,
    *,
    observed_at: datetime,
    version: int = 3,
    acute_seats_left: int = 0,
    municipality: str = "slagelse",
    site: str = "slagelse",
) -> Envelope[Any]:
    data = SeatReleased(
        starts_at=at(day, time),
        booking_id=str(uuid4()),
        seats_left=seats_left,
        acute_seats_left=acute_seats_left,
    )
    aggregate = site_day_id(municipality, site, day)
    return envelope(data, aggregate, version, municipality, site, observed_at)


def breached(
    observed_at: datetime,
    working_days: int | None,
    *,
    service: str = "pas",
    municipality: str = "slagelse",
    site: str = "slagelse",
    target: int = 5,
) -> Envelope[Any]:
    data = WaitingTargetBreached(
        service=service,
        first_free_at=None,
        working_days=working_days,
        target_working_days=target,
        observed_at=observed_at,
    )
    return envelope(data, uuid4(), 1, municipality, site, observed_at)


def restored(
    observed_at: datetime,
    first_free_at: datetime,
    working_days: int,
    *,
    service: str = "pas",
    municipality: str = "slagelse",
    site: str = "slagelse",
) -> Envelope[Any]:
    data = WaitingTargetRestored(
        service=service,
        first_free_at=first_free_at,
        working_days=working_days,
        target_working_days=5,
        observed_at=observed_at,
    )
    return envelope(data, uuid4(), 1, municipality, site, observed_at)


def reporting_settings(database_url: str, **overrides: Any) -> ReportingSettings:
    return ReportingSettings(database_url=database_url, **{"staff_tokens": STAFF_KEYS, **overrides})


def reader(municipality: str = "slagelse", role: Role = Role.REPORTING) -> dict[str, str]:
    """The headers of a staff token of `municipality` that may read its reports."""
    return staff_headers(municipality, role, account="statistik")


@pytest.fixture
async def service(
    database_url: str, nc: NatsClient, js: JetStreamContext
) -> AsyncIterator[ReportingService]:
    started = await ReportingService.start(reporting_settings(database_url), nc)
    async with running_in_background(started):
        yield started
    await started.close()


@pytest.fixture
async def client(service: ReportingService) -> AsyncIterator[httpx.AsyncClient]:
    app = build_api("reporting", [service.router()])
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://test", headers=reader()
    ) as http:
        yield http


async def publish_raw(js: JetStreamContext, subject: str, payload: bytes) -> int:
    """Publishes bytes as they are (a fresh Nats-Msg-Id); returns the stream sequence."""
    ack = await js.publish(subject, payload, headers={"Nats-Msg-Id": str(uuid4())})
    return ack.seq


async def wait_until_applied(service: ReportingService, sequence: int) -> None:
    async def caught_up() -> bool:
        applied = await service.pool.fetchval(
            "SELECT stream_seq FROM projection_position WHERE projection = 'reporting'"
        )
        return applied is not None and applied >= sequence

    await eventually(caught_up)


async def publish(js: JetStreamContext, service: ReportingService, *events: Envelope[Any]) -> None:
    """Publishes, each with a fresh Nats-Msg-Id, then waits until the projection applied them."""
    sequence = 0
    for event in events:
        sequence = await publish_raw(js, event.subject, encode(event))
    await wait_until_applied(service, sequence)


async def get_json(
    client: httpx.AsyncClient, url: str, headers: dict[str, str] | None = None, **params: Any
) -> dict[str, Any]:
    response = await client.get(url, params=params, headers=headers)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result
