"""An admin's service edit larger than the bus accepts: refused (413 at the edge, the wire
check behind it), nothing stored, and the relay keeps carrying every municipality's events
(it used to retry that event forever)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date, datetime

import httpx
import pytest
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from infra.http import build_api
from infra.nats_server import EmbeddedNats
from infra.staff_tokens import Role
from infra.streams import EVENTS_STREAM
from services.booking.adapters.wire import Unpublishable
from services.booking.application import BookingApplication
from services.booking.commands import BookTime
from services.booking.domain.opening_hours import COPENHAGEN, OpeningHours
from services.booking.service import ERROR_STATUSES, BookingService
from services.booking.settings import BookingSettings
from tests.booking_world import MUNICIPALITY, STAFF_KEYS, seed_world, staff_headers
from tests.support import eventually, running_in_background

HERNING_DAY = date(2030, 3, 5)  # a Tuesday
HERNING_TEN = datetime(2030, 3, 5, 10, 0, tzinfo=COPENHAGEN)


def seed_herning(app: BookingApplication) -> None:
    app.register_municipality(
        "herning", "Herning Kommune", 7,
        [{"id": "bibliotek", "name": "Herning Bibliotek", "address": "Torvet 2"}],
        [{"id": "pas", "name": "Pas", "duration_minutes": 15, "documents": ["Gammelt pas"]}],
    )  # fmt: skip
    hours = OpeningHours.parse({"tue": "10:00-11:00"}, slot_minutes=15, seats=4, services=["pas"])
    app.open_day("herning", "bibliotek", HERNING_DAY, hours.slots_on(HERNING_DAY))


def book_in_herning(app: BookingApplication, phone: str) -> None:
    app.book(
        BookTime(
            municipality="herning", site="bibliotek", service="pas", starts_at=HERNING_TEN,
            citizen_name="Jens Hansen", phone=phone,
        )
    )  # fmt: skip


async def on_stream(js: JetStreamContext, subject: str) -> bool:
    try:
        await js.get_last_msg(EVENTS_STREAM, subject)
    except NotFoundError:
        return False
    return True


@pytest.fixture
async def booking(
    database_url: str, nats_server: EmbeddedNats, nc: NatsClient, js: JetStreamContext
) -> AsyncIterator[BookingService]:
    settings = BookingSettings(
        database_url=database_url, nats_url=nats_server.url, staff_tokens=STAFF_KEYS
    )
    service = await BookingService.start(settings, nc)
    yield service
    await service.close()


@pytest.fixture
async def api(booking: BookingService) -> AsyncIterator[httpx.AsyncClient]:
    app = build_api("test", [booking.router()], ERROR_STATUSES)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


async def test_a_3_mb_service_edit_is_refused_and_other_municipalities_keep_flowing(
    booking: BookingService, api: httpx.AsyncClient, js: JetStreamContext
) -> None:
    await asyncio.to_thread(seed_world, booking.app)
    await asyncio.to_thread(seed_herning, booking.app)
    stored = await asyncio.to_thread(booking.app.recorder.max_notification_id)
    service = {"id": "pas", "name": "Pas", "duration_minutes": 15}
    huge = {**service, "documents": ["x" * 1000] * 3000}

    # Over HTTP the body limit answers first ...
    response = await api.put(
        f"/api/v1/municipalities/{MUNICIPALITY}/services/pas",
        json={k: v for k, v in huge.items() if k != "id"},
        headers=staff_headers(role=Role.ADMIN),
    )
    assert response.status_code == 413, response.text
    assert "larger than the limit" in response.json()["detail"]
    # ... and behind it, every save checks the event against the bus's limit (a seed file, a
    # command over NATS or an operator's raised body limit reach the application directly).
    with pytest.raises(Unpublishable) as refused:
        await asyncio.to_thread(booking.app.configure_service, MUNICIPALITY, huge, "admin")
    assert "municipality.service_configured would be 3," in str(refused.value)
    assert "largest field is service" in str(refused.value)

    assert await asyncio.to_thread(booking.app.recorder.max_notification_id) == stored
    catalog = await api.get(f"/api/v1/municipalities/{MUNICIPALITY}/services")
    assert [s["documents"] for s in catalog.json() if s["id"] == "pas"] == [["Gammelt pas"]]
    async with running_in_background(booking):
        await asyncio.to_thread(book_in_herning, booking.app, "+4520304050")
        await eventually(lambda: on_stream(js, "bs.herning.booking.booked"), timeout=20)


async def test_a_site_configured_over_http_reaches_the_stream_naming_its_site(
    booking: BookingService, api: httpx.AsyncClient, js: JetStreamContext
) -> None:
    """The edit that stopped every municipality's events: its event is now publishable."""
    await asyncio.to_thread(seed_world, booking.app)
    await asyncio.to_thread(seed_herning, booking.app)
    response = await api.put(
        f"/api/v1/municipalities/{MUNICIPALITY}/sites/korsoer",
        json={"name": "Borgerservice Korsør", "address": "Caspar Brands Plads 8"},
        headers=staff_headers(role=Role.ADMIN),
    )
    assert response.status_code == 200, response.text
    async with running_in_background(booking):
        await asyncio.to_thread(book_in_herning, booking.app, "+4520304050")
        await eventually(lambda: on_stream(js, "bs.herning.booking.booked"), timeout=20)
    configured = await js.get_last_msg(EVENTS_STREAM, "bs.slagelse.municipality.site_configured")
    assert configured.data is not None
    assert b'"site":"korsoer"' in configured.data
