"""`borgerservice`: the command line of the whole deployment (composition root)."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from fastapi import APIRouter

from events.schema import write_json_schemas
from infra.runtime import Service, platform, serve_until_stopped
from infra.settings import ConnectionSettings
from services.booking.domain.opening_hours import COPENHAGEN
from services.notifications.entrypoints.cli import sms_app
from services.reporting.entrypoints.cli import replay_app

app = typer.Typer(help="Borgerservice booking: appointment booking for Danish municipalities.")
app.add_typer(sms_app, name="sms", help="The SMS messages sent to citizens.")
app.add_typer(replay_app)  # `borgerservice replay <projection> [--until TIME]`

SERVICES = ("booking", "notifications", "reporting")
DEFAULT_PORTS = {"booking": 8000, "notifications": 8002, "reporting": 8001}
DEMO_DAYS = 30


async def _run(names: tuple[str, ...], port: int, demo: bool) -> None:
    from services.booking.seed import DEMO_MUNICIPALITIES, apply_seed, load_seed
    from services.booking.service import ERROR_STATUSES, BookingService
    from services.booking.settings import BookingSettings
    from services.notifications.service import NotificationsService
    from services.notifications.settings import NotificationsSettings
    from services.reporting.service import ReportingService
    from services.reporting.settings import ReportingSettings

    settings = ConnectionSettings()
    async with platform(settings) as shared:
        services: list[Service] = []
        routers: list[APIRouter] = []
        booking = None
        if "booking" in names:
            booking_settings = BookingSettings(nats_url=shared.nats_url)
            if demo and not booking_settings.staff_tokens:
                demo_tokens = {m: f"demo-staff-{m}" for m in DEMO_MUNICIPALITIES}
                booking_settings = booking_settings.model_copy(update={"staff_tokens": demo_tokens})
            booking = await BookingService.start(booking_settings, shared.nc)
            services.append(booking)
            routers.append(booking.router())
        if "notifications" in names:
            services.append(
                await NotificationsService.start(
                    NotificationsSettings(nats_url=shared.nats_url), shared.nc
                )
            )
        if "reporting" in names:
            reporting = await ReportingService.start(
                ReportingSettings(nats_url=shared.nats_url), shared.nc
            )
            services.append(reporting)
            routers.append(reporting.router())
        if demo and booking is not None:
            today = datetime.now(COPENHAGEN).date()
            for municipality in DEMO_MUNICIPALITIES:
                seed = load_seed(demo=municipality)
                await asyncio.to_thread(apply_seed, booking.app, seed, today, DEMO_DAYS)

        def ready() -> None:
            base = f"http://127.0.0.1:{port}"
            typer.echo(f"Borgerservice is running ({', '.join(names)})")
            typer.echo(f"  API docs     {base}/docs")
            if demo:
                for municipality in DEMO_MUNICIPALITIES:
                    availability = f"{base}/api/v1/municipalities/{municipality}/availability"
                    typer.echo(f"  {municipality:<12} {availability}")
                typer.echo(f"  report       {base}/api/v1/municipalities/slagelse/reports/bookings")
                typer.echo("  staff token  'Authorization: Bearer demo-staff-<municipality>'")
            typer.echo(f"  NATS         {shared.nats_url}")
            typer.echo("  SMS outbox   borgerservice sms outbox")
            typer.echo("Stop with Ctrl-C.")

        await serve_until_stopped(
            services, routers, ERROR_STATUSES, "127.0.0.1", port, on_ready=ready
        )
        typer.echo("Stopped cleanly.")


@app.command()
def up(
    demo: Annotated[bool, typer.Option(help="Seed Slagelse, Herning and Hvidovre")] = False,
    port: Annotated[int, typer.Option(help="HTTP port of the API")] = 8000,
) -> None:
    """Starts every service in one process (embedded nats-server unless NATS_URL is set)."""
    asyncio.run(_run(SERVICES, port, demo))


@app.command()
def serve(
    service: Annotated[str, typer.Argument(help=f"One of: {', '.join(SERVICES)}")],
    port: Annotated[
        int | None, typer.Option(help="HTTP port (health, and the service's API)")
    ] = None,
) -> None:
    """Runs one service alone, as production does."""
    if service not in SERVICES:
        raise typer.BadParameter(
            f"unknown service {service!r}; choose one of {', '.join(SERVICES)}"
        )
    asyncio.run(_run((service,), port or DEFAULT_PORTS[service], demo=False))


@app.command()
def infra() -> None:
    """Creates the database, the read-model schema and the JetStream streams; idempotent."""
    from infra.database import apply_schema, create_pool

    async def prepare() -> None:
        async with platform(ConnectionSettings()) as shared:
            pool = await create_pool(ConnectionSettings().database_url)
            await apply_schema(pool)
            await pool.close()
            typer.echo(f"database, schema and streams ready (NATS {shared.nats_url})")

    asyncio.run(prepare())


@app.command()
def schema(out: Annotated[Path, typer.Option(help="Folder to write to")] = Path("schemas")) -> None:
    """Writes the JSON Schema of every event: the published wire contract."""
    for path in write_json_schemas(out):
        typer.echo(path)


@app.command()
def seed(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="A municipality TOML")],
    days: Annotated[
        int, typer.Option(help="How many days of times to open from today")
    ] = DEMO_DAYS,
) -> None:
    """Registers a municipality from a readable file and opens its times."""
    from services.booking.application import BookingApplication
    from services.booking.seed import apply_seed, load_seed
    from services.booking.settings import BookingSettings

    municipality = load_seed(file)
    asyncio.run(_ensure_database())
    booking = BookingApplication(BookingSettings().eventsourcing_env())
    try:
        opened = apply_seed(booking, municipality, datetime.now(COPENHAGEN).date(), days)
    finally:
        booking.close()
    typer.echo(f"{municipality.name}: {opened} site days opened")


async def _ensure_database() -> None:
    from infra.database import ensure_database

    await ensure_database(ConnectionSettings().database_url)
