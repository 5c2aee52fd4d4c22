"""`borgerservice replay <projection> [--until TIME]`: rebuilds a read model from the stream."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated

import nats
import typer

from services.reporting.adapters.replay import CannotReplay, ReplayResult, replay, replayable
from services.reporting.domain.working_days import COPENHAGEN
from services.reporting.settings import ReportingSettings

# Mounted without a name (`app.add_typer(replay_app)`), it adds the `replay` command itself.
replay_app = typer.Typer()


def parse_until(text: str | None) -> datetime | None:
    """ISO 8601; a time without an offset is Copenhagen local time."""
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is not a time such as 2025-06-30 or 2025-06-30T23:59:59+02:00",
            param_hint="--until",
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=COPENHAGEN)


async def _quiet(_: Exception) -> None:
    """Connection errors are reported once, by `_replay`, not as tracebacks."""


async def _replay(
    settings: ReportingSettings, projection: str, until: datetime | None
) -> ReplayResult:
    nats_url = settings.nats_url or f"nats://127.0.0.1:{settings.nats_port}"
    try:
        nc = await nats.connect(
            nats_url, connect_timeout=2, max_reconnect_attempts=1, error_cb=_quiet
        )
    except Exception as error:
        raise CannotReplay(
            f"no nats-server at {nats_url} ({error}): start `borgerservice up` or set NATS_URL"
        ) from None
    try:
        return await replay(
            projection, nc.jetstream(), settings.database_url, until, echo=typer.echo
        )
    finally:
        await nc.close()


@replay_app.command("replay")
def replay_command(
    projection: Annotated[str, typer.Argument(help="The projection to rebuild: reporting")],
    until: Annotated[
        str | None,
        typer.Option(help="Stop at the first event after this time (ISO 8601; local if no offset)"),
    ] = None,
) -> None:
    """Rebuilds a projection from the start of the stream into fresh tables and switches over
    atomically while the old ones keep serving; with --until, builds the state as it was then,
    beside the live one."""
    try:
        replayable(projection)
        asyncio.run(_replay(ReportingSettings(), projection, parse_until(until)))
    except CannotReplay as error:
        typer.echo(f"replay: {error}", err=True)
        raise typer.Exit(2) from None
