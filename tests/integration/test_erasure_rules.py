"""Who may erase a citizen and when: admins only, never while a booking of theirs is still to
come, and an erased citizen's bookings no longer change what was said about them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any
from uuid import UUID

import httpx
import pytest
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext
from typer.testing import CliRunner

from borgerservice.cli import app as cli
from infra.nats_server import EmbeddedNats
from infra.staff_tokens import Role
from services.booking.commands import BookTime, CancelBooking
from services.booking.service import BookingService
from services.notifications.service import NotificationsService
from services.notifications.settings import NotificationsSettings
from tests.booking_world import (
    BASE,
    FIRST_TIME,
    MUNICIPALITY,
    SITE,
    STAFF,
    book,
    later,
    seed_world,
    staff_headers,
)
from tests.integration.test_erasure import all_consumed, traces_in_database, traces_on_streams
from tests.support import eventually, running_in_background

ERASE = f"{BASE}/citizens/erase"


def headers(role: Role, municipality: str = MUNICIPALITY) -> dict[str, str]:
    return staff_headers(municipality, role)


async def details(service: BookingService, booking_id: str) -> Any:
    booking = await asyncio.to_thread(service.app.get_booking, UUID(booking_id))
    return await asyncio.to_thread(service.app.details_of, booking)


def after_the_appointment(service: BookingService) -> None:
    service.app.clock = lambda: FIRST_TIME + timedelta(days=1)


async def test_a_citizen_with_a_booking_still_to_come_is_not_erased(
    api: httpx.AsyncClient, booking_service: BookingService
) -> None:
    await asyncio.to_thread(seed_world, booking_service.app)
    booked = await book(api, phone="20301111")
    refused = await api.post(ERASE, json={"phone": "20301111"}, headers=headers(Role.ADMIN))
    assert refused.status_code == 409, refused.text
    assert "cancel or finish them" in refused.json()["detail"]
    assert (await details(booking_service, booked["booking_id"])).citizen_name == "Karen Jensen"
    requested = await booking_service.pool.fetchval(
        "SELECT count(*) FROM personal_data_key WHERE erase_requested_at IS NOT NULL"
    )
    assert requested == 0  # the refused request is not left to the automatic erasure


async def test_only_an_admin_of_the_municipality_erases(
    api: httpx.AsyncClient, booking_service: BookingService
) -> None:
    await asyncio.to_thread(seed_world, booking_service.app)
    await book(api, phone="20301112")
    body = {"phone": "20301112"}
    assert (await api.post(ERASE, json=body)).status_code == 401
    assert (await api.post(ERASE, json=body, headers=headers(Role.STAFF))).status_code == 403
    assert (await api.post(ERASE, json=body, headers=headers(Role.REPORTING))).status_code == 403
    foreign = headers(Role.ADMIN, "herning")
    assert (await api.post(ERASE, json=body, headers=foreign)).status_code == 404
    unknown = await api.post(ERASE, json={"phone": "20309999"}, headers=headers(Role.ADMIN))
    assert unknown.status_code == 404
    assert "no personal data" in unknown.json()["detail"]
    invalid = await api.post(ERASE, json={"phone": "123"}, headers=headers(Role.ADMIN))
    assert invalid.status_code == 422


async def test_an_erased_citizens_booking_keeps_its_history_but_says_nothing_new_about_them(
    api: httpx.AsyncClient, booking_service: BookingService
) -> None:
    await asyncio.to_thread(seed_world, booking_service.app)
    booked = await book(api, phone="20301113")
    after_the_appointment(booking_service)  # never checked in: booked, but in the past
    url = f"{BASE}/bookings/{booked['booking_id']}"
    erased = await api.post(f"{url}/erase-citizen", headers=headers(Role.ADMIN))
    assert erased.status_code == 200, erased.text
    assert await details(booking_service, booked["booking_id"]) is None
    cancel = await api.post(f"{url}/staff-cancel", json={"reason": "for sent"}, headers=STAFF)
    assert cancel.status_code == 409 and "erased" in cancel.json()["detail"]
    no_show = await api.post(f"{url}/no-show", headers=STAFF)  # nothing personal in it
    assert no_show.status_code == 200, no_show.text
    assert no_show.json()["personal_data_erased"] is True
    again = await api.post(ERASE, json={"phone": "20301113"}, headers=headers(Role.ADMIN))
    assert again.status_code == 404  # the number no longer leads anywhere


async def test_an_erased_citizen_who_books_again_is_a_new_citizen(
    api: httpx.AsyncClient, booking_service: BookingService
) -> None:
    await asyncio.to_thread(seed_world, booking_service.app)
    first = await book(api, phone="20301114")
    booking_service.app.clock = lambda: FIRST_TIME + timedelta(minutes=1)  # the first has begun
    await api.post(f"{BASE}/bookings/{first['booking_id']}/check-in", headers=STAFF)
    for step in ("start", "complete"):
        await api.post(f"{BASE}/bookings/{first['booking_id']}/{step}", headers=STAFF)
    erased = await api.post(ERASE, json={"phone": "20301114"}, headers=headers(Role.ADMIN))
    assert erased.status_code == 200, erased.text
    booking_service.app.clock = lambda: FIRST_TIME - timedelta(days=1)
    again = await book(api, phone="20301114", starts_at=later(30).isoformat())
    app = booking_service.app
    old = await asyncio.to_thread(app.get_booking, UUID(first["booking_id"]))
    new = await asyncio.to_thread(app.get_booking, UUID(again["booking_id"]))
    assert new.subject_id is not None and new.subject_id != old.subject_id
    assert (await asyncio.to_thread(app.details_of, new)).phone == "+4520301114"


@pytest.fixture
async def late_notifications(
    database_url: str, nats_server: EmbeddedNats, nc: NatsClient, js: JetStreamContext
) -> AsyncIterator[NotificationsService]:
    settings = NotificationsSettings(database_url=database_url, nats_url=nats_server.url)
    service = await NotificationsService.start(settings, nc)
    yield service
    await service.close()


async def test_a_citizen_erased_before_notifications_saw_the_booking_is_sent_nothing(
    running_booking: BookingService,
    api: httpx.AsyncClient,
    late_notifications: NotificationsService,
    js: JetStreamContext,
) -> None:
    await asyncio.to_thread(seed_world, running_booking.app)
    booked = await book(api, citizen_name="Ingrid Sejersen", phone="20301115")
    after_the_appointment(running_booking)
    url = f"{BASE}/bookings/{booked['booking_id']}/erase-citizen"
    assert (await api.post(url, headers=headers(Role.ADMIN))).status_code == 200

    async with running_in_background(late_notifications):  # it reads the history only now

        async def consumed() -> bool:
            seen = await late_notifications.pool.fetchval(
                "SELECT count(*) FROM notification_booking WHERE booking_id = $1",
                UUID(booked["booking_id"]),
            )
            return bool(seen) and await all_consumed(js, running_booking)

        await eventually(consumed, timeout=20)
    pool = late_notifications.pool
    assert await pool.fetchval("SELECT count(*) FROM sms_message") == 0
    row = await pool.fetchrow("SELECT citizen_name, phone, subject_id FROM notification_booking")
    assert row is not None and row["citizen_name"] is None and row["phone"] is None
    ingrid = ("Ingrid", "Sejersen", "20301115")
    assert await traces_in_database(pool, ingrid) == {}
    assert await traces_on_streams(js, ingrid) == {}


async def test_the_erase_command_erases_a_citizen_whose_bookings_are_over(
    booking_service: BookingService, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = booking_service.app
    await asyncio.to_thread(seed_world, app)
    command = BookTime(
        municipality=MUNICIPALITY, site=SITE, service="pas", starts_at=FIRST_TIME,
        citizen_name="Bo Lund", phone="+4520301116",
    )  # fmt: skip
    booking = await asyncio.to_thread(app.book, command)
    monkeypatch.setenv("DATABASE_URL", database_url)
    erase = ["erase", "--municipality", MUNICIPALITY, "--phone", "20 30 11 16", "--by", "lone"]

    refused = await asyncio.to_thread(CliRunner().invoke, cli, erase)
    assert refused.exit_code == 1 and "cancel or finish them" in refused.output

    await asyncio.to_thread(app.cancel, CancelBooking(booking_id=booking.id))
    done = await asyncio.to_thread(CliRunner().invoke, cli, erase)
    assert done.exit_code == 0, done.output
    assert f"erased citizen {booking.subject_id}" in done.output
    assert await asyncio.to_thread(app.details_of, booking) is None
