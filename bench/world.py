"""The bench's municipality: many sites and days of times, opened through the application,
and booking commands spread over them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from services.booking.application import BookingApplication
from services.booking.commands import BookTime
from services.booking.domain.opening_hours import COPENHAGEN

MUNICIPALITY = "benchby"
FIRST_DAY = date(2031, 1, 6)  # a Monday, far enough ahead to be bookable whenever this runs
SERVICES = [
    {"id": "pas", "name": "Pas", "duration_minutes": 15, "documents": ["Gammelt pas"]},
    {"id": "mitid", "name": "NemID/MitID", "duration_minutes": 15, "documents": ["Pas"]},
]


@dataclass(frozen=True)
class Layout:
    """`sites` x `days` site days, each with `slots` times of `capacity` seats, 5 min apart."""

    sites: int
    days: int
    slots: int
    capacity: int

    @property
    def site_ids(self) -> list[str]:
        return [f"site-{n}" for n in range(self.sites)]

    @property
    def seats(self) -> int:
        return self.sites * self.days * self.slots * self.capacity

    def day(self, index: int) -> date:
        return FIRST_DAY + timedelta(days=index)

    def starts_at(self, day: int, slot: int) -> datetime:
        opening = datetime.combine(self.day(day), time(7, 0), COPENHAGEN)
        return opening + timedelta(minutes=5 * slot)

    def slots_on(self, day: int) -> list[dict[str, Any]]:
        return [
            {
                "starts_at": self.starts_at(day, n),
                "ends_at": self.starts_at(day, n) + timedelta(minutes=5),
                "capacity": self.capacity,
                "services": [s["id"] for s in SERVICES],
            }
            for n in range(self.slots)
        ]

    def seat(self, index: int) -> tuple[str, datetime]:
        """The `index`-th seat, consecutive indexes on different site days (little contention)."""
        site_days = self.sites * self.days
        site_day, rest = index % site_days, index // site_days
        slot = (rest // self.capacity) % self.slots
        return self.site_ids[site_day % self.sites], self.starts_at(site_day // self.sites, slot)


def open_world(app: BookingApplication, layout: Layout) -> None:
    """Registers the municipality and opens every site day of `layout`."""
    app.register_municipality(
        MUNICIPALITY,
        "Bench Kommune",
        7,
        [{"id": s, "name": s.title(), "address": "Torvet 1"} for s in layout.site_ids],
        SERVICES,
    )
    for day in range(layout.days):
        for site in layout.site_ids:
            app.open_day(MUNICIPALITY, site, layout.day(day), layout.slots_on(day))


def booking_body(layout: Layout, index: int) -> dict[str, Any]:
    site, starts_at = layout.seat(index)
    return {
        "site": site,
        "service": "pas",
        "starts_at": starts_at.isoformat(),
        "citizen_name": f"Borger {index}",
        "phone": f"+4526{index % 1_000_000:06d}",  # a citizen books a time or two at most
    }


def book_command(layout: Layout, index: int) -> BookTime:
    return BookTime(municipality=MUNICIPALITY, **booking_body(layout, index))
