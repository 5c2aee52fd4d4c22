"""The live event stream over real HTTP (uvicorn) from the real JetStream: a dashboard client
that disconnects and resumes with Last-Event-ID gets every event exactly once; a stream lasts
no longer than the staff token it was opened with."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any
from uuid import uuid4

import httpx
import pytest
import uvicorn
from nats.js import JetStreamContext

from infra.http import build_api
from infra.staff_tokens import Role, StaffTokens
from services.reporting.service import ReportingService
from tests.booking_world import STAFF_KEYS
from tests.reporting_world import booked, cancelled, publish, reader, service

__all__ = ["service"]

STREAM = "/api/v1/municipalities/{}/events/stream"


@pytest.fixture
async def base_url(service: ReportingService) -> AsyncIterator[str]:
    """The reporting API served by uvicorn on a free port, as a dashboard reaches it."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(build_api("reporting", [service.router()]), port=port, log_level="warning")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn has no started event
        await asyncio.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    server.force_exit = True  # open event streams do not end by themselves
    await asyncio.wait_for(task, timeout=10)


async def read_events(
    client: httpx.AsyncClient, url: str, count: int, last_event_id: str | None = None
) -> list[dict[str, Any]]:
    """Reads `count` events, then disconnects."""
    headers = {"Last-Event-ID": last_event_id} if last_event_id is not None else {}
    received: list[dict[str, Any]] = []
    frame: dict[str, Any] = {}
    async with client.stream("GET", url, headers=headers) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        async for line in response.aiter_lines():
            if line.startswith("id: "):
                frame["id"] = int(line[4:])
            elif line.startswith("data: "):
                frame["data"] = json.loads(line[6:])
            elif line == "" and "id" in frame:
                received.append(frame)
                frame = {}
                if len(received) == count:
                    break
    return received


async def test_a_client_resuming_with_last_event_id_misses_nothing_and_gets_nothing_twice(
    js: JetStreamContext, service: ReportingService, base_url: str
) -> None:
    first = [booked(uuid4(), "2025-03-03", f"2025-03-{day:02}") for day in (4, 5, 6)]
    await publish(js, service, *first)
    url = base_url + STREAM.format("slagelse")
    async with httpx.AsyncClient(timeout=10, headers=reader()) as client:
        before = await read_events(client, url, 2, last_event_id="0")  # then disconnects

        # while the client is away: more events, one of another municipality
        await publish(
            js,
            service,
            booked(uuid4(), "2025-03-03", "2025-03-07", municipality="herning", site="herning"),
            cancelled(first[0].aggregate_id, "2025-03-04"),
            booked(uuid4(), "2025-03-03", "2025-03-10"),
        )
        after = await read_events(client, url, 3, last_event_id=str(before[-1]["id"]))

    sequences = [event["id"] for event in before + after]
    assert sequences == [1, 2, 3, 5, 6]  # 4 is herning's: never shown to slagelse
    assert [e["data"]["type"] for e in after] == [
        "booking.booked",
        "booking.cancelled",
        "booking.booked",
    ]
    figures = after[-1]["data"]["figures"]
    assert set(figures) >= {"booked_today", "cancelled_today", "reporting_position"}


async def test_without_last_event_id_the_stream_starts_with_the_next_event(
    js: JetStreamContext, service: ReportingService, base_url: str
) -> None:
    await publish(js, service, booked(uuid4(), "2025-03-03", "2025-03-04"))
    url = base_url + STREAM.format("slagelse")
    async with httpx.AsyncClient(timeout=10, headers=reader()) as client:
        reading = asyncio.create_task(read_events(client, url, 1))
        await asyncio.sleep(0.5)  # connected
        await publish(js, service, booked(uuid4(), "2025-03-03", "2025-03-05"))
        (event,) = await asyncio.wait_for(reading, timeout=10)

    assert event["id"] == 2


async def test_a_last_event_id_that_is_not_a_sequence_is_refused(
    service: ReportingService, base_url: str
) -> None:
    async with httpx.AsyncClient(timeout=10, headers=reader()) as client:
        response = await client.get(
            base_url + STREAM.format("slagelse"), headers={"Last-Event-ID": "yesterday"}
        )

    assert response.status_code == 422
    assert "not a stream sequence" in response.text


async def test_a_stream_ends_when_the_token_it_was_opened_with_expires(
    js: JetStreamContext, service: ReportingService, base_url: str
) -> None:
    await publish(js, service, booked(uuid4(), "2025-03-03", "2025-03-04"))
    lifetime = timedelta(seconds=3)
    token = StaffTokens(STAFF_KEYS).issue("slagelse", "statistik", Role.REPORTING, lifetime)
    url = base_url + STREAM.format("slagelse")
    async with httpx.AsyncClient(
        timeout=10, headers={"Authorization": f"Bearer {token}"}
    ) as client:
        reading = asyncio.create_task(read_events(client, url, 2))
        await asyncio.sleep(0.5)  # connected
        await publish(js, service, booked(uuid4(), "2025-03-03", "2025-03-05"))
        await asyncio.sleep(lifetime.total_seconds())  # the token has expired
        await publish(js, service, booked(uuid4(), "2025-03-03", "2025-03-06"))
        received = await asyncio.wait_for(reading, timeout=10)  # the stream ended
        again = await client.get(url)

    assert [event["id"] for event in received] == [2]  # nothing after the expiry
    assert again.status_code == 401
