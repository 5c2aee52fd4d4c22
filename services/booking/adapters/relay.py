"""The relay (transactional outbox): the event store's notification log onto JetStream.

Guarantees:
- in order and exactly once on the stream: every publish names the stream sequence it must
  follow (`Nats-Expected-Last-Sequence`; the relay is the stream's only writer), so the stream
  is always a prefix of the notification log; on start, after any failed publish, and when the
  stream's last sequence is not the one it published last, the relay resumes after the last
  event the stream holds, whatever the duplicate window. (It named the previous message id,
  `Nats-Expected-Last-Msg-Id`, until the cluster fault test showed a restarted replica failing
  that check while applying the log - "last msgid mismatch", a critical write error - and
  falling behind for good; the sequence is checked by the stream's leader.)
- nothing is lost: if JetStream loses messages, the relay republishes them from the store;
- gaps in notification ids (rolled-back transactions) are harmless: it reads "greater than";
- one relay at a time: it holds a PostgreSQL advisory lock while it runs;
- one bad event never holds back the others: an event it cannot publish for a reason no retry
  mends (a topic the code no longer knows, data its wire model refuses, larger than the bus
  accepts, a subject no stream takes) is parked with its reason (`parked_events.py`) and the
  relay goes on; `borgerservice relay resend` asks it to try again after a fix, and it then
  publishes the event at the end of the stream (headed `Bs-Resent-Notification-Id`).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

import asyncpg
import structlog
from eventsourcing.persistence import Notification
from nats.js import JetStreamContext
from nats.js.errors import APIError, NotFoundError

from infra.leadership import BOOKING_RELAY_LOCK, Lease, lead
from infra.streams import EVENTS_STREAM
from infra.transient import is_transient
from services.booking.adapters.parked_events import ParkedEvents
from services.booking.adapters.wire import WireMessage, check_size, is_internal, to_message
from services.booking.application import BookingApplication

log = structlog.get_logger()

T = TypeVar("T")
NOTIFICATION_ID_HEADER = "Bs-Notification-Id"
RESENT_HEADER = "Bs-Resent-Notification-Id"
WRONG_LAST_SEQUENCE = 10071  # JetStream's answer when the stream does not end where expected


def _mended_by_resuming(error: BaseException) -> bool:
    """An outage, or the stream not ending where this relay expected (an earlier publish of the
    batch failed): resuming from the stream mends it; anything else is the event's own fault."""
    if is_transient(error):
        return True
    return isinstance(error, APIError) and error.err_code == WRONG_LAST_SEQUENCE


class StreamAheadOfStore(RuntimeError):
    """The stream has events this event store does not: relaying would silently skip events."""


