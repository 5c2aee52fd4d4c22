"""/livez, /readyz and /metrics of the services as `up` runs them (one app, one registry), on a
nats-server and a PostgreSQL of the test's own where the test stops them."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import httpx
import nats
import pytest
from nats.aio.client import Client as NatsClient
from prometheus_client.parser import text_string_to_metric_families

from infra.database import drop_database, ensure_database
from infra.health import Operations
from infra.http import build_api
from infra.nats_server import EmbeddedNats
from infra.streams import ensure_streams
from services.booking.service import ERROR_STATUSES, BookingService
from services.booking.settings import BookingSettings
from services.notifications.service import NotificationsService
from services.notifications.settings import NotificationsSettings
from services.reporting.service import ReportingService
from services.reporting.settings import ReportingSettings
from services.web.service import WebService
from services.web.settings import WebSettings
from tests.booking_world import STAFF_KEYS, booking_body, seed_world
from tests.faults.postgres_server import PrivatePostgres
from tests.support import eventually, running_in_background

BOOKINGS_ROUTE = "/api/v1/municipalities/{municipality}/bookings"
UNLIMITED = {"rate_limit_per_ip_per_minute": 1_000_000, "rate_limit_per_phone_per_hour": 1_000_000}


@pytest.fixture
def own_nats(tmp_path: Path) -> Iterator[EmbeddedNats]:
    """A nats-server this test may stop (the session's serves every other test)."""
    server = EmbeddedNats(tmp_path / "nats")
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def own_nc(own_nats: EmbeddedNats) -> AsyncIterator[NatsClient]:
    client = await nats.connect(own_nats.url, max_reconnect_attempts=-1, reconnect_time_wait=0.2)
    await ensure_streams(client.jetstream())
    yield client
    await client.close()


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    base = Path(tempfile.mkdtemp(prefix="bs-health-pg-"))  # the `postgres` user enters it
    base.chmod(0o755)
    server = PrivatePostgres(base / "data")
    server.init()
    server.start()
    yield server
    if server.running():
        server.stop("immediate")
    shutil.rmtree(base, ignore_errors=True)


def scraped(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a scrape by name and labels; parsing it is the format's check."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: dict[Any, float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def ready(client: httpx.AsyncClient) -> tuple[int, dict[str, Any]]:
    response = await client.get("/readyz")
    return response.status_code, response.json()


async def test_every_service_is_ready_scraped_and_unready_without_nats(
    database_url: str, own_nats: EmbeddedNats, own_nc: NatsClient
) -> None:
    given = {"database_url": database_url, "nats_url": own_nats.url, "staff_tokens": STAFF_KEYS}
    booking = await BookingService.start(BookingSettings(**given, **UNLIMITED), own_nc)
    notifications = await NotificationsService.start(NotificationsSettings(**given), own_nc)
    reporting = await ReportingService.start(ReportingSettings(**given), own_nc)
    web = WebService.start(WebSettings())
    services = [booking, notifications, reporting, web]
    operations = Operations([s.health() for s in services], max_lag_seconds=30)
    app = build_api("up", [s.router() for s in services], ERROR_STATUSES, operations=operations)
    await asyncio.to_thread(seed_world, booking.app)
    try:
        async with AsyncExitStack() as running:
            for service in services:
                await running.enter_async_context(running_in_background(service))
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://up") as client:
                assert (await client.get("/livez")).json() == {"status": "ok"}
                assert (await client.get("/healthz")).status_code == 200

                async def all_ready() -> bool:
                    return await ready(client) == (200, {"ready": True})

                await eventually(all_ready, timeout=20)

                before = scraped((await client.get("/metrics")).text)
                booked = await client.post(
                    "/api/v1/municipalities/slagelse/bookings", json=booking_body()
                )
                assert booked.status_code == 201, booked.text
                again = await client.post(
                    "/api/v1/municipalities/slagelse/bookings",
                    json=booking_body(starts_at="2031-01-01T10:00:00+01:00"),
                )
                assert again.status_code in (404, 422), again.text

                async def confirmation_sent() -> bool:
                    samples = scraped((await client.get("/metrics")).text)
                    return value(samples, "borgerservice_sms_sends_total", outcome="sent") >= 1

                await eventually(confirmation_sent, timeout=20)
                # a foreign message on the SMS stream: the reporting projection dead-letters it
                await own_nc.jetstream().publish("bs.slagelse.sms.sent", b"not an event")

                async def dead_lettered() -> bool:
                    samples = scraped((await client.get("/metrics")).text)
                    dead = "borgerservice_dead_letters"
                    return value(samples, dead, consumer="reporting_sms") == 1

                await eventually(dead_lettered, timeout=20)
                response = await client.get("/metrics")
                assert response.headers["content-type"].startswith("text/plain")
                after = scraped(response.text)

                created = "borgerservice_bookings_total"
                assert value(after, created, outcome="created") == 1
                assert value(before, created, outcome="created") == 0
                refused = sum(value(after, created, outcome=o) for o in ("rejected", "not_found"))
                assert refused == 1
                latency = "borgerservice_http_request_duration_seconds_count"
                post = {"route": BOOKINGS_ROUTE, "method": "POST"}
                assert value(after, latency, status="201", **post) == 1
                assert value(before, latency, status="201", **post) == 0
                assert not any(
                    "slagelse" in dict(labels).get("route", "") for _, labels in after
                ), "a raw path became a label"
                for relay in ("booking", "sms"):
                    assert ("borgerservice_relay_lag_seconds", (("relay", relay),)) in after
                for projection in ("availability", "audit", "notifications", "reporting"):
                    key = ("borgerservice_projection_lag_events", (("projection", projection),))
                    assert key in after, projection
                assert value(after, "borgerservice_relay_parked_events", relay="booking") == 0
                for service in ("booking", "notifications", "reporting"):
                    pool = "borgerservice_db_pool_max_connections"
                    assert value(after, pool, service=service) > 0
                assert ("borgerservice_sms_queued", ()) in after
                assert value(after, "borgerservice_ready") == 1
                dead = "borgerservice_dead_letters"
                assert ("borgerservice_dead_letters", (("consumer", "availability"),)) in after
                assert value(after, dead, consumer="availability") == 0

                own_nats.stop()

                async def bus_missed() -> bool:
                    status, body = await ready(client)
                    return status == 503 and any(r.startswith("nats") for r in body["reasons"])

                await eventually(bus_missed, timeout=10)
                assert (await client.get("/livez")).status_code == 200
                down = scraped((await client.get("/metrics")).text)
                assert value(down, "borgerservice_ready") == 0

                own_nats.start()
                await eventually(all_ready, timeout=30)
    finally:
        for service in services:
            await service.close()


async def test_readyz_names_postgres_while_the_database_is_away(
    private_postgres: PrivatePostgres, nats_server: EmbeddedNats, nc: NatsClient, js: Any
) -> None:
    url = private_postgres.database_url("borgerservice")
    await ensure_database(url)
    settings = BookingSettings(
        database_url=url, nats_url=nats_server.url, staff_tokens=STAFF_KEYS, **UNLIMITED
    )
    booking = await BookingService.start(settings, nc)
    operations = Operations([booking.health()])
    app = build_api("booking", [booking.router()], ERROR_STATUSES, operations=operations)
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://booking") as client:

            async def all_ready() -> bool:
                return await ready(client) == (200, {"ready": True})

            await eventually(all_ready)
            await asyncio.to_thread(private_postgres.stop, "fast")

            async def database_missed() -> bool:
                status, body = await ready(client)
                return status == 503 and any(r.startswith("postgres") for r in body["reasons"])

            await eventually(database_missed)
            assert (await client.get("/livez")).status_code == 200
            metrics = await client.get("/metrics")  # still answers, with what it can read
            assert metrics.status_code == 200
            scraped(metrics.text)

            await asyncio.to_thread(private_postgres.start)
            await eventually(all_ready, timeout=20)
    finally:
        await booking.close()
        await drop_database(url)


async def test_readyz_names_the_relay_that_lags(booking_service: BookingService) -> None:
    """Events stored and no relay running: past the threshold, not ready, naming the relay."""
    await asyncio.to_thread(seed_world, booking_service.app)
    operations = Operations([booking_service.health()], max_lag_seconds=0.5, cache_seconds=0)
    app = build_api("booking", [], operations=operations)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://booking") as client:
        await asyncio.sleep(1)
        status, body = await ready(client)
        assert status == 503
        assert any(r.startswith("relay booking: ") for r in body["reasons"]), body
        samples = scraped((await client.get("/metrics")).text)
        assert value(samples, "borgerservice_relay_lag_events", relay="booking") > 0
        assert value(samples, "borgerservice_relay_lag_seconds", relay="booking") >= 0.5

        async with running_in_background(booking_service):

            async def caught_up() -> bool:
                return (await ready(client))[0] == 200

            await eventually(caught_up, timeout=20)


async def test_readyz_names_the_projection_that_lags(booking_service: BookingService) -> None:
    """Events on the stream and no projection applying them: not ready, naming each."""
    await asyncio.to_thread(seed_world, booking_service.app)
    relay = booking_service.relay()
    await relay.resume()
    assert await relay.relay_once() > 0
    operations = Operations([booking_service.health()], max_lag_seconds=0.5, cache_seconds=0)
    app = build_api("booking", [], operations=operations)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://booking") as client:
        await asyncio.sleep(1)
        status, body = await ready(client)
        assert status == 503
        assert not any(r.startswith("relay") for r in body["reasons"]), body
        assert any(r.startswith("projection availability: ") for r in body["reasons"]), body
        samples = scraped((await client.get("/metrics")).text)
        lag = "borgerservice_projection_lag_seconds"
        assert value(samples, lag, projection="availability") >= 0.5
