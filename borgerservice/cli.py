"""`borgerservice`: the command line of the whole deployment (composition root)."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path
from typing import Annotated, NoReturn

import asyncpg
import typer
from fastapi import APIRouter
from pydantic import TypeAdapter, ValidationError
from pydantic_settings import SettingsError

from bench.cli import bench
from borgerservice.staff_cli import demo_staff_tokens, staff_app
from events.schema import write_json_schemas
from infra.garbage_collector import tune_for_batches
from infra.nats_accounts import without_credentials
from infra.read_models import ReadModel
from infra.replay import CannotReplay, connected_to_nats, parse_until, replayable
from infra.runtime import Service, platform, serve_until_stopped
from infra.secrets import SECRETS, Secrets, configure_output, fresh, required, without_password
from infra.settings import ConnectionSettings
from infra.transient import ConfigurationError
from services.booking.domain.opening_hours import COPENHAGEN
from services.booking.entrypoints.relay_cli import relay_app
from services.notifications.entrypoints.cli import sms_app
from services.reporting.entrypoints.events_cli import events_app

# Plain tracebacks: rich ones with local variables print settings, keys and passwords.
app = typer.Typer(
    help="Borgerservice booking: appointment booking for Danish municipalities.",
    pretty_exceptions_enable=False,
    pretty_exceptions_show_locals=False,
)
app.add_typer(sms_app, name="sms", help="The SMS messages sent to citizens.")
app.add_typer(events_app, name="events")  # `borgerservice events tail|export`
app.add_typer(relay_app, name="relay")  # `borgerservice relay parked|resend`
app.add_typer(staff_app, name="staff")  # `borgerservice staff token --municipality m ...`
app.command()(bench)  # `borgerservice bench [SCENARIO...] [--quick] [--json]`

SERVICES = ("booking", "notifications", "reporting", "web")
DEFAULT_PORTS = {"booking": 8000, "notifications": 8002, "reporting": 8001, "web": 8003}
DEMO_DAYS = 30
# PostgreSQL refusing the login or the database: no waiting mends it.
_REFUSED_BY_POSTGRES = (
    asyncpg.InvalidAuthorizationSpecificationError,
    asyncpg.InvalidCatalogNameError,
)


@app.callback()
def _output() -> None:
    configure_output()


def _settings() -> ConnectionSettings:
    """The connection settings, with the seeded municipalities when `MUNICIPALITIES` names none
    (the ground, infra/, knows no seed)."""
    settings = ConnectionSettings()
    if settings.municipalities:
        return settings
    from services.booking.seed import DEMO_MUNICIPALITIES

    return settings.model_copy(update={"municipalities": list(DEMO_MUNICIPALITIES)})


def _refuse(message: str) -> NoReturn:
    """A configuration error: one line, a non-zero exit, no traceback."""
    typer.echo(f"borgerservice: {message}", err=True)
    raise typer.Exit(2)


def _start(names: tuple[str, ...], port: int, demo: bool) -> None:
    """Checks the secrets (in a moment, before anything starts), then runs `names`."""
    try:
        settings = ConnectionSettings()
        if demo:
            from services.booking.seed import DEMO_MUNICIPALITIES

            secrets = required(
                names, settings.var_dir, demo=True, municipalities=DEMO_MUNICIPALITIES
            )
        else:
            secrets = required(names, settings.var_dir)
        tune_for_batches()
        asyncio.run(_run(names, port, demo, secrets))
    except ConfigurationError as error:
        _refuse(str(error))
    except _REFUSED_BY_POSTGRES as error:
        url = without_password(ConnectionSettings().database_url)
        _refuse(f"PostgreSQL refuses DATABASE_URL {url}: {error}")
    except SettingsError as error:
        _refuse(str(error))
    except ValidationError as error:
        wrong = [f"{'.'.join(map(str, e['loc'])).upper()} {e['msg']}" for e in error.errors()]
        _refuse("; ".join(wrong))


async def _run(names: tuple[str, ...], port: int, demo: bool, secrets: Secrets) -> None:
    from services.booking.seed import DEMO_MUNICIPALITIES, apply_seed, load_seed
    from services.booking.service import ERROR_STATUSES, BookingService
    from services.booking.settings import BookingSettings

    # Each other service is imported only if it runs here: reporting's charts alone
    # (matplotlib) are 40 MB of every process that imports them.

    settings = _settings()
    # The checked secrets of every service here (a demo's kept in VAR_DIR): the same for all,
    # so the staff tokens and manage links one issues work on every other.
    given = secrets.overrides
    async with platform(settings) as shared:
        services: list[Service] = []
        routers: list[APIRouter] = []
        booking = None
        if "booking" in names:
            # the pages call the API on loopback, naming their citizen in X-Forwarded-For
            booking_settings = BookingSettings(nats_url=shared.nats_url, **given).beside_pages(
                names
            )
            booking = await BookingService.start(booking_settings, shared.nc)
            services.append(booking)
            routers.append(booking.router())
        if "notifications" in names:
            from services.notifications.service import NotificationsService
            from services.notifications.settings import NotificationsSettings

            notification_settings = NotificationsSettings(nats_url=shared.nats_url, **given)
            if "public_base_url" not in notification_settings.model_fields_set:
                # the links in the SMS point at this process's own pages unless told otherwise
                notification_settings = notification_settings.model_copy(
                    update={"public_base_url": f"http://127.0.0.1:{port}"}
                )
            notifications = await NotificationsService.start(notification_settings, shared.nc)
            services.append(notifications)
            routers.append(notifications.router())  # delivery receipts, opt-outs
        if "reporting" in names:
            from services.reporting.service import ReportingService
            from services.reporting.settings import ReportingSettings

            reporting = await ReportingService.start(
                ReportingSettings(nats_url=shared.nats_url, **given), shared.nc
            )
            services.append(reporting)
            routers.append(reporting.router())
        if "web" in names:  # the pages; they reach the APIs over HTTP, here on this port
            from services.web.service import WebService
            from services.web.settings import WebSettings

            listed = DEMO_MUNICIPALITIES if demo else ()
            web = WebService.start(WebSettings().beside(port, names, listed))
            services.append(web)
            routers.append(web.router())
        if demo and booking is not None:
            today = datetime.now(COPENHAGEN).date()
            for municipality in DEMO_MUNICIPALITIES:
                seed = load_seed(demo=municipality)
                await asyncio.to_thread(apply_seed, booking.app, seed, today, DEMO_DAYS)

        def ready() -> None:
            base = f"http://127.0.0.1:{port}"
            typer.echo(f"Borgerservice is running ({', '.join(names)})")
            typer.echo(f"  API docs     {base}/docs")
            if "web" in names:
                typer.echo(f"  pages        {base}/")
            if demo:
                for municipality in DEMO_MUNICIPALITIES:
                    availability = f"{base}/api/v1/municipalities/{municipality}/availability"
                    typer.echo(f"  {municipality:<12} {availability}")
                report = f"{base}/api/v1/municipalities/slagelse/reports/bookings"
                typer.echo(f"  report       {report}  (with a staff token below)")
                for municipality, token in demo_staff_tokens(secrets.staff_keys).items():
                    typer.echo(f"  staff        {municipality:<12} Authorization: Bearer {token}")
            typer.echo(f"  NATS         {without_credentials(shared.nats_url)}")
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
    """Starts every service in one process (embedded nats-server unless NATS_URL is set).
    Without --demo every secret must be set; a demo makes them once, kept in VAR_DIR."""
    _start(SERVICES, port, demo)


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
    _start((service,), port or DEFAULT_PORTS[service], demo=False)


@app.command()
def secret(
    setting: Annotated[str, typer.Argument(help=", ".join(s.name for s in SECRETS))],
    municipality: Annotated[
        list[str] | None, typer.Option(help="STAFF_TOKENS: a key for each (repeat)")
    ] = None,
) -> None:
    """Prints a fresh random value for a secret setting, e.g.
    `export MANAGE_TOKEN_SECRET=$(borgerservice secret MANAGE_TOKEN_SECRET)`."""
    municipalities = municipality or _settings().bus_municipalities()
    try:
        typer.echo(fresh(setting.upper(), municipalities))
    except KeyError:
        raise typer.BadParameter(
            f"{setting!r} is no secret setting; one of {', '.join(s.name for s in SECRETS)}"
        ) from None


@app.command()
def infra() -> None:
    """Creates the database, the read-model schema and the JetStream streams; idempotent."""
    from infra.database import apply_schema, create_pool

    async def prepare() -> None:
        async with platform(_settings()) as shared:
            pool = await create_pool(ConnectionSettings().database_url)
            await apply_schema(pool)
            await pool.close()
            typer.echo(
                f"database, schema and streams ready (NATS {without_credentials(shared.nats_url)})"
            )

    asyncio.run(prepare())


@app.command()
def schema(out: Annotated[Path, typer.Option(help="Folder to write to")] = Path("schemas")) -> None:
    """Writes the JSON Schema of every event: the published wire contract."""
    for path in write_json_schemas(out):
        typer.echo(path)


@app.command()
def asyncapi(
    out: Annotated[Path, typer.Option(help="File to write to")] = Path("asyncapi.json"),
) -> None:
    """Writes the AsyncAPI 3 document of the bus (also served at /asyncapi.json)."""
    from services.booking.entrypoints.asyncapi_http import write_asyncapi

    typer.echo(write_asyncapi(out))


@app.command()
def seed(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="A municipality TOML")],
    days: Annotated[
        int, typer.Option(help="How many days of times to open from today")
    ] = DEMO_DAYS,
) -> None:
    """Registers a municipality from a readable file and opens its times."""
    from services.booking.application import BookingApplication
    from services.booking.seed import SeedError, apply_seed, load_seed
    from services.booking.settings import BookingSettings

    try:
        municipality = load_seed(file)
    except SeedError as error:  # plain lines a user can copy, not a framed panel
        typer.echo(f"seed: {error.message}", err=True)
        raise typer.Exit(1) from None
    asyncio.run(_ensure_database())
    booking = BookingApplication(BookingSettings().eventsourcing_env())
    try:
        opened = apply_seed(booking, municipality, datetime.now(COPENHAGEN).date(), days)
    finally:
        booking.close()
    typer.echo(f"{municipality.name}: {opened} site days opened")


@app.command()
def erase(
    municipality: Annotated[str, typer.Option(help="The citizen's municipality, e.g. slagelse")],
    phone: Annotated[str | None, typer.Option(help="The citizen's phone number")] = None,
    booking: Annotated[str | None, typer.Option(help="Or: the id of one of their bookings")] = None,
    by: Annotated[str, typer.Option(help="Who asks (recorded in citizen.erased)")] = "cli",
) -> None:
    """Erases a citizen's personal data: their key is deleted, so name, phone number and notes
    can no longer be read in the event store, on the stream or in any read model."""
    from uuid import UUID

    from services.booking.application import BookingApplication
    from services.booking.commands import PhoneNumber
    from services.booking.domain.errors import BookingError
    from services.booking.settings import BookingSettings

    if (phone is None) == (booking is None):
        raise typer.BadParameter("give --phone or --booking")
    booking_app = BookingApplication(BookingSettings().eventsourcing_env())
    try:
        if phone is not None:
            number = TypeAdapter(PhoneNumber).validate_python(phone)
            erasure = booking_app.erase_citizen(municipality, number, by)
        else:
            erasure = booking_app.erase_citizen_of(municipality, UUID(str(booking)), by)
    except (BookingError, ValueError) as error:
        typer.echo(f"erase: {error}", err=True)
        raise typer.Exit(1) from None
    finally:
        booking_app.close()
    typer.echo(f"erased citizen {erasure.subject_id} at {erasure.erased_at.isoformat()}")


async def _ensure_database() -> None:
    from infra.database import ensure_database

    await ensure_database(ConnectionSettings().database_url)


def replayable_read_models() -> dict[str, ReadModel]:
    """Every read model `replay` can rebuild, by name: those the event history alone decides.
    Not the notifications' (what was sent, and the deadlines fired, happened in the world)."""
    from services.booking.adapters.audit import READ_MODEL as AUDIT
    from services.booking.adapters.availability import READ_MODEL as AVAILABILITY
    from services.reporting.adapters.read_model import READ_MODEL as REPORTING
    from services.reporting.adapters.sms_projection import READ_MODEL as REPORTING_SMS

    models = (REPORTING, REPORTING_SMS, AVAILABILITY, AUDIT)
    return {model.projection().name: model for model in models}


@app.command("replay")
def replay_command(
    projection: Annotated[
        str, typer.Argument(help="The read model: reporting, reporting_sms, availability or audit")
    ],
    until: Annotated[
        str | None,
        typer.Option(help="Stop at the first event after this time (ISO 8601; local if no offset)"),
    ] = None,
) -> None:
    """Rebuilds a projection from the start of the stream into fresh tables and switches over
    atomically while the old ones keep serving; with --until, builds the state as it was then,
    beside the live one. Prints progress and throughput (events/s)."""
    from infra.replay import replay

    async def run(model: ReadModel, moment: datetime | None) -> None:
        settings = ConnectionSettings()
        async with connected_to_nats(settings) as nc:
            await replay(model, nc.jetstream(), settings.database_url, moment, echo=typer.echo)

    try:
        model = replayable(projection, replayable_read_models())
        tune_for_batches()
        asyncio.run(run(model, parse_until(until)))
    except CannotReplay as error:
        typer.echo(f"replay: {error}", err=True)
        raise typer.Exit(2) from None
