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
import uvicorn
from fastapi import APIRouter
from nats.aio.client import Client as NatsClient

from infra.database import ensure_database
from infra.http import build_api
from infra.nats_server import EmbeddedNats
from infra.settings import ConnectionSettings
from infra.streams import ensure_streams

log = structlog.get_logger()


class Service(Protocol):
    async def run(self, stop: asyncio.Event) -> None: ...

    async def close(self) -> None: ...


@dataclass
class Platform:
    nats_url: str
    nc: NatsClient
    embedded: EmbeddedNats | None


@asynccontextmanager
async def platform(settings: ConnectionSettings) -> AsyncIterator[Platform]:
    """NATS (embedded unless `NATS_URL` is set), the database and the streams, ready to use."""
    embedded = None
    nats_url = settings.nats_url
    if nats_url is None:
        embedded = EmbeddedNats(settings.var_dir / "nats", port=settings.nats_port)
        await embedded.astart()
        nats_url = embedded.url
    try:
        await ensure_database(settings.database_url)
        nc = await nats.connect(nats_url, name="borgerservice", max_reconnect_attempts=-1)
        try:
            await ensure_streams(nc.jetstream())
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
    api = build_api(title, routers, error_statuses)
    server = uvicorn.Server(uvicorn.Config(api, host=host, port=port, log_level="warning"))
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
