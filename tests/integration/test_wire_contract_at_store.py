"""Every event type the booking application stores is one the relay can publish: the commands
are driven for real on PostgreSQL, and every stored event is converted with the relay's own
conversion and read back as the consumers read it (`events.decode`)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from eventsourcing.domain import Aggregate

from events import decode
from events.booking import PreAssessment
from services.booking.adapters.wire import (
    INTERNAL,
    WIRE_TYPES,
    Unpublishable,
    to_message,
)
from services.booking.application import BookingApplication
from services.booking.commands import (
    AcceptOffer,
    AnswerSurvey,
    BookTime,
    CancelBooking,
    CancelSiteDay,
    CheckIn,
    CompleteVisit,
    HoldTime,
    JoinWaitlist,
    LeaveWaitlist,
    PreAssess,
    RecordNoShow,
    ReleaseHold,
    RescheduleBooking,
    RevokeManageTokens,
    StartVisit,
)
from services.booking.domain.booking import Booking
from services.booking.domain.citizen import CitizenBookings
from services.booking.domain.errors import Invalid
from services.booking.domain.guarantee import WaitingGuarantee
from services.booking.domain.municipality import Municipality
from services.booking.domain.opening_hours import COPENHAGEN, OpeningHours
from services.booking.domain.schedule import SiteDay
from services.booking.settings import BookingSettings

M, SITE, DAY, LATER_DAY = "slagelse", "korsoer", date(2030, 3, 4), date(2030, 3, 5)
TEN = datetime(2030, 3, 4, 10, 0, tzinfo=COPENHAGEN)


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now


def domain_event_names() -> set[str]:
    """Every event class of every aggregate of the booking service."""
    return {
        f"{aggregate.__name__}.{name}"
        for aggregate in (Municipality, SiteDay, Booking, CitizenBookings, WaitingGuarantee)
        for name, member in vars(aggregate).items()
        if isinstance(member, type)
        and issubclass(member, Aggregate.Event)
        and not hasattr(Aggregate, name)
    }


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2030, 3, 4, 8, 0, tzinfo=COPENHAGEN))


@pytest.fixture
def app(database_url: str, pool: object, clock: Clock) -> Iterator[BookingApplication]:
    env = BookingSettings(database_url=database_url).eventsourcing_env()
    application = BookingApplication(env, clock=clock, offer_ttl=timedelta(minutes=30))
    yield application
    application.close()


def book(app: BookingApplication, minutes: int, phone: str, **extra: Any) -> Booking:
    return app.book(
        BookTime(
            municipality=M, site=SITE, service="pas", starts_at=TEN + timedelta(minutes=minutes),
            citizen_name="Karen Jensen", phone=phone, **extra,
        )
    )  # fmt: skip


def drive_every_command(app: BookingApplication, clock: Clock) -> None:
    """A municipality's configuration and a day's life: every kind of event, real values."""
    app.register_municipality(
        M, "Slagelse Kommune", 7,
        [{"id": SITE, "name": "Borgerservice Korsør", "address": "Caspar Brands Plads 7"}],
        [{"id": "pas", "name": "Pas", "duration_minutes": 15, "documents": ["Gammelt pas"]}],
    )  # fmt: skip
    app.configure_service(
        M,
        {"id": "vielse", "name": "Vielse", "duration_minutes": 30, "documents": ["Dåbsattest"],
         "competence": "vielse", "online_url": "https://www.borger.dk", "video": True},
        "admin",
    )  # fmt: skip
    app.configure_site(
        M, {"id": "skaelskoer", "name": "Skælskør Bibliotek", "address": "Algade 2",
            "video_from": SITE}, "admin",
    )  # fmt: skip
    app.change_waiting_target(M, 5, "admin")
    hours = OpeningHours.parse({"mon": "10:00-11:00", "tue": "10:00-11:00"}, 15, 1, ["pas"])
    slots = [{**s, "acute_capacity": 1} for s in hours.slots_on(DAY)]
    app.open_day(M, SITE, DAY, slots, acute_release_at=datetime(2030, 3, 4, 9, tzinfo=COPENHAGEN))
    app.open_day(M, SITE, LATER_DAY, hours.slots_on(LATER_DAY))

    hold_id, _ = app.hold(HoldTime(municipality=M, site=SITE, service="pas", starts_at=TEN))
    app.release_hold(ReleaseHold(municipality=M, hold_id=hold_id))
    early = book(app, 0, "+4520304101")
    waiting = book(app, 45, "+4520304202")
    app.join_waitlist(JoinWaitlist(booking_id=waiting.id))
    app.cancel(CancelBooking(booking_id=early.id))
    assert app.offer_waitlist(waiting.id, TEN)
    clock.now += app.offer_ttl
    assert app.expire_offer(waiting.id)
    assert app.offer_waitlist(waiting.id, TEN)
    app.accept_offer(AcceptOffer(booking_id=waiting.id))
    leaving = book(app, 15, "+4520304303")
    app.join_waitlist(JoinWaitlist(booking_id=leaving.id))
    app.leave_waitlist(LeaveWaitlist(booking_id=leaving.id))
    app.reschedule(RescheduleBooking(booking_id=leaving.id, starts_at=TEN + timedelta(minutes=30)))
    staff = {"municipality": M, "by": "mette"}
    app.pre_assess(
        PreAssess(booking_id=leaving.id, outcome=PreAssessment.documents_missing, **staff)
    )
    app.revoke_manage_tokens(RevokeManageTokens(booking_id=leaving.id, **staff))
    clock.now = datetime(2030, 3, 4, 9, 0, tzinfo=COPENHAGEN)
    assert app.release_acute_seats(M, SITE, DAY)
    acute = book(app, 15, "+4520304404", acute_reason="Pas udløber, rejser i morgen")
    clock.now = datetime(2030, 3, 4, 11, 0, tzinfo=COPENHAGEN)
    app.record_no_show(RecordNoShow(booking_id=acute.id, **staff))
    app.check_in(CheckIn(booking_id=waiting.id, **staff))
    app.start_visit(StartVisit(booking_id=waiting.id, **staff))
    app.complete_visit(CompleteVisit(booking_id=waiting.id, **staff))
    app.answer_survey(
        AnswerSurvey(booking_id=waiting.id, satisfied_with_booking=True, easy_to_find_time=False)
    )
    book(app, 24 * 60, "+4520304303")  # their second booking: counted against the limit
    app.cancel_site_day(
        CancelSiteDay(municipality=M, site=SITE, day=LATER_DAY, reason="Lukket", by="mette")
    )
    app.erase_citizen(M, "+4520304101", "admin")  # its only booking was cancelled
    assert app.observe_first_free_time(M, SITE, "pas", TEN + timedelta(days=30))
    assert app.observe_first_free_time(M, SITE, "pas", TEN)


async def test_every_event_type_the_application_stores_is_published_as_the_contract_says(
    app: BookingApplication, clock: Clock
) -> None:
    await asyncio.to_thread(drive_every_command, app, clock)
    notifications = await asyncio.to_thread(
        app.recorder.select_notifications, start=0, limit=10_000, inclusive_of_start=False
    )
    stored = set()
    for notification in notifications:
        domain_event = app.mapper.to_domain_event(notification)
        name = type(domain_event).__qualname__
        stored.add(name)
        if name in INTERNAL:
            continue
        message = to_message(domain_event)  # exactly what the relay publishes
        assert decode(message.payload) == message.envelope, name
    # A new event type that this walk does not store fails here until it is covered.
    assert stored == domain_event_names()
    assert stored - INTERNAL == set(WIRE_TYPES)


async def test_a_site_is_named_in_its_configured_events_envelope(
    app: BookingApplication, clock: Clock
) -> None:
    await asyncio.to_thread(drive_every_command, app, clock)
    municipality = await asyncio.to_thread(app.get_municipality, M)
    configured = next(
        e
        for e in app.events.get(municipality.id)
        if type(e).__qualname__ == "Municipality.SiteConfigured"
    )
    assert to_message(configured).envelope.site == "skaelskoer"


def too_big_service(size: int) -> dict[str, Any]:
    return {"id": "pas", "name": "Pas", "duration_minutes": 15, "documents": ["x" * size]}


async def test_an_event_larger_than_the_bus_accepts_is_refused_and_nothing_is_stored(
    app: BookingApplication, clock: Clock
) -> None:
    await asyncio.to_thread(drive_every_command, app, clock)
    before = await asyncio.to_thread(app.recorder.max_notification_id)
    with pytest.raises(Unpublishable, match=r"service_configured would be 3,\d{3},\d{3} bytes"):
        await asyncio.to_thread(app.configure_service, M, too_big_service(3_000_000), "admin")
    assert await asyncio.to_thread(app.recorder.max_notification_id) == before
    municipality = await asyncio.to_thread(app.get_municipality, M)
    assert municipality.get_service("pas").documents == ("Gammelt pas",)


async def test_an_event_its_wire_model_refuses_is_refused_naming_the_field(
    app: BookingApplication, clock: Clock
) -> None:
    await asyncio.to_thread(drive_every_command, app, clock)
    before = await asyncio.to_thread(app.recorder.max_notification_id)
    site = {"id": "Korsør Havn", "name": "Havnen", "address": "Havnegade 1"}
    with pytest.raises(Invalid, match=r"site_configured cannot be published: site\.id"):
        await asyncio.to_thread(app.configure_site, M, site, "admin")
    assert await asyncio.to_thread(app.recorder.max_notification_id) == before


def test_the_size_limit_leaves_room_for_the_relays_headers() -> None:
    application = BookingApplication(env={})
    try:
        with pytest.raises(Unpublishable, match=r"municipality\.registered would be"):
            application.register_municipality(
                M, "Slagelse Kommune", 7, [], [too_big_service(1024 * 1024 - 900)]
            )
        assert application.register_municipality(M, "Slagelse Kommune", 7, [], [])
    finally:
        application.close()
