"""The ledger: every booking the API accepted is in the event store, on the stream once, in
every projection once and has one confirmation SMS; every refused one left no trace."""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg
import httpx
import nats
from nats.errors import TimeoutError as NatsTimeout

from infra.staff_tokens import Role
from infra.streams import EVENTS_STREAM
from services.booking.adapters.wire import INTERNAL, event_id
from services.booking.application.idempotency import Idempotency
from tests.booking_world import staff_headers
from tests.faults.deployment import BIN, Deployment
from tests.faults.load import ACCEPTED, REFUSED, BookingLoad

BOOKED_TOPIC = "services.booking.domain.booking:Booking.Booked"


@dataclass(frozen=True)
class Row:
    place: str
    expected: int
    found: int
    missing: int
    doubled: int
    unexpected: int
    refused_traces: int

    @property
    def ok(self) -> bool:
        return self.expected == self.found and not (
            self.missing or self.doubled or self.unexpected or self.refused_traces
        )


def compare(place: str, accepted: set[UUID], refused: set[UUID], found: Counter[UUID]) -> Row:
    return Row(
        place=place,
        expected=len(accepted),
        found=sum(found.values()),
        missing=len(accepted - found.keys()),
        doubled=sum(1 for key, n in found.items() if n > 1),
        unexpected=len(found.keys() - accepted),
        refused_traces=len(found.keys() & refused),
    )


