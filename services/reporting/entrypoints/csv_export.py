"""CSV renderings of reports: a header row, then one row per group, the total row last."""

from __future__ import annotations

import csv
import io

from services.reporting.domain.operations import Comparison, OperationsFigures, OperationsReport
from services.reporting.domain.waiting_time import WaitingFigures, WaitingTimeReport

CSV_MEDIA_TYPE = "text/csv; charset=utf-8"

WAITING_TIME_COLUMNS = (
    "municipality",
    "period_from",
    "period_to",
    "survey_half",
    "level",  # "group", or "total" for the last row (which names no site, service or channel)
    "site",
    "service",
    "channel",
    "bookings",
    "median_working_days",
    "p90_working_days",
    "within_target_share",
    "target_working_days",
)


def waiting_time_csv(report: WaitingTimeReport) -> str:
    """RFC 4180 CSV; an empty cell is a figure with no booking to compute it from."""
    common = _period_cells(report)
    rows = [
        (
            *common,
            "group",
            group.site,
            group.service,
            group.channel,
            *_figures(group),
            report.target_working_days,
        )
        for group in report.by_site_service_and_channel
    ]
    rows.append((*common, "total", "", "", "", *_figures(report.total), report.target_working_days))
    return _csv(WAITING_TIME_COLUMNS, rows)


def _csv(columns: tuple[str, ...], rows: list[tuple[object, ...]]) -> str:
    """RFC 4180: CRLF line ends, a header row first."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    writer.writerows(rows)
    return out.getvalue()


def _period_cells(report: WaitingTimeReport | OperationsReport) -> tuple[object, ...]:
    """The columns every row of a period report starts with."""
    return (
        report.municipality,
        _cell(report.period.from_),
        _cell(report.period.to),
        _cell(report.survey_half),
    )


def _figures(figures: WaitingFigures) -> tuple[object, ...]:
    return (
        figures.bookings,
        _cell(figures.median),
        _cell(figures.p90),
        _cell(figures.within_target_share),
    )


def _cell(value: object) -> object:
    return "" if value is None else value


OPERATIONS_FIGURES = tuple(OperationsFigures.model_fields)
OPERATIONS_COLUMNS = (
    "municipality",
    "period_from",
    "period_to",
    "survey_half",
    "level",  # "group", or "total" for the last row
    "site",
    "service",
    *OPERATIONS_FIGURES,
    "year_earlier_bookings",
    "bookings_ratio",
    "peak",
)


def operations_csv(report: OperationsReport) -> str:
    """RFC 4180 CSV of the operations report (capacity is per site, so it stays in the JSON)."""
    common = _period_cells(report)
    rows = [
        (*common, "group", group.site, group.service, *_operations(group.figures, group.comparison))
        for group in report.by_site_and_service
    ]
    rows.append((*common, "total", "", "", *_operations(report.total, report.total_comparison)))
    return _csv(OPERATIONS_COLUMNS, rows)


def _operations(figures: OperationsFigures, comparison: Comparison | None) -> tuple[object, ...]:
    compared: tuple[object, ...] = ("", "", "")
    if comparison is not None:
        compared = (
            comparison.year_earlier.bookings,
            _cell(comparison.bookings_ratio),
            comparison.peak,
        )
    return (*(_cell(getattr(figures, name)) for name in OPERATIONS_FIGURES), *compared)
