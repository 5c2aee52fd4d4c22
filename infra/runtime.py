"""Runs services: the platform they share (nats-server, database, streams), their HTTP API,
and their background work, until Ctrl-C or SIGTERM; then stops them cleanly."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Protocol

import nats
import structlog
from fastapi import APIRouter
from nats.aio.client import Client as NatsClient

from infra.database import ensure_database
from infra.http import BodyLimits, build_api, http_server
from infra.nats_accounts import ensure_municipality_consumers, load_or_create
from infra.nats_server import EmbeddedNats
from infra.settings import ConnectionSettings
from infra.streams import ensure_streams

log = structlog.get_logger()


class Service(Protocol):
    async def run(self, stop: asyncio.Event) -> None: ...

    async def close(self) -> None: ...


@dataclass
class Platform:
    nats_url: str  # with the platform account's credentials: for services, never to print
    nc: NatsClient
    embedded: EmbeddedNats | None


def embedded_nats(settings: ConnectionSettings) -> tuple[EmbeddedNats, str]:
    """The embedded nats-server with one account per municipality (infra/nats_accounts.py),
    and the URL with the platform's credentials."""
    data_dir = settings.var_dir / "nats"
    accounts = load_or_create(
        data_dir / "accounts.json", settings.bus_municipalities(), settings.nats_shared_exports
    )
    config = accounts.accounts_config(no_auth_platform=settings.nats_local_no_auth)
    server = EmbeddedNats(data_dir, port=settings.nats_port, accounts_config=config)
    return server, accounts.platform.url(server.url)


@asynccontextmanager
async def platform(settings: ConnectionSettings) -> AsyncIterator[Platform]:
    """NATS (embedded unless `NATS_URL` is set), the database, the streams and each
    municipality's consumer of its own events, ready to use."""
    embedded = None
    nats_url = settings.nats_url
    if nats_url is None:
        embedded, nats_url = embedded_nats(settings)
        await embedded.astart()
    try:
        await ensure_database(settings.database_url)
        nc = await nats.connect(nats_url, name="borgerservice", max_reconnect_attempts=-1)
        try:
            await ensure_streams(nc.jetstream())
            await ensure_municipality_consumers(nc.jetstream(), settings.bus_municipalities())
            yield Platform(nats_url, nc, embedded)
        finally:
            await nc.close()
    finally:
        if embedded is not None:
            await embedded.astop()


async def serve_until_stopped(
    services: Sequence[Service],
    routers: Sequence[APIRouter],
    error_statuses: dict[type[Exception], int],
    host: str,
    port: int,
    title: str = "Borgerservice booking",
    on_ready: Any = None,
) -> None:
    """Runs the services' background work and one HTTP server until a signal, then stops all."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    def on_signal(*_: object) -> None:
        loop.call_soon_threadsafe(stop.set)

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, on_signal)
    api = build_api(title, routers, error_statuses, BodyLimits.of(ConnectionSettings()))
    server = http_server(api, host, port)
    failures: list[BaseException] = []

    async def supervise(service: Service) -> None:
        try:
            await service.run(stop)
        except Exception as error:  # one service failing stops the whole process
            failures.append(error)
            log.exception("service.failed", service=type(service).__name__)
            stop.set()

    workers = [asyncio.create_task(supervise(service)) for service in services]
    http = asyncio.create_task(server.serve())
    while not server.started and not http.done():  # noqa: ASYNC110 - uvicorn has no started event
        await asyncio.sleep(0.05)
    if on_ready is not None and server.started:
        on_ready()
    await stop.wait() if not http.done() else stop.set()
    server.should_exit = True
    await asyncio.gather(http, *workers, return_exceptions=True)
    for service in services:
        await service.close()
    if failures:
        raise failures[0]
