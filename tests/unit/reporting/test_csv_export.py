"""The waiting-time CSV: header first, a row per group, the total last, empty cells for no data."""

from __future__ import annotations

import csv
import io
from datetime import date

from services.reporting.domain.report import Period
from services.reporting.domain.waiting_time import (
    TargetSource,
    WaitingFigures,
    WaitingGroup,
    WaitingTimeReport,
)
from services.reporting.entrypoints.csv_export import WAITING_TIME_COLUMNS, waiting_time_csv

H1 = Period(**{"from": date(2025, 1, 1), "to": date(2025, 6, 30)})


def report(groups: list[WaitingGroup], total: WaitingFigures) -> WaitingTimeReport:
    return WaitingTimeReport(
        municipality="hvidovre",
        period=H1,
        survey_half="2025-H1",
        target_working_days=5,
        target_source=TargetSource.municipality,
        by_site_service_and_channel=groups,
        total=total,
    )


def test_a_report_without_bookings_is_a_header_and_an_empty_total_row() -> None:
    text = waiting_time_csv(
        report([], WaitingFigures(bookings=0, median=None, p90=None, within_target_share=None))
    )

    header, total = list(csv.reader(io.StringIO(text)))
    assert tuple(header) == WAITING_TIME_COLUMNS
    assert total == [
        "hvidovre",
        "2025-01-01",
        "2025-06-30",
        "2025-H1",
        "total",
        "",
        "",
        "",
        "0",
        "",
        "",
        "",
        "5",
    ]


def test_rows_end_with_crlf_and_groups_come_before_the_total() -> None:
    figures = {"bookings": 2, "median": 1.5, "p90": 2.7, "within_target_share": 1.0}
    group = WaitingGroup(site="hvidovre", service="pas", channel="phone", **figures)

    text = waiting_time_csv(report([group], WaitingFigures(**figures)))

    lines = text.split("\r\n")
    assert (
        lines[1]
        == "hvidovre,2025-01-01,2025-06-30,2025-H1,group,hvidovre,pas,phone,2,1.5,2.7,1.0,5"
    )
    assert lines[2].startswith("hvidovre,2025-01-01,2025-06-30,2025-H1,total,,,,2,")
    assert lines[3] == ""
