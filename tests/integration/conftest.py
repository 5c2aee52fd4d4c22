"""The booking service running for real: application on PostgreSQL, relay and availability
projection on JetStream, HTTP through an in-process ASGI client."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from fastapi import FastAPI
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext

from infra.http import build_api
from infra.nats_server import EmbeddedNats
from services.booking.service import ERROR_STATUSES, BookingService
from services.booking.settings import BookingSettings
from tests.booking_world import STAFF_KEYS
from tests.support import running_in_background


@pytest.fixture
async def booking_service(
    database_url: str, nats_server: EmbeddedNats, nc: NatsClient, js: JetStreamContext
) -> AsyncIterator[BookingService]:
    settings = BookingSettings(
        database_url=database_url,
        nats_url=nats_server.url,
        staff_tokens=STAFF_KEYS,
        rate_limit_per_ip_per_minute=1_000_000,  # limits have their own tests
        rate_limit_per_phone_per_hour=1_000_000,
    )
    service = await BookingService.start(settings, nc)
    yield service
    await service.close()


@pytest.fixture
async def running_booking(booking_service: BookingService) -> AsyncIterator[BookingService]:
    """The booking service with its relay, projection and command handlers running."""
    async with running_in_background(booking_service):
        yield booking_service


@pytest.fixture
async def api(booking_service: BookingService) -> AsyncIterator[httpx.AsyncClient]:
    app = build_api("test", [booking_service.router()], ERROR_STATUSES)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


@pytest.fixture
def limited(booking_service: BookingService) -> Callable[[int, int], FastAPI]:
    """The booking API with these limits (requests per minute per address, bookings per hour
    per phone number)."""

    def api(per_ip: int, per_phone: int) -> FastAPI:
        settings = booking_service.settings.model_copy(
            update={
                "rate_limit_per_ip_per_minute": per_ip,
                "rate_limit_per_phone_per_hour": per_phone,
            }
        )
        service = dataclasses.replace(booking_service, settings=settings)
        return build_api("test", [service.router()], ERROR_STATUSES)

    return api


@pytest.fixture
async def client_at() -> AsyncIterator[Callable[[FastAPI, str], httpx.AsyncClient]]:
    """A client of `app` calling from address `ip`."""
    opened: list[httpx.AsyncClient] = []

    def client(app: FastAPI, ip: str) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=app, client=(ip, 50_000))
        opened.append(httpx.AsyncClient(transport=transport, base_url="http://test"))
        return opened[-1]

    yield client
    for each in opened:
        await each.aclose()
