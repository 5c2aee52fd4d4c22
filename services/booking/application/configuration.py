"""Configuration commands: a municipality, its sites and services, and the days it opens."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from services.booking.application.base import BookingStore
from services.booking.domain.errors import Invalid
from services.booking.domain.municipality import Municipality
from services.booking.domain.schedule import SiteDay

# A municipality's catalog travels whole in its `municipality.registered` event and is read on
# every booking: it stays small.
MAX_SERVICES = 100
MAX_SITES = 50


def _room_for(kind: str, existing: dict[str, Any], new_id: str, limit: int) -> None:
    if new_id not in existing and len(existing) >= limit:
        raise Invalid(f"{kind}: a municipality has at most {limit}")


class ConfigurationCommands(BookingStore):
    def register_municipality(
        self,
        municipality: str,
        name: str,
        waiting_target_working_days: int,
        sites: list[dict[str, Any]],
        services: list[dict[str, Any]],
        active_bookings_limit: int = 2,
    ) -> bool:
        """Registers a municipality once; False if it was already registered."""
        if Municipality.create_id(municipality) in self.repository:
            return False
        if len(services) > MAX_SERVICES or len(sites) > MAX_SITES:
            raise Invalid(f"services, sites: at most {MAX_SERVICES} and {MAX_SITES}")
        self.save(
            Municipality(
                municipality,
                name,
                waiting_target_working_days,
                [{k: v for k, v in s.items() if v is not None} for s in sites],
                [{k: v for k, v in s.items() if v is not None} for s in services],
                active_bookings_limit,
            )
        )
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
        day_id = SiteDay.create_id(municipality, site, day)
        with self._serialised(day_id):
            if not slots or self._site_day_by_id(day_id) is not None:
                return False
            self.save(SiteDay(municipality, site, day, slots, acute_release_at))
            return True

    def _configure(self, municipality: str, change: Callable[[Municipality], None]) -> Municipality:
        def attempt() -> Municipality:
            found = self.get_municipality(municipality, to_change=True)
            change(found)
            self.save(found)
            return found

        return self._retry_conflicts(attempt)

    def configure_service(
        self, municipality: str, service: dict[str, Any], by: str
    ) -> Municipality:
        """Adds a service to the catalog or changes it; bookings already made keep theirs."""

        def change(found: Municipality) -> None:
            _room_for("services", found.services, service["id"], MAX_SERVICES)
            found.configure_service(service, by)

        return self._configure(municipality, change)

    def configure_site(self, municipality: str, site: dict[str, Any], by: str) -> Municipality:
        def change(found: Municipality) -> None:
            _room_for("sites", found.sites, site["id"], MAX_SITES)
            found.configure_site(site, by)

        return self._configure(municipality, change)

    def change_waiting_target(self, municipality: str, working_days: int, by: str) -> Municipality:
        return self._configure(municipality, lambda m: m.change_waiting_target(working_days, by))
