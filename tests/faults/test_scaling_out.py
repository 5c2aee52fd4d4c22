"""Scaling out: two instances of every service side by side on one database and one stream.
The booking instances share the work and never overbook (optimistic concurrency on the site's
day; one relay at a time); the consumer instances share one durable consumer each and must
produce exactly what one instance produces: the same ledger."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable

import pytest

from infra.nats_server import EmbeddedNats
from tests.faults.conftest import SEED, Supervisor, booking_load, checked_ledger
from tests.faults.deployment import Deployment

pytestmark = pytest.mark.faults

SCALE_SECONDS = float(os.environ.get("FAULT_SCALE_SECONDS", "30"))


async def test_two_instances_of_every_service_give_the_ledger_of_one(
    world: list[str],
    nats_node: EmbeddedNats,
    make_deployment: Callable[..., Deployment],
    capsys: pytest.CaptureFixture[str],
) -> None:
    started = time.monotonic()
    deployment = make_deployment(nats_node.url, nats_node)
    for service in ("booking", "notifications", "reporting"):
        deployment.add(service, 1)
        deployment.add(service, 2)
    await asyncio.to_thread(deployment.start_all)
    # Twice the rate over half the times: both instances compete for the same seats.
    load = booking_load(deployment, world[: len(world) // 2], SEED, rate=24)
    with Supervisor(deployment):
        await load.run(SCALE_SECONDS)
    title = "two instances of every service side by side"
    await checked_ledger(load, deployment, started, title, capsys)
    assert not deployment.unexpected_exits, deployment.report()
