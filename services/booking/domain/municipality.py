"""A municipality's configuration: its sites and its service catalog."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from services.booking.domain.errors import NotFound


@dataclass(frozen=True)
class Site:
    id: str
    name: str
    address: str


@dataclass(frozen=True)
class Service:
    id: str
    name: str
    duration_minutes: int
    documents: tuple[str, ...]


class Municipality(Aggregate):
    """Owns which sites and services exist; every booking is checked against it."""

    @staticmethod
    def create_id(municipality: str) -> UUID:
        return uuid5(NAMESPACE_URL, f"borgerservice:municipality:{municipality}")

    @event("Registered")
    def __init__(
        self,
        municipality: str,
        name: str,
        waiting_target_working_days: int,
        sites: list[dict[str, Any]],
        services: list[dict[str, Any]],
    ) -> None:
        self.municipality = municipality
        self.name = name
        self.waiting_target_working_days = waiting_target_working_days
        self.sites = {s["id"]: Site(**s) for s in sites}
        self.services = {
            s["id"]: Service(**{**s, "documents": tuple(s["documents"])}) for s in services
        }

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
