"""`borgerservice relay parked|resend`: the events the relay could not publish, and asking it
to try them again once the cause is fixed (the relay itself publishes them: it is the stream's
only writer)."""

from __future__ import annotations

import asyncio
from typing import Annotated

import asyncpg
import typer

from infra.database import apply_schema, ensure_database
from infra.settings import ConnectionSettings
from services.booking.adapters.parked_events import ParkedEvents

relay_app = typer.Typer(help="The relay of stored events onto the bus: its parked events.")


async def _parked_events() -> tuple[asyncpg.Pool, ParkedEvents]:
    settings = ConnectionSettings()
    await ensure_database(settings.database_url)
    pool = await asyncpg.create_pool(settings.database_url, min_size=1, max_size=1, timeout=5)
    await apply_schema(pool, "platform")
    return pool, ParkedEvents(pool)


@relay_app.command()
def parked() -> None:
    """Lists the parked events: notification id, when, the event's topic and the reason."""

    async def listing() -> None:
        pool, events = await _parked_events()
        try:
            found = await events.listed()
        finally:
            await pool.close()
        if not found:
            typer.echo("no parked events")
            return
        for event in found:
            asked = " (resend asked)" if event.resend_requested_at else ""
            typer.echo(
                f"{event.notification_id}  {event.parked_at:%Y-%m-%d %H:%M:%S}  "
                f"{event.topic}{asked}\n    {event.reason}"
            )

    asyncio.run(listing())


@relay_app.command()
def resend(
    notification_ids: Annotated[
        list[int] | None, typer.Argument(help="Notification ids from `relay parked`")
    ] = None,
    every: Annotated[bool, typer.Option("--all", help="Every parked event")] = False,
) -> None:
    """Asks the running relay to publish parked events again (after the cause is fixed); one
    that still cannot be published is parked again with its new reason."""
    if not notification_ids and not every:
        typer.echo("name the notification ids to resend, or --all", err=True)
        raise typer.Exit(2)

    async def asking() -> int:
        pool, events = await _parked_events()
        try:
            return await events.request_resend(None if every else notification_ids)
        finally:
            await pool.close()

    asked = asyncio.run(asking())
    typer.echo(f"{asked} parked event(s) will be resent by the relay")
    if not asked:
        raise typer.Exit(1)
