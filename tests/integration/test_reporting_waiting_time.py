"""The waiting-time report (JSON and CSV) on a small history whose figures are computed by hand.

March 2025 has no Danish holiday: from Monday 3 March, the 4th is 1 working day, the 5th 2, the
6th 3, the 7th 4, the 10th 5, the 11th 6, the 17th 10 and the 24th 15.
"""

from __future__ import annotations

import csv
import io
from typing import Any
from uuid import uuid4

import httpx
import pytest
from nats.js import JetStreamContext

from events.booking import Channel
from services.reporting.service import ReportingService
from tests.reporting_world import (  # fixtures and the history's vocabulary
    booked,
    cancelled,
    client,
    publish,
    reader,
    registered,
    service,
)

__all__ = ["client", "service"]

WAITING = "/api/v1/municipalities/{}/reports/waiting-time"
PHONE = Channel.phone


async def publish_fixed_history(js: JetStreamContext, service: ReportingService) -> None:
    dropped = uuid4()
    await publish(
        js,
        service,
        registered("slagelse", target_working_days=5),
        # slagelse / pas / web: 1, 2, 4, 10
        booked(uuid4(), "2025-03-03", "2025-03-04"),
        booked(uuid4(), "2025-03-03", "2025-03-05"),
        booked(uuid4(), "2025-03-03", "2025-03-07"),
        booked(uuid4(), "2025-03-03", "2025-03-17"),
        # slagelse / pas / phone: 0, 6
        booked(uuid4(), "2025-03-03", "2025-03-03", channel=PHONE),
        booked(uuid4(), "2025-03-03", "2025-03-11", channel=PHONE),
        # korsoer / koerekort / web: 3, and a cancelled 15 that does not count
        booked(uuid4(), "2025-03-03", "2025-03-06", site="korsoer", service="koerekort"),
        booked(dropped, "2025-03-03", "2025-03-24", site="korsoer", service="koerekort"),
        cancelled(dropped, "2025-03-24", site="korsoer", service="koerekort"),
        # outside 2025-H1: booked in December 2024 and in July 2025
        booked(uuid4(), "2024-12-02", "2024-12-20", channel=Channel.counter),
        booked(uuid4(), "2025-07-01", "2025-07-02", channel=Channel.counter),
    )


def group(report: dict[str, Any], site: str, service: str, channel: str) -> dict[str, Any]:
    (found,) = [
        g
        for g in report["by_site_service_and_channel"]
        if (g["site"], g["service"], g["channel"]) == (site, service, channel)
    ]
    return {k: found[k] for k in ("bookings", "median", "p90", "within_target_share")}


async def test_waiting_time_figures_per_site_service_and_channel_match_the_hand_computed_ones(
    js: JetStreamContext, service: ReportingService, client: httpx.AsyncClient
) -> None:
    await publish_fixed_history(js, service)

    response = await client.get(WAITING.format("slagelse"), params={"half": "2025-H1"})

    assert response.status_code == 200, response.text
    report = response.json()
    assert report["period"] == {"from": "2025-01-01", "to": "2025-06-30"}
    assert report["survey_half"] == "2025-H1"
    assert (report["target_working_days"], report["target_source"]) == (5, "municipality")
    assert [
        (g["site"], g["service"], g["channel"]) for g in report["by_site_service_and_channel"]
    ] == [("korsoer", "koerekort", "web"), ("slagelse", "pas", "phone"), ("slagelse", "pas", "web")]
    # 1, 2, 4, 10: median (2 + 4) / 2; p90 at rank 0.9 * 3 = 2.7: 4 + 0.7 * (10 - 4)
    assert group(report, "slagelse", "pas", "web") == {
        "bookings": 4,
        "median": 3.0,
        "p90": pytest.approx(8.2),
        "within_target_share": 0.75,
    }
    # 0, 6: p90 at rank 0.9: 0 + 0.9 * 6
    assert group(report, "slagelse", "pas", "phone") == {
        "bookings": 2,
        "median": 3.0,
        "p90": pytest.approx(5.4),
        "within_target_share": 0.5,
    }
    assert group(report, "korsoer", "koerekort", "web") == {
        "bookings": 1,
        "median": 3.0,
        "p90": 3.0,
        "within_target_share": 1.0,
    }
    # 0, 1, 2, 3, 4, 6, 10: p90 at rank 0.9 * 6 = 5.4: 6 + 0.4 * (10 - 6); 5 of 7 within 5 days
    assert report["total"] == {
        "bookings": 7,
        "median": 3.0,
        "p90": pytest.approx(7.6),
        "within_target_share": pytest.approx(5 / 7),
    }


async def test_the_second_survey_half_holds_the_bookings_made_from_july(
    js: JetStreamContext, service: ReportingService, client: httpx.AsyncClient
) -> None:
    await publish_fixed_history(js, service)

    h2_2024 = (await client.get(WAITING.format("slagelse"), params={"half": "2024-H2"})).json()
    h2_2025 = (await client.get(WAITING.format("slagelse"), params={"half": "2025-H2"})).json()

    assert h2_2024["period"] == {"from": "2024-07-01", "to": "2024-12-31"}
    assert (h2_2024["total"]["bookings"], h2_2024["total"]["median"]) == (1, 14.0)
    assert (h2_2025["total"]["bookings"], h2_2025["total"]["median"]) == (1, 1.0)
    assert h2_2025["by_site_service_and_channel"][0]["channel"] == "counter"


