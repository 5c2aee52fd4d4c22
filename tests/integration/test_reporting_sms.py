"""SMS delivery in reporting, from BS_SMS on the real nats-server into PostgreSQL: the figures of
the day per municipality (snapshot and live stream), and the SMS report of a period."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import httpx
from nats.js import JetStreamContext

from events import Envelope, encode
from events.sms import FailureStage, SmsDelivered, SmsFailed, SmsSent, message_id
from services.reporting.adapters.live_figures import LiveFigures
from services.reporting.service import ReportingService
from tests.integration.test_sse_stream import base_url
from tests.reporting_world import (  # fixtures and the history's vocabulary
    at,
    booked,
    client,
    day_opened,
    envelope,
    get_json,
    publish,
    publish_raw,
    reader,
    registered,
    service,
)
from tests.support import eventually

__all__ = ["base_url", "client", "service"]

M = "/api/v1/municipalities/{}"


def sms(
    kind: str,
    step: str,
    key: str,
    at_time: datetime,
    *,
    municipality: str = "slagelse",
) -> Envelope[Any]:
    """The `sms.<step>` event of the message with idempotency key `key`."""
    common: dict[str, Any] = {"booking_id": uuid4(), "kind": kind, "idempotency_key": key}
    data: SmsSent | SmsDelivered | SmsFailed
    if step == "sent":
        data = SmsSent(**common, provider_message_id=key, sent_at=at_time)
    elif step == "delivered":
        data = SmsDelivered(**common, provider_message_id=key, delivered_at=at_time)
    else:
        stage = FailureStage.delivery if step == "undelivered" else FailureStage.sending
        data = SmsFailed(
            **common, provider_message_id=key, stage=stage, reason="nope", failed_at=at_time
        )
    version = 1 if step in ("sent", "failed") else 2  # a receipt follows the message's sending
    return envelope(data, message_id(key), version, municipality, None, at_time)


async def publish_sms(js: JetStreamContext, service: ReportingService, *events: Any) -> int:
    sequence = 0
    for event in events:
        sequence = await publish_raw(js, event.subject, encode(event))
    assert await LiveFigures(service.pool).applied("reporting_sms", sequence, within=10)
    return sequence


SMS_STEPS = ("sent", "delivered", "failed")


async def last_sequence(js: JetStreamContext, stream: str) -> int:
    return int((await js.stream_info(stream)).state.last_seq)


async def test_sms_figures_of_the_day_count_each_step_once_per_municipality(
    js: JetStreamContext, service: ReportingService, client: httpx.AsyncClient
) -> None:
    now = datetime.now(UTC)
    yesterday = now - timedelta(days=1)
    await publish(js, service, registered("slagelse", 5), registered("herning", 5))
    history = [
        sms("confirmation", "sent", "a", now),
        sms("confirmation", "delivered", "a", now),
        sms("reminder", "sent", "b", now),
        sms("reminder", "undelivered", "b", now),
        sms("reminder", "failed", "c", now),  # given up before the gateway took it
        sms("confirmation", "sent", "d", yesterday),
        sms("confirmation", "delivered", "d", now),  # sent yesterday, delivered today
        sms("confirmation", "sent", "h", now, municipality="herning"),
    ]
    await publish_sms(js, service, *history)
    await publish_sms(js, service, history[0], history[1])  # republished: new sequences

    figures = await get_json(client, M.format("slagelse") + "/key-figures")
    herning = await get_json(client, M.format("herning") + "/key-figures", reader("herning"))
    unknown = await client.get(M.format("hvidovre") + "/key-figures", headers=reader("hvidovre"))

    sent, delivered, failed = (figures[f"sms_{step}_today"] for step in SMS_STEPS)
    assert (sent, delivered, failed) == (2, 2, 2)
    assert [herning[f"sms_{step}_today"] for step in SMS_STEPS] == [1, 0, 0]
    assert figures["sms_position"] == await last_sequence(js, "BS_SMS")
    assert unknown.status_code == 404


async def test_the_snapshot_shows_the_first_free_time_per_service_against_the_target(
    js: JetStreamContext, service: ReportingService, client: httpx.AsyncClient
) -> None:
    now = datetime.now(UTC)
    in_a_year = (now + timedelta(days=365)).date().isoformat()
    in_a_week = (now + timedelta(days=7)).date().isoformat()
    await publish(
        js,
        service,
        registered("slagelse", target_working_days=10),
        day_opened(in_a_week, ["09:00", "09:15"], services=("pas",)),
        day_opened(in_a_year, ["10:00"], services=("pas", "koerekort"), site="korsoer"),
        day_opened(in_a_week, ["11:00"], seats=0, services=("vielse",), site="korsoer"),
        booked(uuid4(), now.date().isoformat(), in_a_week),
    )

    figures = await get_json(client, M.format("slagelse") + "/key-figures")

    first = figures["first_free"]
    assert datetime.fromisoformat(first["pas"]["starts_at"]) == at(in_a_week, "09:00")
    assert first["pas"]["within_target"] is True and 3 <= first["pas"]["working_days"] <= 5
    assert datetime.fromisoformat(first["koerekort"]["starts_at"]) == at(in_a_year, "10:00")
    assert first["koerekort"]["within_target"] is False
    assert first["vielse"] == {"starts_at": None, "working_days": None, "within_target": None}
    assert figures["waiting_target_working_days"] == 10
    assert figures["booked_today"] == 1


async def test_the_sms_report_counts_per_kind_with_the_share_delivered(
    js: JetStreamContext, service: ReportingService, client: httpx.AsyncClient
) -> None:
    march = at("2025-03-03", "10:00")
    await publish(js, service, registered("slagelse", 5))
    await publish_sms(
        js,
        service,
        sms("confirmation", "sent", "a", march),
        sms("confirmation", "delivered", "a", march),
        sms("confirmation", "sent", "b", march),
        sms("confirmation", "sent", "c", march),
        sms("confirmation", "undelivered", "c", march + timedelta(days=40)),  # in April
        sms("survey_invitation", "failed", "d", march),
    )

    report = await get_json(
        client, M.format("slagelse") + "/reports/sms", **{"from": "2025-03-01", "to": "2025-03-31"}
    )
    html = await client.get(
        M.format("slagelse") + "/reports/period.html", params={"from": "2025-03-01"}
    )

    by_kind = {k["kind"]: k for k in report["by_kind"]}
    assert by_kind["confirmation"] == {
        "kind": "confirmation",
        "sent": 3,
        "delivered": 1,
        "failed": 0,
        "delivered_share": 1 / 3,
    }
    assert by_kind["survey_invitation"]["failed"] == 1
    assert by_kind["survey_invitation"]["delivered_share"] is None
    assert report["total"]["sent"] == 3 and report["total"]["failed"] == 1
    assert html.status_code == 200
    assert "<h2>SMS delivery</h2>" in html.text and "<td>confirmation</td><td>3</td>" in html.text


async def test_an_sms_event_is_pushed_live_with_figures_that_include_it(
    js: JetStreamContext, service: ReportingService, base_url: str
) -> None:
    await publish(js, service, registered("slagelse", 5), registered("herning", 5))
    url = base_url + M.format("slagelse") + "/events/stream"
    async with httpx.AsyncClient(timeout=10, headers=reader()) as http:
        reading = asyncio.create_task(read_frames(http, url, 2))
        await asyncio.sleep(0.5)  # connected
        now = datetime.now(UTC)
        elsewhere = sms("reminder", "sent", "h", now, municipality="herning")
        await publish_raw(js, elsewhere.subject, encode(elsewhere))
        here = sms("reminder", "sent", "s", now)
        await publish_raw(js, here.subject, encode(here))
        await publish(js, service, booked(uuid4(), now.date().isoformat(), "2030-01-07"))
        sms_frame, booking_frame = await asyncio.wait_for(reading, timeout=15)

    assert sms_frame["event"] == "sms.sent" and "id" not in sms_frame  # Last-Event-ID stays
    assert sms_frame["data"]["figures"]["sms_sent_today"] == 1  # herning's is not counted
    assert booking_frame["event"] == "booking.booked" and booking_frame["id"].isdigit()
    assert booking_frame["data"]["figures"]["booked_today"] == 1

    async def only_the_durable_consumer_is_left() -> bool:
        return (await js.stream_info("BS_SMS")).state.consumer_count == 1

    # the client's reader is gone (the server drops an ephemeral consumer ~5 s after)
    await eventually(only_the_durable_consumer_is_left)


async def read_frames(client: httpx.AsyncClient, url: str, count: int) -> list[dict[str, Any]]:
    """Reads `count` frames (comments and the retry hint aside), then disconnects."""
    frames: list[dict[str, Any]] = []
    frame: dict[str, Any] = {}
    async with client.stream("GET", url) as response:
        assert response.status_code == 200
        async for line in response.aiter_lines():
            name, _, value = line.partition(": ")
            if name in ("id", "event"):
                frame[name] = value
            elif name == "data":
                frame["data"] = json.loads(value)
            elif line == "" and "data" in frame:
                frames.append(frame)
                frame = {}
                if len(frames) == count:
                    break
    return frames
