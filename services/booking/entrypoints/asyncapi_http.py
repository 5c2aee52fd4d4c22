"""The bus's AsyncAPI document, served by the booking service whose commands it describes:
`/asyncapi.json` for tools, `/asyncapi` for people."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from infra.asyncapi import asyncapi_document
from infra.asyncapi_page import asyncapi_html
from services.booking.entrypoints.nats_commands import COMMANDS


def bus_asyncapi() -> dict[str, Any]:
    """Every event, stream and request-reply command of the bus."""
    return asyncapi_document(COMMANDS)


def write_asyncapi(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(bus_asyncapi(), indent=2, ensure_ascii=False) + "\n")
    return path


@cache
def _served() -> tuple[str, str]:
    """The document and its page, made on the first request: they change only with the code."""
    document = bus_asyncapi()
    return json.dumps(document, ensure_ascii=False), asyncapi_html(document)


def asyncapi_router() -> APIRouter:
    router = APIRouter(tags=["asyncapi"])

    @router.get("/asyncapi.json", include_in_schema=False)
    async def asyncapi_json() -> Response:
        return Response(_served()[0], media_type="application/json")

    @router.get("/asyncapi", include_in_schema=False)
    async def asyncapi_page() -> HTMLResponse:
        return HTMLResponse(_served()[1])

    return router
