"""`GET /api/v1/municipalities/{m}/events/stream`: server-sent events for live dashboards.

Each of the municipality's events is pushed as it reaches the stream, with the key figures of
the day; its SSE `id` is its stream sequence. A client that reconnects with `Last-Event-ID`
(browsers do so by themselves) continues right after that sequence: it misses nothing and gets
nothing twice. Without it, the stream starts with the next event."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, Request
from fastapi.responses import StreamingResponse
from nats.js import JetStreamContext

from events import UndecodableEvent, decode
from services.reporting.adapters.live_figures import LiveFigures
from services.reporting.adapters.stream_reader import Start, StreamMessage, events_subject, reading
from services.reporting.entrypoints.http_common import Municipality

KEEP_ALIVE_SECONDS = 15.0


def live_router(js: JetStreamContext, figures: LiveFigures) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["live"])

    async def frames(municipality: str, start: Start, request: Request) -> AsyncIterator[str]:
        yield "retry: 2000\n\n"
        async with reading(js, events_subject(municipality), start) as reader:
            while not await request.is_disconnected():
                message = await reader.next(timeout=KEEP_ALIVE_SECONDS)
                if message is None:
                    yield ": keep-alive\n\n"
                    continue
                frame = await _frame(message, municipality, figures)
                if frame is not None:
                    yield frame

    @router.get(
        "/municipalities/{municipality}/events/stream",
        response_class=StreamingResponse,
        responses={200: {"content": {"text/event-stream": {}}}},
    )
    async def event_stream(
        municipality: Municipality,
        request: Request,
        last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
    ) -> StreamingResponse:
        """The municipality's events as they arrive, each with the key figures of the day."""
        start = Start()
        if last_event_id is not None:
            if not last_event_id.isdigit():
                raise HTTPException(
                    422, detail=f"Last-Event-ID {last_event_id!r} is not a stream sequence"
                )
            start = Start(after=int(last_event_id))
        return StreamingResponse(
            frames(municipality, start, request),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    return router


async def _frame(message: StreamMessage, municipality: str, figures: LiveFigures) -> str | None:
    try:
        event = decode(message.data)
    except UndecodableEvent:
        return None  # dead-lettered by the projections; nothing to show
    key_figures = await figures.key_figures(municipality, datetime.now(UTC))
    payload = {
        "type": event.type,
        "site": event.site,
        "occurred_at": event.occurred_at.isoformat(),
        "figures": key_figures.model_dump(),
    }
    return f"id: {message.sequence}\nevent: {event.type}\ndata: {json.dumps(payload)}\n\n"
