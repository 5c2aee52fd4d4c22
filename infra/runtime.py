"""Runs services: the platform they share (nats-server, database, streams), their HTTP API,
and their background work, until Ctrl-C or SIGTERM; then stops them cleanly."""

from __future__ import annotations

import asyncio
import signal
import socket
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import nats
import structlog
from fastapi import APIRouter
from nats.aio.client import Client as NatsClient

from infra.database import ensure_database
from infra.health import Operations, ServiceHealth
from infra.http import BodyLimits, build_api, http_server
from infra.nats_accounts import (
    BusAccounts,
    ensure_municipality_consumers,
    load_or_create,
    tools_context_path,
    write_tools_context,
)
from infra.nats_server import EmbeddedNats
from infra.settings import ConnectionSettings
from infra.streams import ensure_streams
from infra.transient import ConfigurationError, keep_running, when_available
from infra.var_dir import owning

log = structlog.get_logger()


class Service(Protocol):
    async def run(self, stop: asyncio.Event) -> None: ...

    def health(self) -> ServiceHealth: ...

    async def close(self) -> None: ...


class PortInUse(SystemExit):
    """The HTTP port is taken: a configuration error, one line and a non-zero exit."""


@dataclass
class Platform:
    nats_url: str  # with the platform account's credentials: for services, never to print
    nc: NatsClient
    embedded: EmbeddedNats | None
    tools_context: Path | None = None  # the tools' credentials (embedded server only)


def embedded_nats(settings: ConnectionSettings) -> tuple[EmbeddedNats, BusAccounts]:
    """The embedded nats-server with one account per municipality (infra/nats_accounts.py)
    and its accounts; the tools' credentials written beside them. Only the owner of `VAR_DIR`
    (infra/var_dir.py) may start it."""
    data_dir = settings.var_dir / "nats"
    accounts = load_or_create(
        data_dir / "accounts.json", settings.bus_municipalities(), settings.nats_shared_exports
    )
    server = EmbeddedNats(
        data_dir,
        port=settings.nats_port,
        accounts_config=accounts.accounts_config(),
        stop_leftover=True,
    )
    write_tools_context(settings.var_dir, accounts, server.url)
    return server, accounts


@asynccontextmanager
async def platform(settings: ConnectionSettings) -> AsyncIterator[Platform]:
    """NATS (embedded unless `NATS_URL` is set), the database, the streams and each
    municipality's consumer of its own events, ready to use. The owner of the embedded
    nats-server holds `VAR_DIR` throughout (its data, pid file and credentials live there);
    services of an external NATS may share one `VAR_DIR` on a host."""
    if settings.nats_url is not None:
        async with _platform(settings) as shared:
            yield shared
        return
    with owning(settings.var_dir):
        async with _platform(settings) as shared:
            yield shared


@asynccontextmanager
async def _platform(settings: ConnectionSettings) -> AsyncIterator[Platform]:
    embedded = tools_context = None
    nats_url = settings.nats_url
    if nats_url is None:
        embedded, accounts = embedded_nats(settings)
        await embedded.astart()
        # the embedded server's owner runs the booking service: the relay's user
        nats_url = accounts.platform.url(embedded.url)
        tools_context = tools_context_path(settings.var_dir)
    try:
        await when_available("PostgreSQL", lambda: ensure_database(settings.database_url))
        nc = await when_available(
            "NATS",
            lambda: nats.connect(
                nats_url, name="borgerservice", max_reconnect_attempts=-1, error_cb=bus_error
            ),
        )
        try:
            await when_available("JetStream", lambda: ensure_streams(nc.jetstream()))
            await ensure_municipality_consumers(nc.jetstream(), settings.bus_municipalities())
            yield Platform(nats_url, nc, embedded, tools_context)
        finally:
            await nc.close()
    finally:
        if embedded is not None:
            await embedded.astop()


async def bus_error(error: Exception) -> None:
    """What the NATS client met (it reconnects by itself): one line, where nats-py's own
    callback prints a traceback for every attempt."""
    log.warning("nats.error", error=repr(error)[:200])


def listening_socket(host: str, port: int) -> socket.socket:
    """The HTTP server's socket, bound before any work starts; `PortInUse` if it is taken."""
    listening = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listening.bind((host, port))
    except OSError as error:
        listening.close()
        raise PortInUse(
            f"borgerservice: HTTP port {port} on {host} is in use ({error.strerror}); "
            "stop what holds it or choose another with --port"
        ) from None
    return listening


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
    listening = listening_socket(host, port)
    settings = ConnectionSettings()
    # one registry for the process's one app; its services' metrics join it (infra/metrics.py)
    operations = Operations([s.health() for s in services], settings.ready_max_lag_seconds)
    api = build_api(title, routers, error_statuses, BodyLimits.of(settings), operations)
    server = http_server(api, host, port)
    failures: list[BaseException] = []

    async def supervise(service: Service) -> None:
        """A service's outage or fault is waited out and its work started again (the others
        and the HTTP API go on); only a configuration error stops the process."""
        try:
            await keep_running(type(service).__name__, lambda: service.run(stop), stop)
        except ConfigurationError as error:
            failures.append(error)
            stop.set()

    workers = [asyncio.create_task(supervise(service)) for service in services]
    http = asyncio.create_task(server.serve(sockets=[listening]))
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
