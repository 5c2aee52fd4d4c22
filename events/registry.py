"""Every event type on the bus, and the one way to decode a message into a typed envelope."""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError

from events.booking import (
    BookingBooked,
    BookingCancelled,
    BookingCheckedIn,
    BookingCompleted,
    BookingNoShow,
    BookingPreAssessed,
    BookingRescheduled,
    BookingStarted,
)
from events.envelope import Envelope, EventData
from events.municipality import MunicipalityRegistered
from events.schedule import DayOpened, SeatReleased, SeatTaken

EVENT_TYPES: dict[str, type[EventData]] = {
    model.TYPE: model
    for model in (
        MunicipalityRegistered,
        DayOpened,
        SeatTaken,
        SeatReleased,
        BookingBooked,
        BookingRescheduled,
        BookingCancelled,
        BookingPreAssessed,
        BookingCheckedIn,
        BookingStarted,
        BookingCompleted,
        BookingNoShow,
    )
}


class UndecodableEvent(ValueError):
    """A message that is not a valid event; `reason` says why, for the dead-letter subject."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def decode(raw: bytes) -> Envelope[Any]:
    """Parses and validates a message; raises `UndecodableEvent` with a readable reason."""
    try:
        document = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise UndecodableEvent(f"not JSON: {error}") from error
    if not isinstance(document, dict):
        raise UndecodableEvent("not a JSON object")
    event_type = document.get("type")
    model = EVENT_TYPES.get(event_type) if isinstance(event_type, str) else None
    if model is None:
        raise UndecodableEvent(f"unknown event type {event_type!r}")
    if document.get("schema_version") != model.VERSION:
        raise UndecodableEvent(
            f"{event_type} schema_version {document.get('schema_version')!r} "
            f"is not the supported {model.VERSION}"
        )
    try:
        return Envelope[model].model_validate(document)  # type: ignore[valid-type]
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors()
        )
        raise UndecodableEvent(f"invalid {event_type}: {problems}") from error


def encode(envelope: Envelope[Any]) -> bytes:
    return envelope.model_dump_json().encode()
