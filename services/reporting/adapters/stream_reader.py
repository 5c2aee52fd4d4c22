"""Reads the event stream from a given point with an ordered, ephemeral JetStream consumer
(nothing durable is left behind): the one way the live feed and `events tail|export` read.

An ordered consumer delivers every message of its filter once, in stream order; nats-py resets
it on a gap, from the last sequence it delivered, so nothing is skipped or repeated."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from nats.errors import TimeoutError as NatsTimeout
from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig, DeliverPolicy

from events.envelope import subject_for
from infra.streams import EVENTS_STREAM


@dataclass(frozen=True)
class StreamMessage:
    sequence: int  # stream sequence: the message's position, stable for ever
    subject: str
    data: bytes
    pending: int  # messages of the filter after this one, as the server knew then


@dataclass(frozen=True)
class Start:
    """Where to start: after stream sequence `after`, at stream time `at`, or only new ones."""

    after: int | None = None
    at: datetime | None = None

    def config(self) -> ConsumerConfig:
        if self.after is not None:
            return ConsumerConfig(
                deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=self.after + 1
            )
        if self.at is not None:
            return ConsumerConfig(
                deliver_policy=DeliverPolicy.BY_START_TIME, opt_start_time=self.at.astimezone(UTC)
            )
        return ConsumerConfig(deliver_policy=DeliverPolicy.NEW)


FROM_THE_BEGINNING = Start(after=0)


def events_subject(municipality: str | None = None, event_type: str | None = None) -> str:
    """The subject filter of one municipality's events, or every municipality's (`*`), of one
    type (`booking.booked`) or every type."""
    return subject_for(municipality or "*", event_type or "*.*")


class StreamReader:
    def __init__(self, subscription: JetStreamContext.PushSubscription) -> None:
        self._subscription = subscription

    async def matching(self) -> int:
        """Messages of the filter from the start: delivered to us so far, and still to come."""
        info = await self._subscription.consumer_info()
        return (info.delivered.consumer_seq if info.delivered else 0) + (info.num_pending or 0)

    async def next(self, timeout: float) -> StreamMessage | None:
        """The next message, or None if none came within `timeout` seconds."""
        try:
            message = await self._subscription.next_msg(timeout=timeout)
        except (TimeoutError, NatsTimeout):
            return None
        return StreamMessage(
            sequence=message.metadata.sequence.stream,
            subject=message.subject,
            data=message.data,
            pending=message.metadata.num_pending,
        )


@asynccontextmanager
async def reading(
    js: JetStreamContext, subject: str, start: Start, stream: str = EVENTS_STREAM
) -> AsyncIterator[StreamReader]:
    subscription = await js.subscribe(
        subject,
        stream=stream,
        ordered_consumer=True,
        idle_heartbeat=5.0,
        config=start.config(),
    )
    try:
        yield StreamReader(subscription)
    finally:
        await subscription.unsubscribe()


async def merged(
    readers: Mapping[str, StreamReader], timeout: float
) -> AsyncGenerator[tuple[str, StreamMessage] | None]:
    """The messages of several readers as they come, each with its reader's name, every
    reader's own order kept; None whenever none came within `timeout` seconds."""
    waiting: dict[asyncio.Task[StreamMessage | None], str] = {}
    try:
        while True:
            for name, reader in readers.items():
                if name not in waiting.values():
                    waiting[asyncio.create_task(reader.next(timeout))] = name
            done, _ = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
            came = False
            for task in done:
                name, message = waiting.pop(task), task.result()
                if message is not None:
                    came = True
                    yield name, message
            if not came:
                yield None
    finally:
        for task in waiting:
            task.cancel()
