"""Staff routes, under /api/v1/municipalities/{municipality}: the day view and the lifecycle
of a visit. Every route is scoped to the municipality whose staff token was given."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, time, timedelta
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Header, Path
from pydantic import BaseModel, Field

from events.booking import Channel, PreAssessment
from events.envelope import SLUG
from infra.staff_tokens import MAX_TTL, Role
from infra.text import Line
from services.booking.application import BookingApplication
from services.booking.application.personal_data import CitizenDetails, Erasure
from services.booking.commands import (
    AcuteReason,
    BookTime,
    CancelByStaff,
    CancelSiteDay,
    CheckIn,
    CitizenName,
    CompleteVisit,
    PhoneNumber,
    PreAssess,
    Reason,
    RecordNoShow,
    StaffCommand,
    StaffNote,
    StartVisit,
)
from services.booking.domain.booking import Booking
from services.booking.entrypoints.schemas import (
    Body,
    BookingView,
    CalendarDate,
    CalendarTime,
    ServiceView,
    SiteView,
)
from services.booking.entrypoints.staff_auth import staff_guard

CatalogId = Annotated[str, Path(pattern=SLUG, description="A new id, or one to change")]


class PreAssessmentRequest(Body):
    outcome: PreAssessment
    note: StaffNote = ""


class StaffCancelRequest(Body):
    reason: Reason = Field(examples=["Medarbejder syg"])


class BulkCancelRequest(Body):
    reason: Reason = Field(examples=["Borgerservice lukket"])
    from_time: time = Field(default=time.min, description="The first time closed")
    to_time: time = Field(
        default=time.max, description="Closed until: a time starting then stays open"
    )


class StaffBookingRequest(Body):
    """A booking made by staff for a citizen on the phone or at the counter."""

    site: str = Field(pattern=SLUG)
    service: str = Field(pattern=SLUG)
    starts_at: CalendarTime
    citizen_name: CitizenName
    phone: PhoneNumber
    channel: Literal[Channel.phone, Channel.counter, Channel.assisted] = Channel.counter
    acute_reason: AcuteReason | None = Field(
        default=None, description="Book today's acute seats, e.g. a right lost if a deadline passes"
    )


class ServiceConfig(Body):
    name: Annotated[Line, Field(max_length=200)]
    duration_minutes: int = Field(gt=0, le=480)
    documents: list[Annotated[Line, Field(max_length=200)]] = Field(
        default_factory=list, max_length=20, description="What to bring: at most 20"
    )
    competence: Annotated[Line, Field(max_length=100)] | None = None
    online_url: Annotated[Line, Field(max_length=500)] | None = None
    video: bool = False


class SiteConfig(Body):
    name: Annotated[Line, Field(max_length=200)]
    address: Annotated[Line, Field(max_length=300)]
    video_from: str | None = Field(default=None, pattern=SLUG)


class WaitingTarget(Body):
    working_days: int = Field(gt=0, le=60)


class StaffBookingView(BookingView):
    citizen_name: str = Field(description="Empty once the citizen's personal data is erased")
    phone: str
    acute_reason: str | None = None
    acute: bool = False
    personal_data_erased: bool = False

    @classmethod
    def with_citizen(cls, booking: Booking, citizen: CitizenDetails | None) -> StaffBookingView:
        """`citizen` None: erased."""
        return cls(
            **BookingView.of(booking).model_dump(),
            citizen_name="" if citizen is None else citizen.citizen_name,
            phone="" if citizen is None else citizen.phone,
            acute_reason=None if citizen is None else citizen.acute_reason,
            acute=booking.acute,
            personal_data_erased=citizen is None,
        )


class ErasureRequest(Body):
    phone: PhoneNumber


class ErasureView(BaseModel):
    """The citizen's key is deleted: what was sealed with it can no longer be read."""

    subject_id: UUID = Field(description="The citizen's pseudonym, as in `citizen.erased`")
    erased_at: datetime

    @classmethod
    def of(cls, erasure: Erasure) -> ErasureView:
        return cls(subject_id=erasure.subject_id, erased_at=erasure.erased_at)


class BulkCancelled(BaseModel):
    cancelled: list[UUID]


