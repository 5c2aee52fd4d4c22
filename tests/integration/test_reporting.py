"""Reporting end to end on the real nats-server and PostgreSQL: booking events published on
JetStream, projected by the running service, read back through its HTTP routes."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import httpx
import pytest
from nats.js import JetStreamContext

from events.booking import BookingCheckedIn
from infra.streams import DEADLETTER_STREAM
from services.reporting.adapters.booking_projection import ReportingProjection, UnreportableEvent
from services.reporting.service import ReportingService
from tests.reporting_world import (  # fixtures and the history's vocabulary
    at,
    booked,
    cancelled,
    client,
    envelope,
    publish,
    reader,
    rescheduled,
    service,
)

__all__ = ["client", "service"]

REPORT = "/api/v1/municipalities/{}/reports/bookings"


def group(report: dict[str, Any], site: str, service: str) -> dict[str, Any]:
    (found,) = [
        g for g in report["by_site_and_service"] if (g["site"], g["service"]) == (site, service)
    ]
    return found


async def test_report_counts_bookings_cancellations_and_waiting_working_days(
    js: JetStreamContext, service: ReportingService, client: httpx.AsyncClient
) -> None:
    cancelled_booking = uuid4()
    await publish(
        js,
        service,
        booked(uuid4(), "2025-03-03", "2025-03-05"),  # Monday for Wednesday: 2
        booked(uuid4(), "2025-03-03", "2025-03-07"),  # 4
        booked(uuid4(), "2025-03-04", "2025-03-17"),  # 9
        booked(cancelled_booking, "2025-03-03", "2025-03-06", site="korsoer", service="koerekort"),
        cancelled(cancelled_booking, "2025-03-06", site="korsoer", service="koerekort"),
        booked(uuid4(), "2025-04-16", "2025-04-22", service="koerekort"),  # over Easter: 1
    )

    response = await client.get(REPORT.format("slagelse"))

    assert response.status_code == 200, response.text
    report = response.json()
    assert [(g["site"], g["service"]) for g in report["by_site_and_service"]] == [
        ("korsoer", "koerekort"),
        ("slagelse", "koerekort"),
        ("slagelse", "pas"),
    ]
    pas = group(report, "slagelse", "pas")
    assert (pas["active_bookings"], pas["cancelled_bookings"]) == (3, 0)
    assert pas["waiting_working_days"] == {
        "median": 4.0,
        "mean": 5.0,
        "within_target_share": pytest.approx(2 / 3),
    }
    korsoer = group(report, "korsoer", "koerekort")
    assert (korsoer["active_bookings"], korsoer["cancelled_bookings"]) == (0, 1)
    assert korsoer["waiting_working_days"]["median"] is None
    assert group(report, "slagelse", "koerekort")["waiting_working_days"]["median"] == 1.0
    assert report["total"] == {
        "active_bookings": 4,
        "cancelled_bookings": 1,
        "waiting_working_days": {"median": 3.0, "mean": 4.0, "within_target_share": 0.75},
    }
    assert report["target_working_days"] == 7


async def test_target_working_days_sets_the_share_within_target(
    js: JetStreamContext, service: ReportingService, client: httpx.AsyncClient
) -> None:
    await publish(
        js,
        service,
        booked(uuid4(), "2025-03-03", "2025-03-05"),  # 2
        booked(uuid4(), "2025-03-03", "2025-03-07"),  # 4
    )

    response = await client.get(REPORT.format("slagelse"), params={"target_working_days": 3})

    assert response.json()["total"]["waiting_working_days"]["within_target_share"] == 0.5


async def test_a_rescheduled_booking_waits_from_its_original_booking_day(
    js: JetStreamContext, service: ReportingService, client: httpx.AsyncClient
) -> None:
    booking = uuid4()
    await publish(
        js,
        service,
        booked(booking, "2025-03-03", "2025-03-05"),
        rescheduled(booking, "2025-03-05", "2025-03-10"),  # Monday 3/3 to Monday 10/3: 5
    )

    report = (await client.get(REPORT.format("slagelse"))).json()

    assert report["total"]["active_bookings"] == 1
    assert report["total"]["waiting_working_days"]["median"] == 5.0


async def test_republished_events_change_nothing(
    js: JetStreamContext, service: ReportingService, client: httpx.AsyncClient
) -> None:
    moved, dropped = uuid4(), uuid4()
    history = (
        booked(moved, "2025-03-03", "2025-03-05"),
        booked(dropped, "2025-03-03", "2025-03-07"),
        rescheduled(moved, "2025-03-05", "2025-03-10"),
        cancelled(dropped, "2025-03-07"),
    )
    await publish(js, service, *history)
    before = (await client.get(REPORT.format("slagelse"))).json()

    await publish(js, service, *history)  # as a relay restarting after the duplicate window would

    after = (await client.get(REPORT.format("slagelse"))).json()
    assert after == before
    assert (after["total"]["active_bookings"], after["total"]["cancelled_bookings"]) == (1, 1)
    assert after["total"]["waiting_working_days"]["median"] == 5.0


async def test_period_counts_bookings_made_on_its_copenhagen_dates_only(
    js: JetStreamContext, service: ReportingService, client: httpx.AsyncClient
) -> None:
    await publish(
        js,
        service,
        booked(uuid4(), "2025-02-28", "2025-03-05"),
        booked(uuid4(), "2025-03-03", "2025-03-05"),
        booked(uuid4(), "2025-03-31", "2025-04-03", booked_time="23:30"),  # still 31/3 locally
        booked(uuid4(), "2025-04-01", "2025-04-03", booked_time="00:30"),
    )

    response = await client.get(
        REPORT.format("slagelse"), params={"from": "2025-03-01", "to": "2025-03-31"}
    )

    report = response.json()
    assert report["period"] == {"from": "2025-03-01", "to": "2025-03-31"}
    assert report["total"]["active_bookings"] == 2


async def test_a_known_municipality_with_nothing_in_the_period_reports_zeros(
    js: JetStreamContext, service: ReportingService, client: httpx.AsyncClient
) -> None:
    await publish(js, service, booked(uuid4(), "2025-03-03", "2025-03-05"))

    response = await client.get(REPORT.format("slagelse"), params={"from": "2026-01-01"})

    assert response.status_code == 200
    assert response.json()["by_site_and_service"] == []
    assert response.json()["total"]["active_bookings"] == 0


async def test_another_municipalitys_bookings_stay_out_of_the_report(
    js: JetStreamContext, service: ReportingService, client: httpx.AsyncClient
) -> None:
    await publish(
        js,
        service,
        booked(uuid4(), "2025-03-03", "2025-03-05"),
        booked(uuid4(), "2025-03-03", "2025-03-07", municipality="herning", site="bibliotek"),
    )

    slagelse = (await client.get(REPORT.format("slagelse"))).json()
    herning = (await client.get(REPORT.format("herning"), headers=reader("herning"))).json()

    assert slagelse["total"]["active_bookings"] == 1
    assert [g["site"] for g in herning["by_site_and_service"]] == ["bibliotek"]
    assert herning["total"]["waiting_working_days"]["median"] == 4.0


async def test_an_unknown_municipality_is_not_found(
    js: JetStreamContext, service: ReportingService, client: httpx.AsyncClient
) -> None:
    await publish(js, service, booked(uuid4(), "2025-03-03", "2025-03-05"))

    response = await client.get(REPORT.format("hvidovre"), headers=reader("hvidovre"))

    assert response.status_code == 404
    assert "hvidovre" in response.json()["detail"]


@pytest.mark.parametrize(
    ("params", "complaint"),
    [
        ({"from": "2025-13-01"}, "date"),
        ({"to": "last week"}, "date"),
        ({"from": "2025-04-01", "to": "2025-03-01"}, "'from' (2025-04-01) is after 'to'"),
        ({"target_working_days": -1}, "greater than or equal to 0"),
    ],
)
async def test_a_malformed_query_is_unprocessable_with_a_clear_message(
    client: httpx.AsyncClient, params: dict[str, Any], complaint: str
) -> None:
    response = await client.get(REPORT.format("slagelse"), params=params)

    assert response.status_code == 422
    assert complaint in response.text


async def test_the_projection_refuses_an_event_it_does_not_handle(
    service: ReportingService,
) -> None:
    checked_in = BookingCheckedIn(
        service="pas", starts_at=at("2025-03-03"), checked_in_at=at("2025-03-03"), by="mette"
    )
    event = envelope(checked_in, uuid4(), 2, "slagelse", "slagelse")

    async with service.pool.acquire() as connection:
        with pytest.raises(UnreportableEvent, match=r"booking\.checked_in"):
            await ReportingProjection().apply(connection, event)


async def test_the_projection_refuses_a_reschedule_of_a_booking_it_never_saw(
    service: ReportingService,
) -> None:
    event = rescheduled(uuid4(), "2025-03-05", "2025-03-10")

    async with service.pool.acquire() as connection:
        with pytest.raises(UnreportableEvent, match="unknown booking"):
            await ReportingProjection().apply(connection, event)


async def test_an_event_the_projection_cannot_handle_is_dead_lettered_and_the_rest_applied(
    js: JetStreamContext, service: ReportingService, client: httpx.AsyncClient
) -> None:
    never_booked = cancelled(uuid4(), "2025-03-05")

    await publish(js, service, never_booked, booked(uuid4(), "2025-03-03", "2025-03-05"))

    dead = await js.get_msg(DEADLETTER_STREAM, 1)
    assert dead.headers is not None
    assert "unknown booking" in dead.headers["Bs-Reason"]
    assert dead.headers["Bs-Subject"] == "bs.slagelse.booking.cancelled"
    report = (await client.get(REPORT.format("slagelse"))).json()
    assert (report["total"]["active_bookings"], report["total"]["cancelled_bookings"]) == (1, 0)
