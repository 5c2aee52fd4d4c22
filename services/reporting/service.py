"""The reporting service's composition root: its pool, its projection and its routes."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

import asyncpg
import nats.aio.client
from fastapi import APIRouter
from nats.js import JetStreamContext

from infra.database import apply_schema, create_pool
from infra.health import ServiceHealth
from infra.projection import ProjectionRunner
from infra.staff_auth import staff_claims
from infra.transient import Worker, keep_all_running
from services.reporting.adapters.booking_projection import ReportingProjection
from services.reporting.adapters.live_figures import LiveFigures
from services.reporting.adapters.reports import Reports
from services.reporting.adapters.sms_projection import SmsDeliveryProjection
from services.reporting.entrypoints.http import reporting_router
from services.reporting.entrypoints.http_common import READER_ROLES
from services.reporting.entrypoints.http_regional import regional_router
from services.reporting.entrypoints.sse import live_router
from services.reporting.settings import ReportingSettings


@dataclass
class ReportingService:
    settings: ReportingSettings
    pool: asyncpg.Pool
    js: JetStreamContext
    nc: nats.aio.client.Client | None = None

    @classmethod
    async def start(
        cls, settings: ReportingSettings, nc: nats.aio.client.Client
    ) -> ReportingService:
        """Connects to PostgreSQL and brings the reporting schema up to date."""
        pool = await create_pool(settings.database_url, max_size=settings.database_pool_size)
        await apply_schema(pool, "platform", "reporting", "reporting_sms")
        return cls(settings=settings, pool=pool, js=nc.jetstream(), nc=nc)

    def router(self) -> APIRouter:
        """Every route reads one municipality's figures for a staff token of it, except the
        regional report, which has its own rule (http_regional.py)."""
        reports = Reports.over(self.pool)
        reader = staff_claims(
            self.settings.staff_token_keys(), READER_ROLES, self.settings.staff_token_max_lifetime
        )
        router = APIRouter()
        router.include_router(reporting_router(reports, self.settings, reader))
        router.include_router(live_router(self.js, LiveFigures(self.pool), reader))
        router.include_router(regional_router(reports, self.settings))
        return router

    def bookings(self) -> ProjectionRunner:
        return ProjectionRunner(ReportingProjection(), self.js, self.pool)

    def sms(self) -> ProjectionRunner:
        return ProjectionRunner(
            SmsDeliveryProjection(), self.js, self.pool, stream=SmsDeliveryProjection.stream
        )

    def health(self) -> ServiceHealth:
        """What /readyz checks and /metrics shows of this service."""
        return ServiceHealth(
            "reporting", self.pool, self.nc, projections=[self.bookings(), self.sms()]
        )

    async def run(self, stop: asyncio.Event) -> None:
        """Keeps the report read models up to date until `stop` is set: bookings from
        BS_EVENTS, SMS delivery from BS_SMS."""
        workers: dict[str, Callable[[], Worker]] = {"bookings": self.bookings, "sms": self.sms}
        await keep_all_running("reporting", workers, stop)  # one failing stops no other

    async def close(self) -> None:
        await self.pool.close()