async def test_an_explicit_period_counts_bookings_made_on_its_dates(
    js: JetStreamContext, service: ReportingService, client: httpx.AsyncClient
) -> None:
    await publish_fixed_history(js, service)

    response = await client.get(
        WAITING.format("slagelse"), params={"from": "2024-12-01", "to": "2025-03-02"}
    )

    assert response.json()["survey_half"] is None
    assert response.json()["total"]["bookings"] == 1


async def test_the_target_in_the_query_overrides_the_registered_one(
    js: JetStreamContext, service: ReportingService, client: httpx.AsyncClient
) -> None:
    await publish_fixed_history(js, service)

    response = await client.get(
        WAITING.format("slagelse"), params={"half": "2025-H1", "target_working_days": 3}
    )

    report = response.json()
    assert (report["target_working_days"], report["target_source"]) == (3, "query")
    assert group(report, "slagelse", "pas", "web")["within_target_share"] == 0.5
    assert report["total"]["within_target_share"] == pytest.approx(4 / 7)


async def test_a_municipality_that_never_registered_is_held_to_the_default_target(
    js: JetStreamContext, service: ReportingService, client: httpx.AsyncClient
) -> None:
    await publish(js, service, booked(uuid4(), "2025-03-03", "2025-03-12"))  # 7

    report = (await client.get(WAITING.format("slagelse"))).json()

    assert (report["target_working_days"], report["target_source"]) == (7, "default")
    assert report["total"]["within_target_share"] == 1.0


async def test_a_registered_municipality_without_bookings_reports_empty_figures(
    js: JetStreamContext, service: ReportingService, client: httpx.AsyncClient
) -> None:
    await publish(js, service, registered("hvidovre", target_working_days=4))

    response = await client.get(
        WAITING.format("hvidovre"), params={"half": "2025-H1"}, headers=reader("hvidovre")
    )

    assert response.status_code == 200
    assert response.json()["target_working_days"] == 4
    assert response.json()["total"] == {
        "bookings": 0,
        "median": None,
        "p90": None,
        "within_target_share": None,
    }


async def test_the_waiting_time_of_an_unknown_municipality_is_not_found(
    js: JetStreamContext, service: ReportingService, client: httpx.AsyncClient
) -> None:
    await publish(js, service, registered("slagelse", target_working_days=7))

    response = await client.get(WAITING.format("herning"), headers=reader("herning"))

    assert response.status_code == 404
    assert "herning" in response.json()["detail"]


@pytest.mark.parametrize(
    ("params", "complaint"),
    [
        ({"half": "2025-H3"}, "'2025-H3' is not a survey half such as 2025-H1"),
        ({"half": "H1"}, "'H1' is not a survey half"),
        ({"half": "0000-H1"}, "year 0 is out of range"),
        ({"half": "2025-H1", "from": "2025-01-01"}, "either 'half' or 'from'/'to'"),
        ({"from": "2025-06-31"}, "date"),
        ({"target_working_days": 400}, "less than or equal to 365"),
    ],
)
async def test_a_malformed_waiting_time_query_is_unprocessable_with_a_clear_message(
    client: httpx.AsyncClient, params: dict[str, Any], complaint: str
) -> None:
    response = await client.get(WAITING.format("slagelse"), params=params)

    assert response.status_code == 422
    assert complaint in response.json()["detail"]


async def test_the_waiting_time_csv_has_a_header_row_and_the_same_figures(
    js: JetStreamContext, service: ReportingService, client: httpx.AsyncClient
) -> None:
    await publish_fixed_history(js, service)
    params = {"half": "2025-H1"}
    report = (await client.get(WAITING.format("slagelse"), params=params)).json()

    response = await client.get(WAITING.format("slagelse") + ".csv", params=params)

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert "waiting-time-slagelse-2025-H1.csv" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert response.text.startswith("municipality,period_from,period_to,survey_half,level,")
    assert [(r["level"], r["site"], r["channel"], r["bookings"]) for r in rows] == [
        ("group", "korsoer", "web", "1"),
        ("group", "slagelse", "phone", "2"),
        ("group", "slagelse", "web", "4"),
        ("total", "", "", "7"),
    ]
    web, total = rows[2], rows[3]
    assert float(web["p90_working_days"]) == pytest.approx(8.2)
    assert float(total["within_target_share"]) == report["total"]["within_target_share"]
    assert {r["period_from"] for r in rows} == {"2025-01-01"}
    assert {r["target_working_days"] for r in rows} == {"5"}


async def test_the_waiting_time_csv_of_an_unknown_municipality_is_not_found(
    js: JetStreamContext, service: ReportingService, client: httpx.AsyncClient
) -> None:
    await publish(js, service, registered("slagelse", target_working_days=7))

    response = await client.get(WAITING.format("herning") + ".csv", headers=reader("herning"))

    assert response.status_code == 404
