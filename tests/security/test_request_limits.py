"""What a client sends is bounded before it costs anything: X-Forwarded-For is believed only
from a configured proxy, the citizen routes share one allowance per address, and a body over
its route's limit is a 413 before it is parsed (a 10 MB body used to be read whole)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import httpx
from fastapi import FastAPI

from services.booking.service import BookingService
from tests.booking_world import FIRST_TIME, MUNICIPALITY, SITE, booking_body, seed_world
from tests.integration.conftest import api, booking_service, client_at, limited  # noqa: F401

AVAILABILITY = f"/api/v1/municipalities/{MUNICIPALITY}/availability"
BOOKINGS = f"/api/v1/municipalities/{MUNICIPALITY}/bookings"
FREE_TIMES = {"service": "pas", "site": SITE}
CITIZEN_LIMIT = 64 * 1024


async def test_x_forwarded_for_from_an_untrusted_peer_is_not_believed(
    limited: Callable[[int, int], FastAPI],  # noqa: F811
    client_at: Callable[[FastAPI, str], httpx.AsyncClient],  # noqa: F811
    booking_service: BookingService,  # noqa: F811
) -> None:
    """Before, anyone could name a fresh address in every request and never be limited."""
    await asyncio.to_thread(seed_world, booking_service.app)
    stranger = client_at(limited(5, 0), "198.51.100.7")  # no TRUSTED_PROXIES are configured
    statuses = [
        (
            await stranger.get(
                AVAILABILITY, params=FREE_TIMES, headers={"X-Forwarded-For": f"203.0.113.{n}"}
            )
        ).status_code
        for n in range(8)
    ]
    assert statuses == [200] * 5 + [429] * 3


async def test_the_citizen_routes_share_one_allowance(
    limited: Callable[[int, int], FastAPI],  # noqa: F811
    client_at: Callable[[FastAPI, str], httpx.AsyncClient],  # noqa: F811
    booking_service: BookingService,  # noqa: F811
) -> None:
    """Looking up times and holding one are two routers (the booking and the citizen
    router): before, each had its own allowance, so an address got twice the rate by
    alternating."""
    await asyncio.to_thread(seed_world, booking_service.app)
    citizen = client_at(limited(6, 0), "192.0.2.9")
    hold = {"site": SITE, "service": "pas", "starts_at": FIRST_TIME.isoformat()}
    statuses = []
    for n in range(8):
        if n % 2:
            answer = await citizen.post(f"/api/v1/municipalities/{MUNICIPALITY}/holds", json=hold)
        else:
            answer = await citizen.get(AVAILABILITY, params=FREE_TIMES)
        statuses.append(answer.status_code)
    assert 429 not in statuses[:6] and statuses[6:] == [429, 429], statuses


async def chunks(total: int, size: int = 64 * 1024) -> AsyncIterator[bytes]:
    sent = 0
    while sent < total:
        yield b" " * min(size, total - sent)
        sent += size


async def test_a_citizen_body_beyond_its_limit_is_413_before_it_is_read(
    api: httpx.AsyncClient,  # noqa: F811
    booking_service: BookingService,  # noqa: F811
) -> None:
    await asyncio.to_thread(seed_world, booking_service.app)
    padded = booking_body(note="x" * CITIZEN_LIMIT)
    declared = await api.post(BOOKINGS, json=padded)
    assert declared.status_code == 413, declared.text
    assert f"limit of {CITIZEN_LIMIT} bytes" in declared.json()["detail"]

    sent = 0

    async def ten_megabytes() -> AsyncIterator[bytes]:
        nonlocal sent
        async for chunk in chunks(10 * 1024 * 1024):
            sent += len(chunk)
            yield chunk

    streamed = await api.post(
        BOOKINGS, content=ten_megabytes(), headers={"Content-Type": "application/json"}
    )
    assert streamed.status_code == 413, streamed.text
    # no Content-Length: refused as soon as the limit was passed, not after 10 MB
    assert sent <= 4 * CITIZEN_LIMIT, sent
    assert (await api.post(BOOKINGS, json=booking_body())).status_code == 201  # still serving
