"""PostgreSQL for read models: the database itself, the schema, and asyncpg pools."""

from __future__ import annotations

from importlib.resources import files
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from infra.leadership import SCHEMA_LOCK

SCHEMA_FILES = (
    "platform",
    "availability",
    "deadlines",
    "notifications",
    "reporting",
    "personal_data",
    "audit",
    "reporting_sms",
)


def _admin_url(database_url: str) -> str:
    parts = urlsplit(database_url)
    return urlunsplit(parts._replace(path="/postgres"))


async def ensure_database(database_url: str) -> None:
    """Creates the database named in the URL if it does not exist yet."""
    name = urlsplit(database_url).path.lstrip("/")
    connection = await asyncpg.connect(_admin_url(database_url))
    try:
        exists = await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            await connection.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
    except asyncpg.DuplicateDatabaseError:
        pass  # created concurrently by another process
    finally:
        await connection.close()


async def drop_database(database_url: str) -> None:
    name = urlsplit(database_url).path.lstrip("/")
    connection = await asyncpg.connect(_admin_url(database_url))
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


def schema_sql(name: str) -> str:
    return files("infra.sql").joinpath(f"{name}.sql").read_text()


async def apply_schema(pool: asyncpg.Pool, *names: str) -> None:
    """Applies the named read-model schemas (all by default); every statement is idempotent."""
    async with pool.acquire() as connection:
        # One session-level lock so that processes starting together do not race on DDL.
        await connection.execute("SELECT pg_advisory_lock($1)", SCHEMA_LOCK)
        try:
            for name in names or SCHEMA_FILES:
                await connection.execute(schema_sql(name))
        finally:
            await connection.execute("SELECT pg_advisory_unlock($1)", SCHEMA_LOCK)


async def create_pool(database_url: str, *, min_size: int = 1, max_size: int = 10) -> asyncpg.Pool:
    # A connection not made within 5 s is an outage, waited out by the caller.
    pool = await asyncpg.create_pool(database_url, min_size=min_size, max_size=max_size, timeout=5)
    assert pool is not None
    return pool
