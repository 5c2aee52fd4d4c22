"""The reporting read model as a whole, as replay (`infra/replay.py`) sees it."""

from __future__ import annotations

from infra.read_models import ReadModel
from services.reporting.adapters.booking_projection import ReportingProjection

# Each table's columns that the event history alone decides (not the wall-clock ones): two read
# models built from the same history have the same content hash.
HASHED_COLUMNS: dict[str, tuple[str, ...]] = {
    "report_municipality": ("municipality", "name", "waiting_target_working_days"),
    "report_booking": (
        "booking_id",
        "municipality",
        "site",
        "service",
        "channel",
        "booked_at",
        "starts_at",
        "waiting_working_days",
        "status",
        "cancelled_at",
        "version",
        "acute",
        "cancelled_in_bulk",
        "outcome",
        "handling_minutes",
    ),
    "report_survey_answer": (
        "booking_id",
        "municipality",
        "site",
        "service",
        "answered_at",
        "satisfied_with_booking",
        "easy_to_find_time",
        "score",
    ),
    "report_slot": (
        "municipality",
        "site",
        "starts_at",
        "ends_at",
        "capacity",
        "acute_capacity",
        "services",
        "seats_left",
        "acute_seats_left",
        "closed",
        "version",
    ),
    "report_site_service": ("municipality", "site", "service"),
    "report_lead_time": (
        "municipality",
        "site",
        "service",
        "observed_at",
        "first_free_at",
        "working_days",
    ),
    "report_guarantee": (
        "event_id",
        "municipality",
        "site",
        "service",
        "kind",
        "observed_at",
        "working_days",
        "target_working_days",
    ),
}

READ_MODEL = ReadModel(ReportingProjection, "reporting", HASHED_COLUMNS)
