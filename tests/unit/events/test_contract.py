"""The wire contract: strict decoding with readable reasons, and a published JSON Schema."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

import pytest
from pydantic import ValidationError

from events import EVENT_TYPES, Envelope, UndecodableEvent, decode, encode
from events.booking import BookingCancelled
from events.schema import write_json_schemas

CANCELLED = Envelope[BookingCancelled](
    event_id=uuid4(), type=BookingCancelled.TYPE, schema_version=1, municipality="hvidovre",
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
    booked = json.loads((tmp_path / "booking.booked.v1.schema.json").read_text())
    assert booked["additionalProperties"] is False
    assert "data" in booked["required"]
