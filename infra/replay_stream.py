"""Reading the stream for a replay: its own consumer from the first message, pulled a batch at
a time into one plain subscription, each message decoded as it arrives."""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass
from typing import Any

from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, StatusCode

from events import Envelope, UndecodableEvent, decode
from infra.projection import OUTAGES, Projection
from infra.streams import EVENTS_STREAM


class StreamPulls:
    """The replay consumer's messages in stream order, a batch at a time: pull requests answered
    into one plain subscription (nats-py's `fetch` spends a task and a timer on each message).
    A message arriving after its pull stopped waiting is kept for the next: none is lost."""

    def __init__(
        self, js: JetStreamContext, consumer: str, batch: int, stream: str = EVENTS_STREAM
    ) -> None:
        self._nc = js._nc
        # nats-py names this subject only privately; the API prefix is the context's own.
        self._request = f"{js._prefix}.CONSUMER.MSG.NEXT.{stream}.{consumer}"
        self._inbox = self._nc.new_inbox()
        self._batch = batch
        self._received: list[Msg] = []
        self._expected = 0  # asked for, and neither received nor ended by the server
        self._answered = asyncio.Event()
        self._subscription: Subscription | None = None

    async def start(self) -> None:
        self._subscription = await self._nc.subscribe(self._inbox, cb=self._on_message)

    async def stop(self) -> None:
        if self._subscription is not None:
            with contextlib.suppress(*OUTAGES):
                await self._subscription.unsubscribe()

    async def _on_message(self, message: Msg) -> None:
        status = JetStreamContext.is_status_msg(message)
        if status is None:
            self._received.append(message)
            self._expected -= 1
        elif status != StatusCode.CONTROL_MESSAGE:  # none left, timed out, or refused
            self._expected = 0
        if self._expected <= 0:
            self._answered.set()

    async def fetch(self, timeout: float) -> list[Msg]:
        """What came for the pull in progress, or a new one's: up to a batch; none if nothing
        came within `timeout`."""
        if self._expected <= 0 and not self._received:
            self._answered.clear()
            self._expected = self._batch
            request = json.dumps({"batch": self._batch, "no_wait": True}).encode()
            await self._nc.publish(self._request, request, reply=self._inbox)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._answered.wait(), timeout)
        messages, self._received = self._received, []
        return messages


@dataclass(frozen=True)
class Fetched:
    """A message, decoded when fetched (while the batch before it is being written)."""

    message: Msg
    event: Envelope[Any] | UndecodableEvent

    @classmethod
    def of(cls, message: Msg) -> Fetched:
        try:
            return cls(message, decode(message.data))
        except UndecodableEvent as error:
            return cls(message, error)

    @property
    def sequence(self) -> int:
        return self.message.metadata.sequence.stream


def fetched_up_to(fetched: list[Fetched], up_to: int) -> list[Fetched]:
    """The first messages, in stream order, up to stream sequence `up_to` (each message's
    metadata is parsed only when needed: a few microseconds each, a tenth of its fetching)."""
    if not fetched or fetched[-1].sequence <= up_to:
        return fetched
    return [one for one in fetched if one.sequence <= up_to]


def stream_of(projection: Projection) -> str:
    """The stream a projection consumes: BS_EVENTS unless it names another (`stream`)."""
    return str(getattr(projection, "stream", EVENTS_STREAM))


def from_the_start(projection: Projection) -> ConsumerConfig:
    """An ephemeral consumer of the projection's subjects, from the first message, unacked."""
    return ConsumerConfig(
        filter_subjects=list(projection.subjects),
        ack_policy=AckPolicy.NONE,
        deliver_policy=DeliverPolicy.ALL,
        inactive_threshold=60.0,
        mem_storage=True,
    )