def staff_router(
    app: BookingApplication, staff_tokens: dict[str, str], max_lifetime: timedelta = MAX_TTL
) -> APIRouter:
    router = APIRouter(prefix="/api/v1/municipalities/{municipality}", tags=["staff"])
    staff = Depends(staff_guard(staff_tokens, max_lifetime=max_lifetime))  # the account, or 401
    admin = Depends(staff_guard(staff_tokens, {Role.ADMIN}, max_lifetime))  # configuration

    def view(booking: Booking) -> StaffBookingView:
        return StaffBookingView.with_citizen(booking, app.details_of(booking))

    async def shown(change: Callable[[], Booking]) -> StaffBookingView:
        """Runs `change` in a worker thread; the booking it returns, with who booked it."""
        return await asyncio.to_thread(lambda: view(change()))

    async def step(
        command: type[StaffCommand],
        run: Callable[[Any], Booking],
        municipality: str,
        booking_id: UUID,
        account: str,
    ) -> StaffBookingView:
        given = command(municipality=municipality, booking_id=booking_id, by=account)
        return await shown(lambda: run(given))

    @router.get("/sites/{site}/days/{day}/bookings", response_model=list[StaffBookingView])
    async def day_view(
        municipality: str, site: str, day: CalendarDate, account: str = staff
    ) -> list[StaffBookingView]:
        return await asyncio.to_thread(
            lambda: [view(b) for b in app.bookings_on(municipality, site, day)]
        )

    @router.post("/bookings/{booking_id}/check-in", response_model=StaffBookingView)
    async def check_in(
        municipality: str, booking_id: UUID, account: str = staff
    ) -> StaffBookingView:
        return await step(CheckIn, app.check_in, municipality, booking_id, account)

    @router.post("/bookings/{booking_id}/start", response_model=StaffBookingView)
    async def start(municipality: str, booking_id: UUID, account: str = staff) -> StaffBookingView:
        return await step(StartVisit, app.start_visit, municipality, booking_id, account)

    @router.post("/bookings/{booking_id}/complete", response_model=StaffBookingView)
    async def complete(
        municipality: str, booking_id: UUID, account: str = staff
    ) -> StaffBookingView:
        return await step(CompleteVisit, app.complete_visit, municipality, booking_id, account)

    @router.post("/bookings/{booking_id}/no-show", response_model=StaffBookingView)
    async def no_show(
        municipality: str, booking_id: UUID, account: str = staff
    ) -> StaffBookingView:
        return await step(RecordNoShow, app.record_no_show, municipality, booking_id, account)

    @router.post("/bookings/{booking_id}/pre-assessment", response_model=StaffBookingView)
    async def pre_assess(
        municipality: str, booking_id: UUID, request: PreAssessmentRequest, account: str = staff
    ) -> StaffBookingView:
        command = PreAssess(
            municipality=municipality,
            booking_id=booking_id,
            by=account,
            outcome=request.outcome,
            note=request.note,
        )
        return await shown(lambda: app.pre_assess(command))

    @router.post("/bookings/{booking_id}/staff-cancel", response_model=StaffBookingView)
    async def cancel(
        municipality: str, booking_id: UUID, request: StaffCancelRequest, account: str = staff
    ) -> StaffBookingView:
        command = CancelByStaff(
            municipality=municipality, booking_id=booking_id, by=account, reason=request.reason
        )
        return await shown(lambda: app.cancel_by_staff(command))

    @router.post("/sites/{site}/days/{day}/cancel-bookings", response_model=BulkCancelled)
    async def bulk_cancel(
        municipality: str,
        site: str,
        day: CalendarDate,
        request: BulkCancelRequest,
        account: str = staff,
    ) -> BulkCancelled:
        command = CancelSiteDay(
            municipality=municipality, site=site, day=day, by=account, **request.model_dump()
        )
        cancelled = await asyncio.to_thread(app.cancel_site_day, command)
        return BulkCancelled(cancelled=[b.id for b in cancelled])

    @router.post("/staff/bookings", status_code=201, response_model=StaffBookingView)
    async def book_for_citizen(
        municipality: str,
        request: StaffBookingRequest,
        idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
        account: str = staff,
    ) -> StaffBookingView:
        """Books for a citizen who is not digital (phone, counter), or an acute same-day time."""
        command = BookTime(
            municipality=municipality,
            idempotency_key=idempotency_key,
            by=account,
            **request.model_dump(),
        )
        return await shown(lambda: app.book(command))

    @router.put("/services/{service}", response_model=ServiceView)
    async def configure_service(
        municipality: str, service: CatalogId, request: ServiceConfig, account: str = admin
    ) -> ServiceView:
        changed = await asyncio.to_thread(
            app.configure_service, municipality, {"id": service, **request.model_dump()}, account
        )
        return ServiceView.of(changed.get_service(service))

    @router.put("/sites/{site}", response_model=SiteView)
    async def configure_site(
        municipality: str, site: CatalogId, request: SiteConfig, account: str = admin
    ) -> SiteView:
        changed = await asyncio.to_thread(
            app.configure_site, municipality, {"id": site, **request.model_dump()}, account
        )
        return SiteView.of(changed.get_site(site))

    @router.put("/waiting-target", response_model=WaitingTarget)
    async def change_waiting_target(
        municipality: str, request: WaitingTarget, account: str = admin
    ) -> WaitingTarget:
        changed = await asyncio.to_thread(
            app.change_waiting_target, municipality, request.working_days, account
        )
        return WaitingTarget(working_days=changed.waiting_target_working_days)

    @router.post("/citizens/erase", response_model=ErasureView)
    async def erase_citizen(
        municipality: str, request: ErasureRequest, account: str = admin
    ) -> ErasureView:
        """Erases the citizen with this phone number: their key is deleted, so their name,
        number and the notes about them can no longer be read anywhere; statistics stay.
        409 while they have a booking still to come or under way."""
        erasure = await asyncio.to_thread(app.erase_citizen, municipality, request.phone, account)
        return ErasureView.of(erasure)

    @router.post("/bookings/{booking_id}/erase-citizen", response_model=ErasureView)
    async def erase_citizen_of_booking(
        municipality: str, booking_id: UUID, account: str = admin
    ) -> ErasureView:
        """Erases the citizen who made this booking (as `citizens/erase`); idempotent."""
        erasure = await asyncio.to_thread(app.erase_citizen_of, municipality, booking_id, account)
        return ErasureView.of(erasure)

    return router
