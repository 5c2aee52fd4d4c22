"""The one way a service consumes the event stream: a durable JetStream consumer whose
read-model change and applied stream sequence commit in one PostgreSQL transaction.

Guarantees:
- a redelivered message (same stream sequence) changes nothing: its sequence is not above
  the recorded position, so it is acknowledged and skipped;
- messages are applied in stream order: a fetched batch is applied in one transaction that
  records the position once, and is acknowledged after it commits; a batch holding a message
  that is not a valid event or that the projection refuses is settled one message at a time
  instead (applied or dead-lettered before the next is looked at), so the position only ever
  moves forward over applied messages;
- a message that is not a valid event, or that the projection refuses after a few tries, goes
  to `deadletter.<projection>` with the reason and the consumer keeps going;
- an outage (database or NATS unreachable) is waited out, never dead-lettered;
- nothing is skipped after a crash: the durable consumer is recreated, whenever the runner
  (re)binds, to deliver from just after the recorded position. (Messages that a killed process
  had fetched but not acknowledged would otherwise come back only after the ack wait, behind
  later ones already applied, and be skipped as applied: lost.)
- one runner per lane at a time, across processes: it holds a PostgreSQL advisory lock
  while it runs; a second instance stands by and takes over when the first stops or dies.

Lanes: a projection runs one runner per configured municipality (`lanes`), so ordering is kept
within a municipality and a municipality that is stuck (a row lock, a refusal being retried, a
slow apply) never delays another. A lane is named `<projection>-<municipality>`; that name is
its durable consumer, its position row, its dead-letter subject and its lock, so lanes spread
over instances by themselves (each takes the lanes whose locks it wins) and the lanes of one
process share its pool and its one lock connection (the connection budget does not grow with
the municipalities). Its filter is the projection's subjects with the municipality token fixed.
- Upgrading: a lane's position row, when first made, starts from the projection's row of
  before lanes (`<projection>`), so an upgraded deployment neither replays nor skips. (Not
  yet wired into the services, and infra/replay.py still locks and moves only that row: a
  replay with lanes running must first lock and set every `<projection>-*` row as well.)
- A municipality not configured has no lane: its events stay on the stream, unapplied, until
  it is configured; its lane then starts at the projection's row, which only the one runner of
  before lanes moved (over every municipality's events), so it gets every event of it not yet
  applied. With no municipality configured at all, the projection runs one lane
  for every municipality under its own name, as before lanes.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import asyncpg
import structlog
from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeout
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError

from events import Envelope, UndecodableEvent, decode
from infra.health import Lag
from infra.leadership import Lease, lead, projection_lock
from infra.streams import EVENTS_STREAM, deadletter_subject
from infra.transient import TRANSIENT, keep_running

log = structlog.get_logger()

OUTAGES = TRANSIENT  # infra/transient.py: waited out, never dead-lettered for
# A fetch that failed, or a consumer gone: bind anew and resume from the recorded position.
_REFETCH: tuple[type[BaseException], ...] = (*OUTAGES, NotFoundError)


class Projection(Protocol):
    """A read model built from events. `apply` runs inside the transaction that records the
    position; it must only use `connection`."""

    @property
    def name(self) -> str: ...

    @property
    def subjects(self) -> Sequence[str]: ...

    async def apply(self, connection: asyncpg.Connection, event: Envelope[Any]) -> None: ...


def lane_name(projection: str, municipality: str | None) -> str:
    """The lane's consumer, position row, dead-letter subject and lock: `<projection>-<m>`."""
    return projection if municipality is None else f"{projection}-{municipality}"


def lane_subjects(subjects: Sequence[str], municipality: str | None) -> list[str]:
    """`bs.<m>.…` subjects with the municipality token (`*` or `>`) fixed to `municipality`."""
    if municipality is None:
        return list(subjects)
    fixed = []
    for subject in subjects:
        tokens = subject.split(".")
        if tokens[0] != "bs" or len(tokens) < 2 or tokens[1] not in ("*", ">"):
            raise ValueError(f"{subject!r} has no municipality token to fix")
        if tokens[1] == ">":
            tokens[1:] = [municipality, ">"]
        else:
            tokens[1] = municipality
        fixed.append(".".join(tokens))
    return fixed


