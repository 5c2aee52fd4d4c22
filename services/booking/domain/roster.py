"""Staff rosters: the capacity of each time is the number of staff on duty, and a service is
offered at a time only if someone on duty has the competence it needs (seeds/001, 002).

A decentral site (a library) has no staff of its own: a specialist at the central office
serves it over video in hours set aside for it, so the capacity is the specialist's while the
place is the library, and only services that may be served by video are offered there. A
specialist's video hours must not overlap their hours at the central office, so one person's
time is never sold twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from services.booking.domain.municipality import Service
from services.booking.domain.opening_hours import COPENHAGEN, OpeningHours, Week, spans_on


@dataclass(frozen=True)
class StaffMember:
    name: str
    competences: frozenset[str]
    hours: Week

    def on_duty(self, day: date, starts: time, ends: time) -> bool:
        return any(
            opens <= starts and ends <= closes for opens, closes in spans_on(self.hours, day)
        )

    def can_serve(self, service: Service) -> bool:
        return service.competence is None or service.competence in self.competences


@dataclass(frozen=True)
class Acute:
    """Seats per time held back for staff's acute cases until `release_at` each day."""

    seats: int
    release_at: time


@dataclass(frozen=True)
class RosteredSite:
    opening: OpeningHours  # when the site is open, and the slot length
    staff: tuple[StaffMember, ...]
    catalog: tuple[Service, ...]
    by_video: bool = False
    acute: Acute | None = None

    def acute_release_at(self, day: date) -> datetime | None:
        if self.acute is None:
            return None
        return datetime.combine(day, self.acute.release_at, COPENHAGEN)

    def slots_on(self, day: date) -> list[dict[str, Any]]:
        """The day's times: capacity from the staff on duty, services from their competences."""
        if not self.opening.is_open(day):
            return []
        offered = [s for s in self.catalog if s.video or not self.by_video]
        release = self.acute_release_at(day)
        slots = []
        for slot in self.opening.slots_on(day):
            starts, ends = slot["starts_at"], slot["ends_at"]
            on_duty = [m for m in self.staff if m.on_duty(day, starts.time(), ends.time())]
            services = [s.id for s in offered if any(m.can_serve(s) for m in on_duty)]
            if not on_duty or not services:
                continue
            acute = 0
            if self.acute is not None and release is not None and starts < release:
                acute = min(self.acute.seats, len(on_duty))
            slots.append(
                {
                    "starts_at": starts,
                    "ends_at": ends,
                    "capacity": len(on_duty) - acute,
                    "services": services,
                    "acute_capacity": acute,
                }
            )
        return slots


def check_no_double_duty(central: RosteredSite, video_sites: list[RosteredSite]) -> None:
    """Refuses a roster that puts a specialist at a library and the central office at once."""
    for video in video_sites:
        for member in video.staff:
            twin = next((m for m in central.staff if m.name == member.name), None)
            if twin is None:
                continue
            for weekday, spans in member.hours.items():
                for opens, closes in spans:
                    for other_opens, other_closes in twin.hours.get(weekday, ()):
                        if opens < other_closes and other_opens < closes:
                            raise ValueError(
                                f"{member.name} is rostered by video and at the central office "
                                f"on {weekday} {opens:%H:%M}-{closes:%H:%M}"
                            )
