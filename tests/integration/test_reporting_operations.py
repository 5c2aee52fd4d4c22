"""Operations, satisfaction and lead-time reports on small histories whose figures are computed
by hand; the HTML period report and the regional report built from them."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from typing import Any
from uuid import uuid4

import httpx
import pytest
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext

from events.booking import PreAssessment
from infra.http import build_api
from services.reporting.service import ReportingService
from tests.reporting_world import (  # fixtures and the history's vocabulary
    at,
    booked,
    breached,
    cancelled,
    client,
    completed,
    day_opened,
    get_json,
    no_show,
    pre_assessed,
    publish,
    reader,
    registered,
    reporting_settings,
    restored,
    seat_released,
    seat_taken,
    service,
    survey_answered,
)
from tests.support import running_in_background

__all__ = ["client", "service"]

REPORTS = "/api/v1/municipalities/{}/reports/{}"


def march_2024_and_2025() -> list[Any]:
    """March 2024: 2 pas bookings. March 2025 at slagelse/pas: 4 (one cancelled in bulk, one
    no-show, one acute, two completed after 10 and 20 minutes); one koerekort solved online."""
    last_year = [booked(uuid4(), "2024-03-01", f"2024-03-{day:02}") for day in (4, 5)]
    kept = booked(uuid4(), "2025-03-03", "2025-03-04")
    dropped = booked(uuid4(), "2025-03-03", "2025-03-05")
    missed = booked(uuid4(), "2025-03-03", "2025-03-06")
    acute = booked(uuid4(), "2025-03-06", "2025-03-06", acute_reason="pas udløber i morgen")
    online = booked(uuid4(), "2025-03-03", "2025-03-07", service="koerekort")
    return [
        registered("slagelse", target_working_days=5),
        *last_year,
        kept,
        dropped,
        missed,
        acute,
        online,
        completed(kept, 10),
        cancelled(dropped.aggregate_id, "2025-03-05", bulk=True),
        no_show(missed),
        completed(acute, 20),
        pre_assessed(online, PreAssessment.solved_online),
    ]


async def test_operations_report_counts_what_became_of_each_booking_against_a_year_earlier(
    js: JetStreamContext, service: ReportingService, client: httpx.AsyncClient
) -> None:
    await publish(js, service, *march_2024_and_2025())

    report = await get_json(
        client,
        REPORTS.format("slagelse", "operations"),
        **{"from": "2025-03-01", "to": "2025-03-31"},
    )

    assert report["year_earlier_period"] == {"from": "2024-03-01", "to": "2024-03-31"}
    pas, koerekort = sorted(report["by_site_and_service"], key=lambda g: g["service"], reverse=True)
    assert pas["figures"] == {
        "bookings": 4,
        "cancellations": 1,
        "bulk_cancellations": 1,
        "no_shows": 1,
        "acute_bookings": 1,
        "solved_online": 0,
        "completed": 2,
        "handling_minutes_mean": 15.0,
        "handling_minutes_median": 15.0,
    }
    assert pas["comparison"]["year_earlier"]["bookings"] == 2
    assert pas["comparison"]["bookings_ratio"] == 2.0  # the doubling stands out
    assert pas["comparison"]["peak"] is True
    assert koerekort["figures"]["solved_online"] == 1
    assert koerekort["comparison"]["bookings_ratio"] is None  # none a year earlier
    assert report["total"]["bookings"] == 5
    assert report["total_comparison"]["bookings_ratio"] == 2.5


def seat_changes() -> list[Any]:
    """Acute seats stay untaken (1 left at each time); one seat taken at each time."""
    on, day = at("2025-03-01", "09:00"), "2025-03-03"
    return [
        seat_taken(day, "09:00", 1, acute_seats_left=1, observed_at=on),
        seat_taken(day, "09:15", 1, acute_seats_left=1, observed_at=on),
        seat_taken(day, "09:15", 0, acute_seats_left=1, observed_at=on, version=3),
        seat_released(day, "09:15", 1, acute_seats_left=1, observed_at=on, version=4),
    ]


async def test_capacity_used_counts_seats_offered_and_taken_on_days_not_closed(
    js: JetStreamContext, service: ReportingService, client: httpx.AsyncClient
) -> None:
    opened = at("2025-03-01", "08:00")
    await publish(
        js,
        service,
        day_opened("2025-03-03", ["09:00", "09:15"], seats=2, acute_seats=1, opened_at=opened),
        day_opened("2025-03-03", ["09:00"], seats=4, site="korsoer", opened_at=opened),
        *seat_changes(),
    )

    report = await get_json(client, REPORTS.format("slagelse", "operations"))

    # slagelse: 2 times of 2 + 1 acute seats = 6 offered; 1 + 1 taken. korsoer: 4 offered, 0 taken.
    by_site = {c["site"]: c for c in report["capacity_by_site"]}
    assert by_site["slagelse"] == {
        "site": "slagelse",
        "seats_offered": 6,
        "seats_taken": 2,
        "used_share": pytest.approx(1 / 3),
    }
    assert by_site["korsoer"]["seats_taken"] == 0
    assert report["total_capacity"]["seats_offered"] == 10
    assert report["total_capacity"]["used_share"] == 0.2


async def test_operations_csv_has_a_row_per_group_and_the_total_last(
    js: JetStreamContext, service: ReportingService, client: httpx.AsyncClient
) -> None:
    await publish(js, service, *march_2024_and_2025())

    response = await client.get(
        REPORTS.format("slagelse", "operations.csv"),
        params={"from": "2025-03-01", "to": "2025-03-31"},
    )

    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [(r["level"], r["service"], r["bookings"]) for r in rows] == [
        ("group", "koerekort", "1"),
        ("group", "pas", "4"),
        ("total", "", "5"),
    ]
    assert rows[-1]["bookings_ratio"] == "2.5"


async def test_satisfaction_per_survey_half_is_measured_against_the_goals(
    js: JetStreamContext, service: ReportingService, client: httpx.AsyncClient
) -> None:
    visits = [booked(uuid4(), "2025-03-03", "2025-03-04") for _ in range(5)]
    answers = [  # satisfied 4 of 5 = 80 % (goal 75 %); easy 3 of 5 = 60 % (goal 90 %)
        survey_answered(visits[0], "2025-05-01", satisfied=True, easy=True, score=5),
        survey_answered(visits[1], "2025-05-02", satisfied=True, easy=True, score=4),
        survey_answered(visits[2], "2025-06-03", satisfied=True, easy=False, score=2),
        survey_answered(visits[3], "2025-06-04", satisfied=True, easy=True),
        survey_answered(visits[4], "2025-06-30", satisfied=False, easy=False, score=1),
    ]
    late = booked(uuid4(), "2025-06-30", "2025-07-01")
    await publish(
        js,
        service,
        *visits,
        *[completed(v, 10) for v in visits],
        *answers,
        late,
        survey_answered(late, "2025-07-02", satisfied=False, easy=False, version=2),
    )

    report = await get_json(client, REPORTS.format("slagelse", "satisfaction"), half="2025-H1")

    assert report["period"] == {"from": "2025-01-01", "to": "2025-06-30"}
    assert report["total"] == {
        "responses": 5,
        "satisfied_with_booking_share": 0.8,
        "easy_to_find_time_share": 0.6,
        "scored_responses": 4,
        "mean_score": 3.0,
    }
    assert report["goals"] == {"satisfied_with_booking": 0.75, "easy_to_find_time": 0.9}
    assert report["goals_met"] == {"satisfied_with_booking": True, "easy_to_find_time": False}
    second = await get_json(client, REPORTS.format("slagelse", "satisfaction"), half="2025-H2")
    assert second["total"]["responses"] == 1


async def test_satisfaction_goals_come_from_the_municipalitys_settings(
    js: JetStreamContext, nc: NatsClient, database_url: str
) -> None:
    settings = reporting_settings(
        database_url, satisfaction_goals_by_municipality={"slagelse": {"easy_to_find_time": 0.5}}
    )
    started = await ReportingService.start(settings, nc)
    visit = booked(uuid4(), "2025-03-03", "2025-03-04")
    async with running_in_background(started):
        await publish(
            js,
            started,
            visit,
            survey_answered(visit, "2025-03-05", satisfied=True, easy=True, version=2),
        )
        app = build_api("reporting", [started.router()])
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://test"
        ) as http:
            report = await get_json(http, REPORTS.format("slagelse", "satisfaction"), reader())
    await started.close()

    assert report["goals"] == {"satisfied_with_booking": 0.75, "easy_to_find_time": 0.5}


async def test_lead_time_is_sampled_from_schedule_changes_in_working_days(
    js: JetStreamContext, service: ReportingService, client: httpx.AsyncClient
) -> None:
    # Friday 28 February 2025: times on Monday 3 (1 working day ahead) and Friday 7 March (5).
    friday = "2025-02-28"
    await publish(
        js,
        service,
        registered("slagelse", target_working_days=3),
        day_opened("2025-03-03", ["09:00"], opened_at=at(friday, "08:00")),
        day_opened("2025-03-07", ["09:00"], opened_at=at(friday, "08:01")),  # first still 3/3
        seat_taken("2025-03-03", "09:00", 0, observed_at=at(friday, "10:00")),  # now 7/3: 5
        seat_taken("2025-03-07", "09:00", 0, observed_at=at(friday, "11:00")),  # none left
        seat_released("2025-03-03", "09:00", 1, observed_at=at("2025-03-03", "08:00")),  # 0
        breached(at(friday, "10:00"), 5),
        breached(at(friday, "11:00"), None),
        restored(at("2025-03-03", "08:00"), at("2025-03-03", "09:00"), 0),
    )

    report = await get_json(client, REPORTS.format("slagelse", "lead-time"))

    (pas,) = report["by_site_and_service"]
    # samples: 1 (08:00), 5 (10:00), none (11:00), 0 (3 March); 08:01 changed nothing
    assert pas["samples"] == 4
    assert pas["median_working_days"] == 1.0  # of 0, 1, 5
    assert pas["max_working_days"] == 5
    assert pas["within_target_share"] == 0.5  # 1 and 0 are within 3; 5 and none are not
    assert pas["latest_working_days"] == 0
    assert pas["breaches"] == 2
    assert pas["daily"] == [
        {"day": "2025-02-28", "max_working_days": 5, "no_free_time": True},
        {"day": "2025-03-03", "max_working_days": 0, "no_free_time": False},
    ]
    assert report["breaches"] == 2


async def test_the_period_report_is_printable_html_with_inline_svg_charts(
    js: JetStreamContext, service: ReportingService, client: httpx.AsyncClient
) -> None:
    await publish(js, service, *march_2024_and_2025())

    response = await client.get(
        REPORTS.format("slagelse", "period.html"), params={"half": "2025-H1"}
    )

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert page.startswith("<!doctype html>")
    assert page.count("<svg") >= 3  # waiting time, operations, satisfaction
    assert "@media print" in page
    assert "2.50&times;" in page or "2.00&times;" in page


@pytest.fixture
async def regional_client(
    js: JetStreamContext, nc: NatsClient, database_url: str
) -> AsyncIterator[tuple[ReportingService, httpx.AsyncClient]]:
    settings = reporting_settings(
        database_url, regional_municipalities=["slagelse", "hvidovre", "roskilde"]
    )
    started = await ReportingService.start(settings, nc)
    async with running_in_background(started):
        app = build_api("reporting", [started.router()])
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://test", headers=reader()
        ) as http:
            yield started, http
    await started.close()


async def test_the_regional_report_combines_only_what_sharing_municipalities_export(
    js: JetStreamContext, regional_client: tuple[ReportingService, httpx.AsyncClient]
) -> None:
    started, http = regional_client
    await publish(
        js,
        started,
        registered("slagelse", 5),
        registered("hvidovre", 5),
        booked(uuid4(), "2025-03-03", "2025-03-04"),  # 1 working day
        booked(uuid4(), "2025-03-03", "2025-03-17"),  # 10
        booked(uuid4(), "2025-03-03", "2025-03-05", municipality="hvidovre", site="hvidovre"),
        booked(uuid4(), "2025-03-03", "2025-03-05", municipality="herning", site="herning"),
    )

    report = await get_json(http, "/api/v1/regional/reports/summary", half="2025-H1")

    assert [m["municipality"] for m in report["municipalities"]] == ["slagelse", "hvidovre"]
    assert report["not_reporting"] == ["roskilde"]  # herning does not share: absent
    assert report["total"]["bookings"] == 3
    assert report["total"]["within_own_target_share"] == pytest.approx(2 / 3)
    assert set(report["municipalities"][0]) == {
        "municipality",
        "bookings",
        "median_waiting_working_days",
        "within_target_share",
        "target_working_days",
        "survey_responses",
        "satisfied_with_booking_share",
        "easy_to_find_time_share",
        "guarantee_breaches",
    }  # aggregates only: nothing per citizen or booking
    page = await http.get("/api/v1/regional/reports/summary.html", params={"half": "2025-H1"})
    assert "<svg" in page.text and "roskilde" in page.text


@pytest.mark.parametrize(
    "report", ["operations", "satisfaction", "lead-time", "period.html", "operations.csv"]
)
async def test_every_report_of_an_unknown_municipality_is_not_found(
    js: JetStreamContext, service: ReportingService, client: httpx.AsyncClient, report: str
) -> None:
    await publish(js, service, booked(uuid4(), "2025-03-03", "2025-03-05"))

    response = await client.get(REPORTS.format("hvidovre", report), headers=reader("hvidovre"))

    assert response.status_code == 404
    assert "hvidovre" in response.json()["detail"]


@pytest.mark.parametrize(
    ("params", "complaint"),
    [
        ({"half": "2025-H3"}, "not a survey half"),
        ({"half": "0001-H1"}, "year 1 is out of range"),
        ({"half": "2025-H1", "from": "2025-01-01"}, "either 'half' or 'from'/'to'"),
        ({"from": "2025-02-30"}, "date"),
    ],
)
@pytest.mark.parametrize("report", ["operations", "satisfaction", "lead-time", "period.html"])
async def test_a_malformed_period_is_unprocessable_with_a_clear_message(
    client: httpx.AsyncClient, report: str, params: dict[str, str], complaint: str
) -> None:
    response = await client.get(REPORTS.format("slagelse", report), params=params)

    assert response.status_code == 422
    assert complaint in response.text
