"""Which failures are outages to wait out, and how long to wait: the one list every worker,
the runtime and the HTTP API share.

PostgreSQL and NATS restarting, failing over, refusing connections or being full are
transient: a worker backs off (with jitter, so instances do not retry in step) and goes on;
an HTTP request answers 503 with `Retry-After`. Only a configuration error stops a process.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import functools
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import ParamSpec, Protocol, TypeVar

import asyncpg
import nats.errors
import psycopg
import psycopg_pool
import structlog
from eventsourcing.persistence import InterfaceError as StoreInterfaceError
from eventsourcing.persistence import OperationalError as StoreOperationalError
from nats.js.errors import ServiceUnavailableError

log = structlog.get_logger()
T = TypeVar("T")
R = TypeVar("R")
P = ParamSpec("P")

# PostgreSQL
_DATABASE: tuple[type[BaseException], ...] = (
    asyncpg.PostgresConnectionError,  # lost, refused or never made
    asyncpg.InterfaceError,  # used a connection that is closing or closed
    asyncpg.OperatorInterventionError,  # shutting down, starting up, terminated by an admin
    asyncpg.InsufficientResourcesError,  # too many connections, disk or memory full
    psycopg.OperationalError,
    StoreOperationalError,  # the event store's (eventsourcing) wrappers of psycopg's
    StoreInterfaceError,
)
# NATS
_BUS: tuple[type[BaseException], ...] = (
    nats.errors.ConnectionClosedError,
    nats.errors.ConnectionReconnectingError,
    nats.errors.NoRespondersError,
    nats.errors.NoServersError,
    nats.errors.StaleConnectionError,
    nats.errors.TimeoutError,
    ServiceUnavailableError,  # JetStream briefly without a leader
)
# For `except` clauses of workers; `is_transient` is the finer judgement (an OSError of a
# file or of an address in use is configuration, not an outage).
TRANSIENT: tuple[type[BaseException], ...] = (
    OSError,  # refused, reset, unreachable ("Connect call failed" is a plain OSError)
    TimeoutError,
    *_DATABASE,
    *_BUS,
)
_NOT_AN_OUTAGE = frozenset(
    {errno.EADDRINUSE, errno.EACCES, errno.EPERM, errno.ENOENT, errno.EISDIR, errno.ENOTDIR}
)


class ConfigurationError(Exception):
    """What no waiting mends (a wrong database, a stream of another store, a port in use, a
    missing secret): the process says it in one line and exits."""


def is_transient(error: BaseException) -> bool:
    """True for an outage, also when one is wrapped (the event store raises its own errors
    `from` psycopg's)."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, ConfigurationError):
            return False
        if isinstance(current, OSError) and current.errno in _NOT_AN_OUTAGE:
            return False
        if isinstance(current, TRANSIENT):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def is_database_outage(error: BaseException) -> bool:
    """True when PostgreSQL is the part away (not the bus, not a file): what the HTTP breaker
    answers 503 for at once, since every route of the API needs the database."""
    return any(_caused_by(error, kind) for kind in _DATABASE)


def backoff(attempt: int, *, base: float = 0.2, cap: float = 10.0) -> float:
    """Seconds to wait before try `attempt` (1, 2, ...): exponential, capped, full jitter."""
    return random.uniform(base / 2, min(cap, base * 2 ** max(0, attempt - 1)))


async def pause(attempt: int, stop: asyncio.Event | None = None, **limits: float) -> None:
    """Waits `backoff(attempt)`, or less if `stop` is set meanwhile."""
    delay = backoff(attempt, **limits)
    if stop is None:
        await asyncio.sleep(delay)
        return
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), delay)


async def keep_running(
    name: str, work: Callable[[], Awaitable[None]], stop: asyncio.Event, *, cap: float = 30.0
) -> None:
    """Runs `work()` until `stop`; when it fails, logs why, backs off and starts it again,
    so one worker's outage or fault never stops the others or the process. A configuration
    error is raised: waiting does not mend it."""
    attempt = 0
    while not stop.is_set():
        try:
            await work()
            return
        except ConfigurationError:
            raise
        except Exception as error:
            attempt += 1
            event = "worker.outage" if is_transient(error) else "worker.failed"
            log.warning(event, worker=name, attempt=attempt, error=repr(error)[:300])
            await pause(attempt, stop, cap=cap)


class Worker(Protocol):
    async def run(self, stop: asyncio.Event) -> None: ...


async def keep_all_running(
    prefix: str, workers: Mapping[str, Callable[[], Worker]], stop: asyncio.Event
) -> None:
    """Each worker (made anew for every start) kept running on its own, until `stop`."""

    def starter(make: Callable[[], Worker]) -> Callable[[], Awaitable[None]]:
        return lambda: make().run(stop)

    await asyncio.gather(
        *(keep_running(f"{prefix}:{name}", starter(make), stop) for name, make in workers.items())
    )


async def when_available(name: str, attempt: Callable[[], Awaitable[T]]) -> T:
    """`attempt()`'s result, tried again through outages (a process starting while
    PostgreSQL or NATS is still away waits for it, saying so); other errors are raised."""
    tries = 0
    while True:
        try:
            return await attempt()
        except Exception as error:
            if not is_transient(error):
                raise
            tries += 1
            log.warning("startup.waiting", waiting_for=name, attempt=tries, error=repr(error)[:200])
            await pause(tries, cap=10.0)


def retry_dead_connections(function: Callable[P, R]) -> Callable[P, R]:
    """For the event store (its pooled connections are not pinged before use): a statement
    that failed on a connection PostgreSQL dropped is tried again on another, up to ten
    times, since a restart leaves every pooled connection dead. When no connection is to be
    had at all (the pool waited its timeout), the outage is raised at once: ten more waits
    would make a request hang for minutes instead of answering 503."""

    @functools.wraps(function)
    def retried(*args: P.args, **kwargs: P.kwargs) -> R:
        for attempt in range(1, 11):
            try:
                return function(*args, **kwargs)
            except (StoreInterfaceError, StoreOperationalError) as error:
                if attempt == 10 or _caused_by(error, psycopg_pool.PoolTimeout):
                    raise
                time.sleep(0.05 * attempt)
        raise AssertionError("unreachable")

    return retried


def _caused_by(error: BaseException, kind: type[BaseException]) -> bool:
    current: BaseException | None = error
    for _ in range(10):
        if current is None:
            return False
        if isinstance(current, kind):
            return True
        current = current.__cause__ or current.__context__
    return False