@dataclass
class Ledger:
    load: BookingLoad
    deployment: Deployment
    capacity: int  # seats per time

    @property
    def accepted(self) -> set[UUID]:
        return {a.booking_id for a in self.load.decided(ACCEPTED) if a.booking_id is not None}

    @property
    def refused(self) -> set[UUID]:
        """The ids refused attempts would have had: derived from their keys as the booking
        service derives them, under the deployment's secret (the 409 names no id)."""
        ids = Idempotency.from_master_key(self.deployment.env()["PERSONAL_DATA_KEY"])
        municipality = self.load.municipality
        return {ids.booking_id(municipality, a.key) for a in self.load.decided(REFUSED)}

    async def rows(self) -> list[Row]:
        accepted, refused = self.accepted, self.refused
        connection = await asyncpg.connect(self.deployment.database_url)
        try:
            store = Counter(
                row["originator_id"]
                for row in await connection.fetch(
                    "SELECT originator_id FROM booking_events WHERE topic = $1", BOOKED_TOPIC
                )
            )
            seats = await self._seats_taken(connection)
            reported = Counter(
                r["booking_id"]
                for r in await connection.fetch("SELECT booking_id FROM report_booking")
            )
            confirmations = Counter(
                r["booking_id"]
                for r in await connection.fetch(
                    "SELECT booking_id FROM sms_message WHERE kind = 'confirmation'"
                )
            )
            stored_events = {
                event_id(row["originator_id"], row["originator_version"])
                for row in await connection.fetch(
                    "SELECT originator_id, originator_version, topic FROM booking_events"
                )
                if row["topic"].split(":")[-1] not in INTERNAL
            }
        finally:
            await connection.close()
        booked_on_stream, relayed = await self._stream()
        return [
            compare("event store (Booking.Booked)", accepted, refused, store),
            compare("stream: every stored event once", stored_events, set(), relayed),
            compare("stream (booking.booked)", accepted, refused, booked_on_stream),
            seats,
            compare("reporting (report_booking)", accepted, refused, reported),
            compare("notifications (confirmation rows)", accepted, refused, confirmations),
            compare("SMS outbox (confirmations sent)", accepted, refused, self._outbox()),
        ]

    async def _seats_taken(self, connection: asyncpg.Connection) -> Row:
        """Availability: seats taken per time equal the accepted bookings of that time."""
        expected = Counter(datetime.fromisoformat(a.starts_at) for a in self.load.decided(ACCEPTED))
        taken = {
            r["starts_at"]: r["capacity"] - r["seats_left"]
            for r in await connection.fetch(
                "SELECT starts_at, capacity, seats_left FROM availability_slot "
                "WHERE municipality = $1",
                self.load.municipality,
            )
        }
        wrong = sum(1 for t in expected.keys() | taken.keys() if expected[t] != taken.get(t, 0))
        return Row(
            "availability (seats taken)",
            sum(expected.values()),
            sum(taken.values()),
            sum(max(0, n - taken.get(t, 0)) for t, n in expected.items()),
            sum(1 for n in expected.values() if n > self.capacity),  # overbooked times
            wrong,
            0,
        )

    async def _stream(self) -> tuple[Counter[UUID], Counter[UUID]]:
        """Booked events per booking, and every relayed event (by event id) on the stream;
        the notifications service's own `sms.*` events are not the relay's."""
        nc = await nats.connect(self.deployment.nats_url)
        try:
            js = nc.jetstream()
            subscription = await js.pull_subscribe(">", stream=EVENTS_STREAM)
            booked: Counter[UUID] = Counter()
            relayed: Counter[UUID] = Counter()
            while True:
                try:
                    messages = await subscription.fetch(1000, timeout=2)
                except (TimeoutError, NatsTimeout):
                    break
                for message in messages:
                    event = json.loads(message.data)
                    await message.ack()
                    if event["type"].startswith("sms."):
                        continue
                    relayed[UUID(event["event_id"])] += 1
                    if event["type"] == "booking.booked":
                        booked[UUID(event["aggregate_id"])] += 1
            await subscription.unsubscribe()
            return booked, relayed
        finally:
            await nc.close()

    def _outbox(self) -> Counter[UUID]:
        """Through the operator's command, `borgerservice sms outbox --json`."""
        printed = subprocess.run(
            [str(BIN), "sms", "outbox", "--json"],
            env=self.deployment.env(),
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        return Counter(
            UUID(entry["idempotency_key"].split(":")[0])
            for entry in json.loads(printed)
            if entry["idempotency_key"].split(":")[1] == "confirmation"
        )

    async def reported_totals(self) -> list[int]:
        """`active_bookings` of the booking report, from every reporting instance's HTTP API."""
        totals = []
        reader = staff_headers(self.load.municipality, Role.REPORTING, "ledger")
        async with httpx.AsyncClient(timeout=10, headers=reader) as client:
            for process in self.deployment.of("reporting"):
                url = f"{process.base_url}/api/v1/municipalities/{self.load.municipality}"
                response = await client.get(f"{url}/reports/bookings")
                assert response.status_code == 200, response.text
                report = response.json()
                totals.append(int(report.get("total", {}).get("active_bookings", -1)))
        return totals

    async def converge(self, timeout: float = 120.0) -> list[Row]:
        """The ledger once every place has caught up, or as it stands after `timeout`."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                rows = await self.rows()
            except Exception:  # a cluster still electing its leaders answers 503 for a while
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(2)
                continue
            if all(row.ok for row in rows) or time.monotonic() > deadline:
                return rows
            await asyncio.sleep(2)

    def render(self, rows: list[Row], reported: list[int], seconds: float) -> str:
        attempts = self.load.attempts
        lines = [
            f"ledger after {seconds:.0f} s: {len(attempts)} attempts, "
            f"{len(self.load.decided(ACCEPTED))} accepted (201), "
            f"{len(self.load.decided(REFUSED))} refused (409), "
            f"{len(self.load.undecided)} undecided",
            f"  {'place':<36} {'expected':>8} {'found':>7} {'missing':>7} {'doubled':>7} "
            f"{'unexpected':>10} {'refused':>7}  ",
        ]
        lines += [
            f"  {r.place:<36} {r.expected:>8} {r.found:>7} {r.missing:>7} {r.doubled:>7} "
            f"{r.unexpected:>10} {r.refused_traces:>7}  {'ok' if r.ok else 'WRONG'}"
            for r in rows
        ]
        lines.append(f"  reporting API active_bookings per instance: {reported}")
        lines.append("  (availability: doubled = times overbooked, unexpected = times off)")
        return "\n".join(lines)
