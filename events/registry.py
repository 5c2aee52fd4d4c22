"""Every event type on the bus, and the one way to decode a message into a typed envelope."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from events.booking import (
    BookingBooked,
    BookingCancelled,
    BookingCheckedIn,
    BookingCompleted,
    BookingLeftWaitlist,
    BookingManageTokensRevoked,
    BookingNoShow,
    BookingPreAssessed,
    BookingRescheduled,
    BookingStarted,
    BookingSurveyAnswered,
    BookingWaitlisted,
    BookingWaitlistOffered,
    BookingWaitlistOfferExpired,
)
from events.citizen import CitizenErased
from events.envelope import Envelope, EventData
from events.guarantee import WaitingTargetBreached, WaitingTargetRestored
from events.municipality import (
    MunicipalityRegistered,
    ServiceConfigured,
    SiteConfigured,
    WaitingTargetChanged,
)
from events.schedule import (
    AcuteSeatsReleased,
    DayClosed,
    DayOpened,
    HoldReleased,
    SeatHeld,
    SeatReleased,
    SeatTaken,
)
from events.sms import SmsDelivered, SmsFailed, SmsSent

EVENT_TYPES: dict[str, type[EventData]] = {
    model.TYPE: model
    for model in (
        MunicipalityRegistered,
        ServiceConfigured,
        SiteConfigured,
        WaitingTargetChanged,
        DayOpened,
        SeatTaken,
        SeatReleased,
        SeatHeld,
        HoldReleased,
        AcuteSeatsReleased,
        DayClosed,
        BookingBooked,
        BookingRescheduled,
        BookingCancelled,
        BookingPreAssessed,
        BookingCheckedIn,
        BookingStarted,
        BookingCompleted,
        BookingNoShow,
        BookingWaitlisted,
        BookingWaitlistOffered,
        BookingWaitlistOfferExpired,
        BookingLeftWaitlist,
        BookingSurveyAnswered,
        BookingManageTokensRevoked,
        CitizenErased,
        WaitingTargetBreached,
        WaitingTargetRestored,
        SmsSent,
        SmsFailed,
        SmsDelivered,
    )
}

# The envelope of each type, made once rather than parametrised again for every message (a
# fifth of what validating one costs).
ENVELOPES: dict[str, type[Envelope[Any]]] = {
    event_type: Envelope[model]  # type: ignore[valid-type]
    for event_type, model in EVENT_TYPES.items()
}

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]

# (type, version) -> turns that version's `data` into the next version's. History on the
# stream is immutable; consumers read old versions through these, so every consumer sees only
# the current model.
UPCASTERS: dict[tuple[str, int], Upcaster] = {
    ("booking.booked", 1): lambda data: {**data, "acute_reason": None},
    # Versions 3 (booked) and 2 (cancelled, pre_assessed) may seal the personal fields; older
    # history keeps them in plaintext, which the current models still accept.
    ("booking.booked", 2): lambda data: {**data, "acute": data.get("acute_reason") is not None},
    ("booking.cancelled", 1): lambda data: data,
    ("booking.pre_assessed", 1): lambda data: data,
}


class UndecodableEvent(ValueError):
    """A message that is not a valid event; `reason` says why, for the dead-letter subject."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def decode(raw: bytes) -> Envelope[Any]:
    """Parses and validates a message; raises `UndecodableEvent` with a readable reason."""
    current = decode_current(raw)
    return current if current is not None else decode_any(raw)


TYPE_KEY = b'"type":"'


def decode_current(raw: bytes) -> Envelope[Any] | None:
    """The common case in one pass of pydantic's JSON parser, without building a dict first
    (a third of what decoding costs): a message as `encode` writes it, of its type's current
    schema version. The type is read off the bytes and then checked against what was
    validated, so this returns only what `decode_any` would; None leaves anything else to it."""
    start = raw.find(TYPE_KEY)
    if start < 0:
        return None
    start += len(TYPE_KEY)
    envelope = ENVELOPES.get(raw[start : raw.find(b'"', start)].decode("latin-1"))
    if envelope is None:
        return None
    try:
        found = envelope.model_validate_json(raw)
    except ValidationError:
        return None
    if ENVELOPES.get(found.type) is not envelope:
        return None
    return found if found.schema_version == EVENT_TYPES[found.type].VERSION else None


def decode_any(raw: bytes) -> Envelope[Any]:
    """Any message: older schema versions upcast, and a reason for whatever is refused."""
    try:
        document = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise UndecodableEvent(f"not JSON: {error}") from error
    except RecursionError as error:  # nesting deeper than the parser's stack
        raise UndecodableEvent("not JSON this service accepts: nested too deeply") from error
    except ValueError as error:  # e.g. an integer with more digits than Python converts
        raise UndecodableEvent(f"not JSON this service accepts: {error}") from error
    if not isinstance(document, dict):
        raise UndecodableEvent("not a JSON object")
    event_type = document.get("type")
    model = EVENT_TYPES.get(event_type) if isinstance(event_type, str) else None
    if model is None or not isinstance(event_type, str):
        raise UndecodableEvent(f"unknown event type {event_type!r}")
    document = _upcast(document, event_type, model)
    try:
        return ENVELOPES[event_type].model_validate(document)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors()
        )
        raise UndecodableEvent(f"invalid {event_type}: {problems}") from error


def _upcast(document: dict[str, Any], event_type: str, model: type[EventData]) -> dict[str, Any]:
    version = document.get("schema_version")
    if not isinstance(version, int) or not 1 <= version <= model.VERSION:
        raise UndecodableEvent(
            f"{event_type} schema_version {version!r} is not one of 1..{model.VERSION}"
        )
    data = document.get("data")
    while version < model.VERSION:
        upcaster = UPCASTERS.get((event_type, version))
        if upcaster is None or not isinstance(data, dict):
            raise UndecodableEvent(f"{event_type} version {version} cannot be upcast")
        try:
            data = upcaster(data)
        except (KeyError, TypeError, ValueError) as error:
            raise UndecodableEvent(
                f"{event_type} version {version} cannot be upcast: {error!r}"
            ) from error
        version += 1
    return {**document, "schema_version": version, "data": data}


def encode(envelope: Envelope[Any]) -> bytes:
    return envelope.model_dump_json().encode()
