"""A projection's read model as tables: what replay needs to know of it, its content hash, and
building it in a schema of its own and switching it in for the live one."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import asyncpg

from infra.database import schema_sql
from infra.projection import Projection


@dataclass(frozen=True)
class ReadModel:
    """What replay needs to know of a projection: how to make it, the schema file that creates
    its tables (`infra/sql/<schema_file>.sql`, idempotent), and per table the columns that the
    event history alone decides (not wall-clock ones), for the content hash."""

    projection: Callable[[], Projection]
    schema_file: str
    hashed_columns: Mapping[str, tuple[str, ...]]


def quoted(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


async def content_hash(connection: asyncpg.Connection, schema: str, model: ReadModel) -> str:
    """md5 over every table's rows in a fixed order: equal hashes mean equal read models."""
    table_hashes = []
    async with connection.transaction():
        await connection.execute("SET LOCAL TimeZone = 'UTC'")  # timestamps print the same
        for table, columns in model.hashed_columns.items():
            row = f"row({', '.join(columns)})::text"
            table_hashes.append(
                await connection.fetchval(
                    f"SELECT md5(coalesce(string_agg({row}, E'\\n' ORDER BY {row}), '')) "
                    f"FROM {quoted(schema)}.{quoted(table)}"
                )
            )
    return hashlib.md5("".join(table_hashes).encode()).hexdigest()


async def create_empty(connection: asyncpg.Connection, schema: str, model: ReadModel) -> None:
    """A fresh schema holding empty read-model tables, replacing any earlier one of that name;
    the connection then reads and writes there (its `search_path`)."""
    await connection.execute(
        f"DROP SCHEMA IF EXISTS {quoted(schema)} CASCADE; CREATE SCHEMA {quoted(schema)}"
    )
    await connection.execute(f"SET search_path TO {quoted(schema)}")
    await connection.execute(schema_sql(model.schema_file))


async def switch_over(connection: asyncpg.Connection, built: str, live: str, previous: str) -> None:
    """Inside the caller's transaction: every table built becomes the live one of its name, and
    the live ones move to `previous`. Readers wait for the commit, then see the new tables; they
    never see a mix or an empty model."""
    tables = [
        row["tablename"]
        for row in await connection.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = $1 ORDER BY tablename", built
        )
    ]
    live_tables = ", ".join(f"{quoted(live)}.{quoted(table)}" for table in tables)
    await connection.execute(f"LOCK TABLE {live_tables} IN ACCESS EXCLUSIVE MODE")
    await connection.execute(
        f"DROP SCHEMA IF EXISTS {quoted(previous)} CASCADE; CREATE SCHEMA {quoted(previous)}"
    )
    for table in tables:
        await connection.execute(
            f"ALTER TABLE {quoted(live)}.{quoted(table)} SET SCHEMA {quoted(previous)}"
        )
        await connection.execute(
            f"ALTER TABLE {quoted(built)}.{quoted(table)} SET SCHEMA {quoted(live)}"
        )
    await connection.execute(f"DROP SCHEMA {quoted(built)}")
