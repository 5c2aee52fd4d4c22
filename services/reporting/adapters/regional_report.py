"""Assembles the regional report from each sharing municipality's exported aggregates."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from services.reporting.adapters.booking_report import UnknownMunicipality
from services.reporting.adapters.reports import Reports
from services.reporting.domain.regional import RegionalReport, SharedFigures, regional_total
from services.reporting.domain.report import Period
from services.reporting.domain.satisfaction import SatisfactionGoals


async def shared_figures(
    reports: Reports, municipality: str, period: Period, goals: SatisfactionGoals
) -> SharedFigures:
    """The aggregates a municipality exports for `period`; raises `UnknownMunicipality`."""
    waiting = await reports.bookings.waiting_time_report(municipality, period)
    satisfaction = await reports.satisfaction.satisfaction_report(municipality, period, goals)
    lead_time = await reports.lead_time.lead_time_report(municipality, period)
    return SharedFigures(
        municipality=municipality,
        bookings=waiting.total.bookings,
        median_waiting_working_days=waiting.total.median,
        within_target_share=waiting.total.within_target_share,
        target_working_days=waiting.target_working_days,
        survey_responses=satisfaction.total.responses,
        satisfied_with_booking_share=satisfaction.total.satisfied_with_booking_share,
        easy_to_find_time_share=satisfaction.total.easy_to_find_time_share,
        guarantee_breaches=lead_time.breaches,
    )


async def regional_report(
    reports: Reports,
    sharing: Sequence[str],
    period: Period,
    survey_half: str | None,
    goals_of: Callable[[str], SatisfactionGoals],
) -> RegionalReport:
    shared: list[SharedFigures] = []
    missing: list[str] = []
    for municipality in sharing:
        try:
            shared.append(
                await shared_figures(reports, municipality, period, goals_of(municipality))
            )
        except UnknownMunicipality:
            missing.append(municipality)
    return RegionalReport(
        period=period,
        survey_half=survey_half,
        municipalities=shared,
        not_reporting=missing,
        total=regional_total(shared),
    )
