"""PostgreSQL as operators see it: restarted fast and immediate, five times each, and away for
a whole minute, while citizens book. No process may exit (the supervisor records any exit
nobody caused), HTTP answers 503 with `Retry-After` while the database is away instead of
hanging, and afterwards the ledger balances exactly.

The suite runs a PostgreSQL cluster of its own (tests/faults/postgres_server.py): restarting
the machine's server would stop every other test."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from infra.database import ensure_database
from infra.nats_server import EmbeddedNats
from tests.booking_world import MUNICIPALITY
from tests.faults.conftest import SEED, Supervisor, booking_load, checked_ledger, open_world
from tests.faults.deployment import Deployment
from tests.faults.postgres_server import PrivatePostgres

pytestmark = pytest.mark.faults

OUTAGE_SECONDS = 60.0


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    # Not under pytest's tmp_path: as root, the server runs as `postgres`, who cannot enter it.
    base = Path(tempfile.mkdtemp(prefix="bs-faults-pg-"))
    base.chmod(0o755)
    server = PrivatePostgres(base / "data")
    server.init()
    server.start()
    yield server
    if server.running():
        server.stop("immediate")
    shutil.rmtree(base, ignore_errors=True)


async def _probe(url: str, seconds: float) -> Counter[str]:
    """What the API answers while the database is away, each answer within 30 s: a request
    waits at most the pool's 5 s for a connection, but under the booking load it queues
    behind the load's own requests in the worker threads first."""
    answers: Counter[str] = Counter()
    deadline = time.monotonic() + seconds
    async with httpx.AsyncClient(timeout=30) as client:
        while time.monotonic() < deadline:
            try:
                response = await client.get(
                    f"{url}/api/v1/municipalities/{MUNICIPALITY}/availability",
                    params={"service": "pas"},
                )
                retry_after = response.headers.get("retry-after")
                answers[f"{response.status_code} retry-after={retry_after}"] += 1
            except httpx.HTTPError as error:
                answers[type(error).__name__] += 1
            await asyncio.sleep(0.5)
    return answers


async def test_services_ride_out_postgres_restarts_and_a_minute_long_outage(
    private_postgres: PrivatePostgres,
    nats_node: EmbeddedNats,
    make_deployment: Callable[..., Deployment],
    capsys: pytest.CaptureFixture[str],
) -> None:
    started = time.monotonic()
    database_url = private_postgres.database_url("bs_faults")
    await ensure_database(database_url)
    times = await asyncio.to_thread(open_world, database_url)
    deployment = make_deployment(nats_node.url, nats_node)
    deployment.database_url = database_url
    booking = deployment.add("booking")
    deployment.add("notifications")
    deployment.add("reporting")
    await asyncio.to_thread(deployment.start_all)
    load = booking_load(deployment, times, SEED, rate=8)

    async def faults() -> Counter[str]:
        await asyncio.sleep(3)
        for mode in ["fast", "immediate"] * 5:
            await asyncio.to_thread(private_postgres.restart, mode)
            deployment.faults[f"PostgreSQL {mode} restart"] += 1
            await asyncio.sleep(2)
        await asyncio.to_thread(private_postgres.stop, "fast")
        deployment.faults[f"PostgreSQL away {OUTAGE_SECONDS:.0f} s"] += 1
        answers = await _probe(booking.base_url, OUTAGE_SECONDS)
        await asyncio.to_thread(private_postgres.start)
        return answers

    with Supervisor(deployment):
        _, answers = await asyncio.gather(load.run(30 + OUTAGE_SECONDS + 10), faults())

    with capsys.disabled():
        print(f"\nwhile PostgreSQL was away the API answered: {dict(answers)}")
    assert deployment.unexpected_exits == [], deployment.report()
    assert answers, "the probe got no answer at all"
    assert set(answers) == {"503 retry-after=5"}, answers  # never a hang, never a 500
    await checked_ledger(load, deployment, started, "PostgreSQL restarts and outage", capsys)
    exits = {p.name: p.stop() for p in deployment.processes}
    assert set(exits.values()) == {0}, f"a service did not stop cleanly: {exits}"
