"""The peer's tables, and the same municipality, sites and times as the bench's `Layout`."""

from __future__ import annotations

import asyncpg

from bench.world import MUNICIPALITY, SERVICES, Layout

SCHEMA = """
CREATE TABLE IF NOT EXISTS site (
    municipality text NOT NULL, id text NOT NULL, name text NOT NULL,
    PRIMARY KEY (municipality, id)
);
CREATE TABLE IF NOT EXISTS service (
    municipality text NOT NULL, id text NOT NULL, name text NOT NULL,
    documents text[] NOT NULL, PRIMARY KEY (municipality, id)
);
CREATE TABLE IF NOT EXISTS slot (
    municipality text NOT NULL, site text NOT NULL, starts_at timestamptz NOT NULL,
    ends_at timestamptz NOT NULL, services text[] NOT NULL, capacity int NOT NULL,
    booked int NOT NULL DEFAULT 0 CHECK (booked <= capacity),
    PRIMARY KEY (municipality, site, starts_at)
);
CREATE TABLE IF NOT EXISTS booking (
    id uuid PRIMARY KEY, municipality text NOT NULL, site text NOT NULL, service text NOT NULL,
    starts_at timestamptz NOT NULL, ends_at timestamptz NOT NULL, citizen_name text NOT NULL,
    phone text NOT NULL, channel text NOT NULL, booked_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS outbox (
    id bigserial PRIMARY KEY, subject text NOT NULL, msg_id uuid NOT NULL,
    payload text NOT NULL, sent_at timestamptz
);
CREATE INDEX IF NOT EXISTS outbox_unsent ON outbox (id) WHERE sent_at IS NULL;
"""


async def seed(database_url: str, layout: Layout) -> None:
    """The bench municipality's sites, services and every time of `layout`, all free."""
    connection = await asyncpg.connect(database_url)
    try:
        await connection.execute(SCHEMA)
        await connection.executemany(
            "INSERT INTO site VALUES ($1, $2, $3)",
            [(MUNICIPALITY, site, site.title()) for site in layout.site_ids],
        )
        await connection.executemany(
            "INSERT INTO service VALUES ($1, $2, $3, $4)",
            [(MUNICIPALITY, s["id"], s["name"], s["documents"]) for s in SERVICES],
        )
        await connection.copy_records_to_table(
            "slot",
            columns=["municipality", "site", "starts_at", "ends_at", "services", "capacity"],
            records=[
                (MUNICIPALITY, site, s["starts_at"], s["ends_at"], s["services"], s["capacity"])
                for day in range(layout.days)
                for site in layout.site_ids
                for s in layout.slots_on(day)
            ],
        )
    finally:
        await connection.close()
