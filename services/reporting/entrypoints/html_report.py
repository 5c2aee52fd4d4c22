"""The printable HTML period report for a committee, and the regional report, with charts
inline as SVG. Every figure comes from the JSON reports; nothing is computed here."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from services.reporting.domain.lead_time import LeadTimeReport
from services.reporting.domain.operations import OperationsReport
from services.reporting.domain.regional import RegionalReport
from services.reporting.domain.report import Period
from services.reporting.domain.satisfaction import SatisfactionReport
from services.reporting.domain.sms_delivery import SmsDeliveryReport
from services.reporting.domain.waiting_time import WaitingTimeReport
from services.reporting.entrypoints.charts import (
    grouped_bars,
    lines_over_time,
    shares_against_goals,
)

STYLE = """
body { font-family: sans-serif; max-width: 52em; margin: 2em auto; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.15em; margin-top: 1.6em; }
table { border-collapse: collapse; margin: .5em 0; font-size: .9em; }
td, th { border: 1px solid #bbb; padding: .2em .5em; text-align: right; }
td:first-child, th:first-child { text-align: left; }
.peak { color: #c0392b; font-weight: bold; }
section { page-break-inside: avoid; }
@media print { body { margin: 0; max-width: none; } a { color: inherit; } }
"""


@dataclass(frozen=True)
class PeriodReports:
    waiting: WaitingTimeReport
    operations: OperationsReport
    satisfaction: SatisfactionReport
    lead_time: LeadTimeReport
    sms: SmsDeliveryReport


def _period(period: Period, half: str | None) -> str:
    dates = f"{period.from_ or '&hellip;'} &ndash; {period.to or '&hellip;'}"
    return f"{half} ({dates})" if half else dates


def _pct(share: float | None) -> str:
    return "&ndash;" if share is None else f"{share:.0%}"


def _num(value: float | int | None) -> str:
    if value is None:
        return "&ndash;"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _page(title: str, body: str) -> str:
    return (
        f'<!doctype html><html lang="da"><head><meta charset="utf-8"><title>{escape(title)}'
        f"</title><style>{STYLE}</style></head><body><h1>{escape(title)}</h1>{body}</body></html>"
    )


def period_report_html(reports: PeriodReports) -> str:
    r = reports
    sections = [
        f"<p>Period: {_period(r.operations.period, r.operations.survey_half)}</p>",
        _waiting_section(r.waiting),
        _operations_section(r.operations),
        _lead_time_section(r.lead_time),
        _satisfaction_section(r.satisfaction),
        _sms_section(r.sms),
    ]
    return _page(f"Borgerservice {r.operations.municipality}: period report", "".join(sections))


def _waiting_section(report: WaitingTimeReport) -> str:
    groups = report.by_site_service_and_channel
    labels = [f"{g.site}/{g.service}/{g.channel}" for g in groups]
    chart = grouped_bars(
        "Working days from booking to the booked time",
        labels,
        {
            "median": [g.median or 0 for g in groups],
            "90th percentile": [g.p90 or 0 for g in groups],
        },
        "working days",
    )
    rows = [
        [escape(label), str(g.bookings), _num(g.median), _num(g.p90), _pct(g.within_target_share)]
        for label, g in zip(labels, groups, strict=True)
    ]
    total = report.total
    rows.append(
        [
            "<b>total</b>",
            str(total.bookings),
            _num(total.median),
            _num(total.p90),
            _pct(total.within_target_share),
        ]
    )
    header = [
        "site/service/channel",
        "bookings",
        "median",
        "p90",
        f"within {report.target_working_days} days",
    ]
    return f"<section><h2>Waiting time</h2>{chart}{_table(header, rows)}</section>"


def _operations_section(report: OperationsReport) -> str:
    groups = report.by_site_and_service
    labels = [f"{g.site}/{g.service}" for g in groups]
    series = {"this period": [float(g.figures.bookings) for g in groups]}
    if report.year_earlier_period is not None:
        series["a year earlier"] = [
            float(g.comparison.year_earlier.bookings) if g.comparison else 0.0 for g in groups
        ]
    chart = grouped_bars("Bookings against a year earlier", labels, series, "bookings")
    rows = []
    for label, g in zip(labels, groups, strict=True):
        f, ratio = g.figures, g.comparison.bookings_ratio if g.comparison else None
        peak = g.comparison is not None and g.comparison.peak
        ratio_cell = _num(ratio) if ratio is None else f"{ratio:.2f}&times;"
        rows.append(
            [
                escape(label),
                str(f.bookings),
                str(f.cancellations),
                str(f.no_shows),
                str(f.acute_bookings),
                str(f.solved_online),
                _num(f.handling_minutes_mean),
                f'<span class="peak">{ratio_cell}</span>' if peak else ratio_cell,
            ]
        )
    header = [
        "site/service",
        "bookings",
        "cancelled",
        "no-shows",
        "acute",
        "solved online",
        "handling min",
        "vs year earlier",
    ]
    capacity = _table(
        ["site", "seats offered", "seats taken", "used"],
        [
            [escape(c.site), str(c.seats_offered), str(c.seats_taken), _pct(c.used_share)]
            for c in report.capacity_by_site
        ],
    )
    return (
        f"<section><h2>Operations</h2>{chart}{_table(header, rows)}"
        f"<h2>Capacity used</h2>{capacity}</section>"
    )


def _lead_time_section(report: LeadTimeReport) -> str:
    series = {
        f"{g.site}/{g.service}": ([d.day for d in g.daily], [d.max_working_days for d in g.daily])
        for g in report.by_site_and_service
        if g.daily
    }
    chart = (
        lines_over_time(
            "Working days to the first free time (daily max)", series, report.target_working_days
        )
        if series
        else "<p>No schedule changes were observed in the period.</p>"
    )
    rows = [
        [
            escape(f"{g.site}/{g.service}"),
            str(g.samples),
            _num(g.median_working_days),
            _num(g.max_working_days),
            _pct(g.within_target_share),
            str(g.breaches),
        ]
        for g in report.by_site_and_service
    ]
    header = [
        "site/service",
        "samples",
        "median",
        "max",
        f"within {report.target_working_days} days",
        "breaches",
    ]
    return (
        f"<section><h2>Lead time to the first free time</h2>{chart}{_table(header, rows)}</section>"
    )


def _satisfaction_section(report: SatisfactionReport) -> str:
    total, goals = report.total, report.goals
    chart = shares_against_goals(
        f"Survey ({total.responses} responses) against the goals",
        ["satisfied with booking", "easy to find a time"],
        [total.satisfied_with_booking_share or 0.0, total.easy_to_find_time_share or 0.0],
        [goals.satisfied_with_booking, goals.easy_to_find_time],
    )
    rows = [
        [
            "satisfied with having to book",
            _pct(total.satisfied_with_booking_share),
            _pct(goals.satisfied_with_booking),
        ],
        [
            "found it easy to find a time",
            _pct(total.easy_to_find_time_share),
            _pct(goals.easy_to_find_time),
        ],
        ["mean score (1-5)", _num(total.mean_score), "&ndash;"],
    ]
    return (
        f"<section><h2>Satisfaction</h2>{chart}"
        f"{_table(['question', 'share', 'goal'], rows)}</section>"
    )


def _sms_section(report: SmsDeliveryReport) -> str:
    groups = [*report.by_kind, report.total]
    labels = [*(escape(g.kind) for g in report.by_kind), "total"]
    rows = [
        [label, str(g.sent), str(g.delivered), str(g.failed), _pct(g.delivered_share)]
        for label, g in zip(labels, groups, strict=True)
    ]
    header = ["kind", "sent", "delivered", "failed", "of sent, delivered"]
    return f"<section><h2>SMS delivery</h2>{_table(header, rows)}</section>"


def regional_report_html(report: RegionalReport) -> str:
    chart = (
        grouped_bars(
            "Share within each municipality's own target",
            [m.municipality for m in report.municipalities],
            {"within target": [(m.within_target_share or 0) * 100 for m in report.municipalities]},
            "%",
        )
        if report.municipalities
        else ""
    )
    rows = [
        [
            escape(m.municipality),
            str(m.bookings),
            _num(m.median_waiting_working_days),
            _pct(m.within_target_share),
            str(m.survey_responses),
            _pct(m.satisfied_with_booking_share),
            _pct(m.easy_to_find_time_share),
            str(m.guarantee_breaches),
        ]
        for m in report.municipalities
    ]
    t = report.total
    rows.append(
        [
            "<b>region</b>",
            str(t.bookings),
            "&ndash;",
            _pct(t.within_own_target_share),
            str(t.survey_responses),
            _pct(t.satisfied_with_booking_share),
            _pct(t.easy_to_find_time_share),
            str(t.guarantee_breaches),
        ]
    )
    header = [
        "municipality",
        "bookings",
        "median wait",
        "within target",
        "responses",
        "satisfied",
        "easy to find",
        "breaches",
    ]
    missing = (
        f"<p>Sharing but not reporting yet: {escape(', '.join(report.not_reporting))}</p>"
        if report.not_reporting
        else ""
    )
    body = (
        f"<p>Period: {_period(report.period, report.survey_half)}</p>"
        f"{chart}{_table(header, rows)}{missing}"
    )
    return _page("Borgerservice: regional report", body)
