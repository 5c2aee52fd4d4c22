"""Crash test: the notifications process is killed (SIGKILL) at random moments while 500
bookings' events flow and their messages are sent through a real local HTTP gateway. After
the restarts every citizen has exactly one confirmation and one reminder at the gateway:
counted, none missing, none doubled.

The process is this file run as a script: the notifications service composed as
`borgerservice serve notifications` composes it (platform, settings from the environment,
HTTP app), except that its clock reads a file the test writes, so reminders fall due when
the test says."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import structlog
from nats.js import JetStreamContext

from events import Envelope, encode
from events.booking import BookingBooked, Channel
from infra.nats_server import EmbeddedNats, free_port
from infra.streams import SMS_STREAM
from tests.integration.test_notifications_http_gateway import TOKEN, Gateway, handler_for

CITIZENS = 500
KILLS = 8
BOOKED_AT = datetime(2025, 3, 3, 8, 0, tzinfo=UTC)  # Monday 09:00 in Denmark
FIRST_START = datetime(2025, 3, 5, 8, 0, tzinfo=UTC)  # Wednesday 09:00; one a minute after
BEFORE_REMINDERS = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)  # Monday 10:00: confirmations only
AFTER_REMINDERS = datetime(2025, 3, 4, 17, 0, tzinfo=UTC)  # Tuesday 18:00: every reminder due
ROOT = Path(__file__).resolve().parents[2]
STATUS_COUNTS = "SELECT kind, status, count(*) FROM sms_message GROUP BY 1, 2"


def booked(number: int) -> Envelope[BookingBooked]:
    starts_at = FIRST_START + timedelta(minutes=number % 480)
    return Envelope[BookingBooked](
        event_id=uuid.uuid4(),
        type=BookingBooked.TYPE,
        schema_version=BookingBooked.VERSION,
        municipality=("slagelse", "herning", "hvidovre")[number % 3],
        site="borgerservice",
        aggregate_id=uuid.uuid4(),
        aggregate_version=1,
        occurred_at=BOOKED_AT,
        data=BookingBooked(
            service="pas",
            service_name="Pas",
            site_name="Borgerservice",
            documents=["gammelt pas"],
            starts_at=starts_at,
            ends_at=starts_at + timedelta(minutes=15),
            citizen_name=f"Borger {number}",
            phone=f"+452{number:07d}",
            channel=Channel.web,
            booked_at=BOOKED_AT,
            acute_reason=None,
        ),
    )


@pytest.fixture
def local_gateway() -> Iterator[tuple[Gateway, str]]:
    """The stand-in SMS gateway of the HTTP provider's tests, on a free local port."""
    state = Gateway()
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_for(state))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield state, f"http://127.0.0.1:{server.server_address[1]}/sms"
    server.shutdown()
    server.server_close()


class NotificationsProcess:
    """The notifications service in its own OS process, started and killed by the test."""

    def __init__(self, env: dict[str, str], clock_file: Path, log: Path) -> None:
        self.env, self.clock_file, self.log = env, clock_file, log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as output:
            self.process = subprocess.Popen(
                [sys.executable, __file__, str(self.clock_file), str(free_port())],
                env=self.env,
                cwd=ROOT,
                stdout=output,
                stderr=subprocess.STDOUT,
            )

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=30)


async def publish_slowly(js: JetStreamContext, events: list[Envelope[BookingBooked]]) -> None:
    """The booking side's flow: ten events every 0.1 s."""
    for start in range(0, len(events), 10):
        for event in events[start : start + 10]:
            await js.publish(
                event.subject, encode(event), headers={"Nats-Msg-Id": str(event.event_id)}
            )
        await asyncio.sleep(0.1)


async def all_settled(pool: asyncpg.Pool, gateway: Gateway) -> bool:
    unsent = await pool.fetchval(
        "SELECT count(*) FROM sms_message WHERE status <> 'sent' AND kind IN "
        "('confirmation', 'reminder')"
    )
    unpublished = await pool.fetchval(
        "SELECT count(*) FROM sms_event_outbox WHERE published_at IS NULL"
    )
    return unsent == 0 and unpublished == 0 and len(gateway.delivered) == 2 * CITIZENS


