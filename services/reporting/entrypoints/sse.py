"""Live dashboards: `GET /api/v1/municipalities/{m}/key-figures`, the figures of the day as a
snapshot, and `GET /api/v1/municipalities/{m}/events/stream`, server-sent events.

The stream pushes each of the municipality's events (BS_EVENTS) and SMS events (BS_SMS) as it
reaches its stream, with the key figures of the day, read after the reporting read model has
applied that event (or after a short wait, if it lags). A booking event's SSE `id` is its
stream sequence: a client that reconnects with `Last-Event-ID` (browsers do so by themselves)
continues right after it, missing nothing and getting nothing twice. SMS frames carry no `id`,
so the id stays the booking stream's; after a reconnect they start with the next SMS event,
and a client that must not miss a figure reads the snapshot again. Without `Last-Event-ID`,
the stream starts with the next event.

Both are for a staff token of the municipality only (as every reporting route). A stream ends
when the token it was opened with expires (within one keep-alive): the client's reconnect then
needs a token that is valid now."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import aclosing
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Header, HTTPException, Request
from fastapi.responses import StreamingResponse
from nats.js import JetStreamContext

from events import UndecodableEvent, decode, subject_for
from infra.staff_auth import ClaimsCheck
from infra.staff_tokens import StaffClaims
from infra.streams import SMS_STREAM
from services.reporting.adapters.booking_projection import HANDLED
from services.reporting.adapters.booking_report import UnknownMunicipality
from services.reporting.adapters.live_figures import (
    REPORTING,
    REPORTING_SMS,
    KeyFigures,
    LiveFigures,
)
from services.reporting.adapters.stream_reader import (
    Start,
    StreamMessage,
    events_subject,
    merged,
    reading,
)
from services.reporting.entrypoints.http_common import Municipality, not_found

KEEP_ALIVE_SECONDS = 15.0
# How long a frame waits for the read model to apply its event before it is sent regardless.
APPLIED_WAIT_SECONDS = 2.0
REPORTED_TYPES = frozenset(handled.TYPE for handled in HANDLED)
EVENTS, SMS = "events", "sms"


def live_router(js: JetStreamContext, figures: LiveFigures, reader: ClaimsCheck) -> APIRouter:
    """`reader` admits staff of the path's municipality (401 without a genuine token, 404 with
    another municipality's)."""
    opener = Depends(reader)  # the staff token's claims; one check per request (cached)
    router = APIRouter(prefix="/api/v1", tags=["live"], dependencies=[opener])

    async def frames(
        municipality: str, start: Start, request: Request, until: datetime
    ) -> AsyncIterator[str]:
        async with (
            reading(js, events_subject(municipality), start) as events,
            reading(js, subject_for(municipality, "sms.*"), Start(), SMS_STREAM) as sms,
        ):
            yield "retry: 2000\n\n"
            async with aclosing(merged({EVENTS: events, SMS: sms}, KEEP_ALIVE_SECONDS)) as came:
                async for arrival in came:
                    if await request.is_disconnected() or datetime.now(UTC) >= until:
                        return
                    if arrival is None:
                        yield ": keep-alive\n\n"
                        continue
                    frame = await _frame(*arrival, municipality, figures)
                    if frame is not None:
                        yield frame

    @router.get("/municipalities/{municipality}/key-figures")
    async def key_figures(municipality: Municipality) -> KeyFigures:
        """Today's figures as they are now: what a dashboard shows before the first event of
        the stream, and again after it reconnects."""
        try:
            return await figures.snapshot(municipality, datetime.now(UTC))
        except UnknownMunicipality:
            raise not_found(municipality) from None

    @router.get(
        "/municipalities/{municipality}/events/stream",
        response_class=StreamingResponse,
        responses={200: {"content": {"text/event-stream": {}}}},
    )
    async def event_stream(
        municipality: Municipality,
        request: Request,
        last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
        claims: StaffClaims = opener,
    ) -> StreamingResponse:
        """The municipality's events and SMS events as they arrive, each with the key figures
        of the day."""
        start = Start()
        if last_event_id is not None:
            if not last_event_id.isdigit():
                raise HTTPException(
                    422, detail=f"Last-Event-ID {last_event_id!r} is not a stream sequence"
                )
            start = Start(after=int(last_event_id))
        return StreamingResponse(
            frames(municipality, start, request, claims.expires_at),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    return router


async def _frame(
    source: str, message: StreamMessage, municipality: str, figures: LiveFigures
) -> str | None:
    try:
        event = decode(message.data)
    except UndecodableEvent:
        return None  # dead-lettered by the projections; nothing to show
    if source == SMS:
        await figures.applied(REPORTING_SMS, message.sequence, APPLIED_WAIT_SECONDS)
    elif event.type in REPORTED_TYPES:
        await figures.applied(REPORTING, message.sequence, APPLIED_WAIT_SECONDS)
    key_figures = await figures.key_figures(municipality, datetime.now(UTC))
    payload = {
        "type": event.type,
        "site": event.site,
        "occurred_at": event.occurred_at.isoformat(),
        "figures": key_figures.model_dump(mode="json"),
    }
    frame = f"event: {event.type}\ndata: {json.dumps(payload)}\n\n"
    return frame if source == SMS else f"id: {message.sequence}\n{frame}"
