"""The web service's composition root: one HTTP client to the APIs, and the page routes."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

import httpx
from fastapi import APIRouter, Depends, Request
from fastapi.staticfiles import StaticFiles

from infra.health import ServiceHealth
from infra.ratelimit import client_address
from services.web.adapters.api import Api, on_behalf_of
from services.web.entrypoints.citizen import citizen_router
from services.web.entrypoints.dashboard import dashboard_router
from services.web.entrypoints.manage import manage_router
from services.web.entrypoints.staff import staff_router
from services.web.entrypoints.survey import survey_router
from services.web.settings import WebSettings

STATIC = Path(__file__).resolve().parent / "static"  # the pages' stylesheet and scripts
PAGES = (citizen_router, manage_router, survey_router, staff_router, dashboard_router)


@dataclass
class WebService:
    settings: WebSettings
    client: httpx.AsyncClient

    @classmethod
    def start(
        cls, settings: WebSettings, transport: httpx.AsyncBaseTransport | None = None
    ) -> WebService:
        client = httpx.AsyncClient(timeout=settings.api_timeout_seconds, transport=transport)
        return cls(settings, client)

    @property
    def api(self) -> Api:
        return Api(self.client, self.settings.booking_api_url, self.settings.reporting_api_url)

    def router(self) -> APIRouter:
        trusted = self.settings.proxies

        async def on_behalf_of_client(request: Request) -> None:
            """Every API call of this page request names the page's client, found as the APIs
            find theirs (async: a dependency run in the endpoint's own task, so the endpoint
            sees the context variable)."""
            if request.client is not None:
                forwarded = request.headers.get("x-forwarded-for", "")
                on_behalf_of.set(client_address(request.client.host, forwarded, trusted))

        router = APIRouter(dependencies=[Depends(on_behalf_of_client)])
        for pages in PAGES:
            router.include_router(pages(self.api, self.settings))
        router.mount("/static", StaticFiles(directory=STATIC), name="static")
        return router

    def health(self) -> ServiceHealth:
        """The pages hold no database or bus of their own: ready while the process answers."""
        return ServiceHealth("web")

    async def run(self, stop: asyncio.Event) -> None:
        """Nothing in the background: the pages only answer requests."""
        await stop.wait()

    async def close(self) -> None:
        await self.client.aclose()
