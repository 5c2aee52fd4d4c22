"""Erasure (issue 6): a citizen's bookings flow through the booking service, notifications and
reporting on the real nats-server and PostgreSQL; staff erase the citizen; afterwards a search
of every table (event store included, bytes and all), every message on every stream and every
read model finds none of their personal data, and every report gives the same figures."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any
from uuid import UUID

import asyncpg
import httpx
import pytest
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from infra.http import build_api
from infra.nats_server import EmbeddedNats
from infra.staff_tokens import Role
from services.booking.service import BookingService
from services.notifications.service import NotificationsService
from services.notifications.settings import NotificationsSettings
from services.reporting.service import ReportingService
from tests.booking_world import (
    MUNICIPALITY,
    SITE,
    STAFF,
    booking_body,
    later,
    seed_world,
    staff_headers,
)
from tests.reporting_world import reader, reporting_settings
from tests.support import eventually, running_in_background

BASE = f"/api/v1/municipalities/{MUNICIPALITY}"
ADMIN = staff_headers(role=Role.ADMIN, account="admin-lone")
NAME = "Gudrun Østergaard-Pedersen"
PHONE = "20 30 12 34"
# Every form the citizen's data may take, in text or bytes (JSON escapes Ø as \u00d8).
TRACES = ("Gudrun", "stergaard", "+4520301234", "4520301234", "20301234", "20 30 12 34")
REPORTS = ("bookings", "waiting-time", "operations", "satisfaction", "lead-time")


@pytest.fixture
async def notifications(
    database_url: str, nats_server: EmbeddedNats, nc: NatsClient, js: JetStreamContext
) -> AsyncIterator[NotificationsService]:
    settings = NotificationsSettings(database_url=database_url, nats_url=nats_server.url)
    service = await NotificationsService.start(settings, nc)
    async with running_in_background(service):
        yield service
    await service.close()


@pytest.fixture
async def reporting(
    database_url: str, nc: NatsClient, js: JetStreamContext
) -> AsyncIterator[httpx.AsyncClient]:
    service = await ReportingService.start(reporting_settings(database_url), nc)
    async with running_in_background(service):
        transport = httpx.ASGITransport(app=build_api("reporting", [service.router()]))
        async with httpx.AsyncClient(
            transport=transport, base_url="http://test", headers=reader()
        ) as client:
            yield client
    await service.close()


# the search


def traces_in(value: Any, traces: tuple[str, ...] = TRACES) -> set[str]:
    """Which `traces` of the citizen `value` holds: text, bytes, JSON, arrays, nested."""
    if value is None:
        return set()
    if isinstance(value, bytes | bytearray | memoryview):
        raw = bytes(value)
        return {t for t in traces if t.encode() in raw or t.encode("utf-16-le") in raw}
    if isinstance(value, list | tuple):
        return set().union(*(traces_in(v, traces) for v in value))
    if isinstance(value, dict):
        return traces_in([*value.values(), *value.keys()], traces)
    text = str(value)
    return {t for t in traces if t in text}


async def traces_in_database(
    pool: asyncpg.Pool, traces: tuple[str, ...] = TRACES
) -> dict[str, set[str]]:
    """Every row of every table in the database, every column, as stored."""
    found: dict[str, set[str]] = {}
    tables = await pool.fetch(
        "SELECT table_schema, table_name FROM information_schema.tables "
        "WHERE table_schema NOT IN ('pg_catalog', 'information_schema') "
        "AND table_type = 'BASE TABLE'"
    )
    assert any(t["table_name"] == "booking_events" for t in tables), "the event store is missing"
    for table in tables:
        name = f'"{table["table_schema"]}"."{table["table_name"]}"'
        for row in await pool.fetch(f"SELECT * FROM {name}"):
            for column, value in row.items():
                if hits := traces_in(value, traces):
                    found.setdefault(f"{table['table_name']}.{column}", set()).update(hits)
    return found


async def traces_on_streams(
    js: JetStreamContext, traces: tuple[str, ...] = TRACES
) -> dict[str, set[str]]:
    """Every message on every stream of the server, data and headers."""
    found: dict[str, set[str]] = {}
    for stream in await js.streams_info():
        name, state = stream.config.name, stream.state
        assert name is not None
        if not state.messages:
            continue
        for sequence in range(state.first_seq, state.last_seq + 1):
            try:
                message = await js.get_msg(name, sequence)
            except NotFoundError:
                continue  # deleted
            if hits := traces_in(message.data, traces) | traces_in(message.headers or {}, traces):
                found.setdefault(f"{name}#{sequence} {message.subject}", set()).update(hits)
    return found


async def all_consumed(js: JetStreamContext, service: BookingService) -> bool:
    """The relay has published every stored event and every consumer has applied (acked)
    everything on its subjects."""
    stored = await asyncio.to_thread(service.app.recorder.max_notification_id) or 0
    relayed = await service.pool.fetchval("SELECT max(notification_id) FROM relay_position")
    if relayed is None or relayed < stored:
        return False
    for stream in await js.streams_info():
        assert stream.config.name is not None
        for consumer in await js.consumers_info(stream.config.name):
            if consumer.num_pending or consumer.num_ack_pending:
                return False
    return True


async def reports(client: httpx.AsyncClient) -> dict[str, Any]:
    figures = {}
    for report in REPORTS:
        response = await client.get(f"{BASE}/reports/{report}")
        assert response.status_code == 200, response.text
        figures[report] = response.json()
    return figures


# the story


async def post(api: httpx.AsyncClient, url: str, headers: dict[str, str], **body: Any) -> Any:
    response = await api.post(url, json=body or None, headers=headers)
    assert response.status_code in (200, 201), response.text
    return response.json()


async def test_an_erased_citizen_is_found_nowhere_and_the_reports_do_not_change(
    running_booking: BookingService,
    api: httpx.AsyncClient,
    notifications: NotificationsService,
    reporting: httpx.AsyncClient,
    js: JetStreamContext,
) -> None:
    service = running_booking
    await asyncio.to_thread(seed_world, service.app)
    # Gudrun books online, and staff book a second time for her on the phone.
    visit = await post(api, f"{BASE}/bookings", {}, **booking_body(citizen_name=NAME, phone=PHONE))
    second = await post(
        api, f"{BASE}/staff/bookings", STAFF,
        **booking_body(citizen_name=NAME, phone="+45 2030 1234", service="mitid",
                       starts_at=later(15).isoformat(), channel="phone"),
    )  # fmt: skip
    other = await post(api, f"{BASE}/bookings", {}, **booking_body(phone="20304050"))
    assert second["citizen_name"] == NAME and second["phone"] == "+4520301234"
    # Staff write about her: a note, and a reason to cancel the second time (told by SMS).
    visit_url, second_url = (f"{BASE}/bookings/{b['booking_id']}" for b in (visit, second))
    note = f"{NAME} mangler dåbsattest, ring {PHONE}"
    await post(api, f"{visit_url}/pre-assessment", STAFF, outcome="documents_missing", note=note)
    await post(api, f"{second_url}/staff-cancel", STAFF, reason=f"{NAME} er indlagt")
    for step in ("check-in", "start", "complete"):
        await post(api, f"{visit_url}/{step}", STAFF)
    survey = f"/api/v1/bookings/{visit['booking_id']}/survey"
    manage = {"X-Manage-Token": visit["manage_token"]}
    await post(api, survey, manage, satisfied_with_booking=True, easy_to_find_time=False, score=4)

    async def everything_consumed() -> bool:
        return await all_consumed(js, service)

    async def her_messages_sent() -> bool:
        sent = await notifications.pool.fetch("SELECT body FROM sms_outbox")
        return sum(NAME in (row["body"] or "") for row in sent) >= 2  # confirmations, notice

    await eventually(her_messages_sent, timeout=20)
    await eventually(everything_consumed, timeout=20)
    before = await reports(reporting)
    totals = before["bookings"]["total"]
    assert (totals["active_bookings"], totals["cancelled_bookings"]) == (2, 1), totals

    # Sealed from the start: never in plaintext in the event store or on any stream. Only
    # notifications keeps her name and number, to write to her: the search can find them.
    in_database = await traces_in_database(service.pool)
    assert not {where for where in in_database if where.startswith("booking_events")}
    assert await traces_on_streams(js) == {}
    assert {"sms_outbox.phone", "sms_outbox.body", "notification_booking.citizen_name"} <= set(
        in_database
    ), in_database

    erased = await api.post(f"{BASE}/citizens/erase", json={"phone": PHONE}, headers=ADMIN)
    assert erased.status_code == 200, erased.text
    subject_id = UUID(erased.json()["subject_id"])

    async def erasure_consumed() -> bool:
        forgotten = await notifications.pool.fetchval(
            "SELECT bool_and(phone IS NULL) FROM notification_booking WHERE subject_id = $1",
            subject_id,
        )
        return bool(forgotten) and await all_consumed(js, service)

    await eventually(erasure_consumed, timeout=20)
    assert await traces_in_database(service.pool) == {}
    assert await traces_on_streams(js) == {}
    assert await reports(reporting) == before

    # The booking itself stays, anonymous; the other citizen is untouched.
    stored = await asyncio.to_thread(service.app.get_booking, UUID(visit["booking_id"]))
    assert await asyncio.to_thread(service.app.details_of, stored) is None
    day = await api.get(f"{BASE}/sites/{SITE}/days/2030-03-04/bookings", headers=STAFF)
    shown = {b["booking_id"]: b for b in day.json()}
    assert shown[other["booking_id"]]["citizen_name"] == "Karen Jensen"
    assert shown[visit["booking_id"]]["personal_data_erased"] is True
    assert shown[visit["booking_id"]]["citizen_name"] == ""
    statuses = await notifications.pool.fetch(
        "SELECT kind, status FROM sms_message m JOIN notification_booking b USING (booking_id) "
        "WHERE b.subject_id = $1 ORDER BY kind",
        subject_id,
    )
    assert ("reminder", "erased") in {(r["kind"], r["status"]) for r in statuses}
    erased_again = await api.post(f"{visit_url}/erase-citizen", headers=ADMIN)
    assert erased_again.json()["subject_id"] == str(subject_id)  # idempotent
