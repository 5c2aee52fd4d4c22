"""The pages in front of the real booking and reporting APIs (in-process, over ASGI)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI
from nats.aio.client import Client as NatsClient

from infra.http import build_api
from services.booking.service import ERROR_STATUSES, BookingService
from services.reporting.service import ReportingService
from services.web.service import WebService
from services.web.settings import WebSettings
from tests.reporting_world import reporting_settings


@asynccontextmanager
async def real_pages(
    booking: BookingService, database_url: str, nc: NatsClient, **settings: object
) -> AsyncIterator[FastAPI]:
    """The pages' app; `settings` as WebSettings reads them (e.g. TRUSTED_PROXIES)."""
    reporting = await ReportingService.start(reporting_settings(database_url), nc)
    apis = {
        "http://booking": build_api("booking", [booking.router()], ERROR_STATUSES),
        "http://reporting": build_api("reporting", [reporting.router()]),
    }
    client = httpx.AsyncClient(
        mounts={url: httpx.ASGITransport(app=app) for url, app in apis.items()}
    )
    configured = WebSettings.model_validate(
        {"booking_api_url": "http://booking", "reporting_api_url": "http://reporting", **settings}
    )
    pages = WebService(configured, client)
    try:
        yield build_api("web", [pages.router()])
    finally:
        await pages.close()
        await reporting.close()
