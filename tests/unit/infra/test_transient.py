"""Outages are told from configuration errors, and a worker that fails is started again
without stopping the others."""

from __future__ import annotations

import asyncio
import errno

import asyncpg
import nats.errors
import psycopg
import pytest
from eventsourcing.persistence import OperationalError

from infra.transient import ConfigurationError, backoff, is_transient, keep_all_running


@pytest.mark.parametrize(
    "error",
    [
        asyncpg.CannotConnectNowError("the database system is starting up"),
        asyncpg.CannotConnectNowError("the database system is shutting down"),
        asyncpg.TooManyConnectionsError("sorry, too many clients already"),
        asyncpg.AdminShutdownError("terminating connection due to administrator command"),
        asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
        OSError(errno.ECONNREFUSED, "Connect call failed ('127.0.0.1', 5432)"),
        ConnectionResetError(errno.ECONNRESET, "Connection reset by peer"),
        psycopg.OperationalError("connection failed"),
        nats.errors.NoServersError(),
        TimeoutError(),
    ],
    ids=repr,
)
def test_an_outage_is_transient(error: BaseException) -> None:
    assert is_transient(error)


def test_the_event_store_wrapping_an_outage_is_transient() -> None:
    try:
        try:
            raise psycopg.OperationalError("server closed the connection unexpectedly")
        except psycopg.OperationalError as cause:
            raise OperationalError("could not select") from cause
    except OperationalError as wrapped:
        assert is_transient(wrapped)


@pytest.mark.parametrize(
    "error",
    [
        ConfigurationError("DATABASE_URL names a database of another deployment"),
        OSError(errno.EADDRINUSE, "address already in use"),
        PermissionError(errno.EACCES, "permission denied"),
        ValueError("a bug"),
        asyncpg.UndefinedTableError("relation does not exist"),
    ],
    ids=repr,
)
def test_configuration_errors_and_bugs_are_not_outages(error: BaseException) -> None:
    assert not is_transient(error)


def test_backoff_grows_is_capped_and_jittered() -> None:
    first = [backoff(1) for _ in range(200)]
    late = [backoff(20, cap=10.0) for _ in range(200)]
    assert max(first) <= 0.2
    assert max(late) <= 10.0
    assert len(set(late)) > 100  # jittered: instances do not retry in step


class _Flaky:
    def __init__(self, failures: int, log: list[str]) -> None:
        self.failures = failures
        self.log = log

    async def run(self, stop: asyncio.Event) -> None:
        self.log.append("start")
        if len([e for e in self.log if e == "start"]) <= self.failures:
            raise asyncpg.CannotConnectNowError("the database system is starting up")
        await stop.wait()


class _Steady:
    def __init__(self, ticks: list[int]) -> None:
        self.ticks = ticks

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self.ticks.append(1)
            await asyncio.sleep(0.01)


async def test_a_failing_worker_is_restarted_and_the_others_go_on() -> None:
    stop = asyncio.Event()
    starts: list[str] = []
    ticks: list[int] = []
    flaky = _Flaky(failures=3, log=starts)
    steady = _Steady(ticks)
    running = asyncio.create_task(
        keep_all_running("test", {"flaky": lambda: flaky, "steady": lambda: steady}, stop)
    )
    for _ in range(200):
        if len(starts) >= 4:
            break
        await asyncio.sleep(0.05)
    stop.set()
    await asyncio.wait_for(running, 5)
    assert starts == ["start"] * 4  # three failures waited out, then it ran
    assert len(ticks) > 10  # the steady worker never stopped meanwhile


async def test_a_configuration_error_is_raised() -> None:
    class Misconfigured:
        async def run(self, stop: asyncio.Event) -> None:
            raise ConfigurationError("the stream belongs to another database")

    with pytest.raises(ConfigurationError):
        await asyncio.wait_for(keep_all_running("test", {"bad": Misconfigured}, asyncio.Event()), 5)
