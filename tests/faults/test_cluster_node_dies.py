"""A three-node nats-server cluster on loopback with the streams kept on all three: the node
leading the event stream is killed under load, and later the node the services connected to;
the ledger must balance as with one server."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from pathlib import Path

import nats
import pytest

from infra.cluster import ClusterNode, running_cluster
from infra.streams import EVENTS_STREAM, ensure_streams
from tests.faults.conftest import (
    LOAD_SECONDS,
    SEED,
    Supervisor,
    booking_load,
    checked_ledger,
)
from tests.faults.deployment import Deployment

pytestmark = pytest.mark.faults


async def replicate_streams(url: str, replicas: int = 3, timeout: float = 30.0) -> None:
    """Declares the streams on `replicas` nodes once the cluster has elected its leader."""
    nc = await nats.connect(url)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                await ensure_streams(nc.jetstream(), replicas=replicas)
                return
            except Exception:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.5)
    finally:
        await nc.close()


async def stream_leader(nodes: list[ClusterNode], timeout: float = 30.0) -> ClusterNode:
    """The node leading the event stream (its three replicas checked), once one answers."""
    deadline = time.monotonic() + timeout
    while True:
        for node in nodes:
            if node.process is None or node.process.poll() is not None:
                continue
            try:
                nc = await nats.connect(node.url, allow_reconnect=False)
                try:
                    info = await nc.jetstream().stream_info(EVENTS_STREAM)
                finally:
                    await nc.close()
            except Exception:
                continue
            assert info.config.num_replicas == 3, info.config
            if info.cluster is not None and info.cluster.leader:
                return next(n for n in nodes if n.server_name == info.cluster.leader)
        if time.monotonic() > deadline:
            raise AssertionError("the event stream has no leader")
        await asyncio.sleep(0.5)


async def kill_nodes_one_at_a_time(
    nodes: list[ClusterNode], deployment: Deployment, seconds: float, rng: random.Random
) -> None:
    """The stream's leader dies, comes back; then the services' own node dies, comes back."""
    await asyncio.sleep(rng.uniform(5, seconds / 4))
    leader = await stream_leader(nodes)
    for victim in (leader, nodes[0] if leader is not nodes[0] else nodes[1]):
        victim.kill()
        deployment.faults[f"SIGKILL nats node {victim.server_name} (then restart)"] += 1
        await asyncio.sleep(rng.uniform(seconds / 8, seconds / 5))
        await asyncio.to_thread(victim.start)
        await asyncio.sleep(rng.uniform(3, seconds / 8))


async def test_every_accepted_booking_survives_a_cluster_node_dying(
    world: list[str],
    make_deployment: Callable[..., Deployment],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    started = time.monotonic()
    with running_cluster(tmp_path / "cluster") as nodes:
        await replicate_streams(nodes[0].url)
        deployment = make_deployment(nodes[0].url)
        for service in ("booking", "notifications", "reporting"):
            deployment.add(service)
        await asyncio.to_thread(deployment.start_all)
        load = booking_load(deployment, world, SEED, rate=12)
        rng = random.Random(SEED)
        with Supervisor(deployment):
            await asyncio.gather(
                load.run(LOAD_SECONDS),
                kill_nodes_one_at_a_time(nodes, deployment, LOAD_SECONDS, rng),
            )
        assert (await stream_leader(nodes)).server_name
        title = "a nats-server cluster node dies under load (stream on 3 replicas)"
        await checked_ledger(load, deployment, started, title, capsys)
        deployment.stop_all()
