"""Property-based tests of the wire contract: whatever bytes arrive, `decode` returns a valid
envelope or raises `UndecodableEvent` with a reason (which the consumers dead-letter); it never
raises anything else, and a valid envelope survives encode → decode unchanged."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from events import Envelope, UndecodableEvent, decode, encode
from events.booking import BookingBooked, BookingCancelled, Channel
from events.registry import decode_any, decode_current

QUICK = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)


def booked_envelope() -> dict[str, Any]:
    """A valid `booking.booked` v2, as the relay publishes it."""
    at = datetime(2030, 3, 4, 9, 0, tzinfo=UTC)
    data = BookingBooked(
        service="pas",
        service_name="Pas",
        site_name="Borgerservice Korsør",
        documents=["Gammelt pas"],
        starts_at=at,
        ends_at=at,
        citizen_name="Karen Jensen",
        phone="+4520304050",
        channel=Channel.web,
        booked_at=at,
        acute_reason=None,
    )
    envelope = Envelope[BookingBooked](
        event_id=uuid4(),
        type=BookingBooked.TYPE,
        schema_version=BookingBooked.VERSION,
        municipality="slagelse",
        site="korsoer",
        aggregate_id=uuid4(),
        aggregate_version=1,
        occurred_at=at,
        data=data,
    )
    return dict(json.loads(encode(envelope)))


VALID = booked_envelope()
FIELDS = sorted(VALID)
DATA_FIELDS = sorted(VALID["data"])


def decodes_or_refuses(raw: bytes) -> Envelope[Any] | None:
    try:
        return decode(raw)
    except UndecodableEvent as refused:
        assert refused.reason, "a refusal without a reason"
        return None


@QUICK
@given(st.binary(max_size=300))
@example(b"")
@example(b"\xff\xfe\x00")
def test_any_bytes_decode_or_are_refused_with_a_reason(raw: bytes) -> None:
    decodes_or_refuses(raw)


# Found by this fuzzing: `decode` let these escape as RecursionError and ValueError, so one such
# message on the stream stopped a consumer for good (it crashed on it at every restart).


def test_json_nested_deeper_than_the_parser_allows_is_refused() -> None:
    decodes_or_refuses(b"[" * 100_000)
    decodes_or_refuses(b'{"type":"booking.booked","data":' + b"[" * 100_000)


def test_an_integer_longer_than_python_converts_is_refused() -> None:
    decodes_or_refuses(b'{"type": "booking.booked", "schema_version": ' + b"9" * 5_000 + b"}")


@QUICK
@given(json_values)
def test_any_json_document_decodes_or_is_refused(document: Any) -> None:
    decodes_or_refuses(json.dumps(document).encode())


@QUICK
@given(st.sampled_from(FIELDS), json_values)
def test_an_envelope_with_any_field_replaced_decodes_or_is_refused(field: str, value: Any) -> None:
    decodes_or_refuses(json.dumps({**VALID, field: value}).encode())


@QUICK
@given(st.sampled_from(DATA_FIELDS), json_values | st.just("absent"))
def test_event_data_with_any_field_replaced_or_missing_decodes_or_is_refused(
    field: str, value: Any
) -> None:
    data = {k: v for k, v in VALID["data"].items() if k != field}
    if value != "absent":
        data[field] = value
    decodes_or_refuses(json.dumps({**VALID, "data": data}).encode())


@QUICK
@given(
    citizen_name=st.text(min_size=1, max_size=50),
    documents=st.lists(st.text(max_size=30), max_size=5),
    reason=st.text(max_size=100),
    version=st.integers(min_value=1, max_value=10_000),
    occurred_at=st.datetimes(timezones=st.just(UTC)),
)
def test_a_valid_envelope_survives_encode_and_decode(
    citizen_name: str, documents: list[str], reason: str, version: int, occurred_at: datetime
) -> None:
    booked = {
        **VALID,
        "aggregate_version": version,
        "occurred_at": occurred_at.isoformat(),
        "data": {**VALID["data"], "citizen_name": citizen_name, "documents": documents},
    }
    decoded = decode(json.dumps(booked).encode())
    assert decode(encode(decoded)) == decoded
    cancelled = Envelope[BookingCancelled](
        **{
            **decoded.model_dump(exclude={"data"}),
            "type": BookingCancelled.TYPE,
            "schema_version": BookingCancelled.VERSION,
        },
        data=BookingCancelled(
            service="pas",
            starts_at=occurred_at,
            reason=reason,
            cancelled_by="citizen",
            cancelled_at=occurred_at,
        ),
    )
    assert decode(encode(cancelled)) == cancelled


def test_an_old_booking_booked_is_upcast_to_the_current_version() -> None:
    version_1 = {**VALID, "schema_version": 1, "data": {**VALID["data"]}}
    del version_1["data"]["acute_reason"]
    decoded = decode(json.dumps(version_1).encode())
    assert decoded.schema_version == BookingBooked.VERSION
    assert decoded.data.acute_reason is None


def compact(document: Any) -> bytes:
    """As `encode` writes: no spaces, so `decode_current` reads the type off the bytes."""
    return json.dumps(document, separators=(",", ":")).encode()


def same_as_the_full_path(raw: bytes) -> None:
    """`decode` takes `decode_current`'s envelope when it has one: it must be exactly what
    the full path (upcasts, reasons) gives for the same bytes."""
    current = decode_current(raw)
    if current is None:
        return
    full = decode_any(raw)
    assert current == full and type(current) is type(full)


@QUICK
@given(st.sampled_from(FIELDS), json_values)
def test_the_quick_path_decodes_an_envelope_with_any_field_replaced_as_the_full_path(
    field: str, value: Any
) -> None:
    same_as_the_full_path(compact({**VALID, field: value}))


@QUICK
@given(st.sampled_from(DATA_FIELDS), json_values | st.just("absent"))
def test_the_quick_path_decodes_any_event_data_as_the_full_path(field: str, value: Any) -> None:
    data = {k: v for k, v in VALID["data"].items() if k != field}
    if value != "absent":
        data[field] = value
    same_as_the_full_path(compact({**VALID, "data": data}))


def test_the_quick_path_leaves_older_versions_and_other_spellings_to_the_full_path() -> None:
    assert decode_current(compact(VALID)) == decode_any(compact(VALID))
    older = {**VALID, "schema_version": 1, "data": dict(VALID["data"])}
    del older["data"]["acute_reason"]
    assert decode_current(compact(older)) is None  # upcast by the full path
    assert decode(compact(older)).schema_version == BookingBooked.VERSION
    assert decode_current(json.dumps(VALID).encode()) is None  # spaces: not as `encode` writes
    # The first "type" in the bytes is not always the envelope's own: the full path decides.
    envelope = {k: v for k, v in VALID.items() if k != "data"}
    inner_first = compact({"data": {**VALID["data"], "type": "booking.cancelled"}, **envelope})
    assert decode_current(inner_first) is None
    with pytest.raises(UndecodableEvent, match=r"invalid booking\.booked: data\.type"):
        decode(inner_first)
