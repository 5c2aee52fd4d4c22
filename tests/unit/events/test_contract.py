"""The wire contract: strict decoding with readable reasons, and a published JSON Schema."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

import pytest
from pydantic import ValidationError

from events import EVENT_TYPES, Envelope, UndecodableEvent, decode, encode
from events.booking import BookingBooked, BookingCancelled
from events.registry import decode_current
from events.schema import write_json_schemas

CANCELLED = Envelope[BookingCancelled](
    event_id=uuid4(), type=BookingCancelled.TYPE, schema_version=2, municipality="hvidovre",
    site="hvidovre", aggregate_id=uuid4(), aggregate_version=2,
    occurred_at=datetime(2030, 1, 1, tzinfo=UTC),
    data=BookingCancelled(
        service="pas", starts_at=datetime(2030, 1, 2, 9, tzinfo=UTC), reason="syg",
        cancelled_by="citizen", cancelled_at=datetime(2030, 1, 1, tzinfo=UTC),
    ),
)  # fmt: skip


def test_an_event_survives_the_wire_unchanged() -> None:
    assert decode(encode(CANCELLED)) == CANCELLED
    assert CANCELLED.subject == "bs.hvidovre.booking.cancelled"


def test_unknown_fields_and_types_are_refused_with_a_reason() -> None:
    document = json.loads(encode(CANCELLED))
    document["data"]["surprise"] = 1
    with pytest.raises(UndecodableEvent, match=r"data\.surprise"):
        decode(json.dumps(document).encode())
    document["type"] = "booking.exploded"
    with pytest.raises(UndecodableEvent, match="unknown event type"):
        decode(json.dumps(document).encode())
    with pytest.raises(UndecodableEvent, match="not a JSON object"):
        decode(b"[1, 2]")


def test_events_are_immutable() -> None:
    with pytest.raises(ValidationError):
        CANCELLED.data.reason = "changed"  # type: ignore[misc]


def test_a_schema_is_written_for_every_event(tmp_path: Path) -> None:
    written = write_json_schemas(tmp_path)
    assert len(written) == len(EVENT_TYPES)
    booked = json.loads((tmp_path / "booking.booked.v3.schema.json").read_text())
    assert booked["additionalProperties"] is False
    assert "data" in booked["required"]


BOOKED_V1 = {
    "event_id": str(uuid4()), "type": "booking.booked", "schema_version": 1,
    "municipality": "slagelse", "site": "korsoer", "aggregate_id": str(uuid4()),
    "aggregate_version": 1, "occurred_at": "2030-01-01T09:00:00Z",
    "data": {
        "service": "pas", "service_name": "Pas", "site_name": "Korsør", "documents": [],
        "starts_at": "2030-01-02T09:00:00Z", "ends_at": "2030-01-02T09:15:00Z",
        "citizen_name": "Else", "phone": "+4520123456", "channel": "web",
        "booked_at": "2030-01-01T09:00:00Z",
    },
}  # fmt: skip


def test_version_1_history_is_upcast_to_the_current_model() -> None:
    envelope = decode(json.dumps(BOOKED_V1).encode())
    assert envelope.schema_version == 3
    assert envelope.data.acute_reason is None and envelope.data.acute is False
    assert envelope.data.citizen_name == "Else"  # plaintext history stays readable
    assert envelope.data.personal is None


def test_a_version_from_the_future_is_refused_with_a_reason() -> None:
    with pytest.raises(UndecodableEvent, match="schema_version 4"):
        decode(json.dumps({**BOOKED_V1, "schema_version": 4}).encode())


def test_version_2_history_with_an_acute_reason_in_plaintext_says_it_was_acute() -> None:
    v2 = {**BOOKED_V1, "schema_version": 2}
    v2["data"] = {**BOOKED_V1["data"], "acute_reason": "Mister sin ret i morgen"}  # type: ignore[dict-item]
    envelope = decode(json.dumps(v2).encode())
    assert envelope.data.acute is True
    assert envelope.data.acute_reason == "Mister sin ret i morgen"


def test_a_booking_names_its_citizen_sealed_or_in_plaintext() -> None:
    v3 = {**BOOKED_V1, "schema_version": 3}
    v3["data"] = {k: v for k, v in BOOKED_V1["data"].items() if k not in ("citizen_name", "phone")}  # type: ignore[union-attr]
    with pytest.raises(UndecodableEvent, match=r"data\.phone: Field required"):
        decode(json.dumps(v3).encode())
    sealed = {"subject_id": str(uuid4()), "ciphertext": "c2VhbGVk"}
    v3["data"] = {**v3["data"], "personal": sealed}  # type: ignore[dict-item]
    envelope = decode(json.dumps(v3).encode())
    assert envelope.data.personal.ciphertext == "c2VhbGVk"
    assert envelope.data.citizen_name is None and envelope.data.phone is None


def test_acute_follows_from_a_plaintext_reason_when_not_given() -> None:
    """However the event is made: decoded from a message (the quick path and the full one),
    validated from a dict, or constructed in code."""
    v3 = {**BOOKED_V1, "schema_version": 3}
    v3["data"] = {**BOOKED_V1["data"], "acute_reason": "Mister sin ret i morgen"}  # type: ignore[dict-item]
    compact = json.dumps(v3, separators=(",", ":")).encode()
    assert decode_current(compact) is not None  # this message takes the quick path
    assert decode(compact).data.acute is True
    assert decode(json.dumps(v3).encode()).data.acute is True
    data = v3["data"]
    assert BookingBooked.model_validate(data).acute is True
    assert BookingBooked(**data).acute is True  # type: ignore[arg-type]
    assert BookingBooked(**{**data, "acute": False}).acute is False  # type: ignore[arg-type]
