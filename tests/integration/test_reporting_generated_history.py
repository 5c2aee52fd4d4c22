"""A generated year of bookings across three municipalities: the reports add up, agree with
figures computed here independently, and a replay from zero reproduces the live read model."""

from __future__ import annotations

import random
import statistics
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
from nats.js import JetStreamContext

from events import Envelope
from events.booking import BookingCancelled, BookingRescheduled, Channel
from infra.read_models import content_hash
from infra.replay import replay
from services.reporting.adapters.read_model import READ_MODEL
from services.reporting.domain.working_days import COPENHAGEN, working_days_between
from services.reporting.service import ReportingService
from tests.reporting_world import (  # fixtures and the history's vocabulary
    booked,
    client,
    completed,
    envelope,
    get_json,
    no_show,
    publish,
    reader,
    registered,
    service,
    survey_answered,
)

__all__ = ["client", "service"]

MUNICIPALITIES = {  # sites, waiting target
    "slagelse": (("slagelse", "skaelskoer", "korsoer"), 7),
    "herning": (("herning", "bibliotek"), 5),
    "hvidovre": (("hvidovre",), 5),
}
SERVICES = ("pas", "koerekort", "mitid")
BOOKINGS_PER_MUNICIPALITY = 120


@dataclass
class Booking:
    municipality: str
    booked_at: datetime
    starts_at: datetime
    cancelled: bool = False
    outcome: str | None = None  # "completed" or "no_show"
    answer: tuple[date, bool, bool] | None = None  # answered on, satisfied, easy

    @property
    def waiting(self) -> int:
        return working_days_between(self.booked_at, self.starts_at)


def generated_year(rng: random.Random) -> tuple[list[Envelope[Any]], list[Booking]]:
    """Every booking of 2025, some moved and some cancelled, in the order they happened."""
    events: list[Envelope[Any]] = [
        registered(name, target) for name, (_, target) in MUNICIPALITIES.items()
    ]
    bookings: list[Booking] = []
    for municipality, (sites, _) in MUNICIPALITIES.items():
        for _ in range(BOOKINGS_PER_MUNICIPALITY):
            booked_on = date(2025, 1, 1) + timedelta(days=rng.randrange(365))
            starts_on = booked_on + timedelta(days=rng.choice((0, 1, 2, 3, 5, 8, 13, 21)))
            booking_id, site = uuid4(), rng.choice(sites)
            event = booked(
                booking_id,
                booked_on.isoformat(),
                starts_on.isoformat(),
                municipality=municipality,
                site=site,
                service=rng.choice(SERVICES),
                booked_time=f"{rng.randrange(7, 22):02}:{rng.randrange(60):02}",
                channel=rng.choice(list(Channel)),
            )
            booking = Booking(municipality, event.data.booked_at, event.data.starts_at)
            events.append(event)
            bookings.append(booking)
            version = 2
            if rng.random() < 0.15:
                events.append(moved(event, booking, rng.randrange(1, 10), version))
                version += 1
            if rng.random() < 0.1:
                events.append(dropped(event, booking, version))
            else:
                events.extend(visit(rng, event, booking, version))
    return events, bookings


def visit(rng: random.Random, first: Envelope[Any], booking: Booking, version: int) -> list[Any]:
    """Most visits are completed and some of those answer the survey; some are no-shows."""
    shown = first.model_copy(
        update={"data": first.data.model_copy(update={"starts_at": booking.starts_at})}
    )
    if rng.random() < 0.15:
        booking.outcome = "no_show"
        return [no_show(shown, version=version)]
    booking.outcome = "completed"
    events = [completed(shown, rng.choice((5, 10, 15, 30)), version=version)]
    if rng.random() < 0.5:
        answered_on = booking.starts_at.astimezone(COPENHAGEN).date() + timedelta(days=1)
        satisfied, easy = rng.random() < 0.85, rng.random() < 0.8
        booking.answer = (answered_on, satisfied, easy)
        events.append(
            survey_answered(
                shown, answered_on.isoformat(), satisfied=satisfied, easy=easy, version=version + 1
            )
        )
    return events


def moved(first: Envelope[Any], booking: Booking, days: int, version: int) -> Envelope[Any]:
    starts_at = booking.starts_at + timedelta(days=days)
    data = BookingRescheduled(
        service=first.data.service,
        previous_starts_at=booking.starts_at,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=15),
        rescheduled_at=booking.booked_at + timedelta(hours=1),
    )
    booking.starts_at = starts_at
    return follow_up(first, data, version)


def dropped(first: Envelope[Any], booking: Booking, version: int) -> Envelope[Any]:
    data = BookingCancelled(
        service=first.data.service,
        starts_at=booking.starts_at,
        reason="kan ikke komme",
        cancelled_by="citizen",
        cancelled_at=booking.booked_at + timedelta(hours=2),
    )
    booking.cancelled = True
    return follow_up(first, data, version)


def follow_up(first: Envelope[Any], data: Any, version: int) -> Envelope[Any]:
    booking_id: UUID = first.aggregate_id
    return envelope(data, booking_id, version, first.municipality, first.site)


def booked_in(booking: Booking, start: date, end: date) -> bool:
    return start <= booking.booked_at.astimezone(COPENHAGEN).date() <= end


@pytest.fixture
async def year(js: JetStreamContext, service: ReportingService) -> list[Booking]:
    events, bookings = generated_year(random.Random(2025))
    await publish(js, service, *events)
    return bookings


