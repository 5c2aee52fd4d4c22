"""The audit trail of a booking, for the municipality's staff: who did what, and when."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, Literal
from uuid import UUID

import asyncpg
from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel, Field

from infra.staff_tokens import MAX_TTL
from services.booking.entrypoints.staff_auth import staff_guard


class AuditEntry(BaseModel):
    version: int = Field(description="The booking's event number: 1 is the booking itself")
    occurred_at: datetime
    action: str = Field(examples=["booked", "rescheduled", "checked_in", "cancelled"])
    actor_kind: Literal["staff", "citizen", "system"]
    actor: str = Field(
        description="A staff account; `citizen:<fingerprint of the manage token used>`; or "
        "the system",
        examples=["mette", "citizen:3f9a1c0d2b7e", "booking-service"],
    )
    detail: dict[str, Any] = Field(description="Times and outcomes; never personal data")


def audit_router(
    pool: asyncpg.Pool, staff_keys: Mapping[str, str], max_lifetime: timedelta = MAX_TTL
) -> APIRouter:
    router = APIRouter(prefix="/api/v1/municipalities/{municipality}", tags=["staff"])
    staff_account = staff_guard(staff_keys, max_lifetime=max_lifetime)

    @router.get("/bookings/{booking_id}/audit", response_model=list[AuditEntry])
    async def booking_audit(
        municipality: str, booking_id: UUID, account: str = Depends(staff_account)
    ) -> list[AuditEntry]:
        """Every recorded action on the booking, oldest first (built from its events, so an
        action shows here a moment after it was answered). 404 for a booking of another
        municipality, as for one that does not exist."""
        rows = await pool.fetch(
            "SELECT version, occurred_at, action, actor_kind, actor, detail FROM audit_entry"
            " WHERE municipality = $1 AND booking_id = $2 ORDER BY version",
            municipality,
            booking_id,
        )
        if not rows:
            raise HTTPException(404, f"no booking {booking_id} in {municipality}")
        return [
            AuditEntry(
                version=row["version"],
                occurred_at=row["occurred_at"],
                action=row["action"],
                actor_kind=row["actor_kind"],
                actor=row["actor"],
                detail=json.loads(row["detail"]),
            )
            for row in rows
        ]

    return router
