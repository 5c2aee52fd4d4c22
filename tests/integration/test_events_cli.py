"""`borgerservice events export|tail` against the real nats-server: JSON lines, filtered."""

from __future__ import annotations

import asyncio
import json
from typing import Any
from uuid import uuid4

import pytest
from nats.js import JetStreamContext
from typer.testing import CliRunner

from borgerservice.cli import app
from events import encode
from infra.nats_server import EmbeddedNats
from tests.reporting_world import booked, cancelled, publish_raw, registered


def lines(output: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in output.splitlines() if line.strip()]


async def invoke(nats_server: EmbeddedNats, *args: str) -> Any:
    return await asyncio.to_thread(
        CliRunner().invoke, app, ["events", *args], env={"NATS_URL": nats_server.url}
    )


@pytest.fixture
async def history(js: JetStreamContext) -> list[Any]:
    dropped = uuid4()
    events = [
        registered("slagelse", 5),  # occurred 2024-01-01
        booked(dropped, "2025-03-03", "2025-03-05"),
        booked(uuid4(), "2025-04-01", "2025-04-03", municipality="herning", site="herning"),
        cancelled(dropped, "2025-03-05"),  # occurred now
        booked(uuid4(), "2025-05-02", "2025-05-06"),
    ]
    for event in events:
        await publish_raw(js, event.subject, encode(event))
    return events


async def test_export_prints_every_event_as_one_json_line_in_stream_order(
    history: list[Any], nats_server: EmbeddedNats
) -> None:
    outcome = await invoke(nats_server, "export")

    assert outcome.exit_code == 0, outcome.output
    assert [e["event_id"] for e in lines(outcome.output)] == [str(e.event_id) for e in history]


async def test_export_filters_by_municipality_type_and_time_of_occurrence(
    history: list[Any], nats_server: EmbeddedNats
) -> None:
    slagelse = await invoke(nats_server, "export", "--municipality", "slagelse")
    booked_only = await invoke(nats_server, "export", "--type", "booking.booked")
    spring = await invoke(
        nats_server, "export", "--since", "2025-03-01", "--until", "2025-04-30T23:59"
    )

    assert {e["municipality"] for e in lines(slagelse.output)} == {"slagelse"}
    assert len(lines(slagelse.output)) == 4
    assert {e["type"] for e in lines(booked_only.output)} == {"booking.booked"}
    assert len(lines(booked_only.output)) == 3
    assert [e["event_id"] for e in lines(spring.output)] == [
        str(history[1].event_id),
        str(history[2].event_id),
    ]


async def test_tail_prints_new_events_as_they_arrive(
    js: JetStreamContext, history: list[Any], nats_server: EmbeddedNats
) -> None:
    tailing = asyncio.create_task(
        invoke(nats_server, "tail", "--municipality", "herning", "--count", "1")
    )
    await asyncio.sleep(1.0)  # connected: history is not printed
    arriving = booked(uuid4(), "2025-06-02", "2025-06-04", municipality="herning", site="herning")
    await publish_raw(js, arriving.subject, encode(arriving))

    outcome = await asyncio.wait_for(tailing, timeout=15)

    assert outcome.exit_code == 0, outcome.output
    assert [e["event_id"] for e in lines(outcome.output)] == [str(arriving.event_id)]


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (["export", "--type", "booking.exploded"], "unknown event type 'booking.exploded'"),
        (["export", "--municipality", "Slagelse Kommune"], "is not a municipality id"),
        (["export", "--since", "last week"], "--since 'last week' is not a time"),
    ],
)
def test_bad_filters_are_refused_with_a_clear_message(args: list[str], complaint: str) -> None:
    outcome = CliRunner().invoke(app, ["events", *args], env={"NATS_URL": "nats://127.0.0.1:1"})

    assert outcome.exit_code == 2
    assert complaint in outcome.output
