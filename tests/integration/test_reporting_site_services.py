"""`report_site_service`, which the lead-time sampling walks instead of every future slot,
is filled from the slots of a reporting read model built before it existed."""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg

from infra.database import apply_schema


async def test_a_read_model_built_before_the_table_existed_gets_its_site_services(
    pool: asyncpg.Pool,
) -> None:
    await apply_schema(pool, "reporting")
    starts_at = datetime(2030, 3, 4, 9, 0, tzinfo=UTC)
    await pool.execute(
        "INSERT INTO report_slot (municipality, site, starts_at, ends_at, capacity, "
        "acute_capacity, services, seats_left, acute_seats_left, version) "
        "VALUES ('slagelse', 'korsoer', $1, $1, 2, 0, ARRAY['pas', 'mitid'], 2, 0, 1)",
        starts_at,
    )
    await pool.execute("DROP TABLE report_site_service")  # as before this table existed

    await apply_schema(pool, "reporting")
    await apply_schema(pool, "reporting")  # and at every later start: nothing twice

    rows = await pool.fetch("SELECT * FROM report_site_service ORDER BY service")
    assert [tuple(r.values()) for r in rows] == [
        ("slagelse", "korsoer", "mitid"),
        ("slagelse", "korsoer", "pas"),
    ]
