"""Replay of the reporting read model from the real stream into fresh tables, switched in while
the live service keeps projecting and serving."""

from __future__ import annotations

import asyncio
import json
from typing import Any
from uuid import uuid4

import asyncpg
import httpx
import pytest
from nats.js import JetStreamContext
from typer.testing import CliRunner

from borgerservice.cli import app, replayable_read_models
from events import Envelope, encode
from infra.nats_server import EmbeddedNats
from infra.read_models import content_hash
from infra.replay import CannotReplay, parse_until, replay, replayable
from infra.streams import EVENTS_STREAM
from services.reporting.adapters.read_model import READ_MODEL
from services.reporting.service import ReportingService
from tests.reporting_world import (  # fixtures and the history's vocabulary
    at,
    booked,
    cancelled,
    client,
    day_opened,
    publish,
    publish_raw,
    registered,
    rescheduled,
    seat_taken,
    service,
)

__all__ = ["client", "service"]

WAITING = "/api/v1/municipalities/slagelse/reports/waiting-time"


def history() -> list[Envelope[Any]]:
    moved, dropped = uuid4(), uuid4()
    return [
        registered("slagelse", target_working_days=5),
        booked(moved, "2025-03-03", "2025-03-05"),
        booked(dropped, "2025-03-03", "2025-03-07", site="korsoer"),
        booked(uuid4(), "2025-03-04", "2025-03-17", municipality="herning", site="bibliotek"),
        rescheduled(moved, "2025-03-05", "2025-03-10"),
        cancelled(dropped, "2025-03-07", site="korsoer"),
    ]


async def live_hash(service: ReportingService) -> str:
    async with service.pool.acquire() as connection:
        return await content_hash(connection, "public", READ_MODEL)


async def test_replay_from_zero_gives_the_live_content_hash_and_prints_its_throughput(
    js: JetStreamContext,
    service: ReportingService,
    client: httpx.AsyncClient,
    database_url: str,
) -> None:
    await publish(js, service, *history())
    live = await live_hash(service)
    printed: list[str] = []

    result = await replay(READ_MODEL, js, database_url, echo=printed.append)

    assert result.content_hash == live
    assert (result.switched_over, result.schema) == (True, "public")
    assert (result.events, result.skipped) == (6, 0)
    assert await live_hash(service) == live
    assert printed[0] == "reporting: replaying 6 events into schema reporting_replay"
    assert "6 of 6 events (100%)" in "\n".join(printed)
    assert "events/s" in printed[-1] and f"content hash {live}" in printed[-1]
    # the live service reads the switched-in tables and keeps projecting into them
    await publish(js, service, booked(uuid4(), "2025-03-03", "2025-03-04"))
    report = (await client.get(WAITING)).json()
    assert report["total"]["bookings"] == 2
    assert report["target_working_days"] == 5


async def test_replay_puts_right_a_read_model_that_was_edited_by_hand(
    js: JetStreamContext, service: ReportingService, database_url: str
) -> None:
    await publish(js, service, *history())
    live = await live_hash(service)
    await service.pool.execute("UPDATE report_booking SET waiting_working_days = 99")
    await service.pool.execute("DELETE FROM report_municipality WHERE municipality = 'herning'")
    assert await live_hash(service) != live

    result = await replay(READ_MODEL, js, database_url, echo=lambda _: None)

    assert result.content_hash == live == await live_hash(service)
    kept = await service.pool.fetchval(
        "SELECT max(waiting_working_days) FROM reporting_previous.report_booking"
    )
    assert kept == 99  # the replaced tables are kept aside, not lost


async def test_replay_switches_over_without_losing_or_doubling_events_projected_meanwhile(
    js: JetStreamContext, service: ReportingService, database_url: str
) -> None:
    earlier = [booked(uuid4(), "2025-03-03", "2025-03-05") for _ in range(300)]
    later = [booked(uuid4(), "2025-04-01", f"2025-04-{day:02}") for day in range(2, 30)]
    await publish(js, service, *earlier)

    async def keep_publishing() -> None:
        for event in later:  # applied by the live runner while replay reads the earlier ones
            await publish(js, service, event)

    result, _ = await asyncio.gather(
        replay(READ_MODEL, js, database_url, batch=1, echo=lambda _: None),
        keep_publishing(),
    )

    assert result.switched_over
    assert result.events > len(earlier)  # caught up with the live runner before switching
    total = await service.pool.fetchval("SELECT count(*) FROM report_booking")
    assert total == len(earlier) + len(later)
    again = await replay(READ_MODEL, js, database_url, echo=lambda _: None)
    assert again.content_hash == await live_hash(service)


async def test_replay_skips_an_event_the_live_projection_dead_letters_and_agrees_with_it(
    js: JetStreamContext, service: ReportingService, database_url: str
) -> None:
    never_booked = rescheduled(uuid4(), "2025-03-05", "2025-03-10")
    events = history()
    await publish(js, service, *events[:2])
    await js.publish(never_booked.subject, never_booked.model_dump_json().encode())
    await publish(js, service, *events[2:])
    live = await live_hash(service)

    result = await replay(READ_MODEL, js, database_url, echo=lambda _: None)

    assert (result.events, result.skipped) == (6, 1)
    assert result.content_hash == live


