"""Sixty-odd seconds of steady booking load while the suite SIGKILLs the booking service (with
its relay) and each consumer, kills and restarts nats-server and terminates every PostgreSQL
connection, at random moments; then the ledger must balance exactly."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable

import pytest

from infra.nats_server import EmbeddedNats
from tests.faults.conftest import (
    LOAD_SECONDS,
    SEED,
    Supervisor,
    at_random_moments,
    booking_load,
    checked_ledger,
)
from tests.faults.deployment import Deployment

pytestmark = pytest.mark.faults


async def test_every_accepted_booking_survives_crashes_restarts_and_lost_connections(
    world: list[str],
    nats_node: EmbeddedNats,
    make_deployment: Callable[..., Deployment],
    capsys: pytest.CaptureFixture[str],
) -> None:
    started = time.monotonic()
    deployment = make_deployment(nats_node.url, nats_node)
    booking = deployment.add("booking")
    consumers = [deployment.add("notifications"), deployment.add("reporting")]
    await asyncio.to_thread(deployment.start_all)
    load = booking_load(deployment, world, SEED, rate=12)
    rng = random.Random(SEED)

    with Supervisor(deployment) as supervisor:

        def restart_nats() -> None:
            with supervisor.lock:
                deployment.restart_nats()

        faults: list[Callable[[], object]] = []
        for _ in range(2):
            faults += [lambda: deployment.kill(booking)]
            faults += [lambda p=p: deployment.kill(p) for p in consumers]  # type: ignore[misc]
            faults += [restart_nats, deployment.terminate_database_connections]
        faults += [lambda: deployment.kill(rng.choice([booking, *consumers]))]
        faults += [deployment.terminate_database_connections]
        with capsys.disabled():
            print(f"\nfault suite seed {SEED} (FAULT_SEED={SEED} repeats this run)")
        await asyncio.gather(load.run(LOAD_SECONDS), at_random_moments(LOAD_SECONDS, faults, rng))

    await checked_ledger(load, deployment, started, "crashes under load, one nats-server", capsys)
    exits = {p.name: p.stop() for p in deployment.processes}
    assert set(exits.values()) == {0}, f"a service did not stop cleanly: {exits}"
