"""The nearest free times after a refused one, for a 409 that helps the citizen on."""

from __future__ import annotations

import asyncio
from datetime import datetime, time, timedelta

import asyncpg

from services.booking.adapters.availability import free_times
from services.booking.application import BookingApplication
from services.booking.domain.opening_hours import COPENHAGEN
from services.booking.entrypoints.schemas import FreeTimeView


async def alternative_times(
    app: BookingApplication,
    pool: asyncpg.Pool,
    municipality: str,
    site: str,
    service: str,
    near: datetime,
    horizon_days: int,
    limit: int = 5,
) -> list[FreeTimeView]:
    """That day's free times from the aggregate (the read model may lag behind a rush): none,
    without a read, if the day as the refusal saw it has no free time after the refused one;
    otherwise read again after the commands on that day in progress (a rush may be taking
    those seats). Later days' from the availability projection."""
    day = near.astimezone(COPENHAGEN).date()
    same_day = app.free_times_after_refusal(municipality, site, day, service)
    if same_day is None or any(s.starts_at >= near for s in same_day):
        same_day = await asyncio.to_thread(app.free_times_on, municipality, site, day, service)
    found = [
        FreeTimeView(site=site, starts_at=s.starts_at, ends_at=s.ends_at, seats_left=s.seats_left)
        for s in same_day
        if s.starts_at >= near
    ][:limit]
    later = await free_times(
        pool,
        municipality,
        service=service,
        site=site,
        start=datetime.combine(day + timedelta(days=1), time.min, COPENHAGEN),
        end=near + timedelta(days=horizon_days),
        limit=limit - len(found),
    )
    return found + [FreeTimeView(**vars(t)) for t in later]
