"""The walking skeleton, as a user runs it: `borgerservice up --demo` in its own process on a
real nats-server (embedded) and PostgreSQL (tests/e2e/conftest.py); one booking over HTTP
reaches every service."""

from __future__ import annotations

import asyncio
import json
import subprocess

import httpx
import nats
import psycopg
from nats.js.api import ConsumerConfig

from infra.staff_tokens import Role
from infra.streams import EVENTS_STREAM
from tests.booking_world import staff_headers
from tests.e2e.conftest import wait_for
from tests.processes import BIN


def booked_events_on_stream(nats_url: str) -> list[dict[str, str]]:
    async def fetch() -> list[dict[str, str]]:
        nc = await nats.connect(nats_url)
        try:
            js = nc.jetstream()
            # An unnamed ephemeral consumer: the tools user may create nothing else.
            info = await js.add_consumer(
                EVENTS_STREAM, ConsumerConfig(filter_subject="bs.slagelse.booking.booked")
            )
            subscription = await js.pull_subscribe_bind(info.name, stream=EVENTS_STREAM)
            return [json.loads(m.data) for m in await subscription.fetch(10, timeout=5)]
        finally:
            await nc.close()

    return asyncio.run(fetch())


def test_one_booking_reaches_store_stream_availability_sms_and_report(
    deployment: dict[str, str],
) -> None:
    base = deployment["base"]
    api = f"{base}/api/v1/municipalities/slagelse"

    def free_times() -> list[dict[str, object]]:
        found = httpx.get(f"{api}/availability", params={"service": "pas", "site": "korsoer"})
        return list(found.json())

    free = wait_for(free_times)  # the demo's times reach the projection through the stream
    assert free, "the demo opened no times at Korsør"
    chosen = free[0]
    booked = httpx.post(
        f"{api}/bookings",
        json={
            "site": "korsoer",
            "service": "pas",
            "starts_at": chosen["starts_at"],
            "citizen_name": "Karen Jensen",
            "phone": "20 30 40 50",
        },
        headers={"Idempotency-Key": "e2e-1"},
    )
    assert booked.status_code == 201, booked.text
    booking_id = booked.json()["booking_id"]

    # In the event store, the system of record.
    with psycopg.connect(deployment["DATABASE_URL"]) as connection:
        stored = connection.execute(
            "SELECT topic FROM booking_events WHERE originator_id = %s", (booking_id,)
        ).fetchall()
    assert [row[0] for row in stored] == ["services.booking.domain.booking:Booking.Booked"]

    # On the JetStream stream, once.
    on_stream = booked_events_on_stream(deployment["nats"])
    assert [e["aggregate_id"] for e in on_stream] == [booking_id]

    # Availability shows one seat fewer.
    def seat_gone() -> bool:
        now = httpx.get(f"{api}/availability", params={"service": "pas", "site": "korsoer"}).json()
        same = [t for t in now if t["starts_at"] == chosen["starts_at"]]
        return bool(same) and same[0]["seats_left"] == chosen["seats_left"] - 1

    assert wait_for(seat_gone), "availability did not show the seat taken"

    # Exactly one confirmation SMS in the outbox.
    def outbox() -> list[dict[str, str]]:
        printed = subprocess.run(
            [str(BIN), "sms", "outbox", "--municipality", "slagelse", "--json"],
            env=deployment,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        return list(json.loads(printed))

    assert wait_for(outbox), "no SMS arrived"
    sms = outbox()
    assert len(sms) == 1
    assert sms[0]["phone"] == "+4520304050"
    assert "Pas" in sms[0]["body"] and "Borgerservice Korsør" in sms[0]["body"]

    # The report counts it, for Slagelse's staff only.
    reader = staff_headers("slagelse", Role.REPORTING, "statistik")

    def reported() -> bool:
        report = httpx.get(f"{api}/reports/bookings", headers=reader).json()
        return bool(report.get("total", {}).get("active_bookings") == 1)

    assert wait_for(reported), httpx.get(f"{api}/reports/bookings", headers=reader).text
    anonymous = httpx.get(f"{api}/reports/bookings")
    assert anonymous.status_code == 401, anonymous.text
    herning = httpx.get(f"{api}/reports/bookings", headers=staff_headers("herning", Role.ADMIN))
    assert herning.status_code == 404, herning.text
