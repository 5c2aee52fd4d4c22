"""The peer's HTTP API: the routes and bodies of ours that the bench drives."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any
from uuid import uuid4
from zoneinfo import ZoneInfo

import asyncpg
import nats
from fastapi import FastAPI, HTTPException, Query
from fastapi.responses import JSONResponse, Response
from pydantic import AwareDatetime, BaseModel, Field

from bench.peer.relay import OutboxRelay

COPENHAGEN = ZoneInfo("Europe/Copenhagen")
HORIZON = timedelta(days=60)

# One statement, so one transaction: the seat is taken only if one is left, and the booking
# and its event are written with it or not at all.
BOOK = """
WITH taken AS (
    UPDATE slot SET booked = booked + 1
    WHERE municipality = $1 AND site = $2 AND starts_at = $3 AND $4 = ANY(services)
      AND booked < capacity
    RETURNING ends_at
), booked AS (
    INSERT INTO booking (id, municipality, site, service, starts_at, ends_at, citizen_name,
                         phone, channel)
    SELECT $5, $1, $2, $4, $3, ends_at, $6, $7, 'web' FROM taken
    RETURNING id, ends_at, booked_at
), queued AS (
    INSERT INTO outbox (subject, msg_id, payload)
    SELECT 'peer.' || $1 || '.booking.booked', $11, json_build_object(
        'event_id', $11::uuid, 'type', 'booking.booked', 'schema_version', 1,
        'municipality', $1::text, 'site', $2::text, 'aggregate_id', id,
        'aggregate_version', 1, 'occurred_at', booked_at,
        'data', json_build_object(
            'service', $4::text, 'service_name', $8::text, 'site_name', $9::text,
            'documents', $10::text[], 'starts_at', $3::timestamptz, 'ends_at', ends_at,
            'channel', 'web', 'booked_at', booked_at, 'citizen_name', $6::text,
            'phone', $7::text))::text
    FROM booked
)
SELECT ends_at FROM booked
"""

# The same answer, byte for byte, as ours: PostgreSQL writes each time in Copenhagen's offset.
FREE_TIMES = """
SELECT coalesce(json_agg(json_build_object('site', site, 'starts_at', starts_at,
    'ends_at', ends_at, 'seats_left', capacity - booked) ORDER BY starts_at, site), '[]')::text
FROM (SELECT * FROM slot
      WHERE municipality = $1 AND booked < capacity AND starts_at >= $2 AND starts_at < $3
        AND ($4::text IS NULL OR $4 = ANY(services)) AND ($5::text IS NULL OR site = $5)
      ORDER BY starts_at, site LIMIT $6) AS free
"""


class BookingRequest(BaseModel):
    site: str = Field(pattern=r"^[a-z0-9-]{1,40}$")
    service: str = Field(pattern=r"^[a-z0-9-]{1,40}$")
    starts_at: AwareDatetime
    citizen_name: str = Field(min_length=1, max_length=200)
    phone: str = Field(pattern=r"^\+[1-9][0-9]{7,14}$")
    channel: str = Field(default="web", pattern="^web$")


def create_app(database_url: str, nats_url: str, token_secret: bytes) -> FastAPI:
    municipalities: set[str] = set()
    sites: dict[tuple[str, str], str] = {}
    services: dict[tuple[str, str], tuple[str, list[str]]] = {}
    state: dict[str, Any] = {}

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        pool = await asyncpg.create_pool(
            database_url, min_size=10, max_size=10, server_settings={"timezone": str(COPENHAGEN)}
        )
        nc = await nats.connect(nats_url, name="peer")
        for row in await pool.fetch("SELECT municipality, id, name FROM site"):
            sites[(row["municipality"], row["id"])] = row["name"]
            municipalities.add(row["municipality"])
        for row in await pool.fetch("SELECT municipality, id, name, documents FROM service"):
            services[(row["municipality"], row["id"])] = (row["name"], row["documents"])
        relay = OutboxRelay(pool, nc.jetstream())
        state.update(pool=pool, relay=relay)
        relaying = asyncio.create_task(relay.run())
        try:
            yield
        finally:
            relaying.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await relaying
            await nc.close()
            await pool.close()

    api = FastAPI(title="Peer booking", lifespan=lifespan)

    async def free_times(
        municipality: str,
        service: str | None,
        site: str | None,
        start: datetime,
        end: datetime,
        limit: int = 500,
    ) -> str:
        found: str = await state["pool"].fetchval(
            FREE_TIMES, municipality, start, end, service, site, limit
        )
        return found

    @api.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @api.get("/api/v1/municipalities/{municipality}/availability")
    async def availability(
        municipality: str,
        service: str | None = None,
        site: str | None = None,
        from_: Annotated[date | None, Query(alias="from")] = None,
        to: date | None = None,
    ) -> Response:
        if municipality not in municipalities:
            raise HTTPException(404, f"no municipality {municipality!r}")
        now = datetime.now(COPENHAGEN)
        first = from_ or now.date()
        last = to or first + timedelta(days=14)
        if last < first:
            raise HTTPException(422, "'to' is before 'from'")
        start = max(datetime.combine(first, time.min, COPENHAGEN), now)
        end = datetime.combine(last + timedelta(days=1), time.min, COPENHAGEN)
        found = await free_times(municipality, service, site, start, end)
        return Response(found, media_type="application/json")

    @api.post("/api/v1/municipalities/{municipality}/bookings", status_code=201)
    async def book(municipality: str, request: BookingRequest) -> Any:
        site_name = sites.get((municipality, request.site))
        offered = services.get((municipality, request.service))
        if site_name is None or offered is None:
            raise HTTPException(404, "no such site or service in this municipality")
        booking_id = uuid4()
        service_name, documents = offered
        ends_at = await state["pool"].fetchval(
            BOOK,
            municipality,
            request.site,
            request.starts_at,
            request.service,
            booking_id,
            request.citizen_name,
            request.phone,
            service_name,
            site_name,
            documents,
            uuid4(),
        )
        if ends_at is None:
            alternatives = await free_times(
                municipality,
                request.service,
                request.site,
                request.starts_at,
                request.starts_at + HORIZON,
                limit=5,
            )
            detail = json.dumps(f"no free seat at {request.starts_at.isoformat()}")
            return Response(
                f'{{"detail": {detail}, "alternatives": {alternatives}}}',
                status_code=409,
                media_type="application/json",
            )
        state["relay"].wake()
        token = hmac.new(token_secret, booking_id.bytes, hashlib.sha256).hexdigest()
        return JSONResponse(
            {
                "booking_id": str(booking_id),
                "municipality": municipality,
                "site": request.site,
                "site_name": site_name,
                "service": request.service,
                "service_name": service_name,
                "starts_at": request.starts_at.astimezone(COPENHAGEN).isoformat(),
                "ends_at": ends_at.astimezone(COPENHAGEN).isoformat(),
                "documents": documents,
                "status": "booked",
                "channel": "web",
                "waitlisted": False,
                "offered_starts_at": None,
                "offer_expires_at": None,
                "survey_answered": False,
                "manage_token": f"{booking_id}.{token}",
            },
            status_code=201,
        )

    return api
