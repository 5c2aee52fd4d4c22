"""Ours against the peer (`bench.peer`, the conventional way): both served as their own
processes on the same PostgreSQL and nats-server, each on its own database and stream, sent
the same requests by the same client in alternating rounds; each figure is the median of its
rounds, printed beside the peer's with the ratio."""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from nats.js.api import StorageType, StreamConfig
from nats.js.errors import NotFoundError

from bench.environment import BenchEnvironment, ServiceProcess, Space, fresh_database
from bench.peer.schema import seed
from bench.report import ScenarioResult
from bench.world import MUNICIPALITY, Layout
from infra.streams import DUPLICATE_WINDOW, EVENTS_STREAM

ROUNDS = 3
PEER_STREAM = "PEER"

Figures = dict[str, float]


@dataclass(frozen=True)
class Contender:
    """A booking service under test: ours (`borgerservice serve booking`) or the peer."""

    name: str
    server: ServiceProcess
    stream: str
    booked_subject: str  # where its booking events arrive

    async def booked_on_the_bus(self, space: Space) -> int:
        """How many booking events its stream holds."""
        return await space.stream_count(self.booked_subject, self.stream)

    async def on_the_bus(self, space: Space, count: int, timeout: float = 300) -> None:
        """Until `count` booking events are stored in its stream."""
        deadline = time.monotonic() + timeout
        while await self.booked_on_the_bus(space) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.name}: {count} events not on the bus in {timeout}s")
            await asyncio.sleep(0.005)


def ours(server: ServiceProcess) -> Contender:
    return Contender("ours", server, EVENTS_STREAM, f"bs.{MUNICIPALITY}.booking.booked")


@contextlib.asynccontextmanager
async def peer(env: BenchEnvironment, space: Space, layout: Layout) -> AsyncIterator[Contender]:
    """The peer on a database of its own seeded with `layout`, and an emptied stream."""
    async with (
        fresh_database(env.base_database_url, "peer", schema=False) as database_url,
        peer_on(database_url, space, layout) as contender,
    ):
        yield contender


@contextlib.asynccontextmanager
async def peer_on(database_url: str, space: Space, layout: Layout) -> AsyncIterator[Contender]:
    """The peer on the empty database `database_url`, seeded with `layout`."""
    await seed(database_url, layout)
    with contextlib.suppress(NotFoundError):
        await space.js.delete_stream(PEER_STREAM)
    await space.js.add_stream(
        StreamConfig(
            name=PEER_STREAM,
            subjects=["peer.>"],
            storage=StorageType.FILE,
            duplicate_window=DUPLICATE_WINDOW.total_seconds(),
        )
    )
    server = await ServiceProcess.start_peer(database_url, space)
    try:
        yield Contender("peer", server, PEER_STREAM, f"peer.{MUNICIPALITY}.booking.booked")
    finally:
        await server.stop()


async def alternate(
    contenders: tuple[Contender, Contender], measure: Callable[[Contender, int], Awaitable[Figures]]
) -> dict[str, list[Figures]]:
    """ROUNDS rounds of `measure(contender, round)` for each, the order swapped every round
    (ours, peer; peer, ours; ...) so that neither always runs on the other's tail."""
    measured: dict[str, list[Figures]] = {c.name: [] for c in contenders}
    for n in range(ROUNDS):
        for contender in contenders if n % 2 == 0 else contenders[::-1]:
            measured[contender.name].append(await measure(contender, n))
    return measured


def add_comparison(
    result: ScenarioResult,
    measured: dict[str, list[Figures]],
    units: dict[str, str],
    worst: tuple[str, ...] = (),
) -> None:
    """Each figure's median over the rounds (the largest for those named in `worst`), ours
    beside the peer's, and each round's ratio of the first figure in a note."""
    for name, unit in units.items():
        over_rounds = max if name in worst else statistics.median
        result.compare(
            name,
            over_rounds(r[name] for r in measured["ours"]),
            over_rounds(r[name] for r in measured["peer"]),
            unit,
        )
    first = next(iter(units))
    per_round = [
        f"{o[first] / p[first]:.2f}x" if p[first] else "-"
        for o, p in zip(measured["ours"], measured["peer"], strict=True)
    ]
    result.notes.append(
        f"medians of {ROUNDS} alternating rounds; {first}, ours/peer per round: "
        + ", ".join(per_round)
    )


async def quiet_cpu(server: ServiceProcess, started: float, quiet: float = 0.3) -> float:
    """The server's CPU seconds since `started` (a `cpu_seconds()` reading), once it has had
    `quiet` seconds to finish what the load left it (projections, relay)."""
    await asyncio.sleep(quiet)
    return server.cpu_seconds() - started
