"""The audit trail, built from the booking events on the stream: per booking, who did what
and when. Staff actions name the staff account (every staff event carries it); a citizen's
action names the fingerprint of the manage token used (never the token itself); deadlines and
offers made by the service itself are the system's. Details are times and outcomes only, so the
trail keeps nothing an erasure would have to remove."""

from __future__ import annotations

from typing import Any

import asyncpg
from pydantic_core import to_json

from events import Envelope
from infra.read_models import ReadModel

# Who acts when an event does not say: the service's own process managers.
SYSTEM_ACTIONS = frozenset({"booking.waitlist_offered", "booking.waitlist_offer_expired"})
# Fields copied into the detail: never personal data (no names, phones, notes or reasons).
DETAIL_FIELDS = (
    "site",
    "service",
    "channel",
    "starts_at",
    "previous_starts_at",
    "offered_starts_at",
    "outcome",
    "bulk",
    "acute",
    "generation",
)
CITIZEN = "citizen"


def actor_of(event: Envelope[Any]) -> tuple[str, str]:
    """(kind, actor) of the event: `staff`, `citizen` or `system`."""
    data = event.data
    by = getattr(data, "by", None) or getattr(data, "cancelled_by", None)
    if event.type in SYSTEM_ACTIONS:
        return "system", by or "booking-service"
    if by is None:
        channel = getattr(data, "channel", None)
        if channel is not None and str(channel) != "web":
            return "staff", f"unnamed ({channel})"  # staff bookings before `by` was recorded
        return "citizen", CITIZEN
    if by == CITIZEN or by.startswith(f"{CITIZEN}:"):
        return "citizen", by
    if by == "system" or by.startswith("system:"):
        return "system", by
    return "staff", by.removeprefix("staff:")


def detail_of(event: Envelope[Any]) -> dict[str, Any]:
    data = event.data
    detail: dict[str, Any] = {}
    for name in DETAIL_FIELDS:
        value = getattr(data, name, None)
        if value is not None:
            detail[name] = value
    if event.site is not None:
        detail.setdefault("site", event.site)
    return detail


class AuditProjection:
    name = "audit"
    subjects = ("bs.*.booking.*",)

    async def apply(self, connection: asyncpg.Connection, event: Envelope[Any]) -> None:
        kind, actor = actor_of(event)
        await connection.execute(
            "INSERT INTO audit_entry (event_id, municipality, booking_id, version, occurred_at,"
            " action, actor_kind, actor, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
            " ON CONFLICT (event_id) DO NOTHING",
            event.event_id,
            event.municipality,
            event.aggregate_id,
            event.aggregate_version,
            event.occurred_at,
            event.type.removeprefix("booking."),
            kind,
            actor,
            to_json(detail_of(event)).decode(),
        )


# What replay needs of it: every column comes from the event history.
READ_MODEL = ReadModel(
    AuditProjection,
    "audit",
    {
        "audit_entry": (
            "event_id", "municipality", "booking_id", "version", "occurred_at", "action",
            "actor_kind", "actor", "detail",
        )
    },
)  # fmt: skip