@dataclass
class Relay:
    app: BookingApplication
    js: JetStreamContext
    pool: asyncpg.Pool
    name: str = "booking"
    batch: int = 200
    idle_wait: float = 1.0
    retry_delay: float = 0.5
    standby_poll: float = 1.0  # how often a standing-by instance tries to take over
    # Called after a batch is acknowledged by JetStream and before the position is recorded;
    # fault tests make it raise to kill the relay at exactly that point.
    after_publish: Callable[[int], Awaitable[None]] | None = None
    position: int = 0
    last_seq: int = 0  # the stream's sequence of the last event this relay knows is there
    verify_every: float = 5.0  # when idle, how often to check the stream still ends there
    parked: set[int] = field(default_factory=set)  # notification ids passed over
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    _reader: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(1, thread_name_prefix="relay-reader")
    )

    async def run(self, stop: asyncio.Event) -> None:
        """Relays while it holds the relay lock; stands by until then, and again if the
        connection holding the lock is lost (another instance may have taken over)."""
        await lead(
            self.pool,
            BOOKING_RELAY_LOCK,
            stop,
            lambda lock: self._run_leading(lock, stop),
            name="relay:booking",
            standby_poll=self.standby_poll,
            retry_delay=self.retry_delay,
        )

    async def _run_leading(self, connection: Lease, stop: asyncio.Event) -> None:
        channel = self.app.recorder.channel_name  # type: ignore[attr-defined]
        await connection.add_listener(channel, self._on_notify)
        try:
            await self._resume_waiting(stop)
            log.info("relay.started", position=self.position)
            verified = time.monotonic()
            while not stop.is_set() and not connection.is_closed():
                try:
                    relayed = await self.relay_once()
                    if relayed == 0:
                        relayed = await self.resend_requested()
                    if relayed == 0 and time.monotonic() - verified > self.verify_every:
                        verified = time.monotonic()
                        await self.verify_tail()
                except StreamAheadOfStore:
                    raise
                except Exception as error:  # NATS or the database away: never give up
                    log.warning("relay.publish_failed", error=repr(error))
                    await asyncio.sleep(self.retry_delay)
                    await self._resume_waiting(stop)
                    continue
                if relayed == 0:
                    await self._idle(stop)
        finally:
            with contextlib.suppress(Exception):
                await connection.remove_listener(channel, self._on_notify)

    async def _resume_waiting(self, stop: asyncio.Event) -> None:
        """`resume`, retried until the stream answers (a nats-server restarting, a cluster
        electing a new leader); a stream that belongs to another store is fatal."""
        while True:
            try:
                await self.resume()
                return
            except StreamAheadOfStore:
                raise
            except Exception as error:
                if stop.is_set():
                    raise
                log.warning("relay.resume_failed", error=repr(error))
                await asyncio.sleep(self.retry_delay)

    def _on_notify(self, *_: object) -> None:
        self._wake.set()

    async def _idle(self, stop: asyncio.Event) -> None:
        self._wake.clear()
        waiters = [asyncio.ensure_future(self._wake.wait()), asyncio.ensure_future(stop.wait())]
        await asyncio.wait(waiters, timeout=self.idle_wait, return_when=asyncio.FIRST_COMPLETED)
        for waiter in waiters:
            waiter.cancel()

    async def resume(self) -> None:
        """Continues after the last event on the stream: what is there is never published again."""
        try:
            info = await self.js.stream_info(EVENTS_STREAM)
        except NotFoundError:
            raise RuntimeError(f"stream {EVENTS_STREAM} is missing: run the infra step") from None
        self.position, self.last_seq = 0, info.state.last_seq
        if info.state.last_seq:
            try:
                last = await self.js.get_msg(EVENTS_STREAM, info.state.last_seq)
            except NotFoundError:
                last = None
            if last is not None and last.headers:
                self.position = int(last.headers[NOTIFICATION_ID_HEADER])
        self.parked = await self.parked_events.ids_after(self.position)
        stored = await self._in_own_thread(self.app.recorder.max_notification_id) or 0
        if self.position > stored:
            raise StreamAheadOfStore(
                f"the stream {EVENTS_STREAM} holds events up to notification {self.position} but "
                f"the event store only has {stored}: it belongs to another database. Point "
                "DATABASE_URL at the right one, or remove the stream (the embedded server's var/)."
            )

    async def verify_tail(self) -> None:
        """Resumes if the stream no longer ends where this relay left it (a replica that lost
        its tail became leader, or the stream was restored from a backup): what is missing is
        published again from the store."""
        last_seq = (await self.js.stream_info(EVENTS_STREAM)).state.last_seq
        if last_seq != self.last_seq:
            log.warning("relay.stream_moved", expected=self.last_seq, found=last_seq)
            await self.resume()

    @property
    def parked_events(self) -> ParkedEvents:
        return ParkedEvents(self.pool, self.name)

    async def relay_once(self) -> int:
        """Publishes the next batch; returns how many stored events it went past (published,
        internal or parked)."""
        notifications = await self._in_own_thread(self._select_after, self.position)
        if not notifications:
            return 0
        publishes, published = [], []
        expected = self.last_seq
        for notification in notifications:
            if notification.id in self.parked:
                continue
            try:
                if is_internal(notification.topic):
                    continue
                message = self._message(notification)
            except Exception as error:
                if is_transient(error):
                    raise
                await self._park(notification, error)
                continue
            headers = {
                "Nats-Msg-Id": str(message.envelope.event_id),
                NOTIFICATION_ID_HEADER: str(notification.id),
            }
            if expected:
                headers["Nats-Expected-Last-Sequence"] = str(expected)
            publishes.append(
                self.js.publish(
                    message.envelope.subject, message.payload, headers=headers, timeout=5
                )
            )
            published.append(notification)
            expected += 1
        # Sent in order on one connection; acknowledged concurrently.
        results = await asyncio.gather(*publishes, return_exceptions=True)
        for notification, result in zip(published, results, strict=True):
            if isinstance(result, BaseException):
                if not _mended_by_resuming(result):
                    await self._park(notification, result)
                raise result  # the run loop resumes after what the stream holds
        if self.after_publish is not None:
            await self.after_publish(notifications[-1].id)
        self.position, self.last_seq = notifications[-1].id, expected
        await self.record_position()
        return len(notifications)

    def _message(self, notification: Notification) -> WireMessage:
        message = to_message(self.app.mapper.to_domain_event(notification))
        check_size(message)
        return message

    async def _park(self, notification: Notification, error: BaseException) -> None:
        reason = f"{type(error).__name__}: {error}"
        await self.parked_events.park(notification.id, notification.topic, reason)
        self.parked.add(notification.id)
        log.error(
            "relay.parked", notification_id=notification.id, topic=notification.topic,
            reason=reason[:300],
        )  # fmt: skip

    async def resend_requested(self) -> int:
        """Publishes the parked events an operator asked to resend, at the end of the stream;
        one that still cannot be published is parked again with its new reason."""
        done = 0
        for notification_id in await self.parked_events.requested():
            found = await self._in_own_thread(self._select_one, notification_id)
            if found is None:  # no longer stored (never expected): nothing to resend
                await self.parked_events.resent(notification_id)
                continue
            try:
                message = self._message(found)
            except Exception as error:
                if is_transient(error):
                    raise
                await self._park(found, error)
                continue
            headers = {
                "Nats-Msg-Id": str(message.envelope.event_id),
                # the stream's last message names the position the relay resumes after
                NOTIFICATION_ID_HEADER: str(self.position),
                RESENT_HEADER: str(notification_id),
            }
            if self.last_seq:
                headers["Nats-Expected-Last-Sequence"] = str(self.last_seq)
            try:
                ack = await self.js.publish(
                    message.envelope.subject, message.payload, headers=headers, timeout=5
                )
            except Exception as error:
                if not _mended_by_resuming(error):
                    await self._park(found, error)
                raise
            self.last_seq = ack.seq
            await self.parked_events.resent(notification_id)
            self.parked.discard(notification_id)
            log.info("relay.resent", notification_id=notification_id, seq=ack.seq)
            done += 1
        return done

    async def _in_own_thread(self, function: Callable[..., T], *args: Any) -> T:
        """Reads the store on the relay's own thread: on the default pool it would queue behind
        the booking commands and add their wait to every event's lag."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._reader, partial(function, *args))

    def _select_after(self, position: int) -> Sequence[Notification]:
        return self.app.recorder.select_notifications(
            start=position, limit=self.batch, inclusive_of_start=False
        )

    def _select_one(self, notification_id: int) -> Notification | None:
        found = self.app.recorder.select_notifications(start=notification_id, limit=1)
        return found[0] if found and found[0].id == notification_id else None

    async def record_position(self) -> None:
        await self.pool.execute(
            "INSERT INTO relay_position (relay, notification_id) VALUES ($1, $2) "
            "ON CONFLICT (relay) DO UPDATE SET notification_id = $2, updated_at = now()",
            self.name,
            self.position,
        )
