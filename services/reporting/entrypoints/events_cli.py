"""`borgerservice events tail|export`: the events on the bus as JSON lines, one event per line
exactly as it was published, filtered by municipality, type and time of occurrence."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

import typer

from events import EVENT_TYPES, UndecodableEvent, decode
from events.envelope import SLUG
from infra.replay import CannotReplay, connected_to_nats, parse_until
from infra.settings import ConnectionSettings
from services.reporting.adapters.stream_reader import (
    FROM_THE_BEGINNING,
    Start,
    StreamMessage,
    events_subject,
    reading,
)

events_app = typer.Typer(help="The events on the bus, as JSON lines.", no_args_is_help=True)

MunicipalityOption = Annotated[str | None, typer.Option(help="Only this municipality's events")]
TypeOption = Annotated[
    str | None, typer.Option("--type", help="Only events of this type, e.g. booking.booked")
]
SinceOption = Annotated[
    str | None, typer.Option(help="Only events that occurred at or after this time (ISO 8601)")
]
UntilOption = Annotated[
    str | None, typer.Option(help="Only events that occurred at or before this time (ISO 8601)")
]


@dataclass(frozen=True)
class EventFilter:
    municipality: str | None
    event_type: str | None
    since: datetime | None
    until: datetime | None

    @classmethod
    def parse(
        cls, municipality: str | None, event_type: str | None, since: str | None, until: str | None
    ) -> EventFilter:
        if municipality is not None and not re.fullmatch(SLUG, municipality):
            raise typer.BadParameter(f"{municipality!r} is not a municipality id")
        if event_type is not None and event_type not in EVENT_TYPES:
            raise typer.BadParameter(
                f"unknown event type {event_type!r}; one of {', '.join(sorted(EVENT_TYPES))}"
            )
        try:
            return cls(municipality, event_type, parse_until(since, "--since"), parse_until(until))
        except CannotReplay as error:
            raise typer.BadParameter(str(error)) from None

    @property
    def subject(self) -> str:
        return events_subject(self.municipality, self.event_type)

    def line(self, message: StreamMessage) -> str | None:
        """The event as one JSON line, or None if it occurred outside the times asked for."""
        try:
            occurred_at = decode(message.data).occurred_at
        except UndecodableEvent as error:
            typer.echo(f"skipped stream sequence {message.sequence}: {error.reason}", err=True)
            return None
        if self.since is not None and occurred_at < self.since:
            return None
        if self.until is not None and occurred_at > self.until:
            return None
        return json.dumps(json.loads(message.data), ensure_ascii=False, separators=(",", ":"))


async def print_events(
    settings: ConnectionSettings,
    wanted: EventFilter,
    *,
    follow: bool,
    count: int | None,
    echo: Callable[[str], None],
) -> int:
    """Prints the matching events; without `follow`, stops at the end of the stream."""
    # A message reaches the stream after its event occurred, so starting at stream time `since`
    # misses no event that occurred at or after it.
    start = Start(at=wanted.since) if wanted.since else Start() if follow else FROM_THE_BEGINNING
    printed = 0
    async with (
        connected_to_nats(settings) as nc,
        reading(nc.jetstream(), wanted.subject, start) as reader,
    ):
        if not follow and await reader.matching() == 0:
            return 0
        while count is None or printed < count:
            message = await reader.next(timeout=1.0)
            if message is None:
                continue
            line = wanted.line(message)
            if line is not None:
                echo(line)
                printed += 1
            if not follow and message.pending == 0:
                break
    return printed


def _run(wanted: EventFilter, follow: bool, count: int | None) -> None:
    try:
        asyncio.run(
            print_events(ConnectionSettings(), wanted, follow=follow, count=count, echo=typer.echo)
        )
    except CannotReplay as error:
        typer.echo(f"events: {error}", err=True)
        raise typer.Exit(2) from None
    except KeyboardInterrupt:
        pass


@events_app.command()
def export(
    municipality: MunicipalityOption = None,
    event_type: TypeOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
) -> None:
    """Prints every matching event on the stream, oldest first, then stops."""
    _run(EventFilter.parse(municipality, event_type, since, until), follow=False, count=None)


@events_app.command()
def tail(
    municipality: MunicipalityOption = None,
    event_type: TypeOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    count: Annotated[int | None, typer.Option(min=1, help="Stop after this many events")] = None,
) -> None:
    """Prints matching events as they arrive (from --since if given) until Ctrl-C."""
    _run(EventFilter.parse(municipality, event_type, since, until), follow=True, count=count)
