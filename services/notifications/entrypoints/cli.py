"""`borgerservice sms ...`: the local SMS outbox, for staff and developers."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated

import typer

from infra.database import create_pool
from services.notifications.adapters.sms import OutboxEntry, read_outbox
from services.notifications.domain.danish import DANISH_TIME
from services.notifications.settings import NotificationsSettings

sms_app = typer.Typer(no_args_is_help=True)


@sms_app.callback()
def sms() -> None:
    """SMS notifications sent to citizens."""


async def _outbox(database_url: str, municipality: str | None) -> list[OutboxEntry]:
    pool = await create_pool(database_url, min_size=1, max_size=1)
    try:
        return await read_outbox(pool, municipality)
    finally:
        await pool.close()


@sms_app.command()
def outbox(
    municipality: Annotated[
        str | None, typer.Option(help="Only this municipality's messages, e.g. slagelse")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON array")] = False,
) -> None:
    """Prints the SMS messages in the local outbox, oldest first."""
    entries = asyncio.run(_outbox(NotificationsSettings().database_url, municipality))
    if as_json:
        document = [
            {
                "idempotency_key": entry.idempotency_key,
                "municipality": entry.municipality,
                "phone": entry.phone,
                "body": entry.body,
                "sent_at": entry.sent_at.isoformat(),
            }
            for entry in entries
        ]
        typer.echo(json.dumps(document, ensure_ascii=False, indent=2))
        return
    if not entries:
        typer.echo("The SMS outbox is empty.")
    for entry in entries:
        sent_at = entry.sent_at.astimezone(DANISH_TIME).strftime("%Y-%m-%d %H:%M:%S")
        phone, body = entry.phone or "(erased)", entry.body or "(erased)"
        typer.echo(f"{sent_at}  {entry.municipality}  {phone}\n  {body}\n")
