"""replay: rebuilding the reporting projection from a stream of booking events (`borgerservice
replay reporting`), and the live runner catching up on the same stream from zero, in events
per second. Baseline: plain nats-py pull-fetching the same messages without processing.
Target: replay at least 0.5x the baseline."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Sequence

from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError

from bench.environment import BenchEnvironment, Space, fresh_database
from bench.history import publish_in_bulk, reporting_history
from bench.report import ScenarioResult
from infra.database import create_pool
from infra.projection import ProjectionRunner
from infra.replay import replay
from infra.streams import EVENTS_STREAM
from services.reporting.adapters.booking_projection import ReportingProjection
from services.reporting.adapters.read_model import READ_MODEL

FETCH_BATCH = 500


async def fetch_all(space: Space, count: int) -> float:
    """Plain nats-py: an ephemeral unacknowledged consumer, batches fetched until `count`."""
    info = await space.js.add_consumer(
        EVENTS_STREAM,
        ConsumerConfig(
            filter_subjects=list(ReportingProjection.subjects),
            ack_policy=AckPolicy.NONE,
            deliver_policy=DeliverPolicy.ALL,
            inactive_threshold=60.0,
            mem_storage=True,
        ),
    )
    subscription = await space.js.pull_subscribe_bind(info.name, stream=EVENTS_STREAM)
    try:
        started = time.perf_counter()
        fetched = 0
        while fetched < count:
            fetched += len(await subscription.fetch(FETCH_BATCH, timeout=5))
        return fetched / (time.perf_counter() - started)
    finally:
        await subscription.unsubscribe()
        await space.js.delete_consumer(EVENTS_STREAM, info.name)


class OneTransactionPerMessage(ProjectionRunner):
    """The runner as it was before batching, kept to measure what batching gained."""

    async def handle_batch(self, messages: Sequence[Msg]) -> None:
        for message in messages:
            await self.handle(message)


async def live_catch_up(
    space: Space, database_url: str, runner: type[ProjectionRunner], most_seconds: float
) -> float:
    """The live runner from zero: events/s until it reaches the stream's last message, or
    over `most_seconds` if that comes first."""
    pool = await create_pool(database_url)
    with contextlib.suppress(NotFoundError):  # the previous runner's: start from zero
        await space.js.delete_consumer(EVENTS_STREAM, ReportingProjection.name)
    stop = asyncio.Event()
    started = time.perf_counter()
    task = asyncio.create_task(runner(ReportingProjection(), space.js, pool).run(stop))
    try:
        last = (await space.js.stream_info(EVENTS_STREAM)).state.last_seq
        deadline = started + most_seconds
        position = 0
        while position < last and time.perf_counter() < deadline:
            await asyncio.sleep(0.05)
            position = await pool.fetchval(
                "SELECT coalesce(max(stream_seq), 0) FROM projection_position "
                "WHERE projection = 'reporting'"
            )
        return position / (time.perf_counter() - started)
    finally:
        stop.set()
        await task
        await pool.close()


async def run(env: BenchEnvironment, space: Space, result: ScenarioResult) -> None:
    events = env.size(4_000, 200_000)
    started = time.perf_counter()
    published = await publish_in_bulk(space.js, reporting_history(events))
    result.notes.append(
        f"{published:,} booking events generated onto the stream in "
        f"{time.perf_counter() - started:.1f} s"
    )
    baseline = "baseline: nats-py pull fetch, no processing"
    result.add(baseline, await fetch_all(space, published), "events/s")
    most_seconds = env.seconds(2, 120)
    for label, runner in (
        ("live runner catching up, batched", ProjectionRunner),
        ("live runner catching up, a transaction per message", OneTransactionPerMessage),
    ):
        async with fresh_database(env.base_database_url, "replay_live") as database_url:
            result.add(
                label, await live_catch_up(space, database_url, runner, most_seconds), "events/s"
            )
        result.ratio(label, baseline)
    rebuilt = await replay(READ_MODEL, space.js, space.database_url, echo=lambda _: None)
    result.add("replay reporting", rebuilt.events_per_second, "events/s")
    result.checks["replay applied every event"] = rebuilt.events + rebuilt.skipped == published
    result.ratio("replay reporting", baseline)
    result.target("replay reporting", ">=", 0.5 * result.value(baseline))