async def test_replay_until_builds_the_state_of_that_time_beside_the_live_one(
    js: JetStreamContext, service: ReportingService, database_url: str
) -> None:
    march, april = uuid4(), uuid4()
    await publish(
        js,
        service,
        booked(march, "2025-03-03", "2025-03-05"),
        booked(april, "2025-04-01", "2025-04-03"),
    )
    live = await live_hash(service)

    result = await replay(
        READ_MODEL, js, database_url, until=at("2025-03-31", "23:59"), echo=lambda _: None
    )

    assert (result.switched_over, result.schema, result.events) == (False, "reporting_as_of", 1)
    as_of = await service.pool.fetch("SELECT booking_id FROM reporting_as_of.report_booking")
    assert [row["booking_id"] for row in as_of] == [march]
    assert await live_hash(service) == live


def test_an_unknown_projection_cannot_be_replayed() -> None:
    with pytest.raises(CannotReplay, match=r"no projection .bookings.*reporting, reporting_sms"):
        replayable("bookings", replayable_read_models())


async def test_the_replay_command_rebuilds_and_prints_progress_and_throughput(
    js: JetStreamContext,
    service: ReportingService,
    nats_server: EmbeddedNats,
    database_url: str,
) -> None:
    await publish(js, service, *history())
    env = {"DATABASE_URL": database_url, "NATS_URL": nats_server.url}

    outcome = await asyncio.to_thread(
        CliRunner().invoke, app, ["replay", "reporting", "--until", "2025-03-03"], env=env
    )

    assert outcome.exit_code == 0, outcome.output
    assert "replaying 6 events" in outcome.output
    assert "events/s" in outcome.output
    assert "left in schema reporting_as_of" in outcome.output
    as_of = await service.pool.fetchval("SELECT count(*) FROM reporting_as_of.report_booking")
    assert as_of == 0  # 2025-03-03 00:00 local: before the first booking


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (["bookings"], "no projection 'bookings'"),
        (["reporting", "--until", "yesterday"], "'yesterday' is not a time"),
    ],
)
def test_the_replay_command_refuses_bad_input_with_a_clear_message(
    args: list[str], complaint: str
) -> None:
    outcome = CliRunner().invoke(app, ["replay", *args], env={"NATS_URL": "nats://127.0.0.1:1"})

    assert outcome.exit_code == 2
    assert complaint in outcome.output


def test_until_without_an_offset_is_copenhagen_time() -> None:
    assert parse_until("2025-03-03T10:00") == at("2025-03-03", "10:00")
    assert parse_until("2025-03-03T09:00:00+00:00") == at("2025-03-03", "10:00")
    assert parse_until(None) is None
    assert parse_until("2025-03-03") == at("2025-03-03", "00:00")


def as_version_1(event: Envelope[Any]) -> bytes:
    """`booking.booked` as version-1 producers wrote it: no `acute_reason`."""
    document = json.loads(encode(event))
    document["schema_version"] = 1
    del document["data"]["acute_reason"]
    return json.dumps(document).encode()


async def test_version_1_history_replays_through_the_upcaster_to_the_same_reports(
    js: JetStreamContext, service: ReportingService, client: httpx.AsyncClient, database_url: str
) -> None:
    events = history()
    reports = ("waiting-time", "operations", "bookings")

    async def replayed_from(encoded: list[tuple[str, bytes]]) -> tuple[str, list[Any]]:
        await js.purge_stream(EVENTS_STREAM)
        for subject, payload in encoded:
            await publish_raw(js, subject, payload)
        result = await replay(READ_MODEL, js, database_url, echo=lambda _: None)
        assert result.skipped == 0
        figures = [
            (await client.get(f"/api/v1/municipalities/slagelse/reports/{name}")).json()
            for name in reports
        ]
        return result.content_hash, figures

    v1 = [(e.subject, as_version_1(e) if e.type == "booking.booked" else encode(e)) for e in events]
    assert json.loads(v1[1][1])["schema_version"] == 1
    v1_hash, v1_reports = await replayed_from(v1)
    v2_hash, v2_reports = await replayed_from([(e.subject, encode(e)) for e in events])

    assert v1_hash == v2_hash
    assert v1_reports == v2_reports
    assert v2_reports[0]["total"]["bookings"] == 1


async def test_the_availability_projection_replays_with_the_same_machinery(
    js: JetStreamContext, pool: asyncpg.Pool, database_url: str
) -> None:
    opened = at("2025-03-01", "08:00")
    for event in (
        day_opened("2025-03-03", ["09:00", "09:15"], seats=2, opened_at=opened),
        seat_taken("2025-03-03", "09:00", 1, observed_at=opened),
        booked(uuid4(), "2025-03-01", "2025-03-03"),  # not a schedule event: not read
    ):
        await publish_raw(js, event.subject, encode(event))
    printed: list[str] = []

    result = await replay(
        replayable("availability", replayable_read_models()), js, database_url, echo=printed.append
    )

    assert (result.projection, result.switched_over, result.events) == ("availability", True, 2)
    seats = await pool.fetch("SELECT seats_left FROM availability_slot ORDER BY starts_at")
    assert [row["seats_left"] for row in seats] == [1, 2]
    assert printed[0] == "availability: replaying 2 events into schema availability_replay"
    assert "events/s" in printed[-1]
    again = await replay(
        replayable("availability", replayable_read_models()), js, database_url, echo=lambda _: None
    )
    assert again.content_hash == result.content_hash
