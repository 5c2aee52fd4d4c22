"""Messages that invite the citizen to act: take an earlier time held for them, or answer the
satisfaction survey after a completed visit. Pure, no I/O."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime

from events import Envelope
from events.booking import BookingCompleted, BookingWaitlistOffered
from services.notifications.domain import templates
from services.notifications.domain.danish import DANISH_TIME, danish_when
from services.notifications.domain.links import Links
from services.notifications.domain.messages import Booking, MessageKind, Sms, sms_about


def waitlist_offer(booking: Booking, event: Envelope[BookingWaitlistOffered], links: Links) -> Sms:
    """The earlier time held for the citizen, and until when; nothing is sent after that."""
    offer = event.data
    body = templates.WAITLIST_OFFER.substitute(
        citizen_name=booking.citizen_name,
        service_name=booking.service_name,
        site_name=booking.site_name,
        offered_when=danish_when(offer.offered_starts_at),
        deadline=danish_when(offer.hold_expires_at),
        when=danish_when(booking.starts_at),
        manage_url=links.manage(booking.booking_id, booking.starts_at, booking.manage_generation),
    )
    sms = sms_about(
        booking, MessageKind.waitlist_offer, event.aggregate_version, body, event.occurred_at
    )
    return replace(sms, appointment_at=offer.hold_expires_at)


@dataclass(frozen=True)
class SurveyPeriod:
    """Days of the year (inclusive, Danish dates) in which completed visits are surveyed."""

    first: tuple[int, int]  # (month, day)
    last: tuple[int, int]

    @classmethod
    def parse(cls, text: str) -> SurveyPeriod:
        """`MM-DD/MM-DD`, e.g. `06-01/06-30`."""
        try:
            first, last = (tuple(int(p) for p in part.split("-")) for part in text.split("/"))
            period = cls((first[0], first[1]), (last[0], last[1]))
            for month, day in (period.first, period.last):
                date(2024, month, day)  # a real day of a year (a leap year allows 02-29)
        except (ValueError, TypeError, IndexError) as error:
            raise ValueError(f"survey period {text!r} is not MM-DD/MM-DD") from error
        return period

    def includes(self, day: date) -> bool:
        key = (day.month, day.day)
        if self.first <= self.last:
            return self.first <= key <= self.last
        return key >= self.first or key <= self.last  # across the new year


def in_survey_period(moment: datetime, periods: tuple[SurveyPeriod, ...]) -> bool:
    day = moment.astimezone(DANISH_TIME).date()
    return any(period.includes(day) for period in periods)


def survey_invitation(
    booking: Booking,
    event: Envelope[BookingCompleted],
    links: Links,
    periods: tuple[SurveyPeriod, ...],
) -> Sms | None:
    """One invitation per completed visit in a survey period, with a link that expires; none
    is sent after that (a replay of old history invites nobody)."""
    completed_at = event.data.completed_at
    if not in_survey_period(completed_at, periods):
        return None
    deadline = links.survey_deadline(completed_at)
    body = templates.SURVEY_INVITATION.substitute(
        citizen_name=booking.citizen_name,
        site_name=booking.site_name,
        deadline=danish_when(deadline),
        survey_url=links.survey(booking.booking_id, completed_at),
    )
    sms = sms_about(
        booking, MessageKind.survey_invitation, event.aggregate_version, body, completed_at
    )
    return replace(sms, appointment_at=deadline)
