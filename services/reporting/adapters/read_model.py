"""The reporting read model as a whole: built fresh in its own schema, compared by content hash,
and put in place of the live one in a single transaction."""

from __future__ import annotations

import hashlib

import asyncpg

from infra.database import schema_sql

# Each table's columns that the event history alone decides (not the wall-clock ones), the key
# first: two read models built from the same history have the same content hash.
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
    ),
}
TABLES = tuple(HASHED_COLUMNS)


def quoted(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


async def content_hash(connection: asyncpg.Connection, schema: str) -> str:
    """md5 over every table's rows in key order: equal hashes mean equal read models."""
    table_hashes = []
    async with connection.transaction():
        await connection.execute("SET LOCAL TimeZone = 'UTC'")  # timestamps print the same
        for table, columns in HASHED_COLUMNS.items():
            table_hashes.append(
                await connection.fetchval(
                    f"SELECT md5(coalesce(string_agg(row({', '.join(columns)})::text, E'\\n' "
                    f"ORDER BY {columns[0]}), '')) FROM {quoted(schema)}.{table}"
                )
            )
    return hashlib.md5("".join(table_hashes).encode()).hexdigest()


async def create_empty(connection: asyncpg.Connection, schema: str) -> None:
    """A fresh schema holding empty read-model tables, replacing any earlier one of that name;
    the connection then reads and writes there (its `search_path`)."""
    await connection.execute(
        f"DROP SCHEMA IF EXISTS {quoted(schema)} CASCADE; CREATE SCHEMA {quoted(schema)}"
    )
    await connection.execute(f"SET search_path TO {quoted(schema)}")
    await connection.execute(schema_sql("reporting"))


async def switch_over(connection: asyncpg.Connection, built: str, live: str, previous: str) -> None:
    """Inside the caller's transaction: the built tables become the live ones, under the same
    names, and the live ones move to `previous`. Readers wait for the commit, then see the new
    tables; they never see a mix or an empty model."""
    tables = ", ".join(f"{quoted(live)}.{table}" for table in TABLES)
    await connection.execute(f"LOCK TABLE {tables} IN ACCESS EXCLUSIVE MODE")
    await connection.execute(
        f"DROP SCHEMA IF EXISTS {quoted(previous)} CASCADE; CREATE SCHEMA {quoted(previous)}"
    )
    for table in TABLES:
        await connection.execute(
            f"ALTER TABLE {quoted(live)}.{table} SET SCHEMA {quoted(previous)}"
        )
        await connection.execute(f"ALTER TABLE {quoted(built)}.{table} SET SCHEMA {quoted(live)}")
    await connection.execute(f"DROP SCHEMA {quoted(built)}")
