"""The waiting-time guarantee of one service at one site: the first free time against the
municipality's target in working days (seeds/000: at most 7; Hvidovre normally under 5).
Only a crossing of the target is an event, so staff and reports see breaches as they happen
without a stream of non-news."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from infra.danish_days import working_days_between


class WaitingGuarantee(Aggregate):
    @staticmethod
    def create_id(municipality: str, site: str, service: str) -> UUID:
        return uuid5(NAMESPACE_URL, f"borgerservice:guarantee:{municipality}:{site}:{service}")

    @classmethod
    def watch(cls, municipality: str, site: str, service: str) -> WaitingGuarantee:
        return cls._create(
            cls.Watched,  # type: ignore[attr-defined]
            id=cls.create_id(municipality, site, service),
            municipality=municipality,
            site=site,
            service=service,
        )

    @event("Watched")
    def __init__(self, municipality: str, site: str, service: str) -> None:
        self.municipality = municipality
        self.site = site
        self.service = service
        self.breached = False

    def observe(self, first_free_at: datetime | None, target: int, now: datetime) -> bool:
        """Records a crossing of the target; False when nothing changed."""
        days = None if first_free_at is None else working_days_between(now, first_free_at)
        breached = days is None or days > target
        if breached == self.breached:
            return False
        facts: dict[str, Any] = {
            "municipality": self.municipality,
            "site": self.site,
            "service": self.service,
            "first_free_at": first_free_at,
            "working_days": days,
            "target_working_days": target,
            "observed_at": now,
        }
        if breached:
            self._breached(**facts)
        else:
            self._restored(**facts)
        return True

    @event("Breached")
    def _breached(
        self,
        municipality: str,
        site: str,
        service: str,
        first_free_at: datetime | None,
        working_days: int | None,
        target_working_days: int,
        observed_at: datetime,
    ) -> None:
        self.breached = True

    @event("Restored")
    def _restored(
        self,
        municipality: str,
        site: str,
        service: str,
        first_free_at: datetime | None,
        working_days: int | None,
        target_working_days: int,
        observed_at: datetime,
    ) -> None:
        self.breached = False
