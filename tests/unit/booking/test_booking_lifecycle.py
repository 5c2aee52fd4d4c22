"""A booking's life: booked, checked in, started, completed; or a no-show, or cancelled, or
resolved online after pre-assessment."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import uuid4

import pytest

from infra.personal_data import DEMO_PERSONAL_DATA_KEY, MasterKey
from services.booking.domain.booking import Booking, Status
from services.booking.domain.errors import Conflict
from services.booking.domain.opening_hours import COPENHAGEN

STARTS = datetime(2030, 3, 4, 10, 0, tzinfo=COPENHAGEN)
KAREN, _ = MasterKey(DEMO_PERSONAL_DATA_KEY).new_subject()


def booking() -> Booking:
    return Booking.book(
        uuid4(), KAREN, municipality="slagelse", site="korsoer", service="pas", service_name="Pas",
        site_name="Borgerservice Korsør", documents=["Gammelt pas"], starts_at=STARTS,
        ends_at=STARTS + timedelta(minutes=15), citizen_name="Karen", phone="+4520304050",
        channel="web", booked_at=STARTS - timedelta(days=3),
    )  # fmt: skip


def test_a_visit_runs_from_check_in_to_completion_with_its_handling_time() -> None:
    visit = booking()
    visit.check_in("mette", STARTS - timedelta(minutes=5))
    visit.start("mette", STARTS + timedelta(minutes=2))
    visit.complete("mette", STARTS + timedelta(minutes=14, seconds=30))
    assert visit.status is Status.completed
    assert visit.handling_minutes == 12.5


def test_a_visit_cannot_be_completed_before_it_started() -> None:
    visit = booking()
    visit.check_in("mette", STARTS)
    with pytest.raises(Conflict, match="checked_in; it cannot be completed"):
        visit.complete("mette", STARTS)


def test_a_no_show_is_only_recorded_once_the_time_has_come() -> None:
    visit = booking()
    with pytest.raises(Conflict, match="not yet a no-show"):
        visit.record_no_show("mette", STARTS - timedelta(minutes=1))
    visit.record_no_show("mette", STARTS + timedelta(minutes=10))
    assert visit.status is Status.no_show
    with pytest.raises(Conflict):
        visit.check_in("mette", STARTS + timedelta(minutes=11))


def test_solved_online_resolves_the_booking_without_a_visit() -> None:
    visit = booking()
    visit.pre_assess("solved_online", "Klaret", "mette", STARTS - timedelta(days=1), KAREN)
    assert visit.status is Status.resolved_online
    assert not visit.status.holds_seat
    with pytest.raises(Conflict):
        visit.check_in("mette", STARTS)


def test_documents_missing_keeps_the_booking() -> None:
    visit = booking()
    visit.pre_assess(
        "documents_missing", "Mangler foto", "mette", STARTS - timedelta(days=1), KAREN
    )
    assert visit.status is Status.booked
    assert visit.pre_assessment == "documents_missing"


def test_a_completed_visit_cannot_be_cancelled() -> None:
    visit = booking()
    visit.start("mette", STARTS)
    visit.complete("mette", STARTS + timedelta(minutes=10))
    with pytest.raises(Conflict):
        visit.cancel("for sent", "citizen", STARTS + timedelta(minutes=20), KAREN)


def test_who_booked_is_stored_only_sealed_with_the_citizens_key() -> None:
    visit = booking()
    (booked,) = visit.collect_events()
    assert "Karen" not in repr(vars(booked)) and "20304050" not in repr(vars(booked))
    assert visit.subject_id == KAREN.id
    assert visit.sealed is not None
    assert KAREN.open(visit.sealed) == {
        "citizen_name": "Karen", "phone": "+4520304050", "acute_reason": None
    }  # fmt: skip


def test_a_note_about_the_citizen_is_sealed_and_an_erased_citizens_booking_cannot_change() -> None:
    visit = booking()
    visit.collect_events()
    visit.pre_assess("documents_missing", "Mangler dåbsattest", "mette", STARTS, KAREN)
    (assessed,) = visit.collect_events()
    assert assessed.note is None  # type: ignore[attr-defined]
    assert "dåbsattest" not in repr(vars(assessed))
    with pytest.raises(Conflict, match="erased"):
        visit.cancel("syg", "citizen", STARTS, citizen=None)