async def test_killed_notifications_process_sends_every_citizen_one_confirmation_and_one_reminder(
    nats_server: EmbeddedNats,
    js: JetStreamContext,
    database_url: str,
    local_gateway: tuple[Gateway, str],
    tmp_path: Path,
) -> None:
    state, url = local_gateway
    clock_file = tmp_path / "clock"
    clock_file.write_text(BEFORE_REMINDERS.isoformat())
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": database_url,
        "NATS_URL": nats_server.url,
        "SMS_PROVIDER": "http",
        "SMS_GATEWAY_URL": url,
        "SMS_GATEWAY_TOKEN": TOKEN,
        "SMS_GATEWAY_TIMEOUT_SECONDS": "3",
        "SMS_LEASE_SECONDS": "4",  # a killed process's claims come back after 4 s
        "SMS_RETRY_SECONDS": "0",  # the clock stands still between the test's moves
        "DISPATCH_INTERVAL_SECONDS": "0.05",
    }
    worker = NotificationsProcess(env, clock_file, tmp_path / "notifications.log")
    events = [booked(number) for number in range(CITIZENS)]
    rng = random.Random(4)
    started = time.monotonic()

    publishing = asyncio.create_task(publish_slowly(js, events))
    for kill in range(KILLS):
        if kill == KILLS // 2:
            clock_file.write_text(AFTER_REMINDERS.isoformat())
        worker.start()
        await asyncio.sleep(rng.uniform(1.0, 3.0))  # startup takes about a second
        worker.kill()
    await publishing
    worker.start()
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
    try:
        deadline = time.monotonic() + 60
        while not await all_settled(pool, state):
            if time.monotonic() > deadline:
                rows = await pool.fetch(
                    "SELECT kind, status, count(*) FROM sms_message GROUP BY 1, 2"
                )
                position = await pool.fetchval("SELECT stream_seq FROM projection_position")
                raise AssertionError(
                    f"not settled: {len(state.delivered)} delivered; {[tuple(r) for r in rows]}; "
                    f"position {position}; log: {worker.log.read_text()[-3000:]}"
                )
            await asyncio.sleep(0.2)
        assert worker.stop() == 0
        statuses = await pool.fetch(STATUS_COUNTS)
    finally:
        await pool.close()
    elapsed = time.monotonic() - started

    delivered = Counter(
        (message["to"], message["reference"].split(":")[1]) for message in state.delivered.values()
    )
    calls = Counter(request["json"]["reference"] for request in state.requests)
    sent_events = await js.stream_info(SMS_STREAM, subjects_filter="bs.*.sms.sent")
    on_the_bus = sum((sent_events.state.subjects or {}).values())
    print(
        f"\ncrash test: {KILLS} kills, {len(state.requests)} gateway calls for "
        f"{len(calls)} messages ({sum(n - 1 for n in calls.values())} repeated after a kill, "
        f"absorbed by the key), {on_the_bus} sms.sent events, {elapsed:.1f} s"
    )
    for event in events:
        phone = event.data.phone
        assert delivered[(phone, "confirmation")] == 1, phone
        assert delivered[(phone, "reminder")] == 1, phone
    assert sum(delivered.values()) == 2 * CITIZENS
    assert {(row["kind"], row["status"]): row["count"] for row in statuses} == {
        ("confirmation", "sent"): CITIZENS,
        ("reminder", "sent"): CITIZENS,
    }
    assert on_the_bus == 2 * CITIZENS


def file_clock(path: Path) -> Any:
    """The time the test wrote into `path`."""

    def now() -> datetime:
        return datetime.fromisoformat(path.read_text().strip())

    return now


async def serve_notifications(clock_file: Path, port: int) -> None:
    """What `borgerservice serve notifications` runs, with the file's clock."""
    from infra.runtime import platform, serve_until_stopped
    from services.notifications.service import NotificationsService
    from services.notifications.settings import NotificationsSettings

    settings = NotificationsSettings()
    async with platform(settings) as shared:
        service = await NotificationsService.start(
            settings, shared.nc, clock=file_clock(clock_file)
        )
        await serve_until_stopped([service], [service.router()], {}, "127.0.0.1", port)


if __name__ == "__main__":
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(30))  # warnings
    asyncio.run(serve_notifications(Path(sys.argv[1]), int(sys.argv[2])))
