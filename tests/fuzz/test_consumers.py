"""Malformed messages published to the real stream: a consumer dead-letters each with its
reason and keeps going; the next valid event is applied as if nothing had happened."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import asyncpg
from hypothesis import given, settings
from hypothesis import strategies as st
from nats.js import JetStreamContext

from events import UndecodableEvent, decode
from infra.projection import Projection, ProjectionRunner
from infra.streams import DEADLETTER_STREAM, deadletter_subject
from services.reporting.adapters.booking_projection import ReportingProjection
from tests.fuzz.test_event_models import DATA_FIELDS, FIELDS, VALID, json_values
from tests.support import eventually

SUBJECT = "bs.slagelse.booking.booked"


def mutated_envelopes() -> st.SearchStrategy[bytes]:
    field_replaced = st.builds(
        lambda field, value: {**VALID, field: value}, st.sampled_from(FIELDS), json_values
    )
    data_replaced = st.builds(
        lambda field, value: {**VALID, "data": {**VALID["data"], field: value}},
        st.sampled_from(DATA_FIELDS),
        json_values,
    )
    documents = st.one_of(field_replaced, data_replaced, json_values)
    return st.one_of(documents.map(lambda d: json.dumps(d).encode()), st.binary(max_size=200))


def generated(strategy: st.SearchStrategy[bytes], count: int) -> list[bytes]:
    """`count` values drawn by hypothesis (deterministically), to publish in one go."""
    drawn: list[bytes] = []

    @settings(max_examples=count, database=None, derandomize=True, deadline=None)
    @given(strategy)
    def draw(value: bytes) -> None:
        drawn.append(value)

    draw()
    return drawn


def refused_by_decode(raw: bytes) -> bool:
    try:
        decode(raw)
    except UndecodableEvent:
        return True
    return False


async def publish(js: JetStreamContext, payloads: list[bytes]) -> int:
    last = 0
    for payload in payloads:
        ack = await js.publish(SUBJECT, payload, headers={"Nats-Msg-Id": str(uuid.uuid4())})
        last = ack.seq
    return last


async def settles_everything(
    js: JetStreamContext, pool: asyncpg.Pool, projection: Projection, payloads: list[bytes]
) -> list[Any]:
    """Runs the projection's consumer over `payloads` and a valid event after them; returns
    the dead letters, once the consumer has moved past the valid event."""
    sentinel = {**VALID, "event_id": str(uuid.uuid4()), "aggregate_id": str(uuid.uuid4())}
    last = await publish(js, [*payloads, json.dumps(sentinel).encode()])
    runner = ProjectionRunner(projection, js, pool, retry_delay=0.01)
    stop = asyncio.Event()
    running = asyncio.create_task(runner.run(stop))

    async def past_the_valid_event() -> bool:
        assert not running.done(), f"the consumer stopped: {running.exception()!r}"
        position = await pool.fetchval(
            "SELECT stream_seq FROM projection_position WHERE projection = $1", runner.name
        )
        return bool(position is not None and position >= last)

    try:
        await eventually(past_the_valid_event, timeout=60)
    finally:
        stop.set()
        await asyncio.wait_for(running, timeout=10)
    letters = await js.pull_subscribe(deadletter_subject(runner.name), stream=DEADLETTER_STREAM)
    found: list[Any] = []
    while True:
        try:
            found += await letters.fetch(100, timeout=1)
        except TimeoutError:
            return found


async def test_malformed_messages_are_dead_lettered_and_the_consumer_keeps_going(
    js: JetStreamContext, pool: asyncpg.Pool
) -> None:
    projection = ReportingProjection()
    payloads = generated(mutated_envelopes(), 40)
    letters = await settles_everything(js, pool, projection, payloads)
    assert all(m.headers and m.headers.get("Bs-Reason") for m in letters), "a reason is missing"
    lettered = {m.data for m in letters}
    undecodable = {p for p in payloads if refused_by_decode(p)}
    assert undecodable <= lettered, "an undecodable message was not dead-lettered"
    applied = await pool.fetchval("SELECT count(*) FROM report_booking")
    assert applied >= 1, "the valid event after the malformed ones was not applied"


async def test_a_message_nested_deeper_than_the_parser_allows_does_not_stop_a_consumer(
    js: JetStreamContext, pool: asyncpg.Pool
) -> None:
    letters = await settles_everything(js, pool, ReportingProjection(), [b"[" * 100_000])
    assert len(letters) == 1
