"""Configuration commands: a municipality, its sites and services, and the days it opens."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from services.booking.application.base import BookingStore
from services.booking.domain.municipality import Municipality
from services.booking.domain.schedule import SiteDay


class ConfigurationCommands(BookingStore):
    def register_municipality(
        self,
        municipality: str,
        name: str,
        waiting_target_working_days: int,
        sites: list[dict[str, Any]],
        services: list[dict[str, Any]],
    ) -> bool:
        """Registers a municipality once; False if it was already registered."""
        if Municipality.create_id(municipality) in self.repository:
            return False
        self.save(Municipality(municipality, name, waiting_target_working_days, sites, services))
        return True

    def open_day(
        self,
        municipality: str,
        site: str,
        day: date,
        slots: list[dict[str, Any]],
        acute_release_at: datetime | None = None,
    ) -> bool:
        """Opens a site's day for booking once; False if it was already open or has no times.
        Acute seats in `slots` are held back for staff until `acute_release_at`."""
        self.get_municipality(municipality).get_site(site)
        if not slots or SiteDay.create_id(municipality, site, day) in self.repository:
            return False
        self.save(SiteDay(municipality, site, day, slots, acute_release_at))
        return True