@dataclass
class ProjectionRunner:
    """One lane of a projection: its events of one municipality (None: of every one)."""

    projection: Projection
    js: JetStreamContext
    pool: asyncpg.Pool
    stream: str = EVENTS_STREAM
    municipality: str | None = None
    # At most this many messages per fetch and transaction (a fetch returns what is there, so
    # this bounds catching up, not latency). Catching up on 30,000 events: 100 -> 7,200-8,500
    # events/s, 500 -> 12,000-13,400.
    batch: int = 500
    max_attempts: int = 3
    retry_delay: float = 0.2
    ack_wait: float = 30
    fetch_timeout: float = 0.5
    standby_poll: float = 1.0  # how often a standing-by instance tries to take over

    @property
    def name(self) -> str:
        return lane_name(self.projection.name, self.municipality)

    @property
    def subjects(self) -> list[str]:
        return lane_subjects(self.projection.subjects, self.municipality)

    @property
    def lock_id(self) -> int:
        return projection_lock(self.name)

    async def lag(self) -> Lag:
        """How far the read model is behind the stream: the messages of its subjects after
        the recorded position, and how long ago the first of them was stored on the stream."""
        applied = await self.pool.fetchval(
            "SELECT stream_seq FROM projection_position WHERE projection = $1", self.name
        )
        start = (applied or 0) + 1
        try:
            info = await self.js.consumer_info(self.stream, self.name)
            events = info.num_pending + info.num_ack_pending
        except NotFoundError:  # not bound yet: count from the stream instead
            events = None
        if events == 0:
            return Lag(0, 0.0)
        found = await asyncio.gather(
            *(self.js.get_msg(self.stream, start, s, next=True) for s in self.subjects),
            return_exceptions=True,
        )
        for failed in found:
            if isinstance(failed, BaseException) and not isinstance(failed, NotFoundError):
                raise failed  # NotFound: no message of that subject after the position
        times = [m.time for m in found if not isinstance(m, BaseException) and m.time]
        if not times:
            return Lag(events or 0, 0.0)
        first = min(times)
        seconds = max(0.0, (datetime.now(UTC) - first).total_seconds())
        if events is None:  # at least the one found
            events = 1
        return Lag(events, seconds)

    async def bind(self) -> JetStreamContext.PullSubscription:
        """Recreates the durable consumer (never the stream) to deliver from just after the
        recorded position, and binds to it."""
        await self.pool.execute(  # a new lane starts where the projection's one runner was
            "INSERT INTO projection_position (projection, stream_seq) SELECT $1, coalesce(("
            "SELECT stream_seq FROM projection_position WHERE projection = $2), 0) "
            "ON CONFLICT DO NOTHING",
            self.name,
            self.projection.name,
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
                filter_subjects=self.subjects,
                ack_policy=AckPolicy.EXPLICIT,
                deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
                opt_start_seq=applied + 1,
                ack_wait=self.ack_wait,
                max_ack_pending=self.batch,
            ),
        )
        return await self.js.pull_subscribe_bind(self.name, stream=self.stream)

    async def run(self, stop: asyncio.Event) -> None:
        """Runs while it holds the projection's lock; stands by until then, and again if the
        connection holding the lock is lost (another instance may have taken over)."""
        await lead(
            self.pool,
            self.lock_id,
            stop,
            lambda lock: self._run_leading(stop, lock),
            name=f"projection:{self.name}",
            standby_poll=self.standby_poll,
            retry_delay=self.retry_delay,
        )

    async def _run_leading(self, stop: asyncio.Event, lock: Lease) -> None:
        subscription = await self._bind_waiting(stop)
        log.info("projection.started", projection=self.name)
        while not stop.is_set() and not lock.is_closed():
            try:
                messages = await subscription.fetch(self.batch, timeout=self.fetch_timeout)
            except (TimeoutError, NatsTimeout):
                continue
            except _REFETCH as error:  # fetched messages may be lost in
                # flight, or the consumer is gone: resume anew from the recorded position
                log.warning("projection.fetch_failed", projection=self.name, error=repr(error))
                await asyncio.sleep(self.retry_delay)
                with contextlib.suppress(*_REFETCH):
                    await subscription.unsubscribe()
                subscription = await self._bind_waiting(stop)
                continue
            await self.handle_batch(messages)
        with contextlib.suppress(*_REFETCH):
            await subscription.unsubscribe()

    async def _bind_waiting(self, stop: asyncio.Event) -> JetStreamContext.PullSubscription:
        while True:
            try:
                return await self.bind()
            except OUTAGES as error:
                if stop.is_set():
                    raise
                log.warning("projection.bind_failed", projection=self.name, error=repr(error))
                await asyncio.sleep(self.retry_delay)

    async def handle_batch(self, messages: Sequence[Msg]) -> None:
        """Settles fetched messages: all in one transaction, or one by one if any is refused."""
        if len(messages) > 1 and await self._apply_together(messages):
            for message in messages:
                await message.ack()
            return
        for message in messages:
            await self.handle(message)

    async def _apply_together(self, messages: Sequence[Msg]) -> bool:
        """True if every message was applied (or skipped as applied) in one transaction;
        False, with nothing applied, if one is undecodable or refused."""
        try:
            events = [(m.metadata.sequence.stream, decode(m.data)) for m in messages]
        except UndecodableEvent:
            return False
        while True:
            try:
                await self.apply_in_order(events)
                return True
            except OUTAGES as error:  # wait the outage out; never dead-letter because of it
                log.warning("projection.outage", projection=self.name, error=str(error))
                await asyncio.sleep(self.retry_delay)
            except Exception:
                return False

    async def handle(self, message: Msg) -> None:
        """Settles one message: applied, skipped as already applied, or dead-lettered."""
        sequence = message.metadata.sequence.stream
        try:
            event = decode(message.data)
        except UndecodableEvent as error:
            await self.dead_letter(message, error.reason)
            return
        attempt = 0
        while True:
            try:
                await self.apply(sequence, event)
                break
            except OUTAGES as error:  # wait the outage out; never dead-letter because of it
                log.warning("projection.outage", projection=self.name, error=str(error))
                await asyncio.sleep(self.retry_delay)
            except Exception as error:
                attempt += 1
                if attempt >= self.max_attempts:
                    await self.dead_letter(message, f"{type(error).__name__}: {error}")
                    return
                await asyncio.sleep(self.retry_delay * attempt)
        await message.ack()

    async def apply(self, sequence: int, event: Envelope[Any]) -> bool:
        """Applies `event` unless already applied; True if it changed the read model."""
        return await self.apply_in_order([(sequence, event)]) > 0

    async def apply_in_order(self, events: Sequence[tuple[int, Envelope[Any]]]) -> int:
        """Applies, in one transaction, each (stream sequence, event) above the recorded
        position, and records the last; returns how many changed the read model."""
        async with self.pool.acquire() as connection, connection.transaction():
            position = await connection.fetchval(
                "SELECT stream_seq FROM projection_position WHERE projection = $1 FOR UPDATE",
                self.name,
            )
            fresh = []
            for sequence, event in events:
                if sequence <= position:
                    continue  # redelivered or republished: already in the read model
                fresh.append(event)
                position = sequence
            # A projection may apply several events at once (`apply_batch`, same outcome as
            # `apply` one by one, in order), e.g. with one executemany per run of events;
            # not if a subclass changed `apply` without it.
            owner = next(
                kind
                for kind in type(self.projection).__mro__
                if {"apply", "apply_batch"} & vars(kind).keys()
            )
            apply_batch = vars(owner).get("apply_batch")
            if apply_batch is not None and len(fresh) > 1:
                await apply_batch(self.projection, connection, fresh)
            else:
                for event in fresh:
                    await self.projection.apply(connection, event)
            applied = len(fresh)
            if applied:
                await connection.execute(
                    "UPDATE projection_position SET stream_seq = $2, updated_at = now() "
                    "WHERE projection = $1",
                    self.name,
                    position,
                )
            return applied

    async def dead_letter(self, message: Msg, reason: str) -> None:
        """Keeps the message with the reason on the dead-letter stream, then lets it go."""
        log.error(
            "projection.dead_letter", projection=self.name, subject=message.subject, reason=reason
        )
        headers = {
            "Bs-Reason": reason[:1000],
            "Bs-Subject": message.subject,
            "Bs-Stream-Seq": str(message.metadata.sequence.stream),
            "Nats-Msg-Id": f"{self.name}:{message.metadata.sequence.stream}",
        }
        await self.js.publish(deadletter_subject(self.name), message.data, headers=headers)
        await message.term()


@dataclass
class Lanes:
    """A projection's lanes, one per municipality, each leading (and failing) on its own."""

    runners: Sequence[ProjectionRunner]

    async def run(self, stop: asyncio.Event) -> None:
        await asyncio.gather(
            *(
                keep_running(f"projection:{lane.name}", functools.partial(lane.run, stop), stop)
                for lane in self.runners
            )
        )


def lanes(
    projection: Projection,
    js: JetStreamContext,
    pool: asyncpg.Pool,
    municipalities: Sequence[str],
    **options: Any,
) -> Lanes:
    """One lane per municipality; one for them all when none is configured."""
    chosen: Sequence[str | None] = list(dict.fromkeys(municipalities)) or [None]
    return Lanes(
        [ProjectionRunner(projection, js, pool, municipality=m, **options) for m in chosen]
    )
