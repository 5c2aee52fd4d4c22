"""The HTTP SMS provider against a real local HTTP server standing in for the gateway: 5xx and
timeouts retried with backoff until it recovers, a 4xx recorded as failed with its reason."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import asyncpg
import pytest
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext

from events import encode
from services.notifications.adapters.http_gateway import HttpGatewayProvider
from services.notifications.adapters.messages import add_pending
from services.notifications.application import Dispatcher
from services.notifications.domain.messages import MessageKind, Sms, message_key
from services.notifications.service import NotificationsService
from services.notifications.settings import NotificationsSettings
from tests.integration.test_notifications_service import BOOKED_AT, booked
from tests.support import eventually, running_in_background

TOKEN = "s3cret-token"
NOW = datetime(2025, 3, 3, 10, 0, tzinfo=UTC)  # Monday 11:00 in Denmark


@dataclass
class Gateway:
    """What the stand-in gateway does and has seen. `script` holds the answers to the next
    requests ("500", "slow", "400"); then it accepts. It keeps one message per reference."""

    script: list[str] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    delivered: dict[str, dict[str, Any]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


def handler_for(gateway: Gateway) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            message = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            with gateway.lock:
                gateway.requests.append({"headers": dict(self.headers), "json": message})
                answer = gateway.script.pop(0) if gateway.script else "accept"
            if self.headers["Authorization"] != f"Bearer {TOKEN}":
                self.reply(401, {"error": "unknown token"})
            elif answer == "500":
                self.reply(500, {"error": "internal error"})
            elif answer == "400":
                self.reply(400, {"error": "recipient is not a mobile number"})
            else:  # "slow": takes the message, answers after the client gave up
                with gateway.lock:
                    gateway.delivered.setdefault(message["reference"], message)
                if answer == "slow":
                    time.sleep(1.0)
                self.reply(202, {"id": message["reference"]})

        def reply(self, status: int, document: dict[str, str]) -> None:
            body = json.dumps(document).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except OSError:
                pass  # the client hung up on a slow answer

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def gateway() -> Iterator[tuple[Gateway, str]]:
    """A gateway on a free local port; yields it and its URL."""
    state = Gateway()
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_for(state))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state, f"http://127.0.0.1:{server.server_address[1]}/sms"
    server.shutdown()
    server.server_close()


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now


def pending_sms() -> Sms:
    booking_id = uuid.uuid4()
    return Sms(
        idempotency_key=message_key(booking_id, MessageKind.reminder, 1),
        municipality="herning",
        booking_id=booking_id,
        kind=MessageKind.reminder,
        phone="+4520123456",
        body="Hej. Husk din tid i morgen.",
        booking_version=1,
        due_at=NOW,
        appointment_at=NOW + timedelta(days=1),
    )


async def add(pool: asyncpg.Pool, sms: Sms) -> None:
    async with pool.acquire() as connection:
        await add_pending(connection, sms)


async def test_gateway_gets_json_with_bearer_token_and_idempotency_key(
    pool: asyncpg.Pool, gateway: tuple[Gateway, str]
) -> None:
    state, url = gateway
    sms = pending_sms()
    await add(pool, sms)
    provider = HttpGatewayProvider(url, TOKEN)

    sent = await Dispatcher(pool, provider, clock=Clock(NOW)).dispatch_due()
    await provider.aclose()

    [request] = state.requests
    assert sent == 1
    assert request["json"] == {
        "to": "+4520123456",
        "body": "Hej. Husk din tid i morgen.",
        "reference": sms.idempotency_key,
    }
    assert request["headers"]["Authorization"] == f"Bearer {TOKEN}"
    assert request["headers"]["Idempotency-Key"] == sms.idempotency_key
    assert request["headers"]["Content-Type"] == "application/json"


async def test_500s_and_timeouts_are_retried_with_backoff_until_the_gateway_recovers(
    pool: asyncpg.Pool, gateway: tuple[Gateway, str]
) -> None:
    state, url = gateway
    state.script = ["500", "slow", "500"]
    sms = pending_sms()
    await add(pool, sms)
    provider = HttpGatewayProvider(url, TOKEN, timeout=0.3)
    clock = Clock(NOW)
    dispatcher = Dispatcher(pool, provider, retry_base=timedelta(minutes=1), clock=clock)

    sent = []
    for wait in (0, 0, 1, 2, 3, 1):  # minutes; the backoff asks for 1, 2, then 4 minutes
        clock.now += timedelta(minutes=wait)
        sent.append(await dispatcher.dispatch_due())
    await provider.aclose()
    row = await pool.fetchrow("SELECT status, attempts, last_error FROM sms_message")

    assert sent == [0, 0, 0, 0, 0, 1]
    assert len(state.requests) == 4
    assert list(state.delivered) == [sms.idempotency_key]  # the slow answer's message, once
    assert dict(row) == {
        "status": "sent",
        "attempts": 4,
        "last_error": "SmsGatewayError: 500: internal error",
    }


async def test_4xx_is_recorded_as_failed_with_the_gateways_reason_and_not_retried(
    pool: asyncpg.Pool, gateway: tuple[Gateway, str]
) -> None:
    state, url = gateway
    state.script = ["400"]
    await add(pool, pending_sms())
    provider = HttpGatewayProvider(url, TOKEN)
    clock = Clock(NOW)
    dispatcher = Dispatcher(pool, provider, retry_base=timedelta(minutes=1), clock=clock)

    await dispatcher.dispatch_due()
    clock.now += timedelta(hours=12)
    await dispatcher.dispatch_due()
    await provider.aclose()
    row = await pool.fetchrow("SELECT status, attempts, last_error FROM sms_message")

    assert len(state.requests) == 1
    assert state.delivered == {}
    assert dict(row) == {
        "status": "failed",
        "attempts": 1,
        "last_error": "RejectedByGateway: 400: recipient is not a mobile number",
    }


async def test_unreachable_gateway_is_retried_later(pool: asyncpg.Pool) -> None:
    await add(pool, pending_sms())
    provider = HttpGatewayProvider("http://127.0.0.1:9/sms", TOKEN, timeout=0.5)

    await Dispatcher(pool, provider, clock=Clock(NOW)).dispatch_due()
    await provider.aclose()
    row = await pool.fetchrow("SELECT status, last_error FROM sms_message")

    assert row["status"] == "pending"
    assert row["last_error"].startswith("SmsGatewayError: gateway unreachable")


async def test_service_configured_for_http_sends_a_booking_confirmation_through_the_gateway(
    js: JetStreamContext, nc: NatsClient, database_url: str, gateway: tuple[Gateway, str]
) -> None:
    state, url = gateway
    envelope = booked()
    await js.publish(envelope.subject, encode(envelope))
    settings = NotificationsSettings(
        database_url=database_url,
        sms_provider="http",
        sms_gateway_url=url,
        sms_gateway_token=TOKEN,
        dispatch_interval_seconds=0.05,
    )
    service = await NotificationsService.start(
        settings, nc, clock=lambda: BOOKED_AT + timedelta(minutes=1)
    )

    async def delivered() -> bool:
        return len(state.delivered) == 1

    try:
        async with running_in_background(service):
            await eventually(delivered)
    finally:
        await service.close()

    assert list(state.delivered) == [f"{envelope.aggregate_id}:confirmation:1"]
    assert state.delivered[f"{envelope.aggregate_id}:confirmation:1"]["to"] == "+4520123456"
