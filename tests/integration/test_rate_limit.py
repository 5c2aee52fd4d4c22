"""Abuse limits on the citizens' API: per client address and per phone number."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable

import httpx
from fastapi import FastAPI

from infra.http import build_api
from services.booking.service import ERROR_STATUSES, BookingService
from services.web.service import WebService
from services.web.settings import WebSettings
from tests.booking_world import MUNICIPALITY, SITE, booking_body, later, seed_world

AVAILABILITY = f"/api/v1/municipalities/{MUNICIPALITY}/availability"
BOOKINGS = f"/api/v1/municipalities/{MUNICIPALITY}/bookings"
FREE_TIMES = {"service": "pas", "site": SITE}


async def test_normal_use_passes(
    limited: Callable[[int, int], FastAPI],
    client_at: Callable[[FastAPI, str], httpx.AsyncClient],
    booking_service: BookingService,
) -> None:
    await asyncio.to_thread(seed_world, booking_service.app)
    citizen = client_at(limited(20, 3), "192.0.2.1")
    for _ in range(5):
        assert (await citizen.get(AVAILABILITY, params=FREE_TIMES)).status_code == 200
    booked = await citizen.post(BOOKINGS, json=booking_body())
    assert booked.status_code == 201, booked.text
    assert (await citizen.get(f"/api/v1/bookings/{booked.json()['booking_id']}")).status_code != 429


async def test_a_burst_from_one_address_gets_429_with_retry_after(
    limited: Callable[[int, int], FastAPI],
    client_at: Callable[[FastAPI, str], httpx.AsyncClient],
    booking_service: BookingService,
) -> None:
    await asyncio.to_thread(seed_world, booking_service.app)
    app = limited(10, 0)
    burst = client_at(app, "192.0.2.1")
    statuses = [(await burst.get(AVAILABILITY, params=FREE_TIMES)).status_code for _ in range(13)]
    assert statuses == [200] * 10 + [429] * 3
    refused = await burst.get(AVAILABILITY, params=FREE_TIMES)
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 6  # 10 a minute: one more in 6 s
    neighbour = client_at(app, "192.0.2.2")
    assert (await neighbour.get(AVAILABILITY, params=FREE_TIMES)).status_code == 200


async def test_bookings_for_one_phone_number_are_limited_from_any_address(
    limited: Callable[[int, int], FastAPI],
    client_at: Callable[[FastAPI, str], httpx.AsyncClient],
    booking_service: BookingService,
) -> None:
    await asyncio.to_thread(seed_world, booking_service.app)
    app = limited(1000, 2)
    first, second = client_at(app, "192.0.2.10"), client_at(app, "198.51.100.7")
    for client, minutes, phone in ((first, 0, "20 30 40 50"), (second, 15, "+45 20304050")):
        body = booking_body(starts_at=later(minutes).isoformat(), phone=phone)
        assert (await client.post(BOOKINGS, json=body)).status_code != 429
    same_number = booking_body(starts_at=later(30).isoformat(), phone="0045 20 30 40 50")
    refused = await second.post(BOOKINGS, json=same_number)
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 60  # 2 an hour: the next in half an hour
    other_number = booking_body(starts_at=later(30).isoformat(), phone="20 30 40 51")
    assert (await second.post(BOOKINGS, json=other_number)).status_code == 201


async def test_citizens_using_the_pages_each_have_their_own_allowance(
    client_at: Callable[[FastAPI, str], httpx.AsyncClient],
    booking_service: BookingService,
) -> None:
    """The pages call the API from one address: they name their citizen in X-Forwarded-For
    (believed from loopback, as `up` trusts it beside the pages), so one citizen spending the
    allowance gets the Danish 429 page and the next citizen is still served (before, every
    citizen of the pages shared one allowance and got a 500 once it was spent)."""
    await asyncio.to_thread(seed_world, booking_service.app)
    settings = booking_service.settings.beside_pages(["web"]).model_copy(
        update={"rate_limit_per_ip_per_minute": 6, "rate_limit_per_phone_per_hour": 100}
    )
    service = dataclasses.replace(booking_service, settings=settings)
    api = build_api("api", [service.router()], ERROR_STATUSES)
    web = WebService.start(
        WebSettings(booking_api_url="http://api", reporting_api_url="http://api"),
        transport=httpx.ASGITransport(app=api, client=("127.0.0.1", 40_000)),
    )
    pages = build_api("web", [web.router()])
    try:
        eager, next_citizen = client_at(pages, "203.0.113.1"), client_at(pages, "203.0.113.2")
        shown = [(await eager.get(f"/book/{MUNICIPALITY}")) for _ in range(12)]
        statuses = [page.status_code for page in shown]
        assert 429 in statuses and 500 not in statuses, statuses
        refused = shown[statuses.index(429)]
        assert "Prøv igen om 1 minut" in refused.text
        assert int(refused.headers["Retry-After"]) > 0
        assert (await next_citizen.get(f"/book/{MUNICIPALITY}")).status_code == 200
    finally:
        await web.close()


async def test_behind_a_trusted_proxy_the_pages_name_the_citizen_it_names(
    client_at: Callable[[FastAPI, str], httpx.AsyncClient],
    booking_service: BookingService,
) -> None:
    """The pages behind the deployment's proxy (TRUSTED_PROXIES): every page request comes
    from the proxy, and the citizen is the address it forwards, for the pages as for the API."""
    await asyncio.to_thread(seed_world, booking_service.app)
    settings = booking_service.settings.beside_pages(["web"]).model_copy(
        update={"rate_limit_per_ip_per_minute": 6, "rate_limit_per_phone_per_hour": 100}
    )
    api = build_api("api", [dataclasses.replace(booking_service, settings=settings).router()])
    web = WebService.start(
        WebSettings.model_validate(
            {"booking_api_url": "http://api", "TRUSTED_PROXIES": ["10.0.0.5/32"]}
        ),
        transport=httpx.ASGITransport(app=api, client=("127.0.0.1", 40_000)),
    )
    proxy = client_at(build_api("web", [web.router()]), "10.0.0.5")
    try:
        eager = {"X-Forwarded-For": "203.0.113.1"}
        statuses = [
            (await proxy.get(f"/book/{MUNICIPALITY}", headers=eager)).status_code for _ in range(12)
        ]
        assert 429 in statuses and 500 not in statuses, statuses
        other = {"X-Forwarded-For": "203.0.113.2"}
        assert (await proxy.get(f"/book/{MUNICIPALITY}", headers=other)).status_code == 200
    finally:
        await web.close()
