"""A booking's history stays readable: every event is stored under the topic it always had
(`services.booking.domain.booking:Booking.<Event>`), though the aggregate is written in parts
(visit, waitlist, survey, manage links), and events stored under those topics load again."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import uuid4

from eventsourcing.domain import CanMutateAggregate
from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import resolve_topic

from infra.personal_data import DEMO_PERSONAL_DATA_KEY, MasterKey
from services.booking.adapters.wire import WIRE_TYPES
from services.booking.application import BookingApplication
from services.booking.domain.booking import Booking, Status
from services.booking.domain.opening_hours import COPENHAGEN

STARTS = datetime(2030, 3, 4, 10, 0, tzinfo=COPENHAGEN)
KAREN, _ = MasterKey(DEMO_PERSONAL_DATA_KEY).new_subject()

# Every topic a booking's event has ever been stored under: never remove one.
STORED_TOPICS = [
    f"services.booking.domain.booking:Booking.{name}"
    for name in (
        "Booked", "Rescheduled", "Cancelled", "PreAssessed", "CheckedIn", "Started",
        "Completed", "NoShow", "Waitlisted", "WaitlistOffered", "WaitlistOfferExpired",
        "LeftWaitlist", "SurveyAnswered", "ManageTokensRevoked",
    )
]  # fmt: skip


def booking() -> Booking:
    return Booking.book(
        uuid4(), KAREN, municipality="slagelse", site="korsoer", service="pas", service_name="Pas",
        site_name="Borgerservice Korsør", documents=[], starts_at=STARTS,
        ends_at=STARTS + timedelta(minutes=15), citizen_name="Karen", phone="+4520304050",
        channel="web", booked_at=STARTS - timedelta(days=3),
    )  # fmt: skip


def every_step() -> Booking:
    """A booking that went through every event a booking has."""
    walked = booking()
    earlier = STARTS - timedelta(hours=1)
    walked.join_waitlist(at=STARTS - timedelta(days=2))
    walked.offer_time(earlier, earlier + timedelta(minutes=15), STARTS - timedelta(days=1), STARTS)
    walked.expire_offer(at=STARTS)
    walked.offer_time(earlier, earlier + timedelta(minutes=15), STARTS, STARTS - timedelta(days=2))
    walked.reschedule(earlier, earlier + timedelta(minutes=15), at=STARTS - timedelta(days=2))
    walked.leave_waitlist("tak", at=STARTS - timedelta(days=2))
    walked.revoke_manage_tokens(by="lone", at=STARTS - timedelta(days=2))
    walked.pre_assess("documents_missing", "husk pas", "lone", earlier, KAREN)
    walked.check_in(by="lone", at=earlier)
    walked.start(by="lone", at=earlier)
    walked.complete(by="lone", at=earlier + timedelta(minutes=12))
    walked.answer_survey(True, True, 5, at=earlier + timedelta(days=1))
    return walked


def test_the_aggregate_in_parts_stores_every_event_under_its_old_topic() -> None:
    app = BookingApplication(env={})
    try:
        walked = every_step()
        no_show = booking()
        no_show.record_no_show(by="lone", at=STARTS + timedelta(minutes=20))
        cancelled = booking()
        cancelled.cancel("syg", "citizen", STARTS - timedelta(days=1), KAREN)
        app.save(walked, no_show, cancelled)
        stored = {
            event.topic
            for aggregate in (walked, no_show, cancelled)
            for event in app.recorder.select_events(aggregate.id)
        }
        assert stored == set(STORED_TOPICS)
    finally:
        app.close()


def test_events_stored_under_the_old_topics_load_as_a_booking() -> None:
    """The stored records are rebuilt from the bare topic strings, as a database holds them."""
    app = BookingApplication(env={})
    try:
        walked = every_step()
        app.save(walked)
        records = [
            StoredEvent(e.originator_id, e.originator_version, str(e.topic), e.state)
            for e in app.recorder.select_events(walked.id)
        ]
        fresh = BookingApplication(env={})
        try:
            fresh.recorder.insert_events(records)
            loaded = fresh.get_booking(walked.id)
            assert loaded.status is Status.completed and loaded.survey_answered
            assert loaded.manage_generation == 1 and not loaded.waitlisted
            assert loaded.starts_at == STARTS - timedelta(hours=1)
        finally:
            fresh.close()
    finally:
        app.close()


def test_every_stored_topic_resolves_to_a_booking_event_the_bus_knows() -> None:
    for topic in STORED_TOPICS:
        event_class = resolve_topic(topic)
        assert issubclass(event_class, CanMutateAggregate), topic
        assert event_class.__qualname__ in WIRE_TYPES, topic