async def report(client: httpx.AsyncClient, municipality: str, **params: str) -> dict[str, Any]:
    response = await client.get(
        f"/api/v1/municipalities/{municipality}/reports/waiting-time", params=params
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


@pytest.mark.parametrize("municipality", list(MUNICIPALITIES))
async def test_the_two_survey_halves_add_up_to_the_year_and_the_groups_to_the_total(
    year: list[Booking], client: httpx.AsyncClient, municipality: str
) -> None:
    client.headers.update(reader(municipality))
    h1 = await report(client, municipality, half="2025-H1")
    h2 = await report(client, municipality, half="2025-H2")
    whole = await report(client, municipality, **{"from": "2025-01-01", "to": "2025-12-31"})

    active = [b for b in year if b.municipality == municipality and not b.cancelled]
    assert h1["total"]["bookings"] + h2["total"]["bookings"] == whole["total"]["bookings"]
    assert whole["total"]["bookings"] == len(active)
    for half in (h1, h2, whole):
        groups = half["by_site_service_and_channel"]
        assert sum(g["bookings"] for g in groups) == half["total"]["bookings"]
        within = sum(g["within_target_share"] * g["bookings"] for g in groups)
        assert within == pytest.approx(
            half["total"]["within_target_share"] * half["total"]["bookings"]
        )


@pytest.mark.parametrize("municipality", list(MUNICIPALITIES))
async def test_each_half_matches_figures_computed_independently_from_the_history(
    year: list[Booking], client: httpx.AsyncClient, municipality: str
) -> None:
    client.headers.update(reader(municipality))
    target = MUNICIPALITIES[municipality][1]
    halves = {
        "2025-H1": (date(2025, 1, 1), date(2025, 6, 30)),
        "2025-H2": (date(2025, 7, 1), date(2025, 12, 31)),
    }
    for label, (start, end) in halves.items():
        waits = sorted(
            b.waiting
            for b in year
            if b.municipality == municipality and not b.cancelled and booked_in(b, start, end)
        )

        total = (await report(client, municipality, half=label))["total"]

        assert total["bookings"] == len(waits)
        assert total["median"] == statistics.median(waits)
        assert total["p90"] == pytest.approx(
            statistics.quantiles(waits, n=10, method="inclusive")[8]
        )
        assert total["within_target_share"] == pytest.approx(
            sum(w <= target for w in waits) / len(waits)
        )


async def test_the_booking_report_and_the_waiting_time_report_count_the_same_bookings(
    year: list[Booking], client: httpx.AsyncClient
) -> None:
    for municipality in MUNICIPALITIES:
        client.headers.update(reader(municipality))
        bookings = await client.get(f"/api/v1/municipalities/{municipality}/reports/bookings")
        waiting = await report(client, municipality)

        counts = bookings.json()["total"]
        assert counts["active_bookings"] == waiting["total"]["bookings"]
        assert counts["cancelled_bookings"] == sum(
            b.cancelled for b in year if b.municipality == municipality
        )
        assert counts["waiting_working_days"]["median"] == waiting["total"]["median"]


async def test_replaying_the_year_from_zero_gives_the_live_content_hash(
    year: list[Booking], service: ReportingService, js: JetStreamContext, database_url: str
) -> None:
    async with service.pool.acquire() as connection:
        live = await content_hash(connection, "public", READ_MODEL)

    result = await replay(READ_MODEL, js, database_url, echo=lambda _: None)

    assert result.content_hash == live
    assert result.skipped == 0


@pytest.mark.parametrize("municipality", list(MUNICIPALITIES))
async def test_operations_and_satisfaction_match_the_history_counted_independently(
    year: list[Booking], client: httpx.AsyncClient, municipality: str
) -> None:
    client.headers.update(reader(municipality))
    mine = [b for b in year if b.municipality == municipality]
    in_2025 = [b for b in mine if b.starts_at.astimezone(COPENHAGEN).year == 2025]
    operations = await get_json(
        client,
        f"/api/v1/municipalities/{municipality}/reports/operations",
        **{"from": "2025-01-01", "to": "2025-12-31"},
    )
    total = operations["total"]
    assert total["bookings"] == len(in_2025)
    assert total["cancellations"] == sum(b.cancelled for b in in_2025)
    assert total["no_shows"] == sum(b.outcome == "no_show" for b in in_2025)
    assert total["completed"] == sum(b.outcome == "completed" for b in in_2025)
    assert total_comparison_is_against_2024(operations)

    for label, (start, end) in {
        "2025-H1": (date(2025, 1, 1), date(2025, 6, 30)),
        "2025-H2": (date(2025, 7, 1), date(2025, 12, 31)),
    }.items():
        answers = [b.answer for b in mine if b.answer and start <= b.answer[0] <= end]
        report = await get_json(
            client, f"/api/v1/municipalities/{municipality}/reports/satisfaction", half=label
        )
        assert report["total"]["responses"] == len(answers)
        assert report["total"]["satisfied_with_booking_share"] == pytest.approx(
            sum(a[1] for a in answers) / len(answers)
        )
        assert report["total"]["easy_to_find_time_share"] == pytest.approx(
            sum(a[2] for a in answers) / len(answers)
        )


def total_comparison_is_against_2024(operations: dict[str, Any]) -> bool:
    return operations["year_earlier_period"] == {"from": "2024-01-01", "to": "2024-12-31"}
