"""What every reporting route shares: who may read it, its path and query parameters and their
4xx answers."""

from __future__ import annotations

from typing import Annotated

from fastapi import HTTPException, Path, Query

from events.envelope import SLUG
from infra.staff_tokens import Role
from services.reporting.domain.report import Period
from services.reporting.domain.survey_periods import MalformedPeriod, SurveyHalves

# Who may read a municipality's figures: its staff and admins, and the role made for statistics
# (which never sees a booking). Statistics carry no personal data.
READER_ROLES = frozenset({Role.STAFF, Role.ADMIN, Role.REPORTING})

Municipality = Annotated[str, Path(pattern=SLUG)]
SurveyHalf = Annotated[
    str | None,
    Query(description="A survey half instead of from/to, e.g. 2025-H1", examples=["2025-H1"]),
]


def not_found(municipality: str) -> HTTPException:
    return HTTPException(
        404, detail=f"no events have been reported for municipality {municipality!r}"
    )


def resolve_period(period: Period, half: str | None, halves: SurveyHalves) -> Period:
    """The survey half named by `half`, else `period`; 422 with the reason if malformed."""
    if half is None:
        return period
    if period.from_ is not None or period.to is not None:
        raise HTTPException(422, detail="give either 'half' or 'from'/'to', not both")
    try:
        return halves.labelled(half)
    except MalformedPeriod as error:
        raise HTTPException(422, detail=str(error)) from None


def csv_response_headers(name: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{name}"'}
