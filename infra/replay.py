"""Replay: rebuilds any projection's read model from the start of the stream into fresh tables,
then puts them in place of the live ones in one transaction while the old ones kept serving.

Guarantees:
- the history on the stream when replay starts is applied first, without holding up the live
  runner; then, with the live projection's position row locked (its runner waits), the rebuilt
  model is brought up to that position and switched in, so no event is lost or applied twice;
- an event the projection refuses is skipped, as the live runner dead-letters it: replay from
  zero gives the same read model (the same content hash) as the live one;
- with `until`, replay stops at the first event that occurred after it and leaves the rebuilt
  model beside the live one (schema `<projection>_as_of`): history as it was, never switched in.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

import asyncpg
import nats
import structlog
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.js import JetStreamContext

from events import Envelope, UndecodableEvent
from infra.database import apply_schema, create_pool
from infra.leadership import REPLAY_LOCK
from infra.nats_accounts import tools_context_path, tools_url, without_credentials
from infra.projection import OUTAGES, Projection
from infra.read_models import ReadModel, content_hash, create_empty, quoted, switch_over
from infra.replay_stream import Fetched, StreamPulls, fetched_up_to, from_the_start, stream_of
from infra.settings import ConnectionSettings

log = structlog.get_logger()

COPENHAGEN = ZoneInfo("Europe/Copenhagen")


class CannotReplay(ValueError):
    """Unknown projection, a malformed time, no nats-server, or a replay already running."""


def parse_until(text: str | None, option: str = "--until") -> datetime | None:
    """ISO 8601; a time without an offset is Copenhagen local time."""
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise CannotReplay(
            f"{option} {text!r} is not a time such as 2025-06-30 or 2025-06-30T23:59:59+02:00"
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=COPENHAGEN)


async def _quiet(_: Exception) -> None:
    """Connection errors are reported once, by `connected_to_nats`, not as tracebacks."""


@asynccontextmanager
async def connected_to_nats(settings: ConnectionSettings) -> AsyncIterator[NatsClient]:
    """A NATS connection for a developer command: `NATS_URL`, or else the read-only tools user
    of the embedded nats-server (infra/nats_accounts.py); `CannotReplay` with a hint if none."""
    nats_url = settings.nats_url or tools_url(settings.var_dir)
    if nats_url is None:
        raise CannotReplay(
            f"no credentials in {tools_context_path(settings.var_dir)}: "
            "start `borgerservice up` (with this VAR_DIR) or set NATS_URL"
        )
    try:
        nc = await nats.connect(
            nats_url, connect_timeout=2, max_reconnect_attempts=1, error_cb=_quiet
        )
    except Exception as error:
        raise CannotReplay(
            f"no nats-server at {without_credentials(nats_url)} ({error}): "
            "start `borgerservice up` or set NATS_URL"
        ) from None
    try:
        yield nc
    finally:
        await nc.close()


def replayable(name: str, registry: Mapping[str, ReadModel]) -> ReadModel:
    if name not in registry:
        raise CannotReplay(f"no projection {name!r} to replay; choose one of {', '.join(registry)}")
    return registry[name]


@dataclass(frozen=True)
class ReplayResult:
    projection: str
    schema: str  # where the rebuilt read model is now
    switched_over: bool
    events: int  # applied
    skipped: int  # refused by the projection, as the live runner dead-letters them
    seconds: float
    content_hash: str

    @property
    def events_per_second(self) -> float:
        return (self.events + self.skipped) / self.seconds if self.seconds > 0 else 0.0


@dataclass
class _Rebuild:
    """Applies stream messages, in order, to the rebuilt model on one connection, a
    transaction per fetched batch."""

    projection: Projection
    connection: asyncpg.Connection
    pulls: StreamPulls
    until: datetime | None
    echo: Callable[[str], None]
    batch: int
    total: int
    pending: int = 0  # messages after the last one taken, as the server last told
    held: list[Fetched] = field(default_factory=list)  # fetched past `up_to`: the next to take
    applied: int = 0
    skipped: int = 0
    position: int = 0  # stream sequence of the last message taken
    reached_until: bool = False
    next_batch: asyncio.Future[list[Fetched]] | None = None  # fetched while one is written
    started: float = field(default_factory=time.monotonic)
    last_report: float = field(default_factory=time.monotonic)

    async def read(self, up_to: int) -> None:
        """Takes every message with a stream sequence up to `up_to` that is on the stream.
        The next batch is fetched and decoded while the current one is written."""
        while not self.reached_until and self.position < up_to:
            if self.held and self.held[0].sequence > up_to:
                return
            if self.held:
                fetched, self.held = self.held, []
            elif self.next_batch is not None:
                fetched, self.next_batch = await self.next_batch, None
            elif not self.pending:
                return  # nothing more on the stream
            else:
                fetched = await self.fetch()
            taking = fetched_up_to(fetched, up_to)
            self.held = fetched[len(taking) :]
            if fetched and fetched[-1].message.metadata.num_pending and not self.held:
                self.next_batch = asyncio.ensure_future(self.fetch())
            async with self.connection.transaction():
                if not await self.take_together(taking):
                    for one in taking:
                        await self.take(one)
                        if self.reached_until:
                            break
            self.report()

    async def fetch(self) -> list[Fetched]:
        """The next batch, decoded; none if none came in time."""
        return [Fetched.of(message) for message in await self.pulls.fetch(timeout=2.0)]

    async def stop_fetching(self) -> None:
        if self.next_batch is not None:
            self.next_batch.cancel()
            with contextlib.suppress(asyncio.CancelledError, *OUTAGES):
                await self.next_batch
        await self.pulls.stop()

    async def take_together(self, fetched: list[Fetched]) -> bool:
        """Applies the messages with the projection's `apply_batch`, if it has one, in one
        savepoint; False, with nothing applied, if one is undecodable, past `until`, or
        refused (they are then taken one by one)."""
        apply_batch = getattr(self.projection, "apply_batch", None)
        if apply_batch is None or len(fetched) < 2:
            return False
        events = [one.event for one in fetched if isinstance(one.event, Envelope)]
        if len(events) < len(fetched):  # one is undecodable
            return False
        if self.until is not None and any(e.occurred_at > self.until for e in events):
            return False
        try:
            async with self.connection.transaction():
                await apply_batch(self.connection, events)
        except OUTAGES:
            raise
        except Exception:
            return False
        self.applied += len(events)
        self.position = fetched[-1].sequence
        self.pending = fetched[-1].message.metadata.num_pending
        return True

    async def take(self, one: Fetched) -> None:
        """Applies one message inside the caller's transaction; a refusal only rolls back
        its own savepoint."""
        message, event = one.message, one.event
        self.pending = message.metadata.num_pending
        if isinstance(event, UndecodableEvent):
            self._skip(message, event.reason)
            return
        if self.until is not None and event.occurred_at > self.until:
            self.reached_until = True
            return
        try:
            async with self.connection.transaction():
                await self.projection.apply(self.connection, event)
        except OUTAGES:
            raise
        except Exception as error:
            self._skip(message, f"{type(error).__name__}: {error}")
            return
        self.applied += 1
        self.position = message.metadata.sequence.stream

    def _skip(self, message: Msg, reason: str) -> None:
        self.skipped += 1
        self.position = message.metadata.sequence.stream
        log.warning("replay.skipped", subject=message.subject, reason=reason)

    def report(self, *, final: bool = False) -> None:
        now = time.monotonic()
        if not final and now - self.last_report < 1.0:
            return
        self.last_report = now
        done = self.applied + self.skipped
        rate = done / (now - self.started) if now > self.started else 0.0
        share = f" ({done / self.total:.0%})" if self.total else ""
        self.echo(
            f"{self.projection.name}: {done:,} of {self.total:,} events{share}, "
            f"{rate:,.0f} events/s"
        )


async def replay(
    model: ReadModel,
    js: JetStreamContext,
    database_url: str,
    until: datetime | None = None,
    *,
    batch: int = 1_000,
    echo: Callable[[str], None] = print,
) -> ReplayResult:
    """Rebuilds `model` from the start of the stream; see the module docstring."""
    projection = model.projection()
    connection = await asyncpg.connect(database_url)
    rebuild: _Rebuild | None = None
    try:
        if not await connection.fetchval("SELECT pg_try_advisory_lock($1)", REPLAY_LOCK):
            raise CannotReplay("another replay is running")
        live = await connection.fetchval("SELECT current_schema()")
        await _ensure_live_schema(database_url, model, live, projection.name)
        built = f"{projection.name}_as_of" if until else f"{projection.name}_replay"
        await create_empty(connection, built, model)

        stream = stream_of(projection)
        end_at_start = (await js.stream_info(stream)).state.last_seq
        info = await js.add_consumer(stream, from_the_start(projection))
        consumer = info.name
        total = info.num_pending or 0
        pulls = StreamPulls(js, consumer, batch, stream)
        await pulls.start()
        rebuild = _Rebuild(
            projection,
            connection,
            pulls,
            until,
            echo,
            batch,
            total=total,
            pending=total,
        )
        echo(f"{projection.name}: replaying {total:,} events into schema {built}")
        switched = until is None
        if switched:
            # Until the switch, a crash only means replaying again: the batches commit without
            # waiting for the disk; the switch does, and that flushes every batch before it.
            await connection.execute("SET synchronous_commit = off")
        await rebuild.read(up_to=end_at_start)
        if switched:
            await connection.execute("SET synchronous_commit = on")
            async with connection.transaction():
                live_position = await _lock_live_position(connection, live, projection.name)
                # The events the live runner applied while the history was replayed.
                rebuild.pending = (await js.consumer_info(stream, consumer)).num_pending or 0
                await rebuild.read(up_to=live_position)
                await switch_over(connection, built, live, previous=f"{projection.name}_previous")
                await connection.execute(
                    f"UPDATE {_positions(live)} SET stream_seq = $2, updated_at = now() "
                    "WHERE projection = $1",
                    projection.name,
                    max(live_position, rebuild.position),
                )
        rebuild.report(final=True)
        schema = live if switched else built
        result = ReplayResult(
            projection=projection.name,
            schema=schema,
            switched_over=switched,
            events=rebuild.applied,
            skipped=rebuild.skipped,
            seconds=time.monotonic() - rebuild.started,
            content_hash=await content_hash(connection, schema, model),
        )
        echo(
            f"{projection.name}: {result.events:,} events applied, {result.skipped:,} skipped, "
            f"in {result.seconds:.1f} s ({result.events_per_second:,.0f} events/s); "
            + ("switched over" if switched else f"left in schema {built}")
            + f"; content hash {result.content_hash}"
        )
        return result
    finally:
        if rebuild is not None:
            await rebuild.stop_fetching()
        # The consumer is not deleted: the tools user may not delete consumers (it could then
        # delete the services' own); the server removes it once idle (`inactive_threshold`).
        await connection.close()  # also releases the advisory lock


async def _ensure_live_schema(database_url: str, model: ReadModel, live: str, name: str) -> None:
    """The live tables exist even if the service never started: there is always one to replace.
    Their schema is applied with the live runner's position locked, so the runner waits instead
    of writing meanwhile (its writes and these statements could otherwise deadlock)."""
    pool = await create_pool(database_url, min_size=1, max_size=2)
    try:
        await apply_schema(pool, "platform")
        async with pool.acquire() as connection, connection.transaction():
            await _lock_live_position(connection, live, name)
            await apply_schema(pool, model.schema_file)
    finally:
        await pool.close()


def _positions(live: str) -> str:
    """The runners' position table, beside the live read model."""
    return f"{quoted(live)}.projection_position"


async def _lock_live_position(connection: asyncpg.Connection, live: str, name: str) -> int:
    """The live runner's position, its row locked until the switch commits: the runner waits."""
    await connection.execute(
        f"INSERT INTO {_positions(live)} (projection) VALUES ($1) ON CONFLICT DO NOTHING",
        name,
    )
    position: int = await connection.fetchval(
        f"SELECT stream_seq FROM {_positions(live)} WHERE projection = $1 FOR UPDATE",
        name,
    )
    return position
