"""A municipality's configuration: its sites and its service catalog."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from services.booking.domain.errors import Invalid, NotFound


@dataclass(frozen=True)
class Site:
    id: str
    name: str
    address: str
    video_from: str | None = None  # a library served by a specialist at this central site

    @classmethod
    def of(cls, fields: dict[str, Any]) -> Site:
        return cls(**{k: v for k, v in fields.items() if k in cls.__dataclass_fields__})


@dataclass(frozen=True)
class Service:
    id: str
    name: str
    duration_minutes: int
    documents: tuple[str, ...]
    competence: str | None = None  # the staff competence it needs; None: any staff member
    online_url: str | None = None  # where the citizen can solve it without a visit
    video: bool = False  # may be served by video from another site

    @classmethod
    def of(cls, fields: dict[str, Any]) -> Service:
        known = {k: v for k, v in fields.items() if k in cls.__dataclass_fields__}
        return cls(**{**known, "documents": tuple(known.get("documents", ()))})

    def as_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "documents": list(self.documents)}


@lru_cache(maxsize=1024)  # asked on every command; a name-based UUID costs a SHA-1
def _municipality_id(municipality: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"borgerservice:municipality:{municipality}")


class Municipality(Aggregate):
    """Owns which sites and services exist; every booking is checked against it."""

    @staticmethod
    def create_id(municipality: str) -> UUID:
        return _municipality_id(municipality)

    @event("Registered")
    def __init__(
        self,
        municipality: str,
        name: str,
        waiting_target_working_days: int,
        sites: list[dict[str, Any]],
        services: list[dict[str, Any]],
        active_bookings_limit: int = 2,
    ) -> None:
        self.municipality = municipality
        self.name = name
        self.waiting_target_working_days = waiting_target_working_days
        self.active_bookings_limit = active_bookings_limit
        self.sites = {s["id"]: Site.of(s) for s in sites}
        self.services = {s["id"]: Service.of(s) for s in services}

    def get_site(self, site_id: str) -> Site:
        try:
            return self.sites[site_id]
        except KeyError:
            raise NotFound(f"{self.name} has no site {site_id!r}") from None

    def get_service(self, service_id: str) -> Service:
        try:
            return self.services[service_id]
        except KeyError:
            raise NotFound(f"{self.name} offers no service {service_id!r}") from None

    # configuration changes, each an event

    def configure_service(self, service: dict[str, Any], by: str) -> None:
        self._service_configured(
            municipality=self.municipality, service=Service.of(service).as_dict(), by=by
        )

    @event("ServiceConfigured")
    def _service_configured(self, municipality: str, service: dict[str, Any], by: str) -> None:
        self.services[service["id"]] = Service.of(service)

    def configure_site(self, site: dict[str, Any], by: str) -> None:
        configured = Site.of(site)
        if configured.video_from is not None and configured.video_from not in self.sites:
            raise Invalid(f"{configured.id} is served by video from an unknown site")
        self._site_configured(municipality=self.municipality, site=configured.__dict__, by=by)

    @event("SiteConfigured")
    def _site_configured(self, municipality: str, site: dict[str, Any], by: str) -> None:
        self.sites[site["id"]] = Site.of(site)

    def change_waiting_target(self, working_days: int, by: str) -> None:
        if working_days <= 0:
            raise Invalid("the waiting-time target must be at least one working day")
        self._waiting_target_changed(
            municipality=self.municipality, waiting_target_working_days=working_days, by=by
        )

    @event("WaitingTargetChanged")
    def _waiting_target_changed(
        self, municipality: str, waiting_target_working_days: int, by: str
    ) -> None:
        self.waiting_target_working_days = waiting_target_working_days
