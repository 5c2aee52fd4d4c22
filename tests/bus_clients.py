"""Clients of the real nats-server, one per account, for the tests that attack the bus: each
records what it was given and every error the server sent it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import nats
import pytest
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg

from infra.nats_accounts import Credentials
from infra.nats_server import EmbeddedNats


class Client:
    """A connection of one account, recording every message it was given and every error."""

    def __init__(self, nc: NatsClient, errors: list[Exception]) -> None:
        self.nc, self.errors = nc, errors
        self.received: list[str] = []

    @property
    def violations(self) -> list[str]:
        return [str(e) for e in self.errors if "permissions violation" in str(e).lower()]

    async def watch(self, subject: str = ">") -> None:
        async def record(msg: Msg) -> None:
            self.received.append(msg.subject)

        await self.nc.subscribe(subject, cb=record)
        await self.nc.flush()


Connect = Callable[[Credentials], Awaitable[Client]]


@pytest.fixture
async def connect(server: EmbeddedNats) -> AsyncIterator[Connect]:
    """Connects as the given account to the test module's `server` fixture (tests/conftest.py
    offers this fixture to every module); closed after the test."""
    opened: list[NatsClient] = []

    async def as_(credentials: Credentials) -> Client:
        errors: list[Exception] = []

        async def on_error(error: Exception) -> None:
            errors.append(error)

        nc = await nats.connect(credentials.url(server.url), error_cb=on_error)
        opened.append(nc)
        return Client(nc, errors)

    yield as_
    for nc in opened:
        await nc.close()
