"""nats-server as operators see it (killed and restarted three times, away for a whole minute)
and PostgreSQL and nats-server away at the same time, while citizens book. No process may exit,
the API keeps answering what it can (a booking needs only PostgreSQL: the relay catches up when
the bus is back), never a hang or a 500, and afterwards the ledger balances exactly."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable

import pytest

from infra.database import ensure_database
from infra.nats_server import EmbeddedNats
from tests.faults.conftest import SEED, Supervisor, booking_load, checked_ledger, open_world
from tests.faults.deployment import Deployment
from tests.faults.postgres_server import PrivatePostgres
from tests.faults.test_postgres_outages import _probe, private_postgres  # noqa: F401 - fixture

pytestmark = pytest.mark.faults

NATS_OUTAGE_SECONDS = 60.0
BOTH_AWAY_SECONDS = 20.0


async def _deployment(
    private_postgres: PrivatePostgres,  # noqa: F811 - the fixture
    nats_node: EmbeddedNats,
    make_deployment: Callable[..., Deployment],
) -> Deployment:
    database_url = private_postgres.database_url("bs_faults")
    deployment = make_deployment(nats_node.url, nats_node)
    deployment.database_url = database_url
    for service in ("booking", "notifications", "reporting"):
        deployment.add(service)
    await asyncio.to_thread(deployment.start_all)
    return deployment


async def test_services_ride_out_nats_restarts_and_a_minute_long_outage(
    private_postgres: PrivatePostgres,  # noqa: F811 - the fixture
    nats_node: EmbeddedNats,
    make_deployment: Callable[..., Deployment],
    capsys: pytest.CaptureFixture[str],
) -> None:
    started = time.monotonic()
    await ensure_database(private_postgres.database_url("bs_faults"))
    times = await asyncio.to_thread(open_world, private_postgres.database_url("bs_faults"))
    deployment = await _deployment(private_postgres, nats_node, make_deployment)
    booking = deployment.of("booking")[0]
    load = booking_load(deployment, times, SEED, rate=8)

    async def faults() -> Counter[str]:
        await asyncio.sleep(3)
        for _ in range(3):
            await asyncio.to_thread(deployment.restart_nats)
            await asyncio.sleep(4)
        await asyncio.to_thread(nats_node.stop)
        deployment.faults[f"nats-server away {NATS_OUTAGE_SECONDS:.0f} s"] += 1
        answers = await _probe(booking.base_url, NATS_OUTAGE_SECONDS)
        await asyncio.to_thread(nats_node.start)
        return answers

    with Supervisor(deployment):
        _, answers = await asyncio.gather(load.run(15 + NATS_OUTAGE_SECONDS + 10), faults())

    with capsys.disabled():
        print(f"\nwhile nats-server was away the API answered: {dict(answers)}")
    assert deployment.unexpected_exits == [], deployment.report()
    assert set(answers) == {"200 retry-after=None"}, answers  # availability needs no bus
    await checked_ledger(load, deployment, started, "nats-server restarts and outage", capsys)
    exits = {p.name: p.stop() for p in deployment.processes}
    assert set(exits.values()) == {0}, f"a service did not stop cleanly: {exits}"


async def test_services_ride_out_postgres_and_nats_away_together(
    private_postgres: PrivatePostgres,  # noqa: F811 - the fixture
    nats_node: EmbeddedNats,
    make_deployment: Callable[..., Deployment],
    capsys: pytest.CaptureFixture[str],
) -> None:
    started = time.monotonic()
    await ensure_database(private_postgres.database_url("bs_faults"))
    times = await asyncio.to_thread(open_world, private_postgres.database_url("bs_faults"))
    deployment = await _deployment(private_postgres, nats_node, make_deployment)
    booking = deployment.of("booking")[0]
    load = booking_load(deployment, times, SEED, rate=8)

    async def faults() -> Counter[str]:
        await asyncio.sleep(5)
        await asyncio.gather(
            asyncio.to_thread(private_postgres.stop, "immediate"),
            asyncio.to_thread(nats_node.kill),
        )
        deployment.faults[f"PostgreSQL and nats-server away {BOTH_AWAY_SECONDS:.0f} s"] += 1
        answers = await _probe(booking.base_url, BOTH_AWAY_SECONDS)
        await asyncio.to_thread(nats_node.start)
        await asyncio.to_thread(private_postgres.start)
        return answers

    with Supervisor(deployment):
        _, answers = await asyncio.gather(load.run(5 + BOTH_AWAY_SECONDS + 40), faults())

    with capsys.disabled():
        print(f"\nwhile both were away the API answered: {dict(answers)}")
    assert deployment.unexpected_exits == [], deployment.report()
    assert set(answers) == {"503 retry-after=5"}, answers
    await checked_ledger(load, deployment, started, "PostgreSQL and nats-server away", capsys)
    exits = {p.name: p.stop() for p in deployment.processes}
    assert set(exits.values()) == {0}, f"a service did not stop cleanly: {exits}"
