"""The notifications projection's consumer: `infra.projection.ProjectionRunner`, bound so that
it resumes from the position recorded in PostgreSQL.

Why: the runner skips a message whose stream sequence is not above the recorded position. A
process that dies (or loses its connection) with fetched, unacknowledged messages leaves them
to be redelivered only after the consumer's ack wait, while the next fetch already returns
later messages; those are applied first, and the earlier ones, redelivered afterwards, would
be skipped as applied: lost. So the durable consumer is recreated to start right after the
recorded position whenever this runner (re)binds: on start and after a failed fetch. One
runner at a time holds the projection (a PostgreSQL advisory lock), so recreating the
consumer never pulls it from under another process."""

from __future__ import annotations

import asyncio
import contextlib
import zlib
from dataclasses import dataclass

import structlog
from nats.errors import TimeoutError as NatsTimeout
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError

from infra.projection import OUTAGES, ProjectionRunner

log = structlog.get_logger()


@dataclass
class ResumingProjectionRunner(ProjectionRunner):
    ack_wait: float = 30

    @property
    def lock_id(self) -> int:
        return 7356100 + zlib.crc32(self.name.encode()) % 1000

    async def bind(self) -> JetStreamContext.PullSubscription:
        """Recreates the durable consumer to deliver from just after the recorded position."""
        await self.pool.execute(
            "INSERT INTO projection_position (projection) VALUES ($1) ON CONFLICT DO NOTHING",
            self.name,
        )
        applied = await self.pool.fetchval(
            "SELECT stream_seq FROM projection_position WHERE projection = $1", self.name
        )
        with contextlib.suppress(NotFoundError):
            await self.js.delete_consumer(self.stream, self.name)
        await self.js.add_consumer(
            self.stream,
            ConsumerConfig(
                durable_name=self.name,
                filter_subjects=list(self.projection.subjects),
                ack_policy=AckPolicy.EXPLICIT,
                deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
                opt_start_seq=applied + 1,
                ack_wait=self.ack_wait,
                max_ack_pending=self.batch,
            ),
        )
        return await self.js.pull_subscribe_bind(self.name, stream=self.stream)

    async def run(self, stop: asyncio.Event) -> None:
        async with self.pool.acquire() as lock_connection:
            await lock_connection.execute("SELECT pg_advisory_lock($1)", self.lock_id)
            try:
                await self._run_leading(stop)
            finally:
                await lock_connection.execute("SELECT pg_advisory_unlock($1)", self.lock_id)

    async def _run_leading(self, stop: asyncio.Event) -> None:
        subscription = await self.bind()
        log.info("projection.started", projection=self.name)
        while not stop.is_set():
            try:
                messages = await subscription.fetch(self.batch, timeout=0.5)
            except (TimeoutError, NatsTimeout):
                continue
            except OUTAGES as error:  # fetched messages may be lost in flight: resume anew
                log.warning("projection.fetch_failed", projection=self.name, error=repr(error))
                await asyncio.sleep(self.retry_delay)
                with contextlib.suppress(*OUTAGES, NotFoundError):
                    await subscription.unsubscribe()
                subscription = await self._rebind(stop)
                continue
            await self.handle_batch(messages)
        await subscription.unsubscribe()

    async def _rebind(self, stop: asyncio.Event) -> JetStreamContext.PullSubscription:
        while True:
            try:
                return await self.bind()
            except OUTAGES as error:
                if stop.is_set():
                    raise
                log.warning("projection.rebind_failed", projection=self.name, error=repr(error))
                await asyncio.sleep(self.retry_delay)
