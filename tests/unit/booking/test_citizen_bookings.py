"""The citizen's own aggregate: where the limit of active bookings is decided."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.application import Application

from services.booking.domain.citizen import CitizenBookings, OverLimit


def test_a_new_citizen_and_their_first_booking_are_one_event() -> None:
    citizen = CitizenBookings.first_booking(uuid4(), "slagelse", "b-1", "pas", limit=2)

    assert citizen.bookings == {"b-1": "pas"}
    assert [type(e).__name__ for e in citizen.collect_events()] == ["Started"]


def test_a_first_booking_counts_against_the_limit_like_any_other() -> None:
    citizen = CitizenBookings.first_booking(uuid4(), "slagelse", "b-1", "pas", limit=1)

    with pytest.raises(OverLimit, match="at most 1"):
        citizen.count("b-2", "pas", 1, lambda booking: True)
    with pytest.raises(OverLimit, match="at most 0"):
        CitizenBookings.first_booking(uuid4(), "slagelse", "b-3", "pas", limit=0)


def test_a_citizen_stored_before_first_bookings_were_one_event_still_loads() -> None:
    app = Application[UUID]()
    citizen = CitizenBookings.start(uuid4(), "slagelse")
    citizen.count("b-1", "pas", 2, lambda booking: True)
    app.save(citizen)
    started, counted = app.recorder.select_events(citizen.id)
    state = json.loads(started.state)
    del state["first"]  # as `Started` was stored before it had the field
    older = replace(started, state=json.dumps(state).encode())

    first: Any = app.mapper.to_domain_event(older)
    then: Any = app.mapper.to_domain_event(counted)
    loaded = then.mutate(first.mutate(None))

    assert loaded is not None and loaded.bookings == {"b-1": "pas"}
