"""The `sms_opt_out` table: citizens who want no reminders, notices or surveys."""

from __future__ import annotations

import asyncpg


async def opt_out(pool: asyncpg.Pool, municipality: str, phone: str) -> None:
    """From now on, messages to `phone` in `municipality` that are not yet sent are
    suppressed when due (all but the confirmation of a booking the citizen makes)."""
    await pool.execute(
        "INSERT INTO sms_opt_out (municipality, phone) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        municipality,
        phone,
    )


async def opt_in(pool: asyncpg.Pool, municipality: str, phone: str) -> None:
    """Messages decided on from now on are sent again; those suppressed stay unsent."""
    await pool.execute(
        "DELETE FROM sms_opt_out WHERE municipality = $1 AND phone = $2", municipality, phone
    )


async def is_opted_out(pool: asyncpg.Pool, municipality: str, phone: str) -> bool:
    found = await pool.fetchval(
        "SELECT 1 FROM sms_opt_out WHERE municipality = $1 AND phone = $2", municipality, phone
    )
    return found is not None
