"""Seeding municipalities from readable TOML files (the demo uses the ones in this folder).

A site either has a plain `seats` count, or a staff roster (`[[sites.staff]]`) from which the
capacity and the services of each time are derived; `video_from` marks a library served by a
specialist of that central site; `acute` holds seats back for acute cases until a time of day.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from importlib.resources import files
from pathlib import Path
from typing import Any, Protocol

from services.booking.application import BookingApplication
from services.booking.domain.municipality import Service
from services.booking.domain.opening_hours import OpeningHours, parse_week
from services.booking.domain.roster import Acute, RosteredSite, StaffMember, check_no_double_duty

DEMO_MUNICIPALITIES = ("slagelse", "herning", "hvidovre")
SITE_FIELDS = ("id", "name", "address", "video_from")


class DaySchedule(Protocol):
    def slots_on(self, day: date) -> list[dict[str, Any]]: ...

    def acute_release_at(self, day: date) -> datetime | None: ...


@dataclass(frozen=True)
class MunicipalitySeed:
    id: str
    name: str
    waiting_target_working_days: int
    active_bookings_limit: int
    sites: list[dict[str, Any]]
    services: list[dict[str, Any]]
    hours: dict[str, DaySchedule]

    @classmethod
    def parse(cls, document: dict[str, Any], catalog: list[dict[str, Any]]) -> MunicipalitySeed:
        municipality = document["municipality"]
        services = document.get("services", catalog)
        closed = frozenset(date.fromisoformat(d) for d in municipality.get("closed_days", []))
        sites, hours = [], {}
        for site in document["sites"]:
            sites.append({k: site[k] for k in SITE_FIELDS if k in site})
            hours[site["id"]] = _schedule(site, services, closed)
        central = {s["id"]: hours[s["id"]] for s in sites}
        for site in sites:
            video_from = central.get(site.get("video_from") or "")
            if isinstance(video_from, RosteredSite):
                check_no_double_duty(video_from, [hours[site["id"]]])  # type: ignore[list-item]
        return cls(
            municipality["id"],
            municipality["name"],
            municipality["waiting_target_working_days"],
            municipality.get("active_bookings_limit", 2),
            sites,
            services,
            hours,
        )


def _schedule(
    site: dict[str, Any], services: list[dict[str, Any]], closed: frozenset[date]
) -> DaySchedule:
    service_ids = site.get("services", [s["id"] for s in services])
    opening = OpeningHours(
        parse_week(site["hours"]),
        site["slot_minutes"],
        site.get("seats", 0),
        tuple(service_ids),
        closed,
    )
    if "staff" not in site:
        return opening
    acute = site.get("acute")
    return RosteredSite(
        opening=opening,
        staff=tuple(
            StaffMember(m["name"], frozenset(m["competences"]), parse_week(m["hours"]))
            for m in site["staff"]
        ),
        catalog=tuple(Service.of(s) for s in services if s["id"] in service_ids),
        by_video=site.get("video_from") is not None,
        acute=Acute(acute["seats"], time.fromisoformat(acute["release_at"])) if acute else None,
    )


def _read(name: str) -> dict[str, Any]:
    return tomllib.loads(files(__name__).joinpath(f"{name}.toml").read_text())


def load_seed(path: Path | None = None, *, demo: str | None = None) -> MunicipalitySeed:
    """A municipality from a TOML file, or one of the demo municipalities by id."""
    catalog = _read("catalog")["services"]
    document = tomllib.loads(path.read_text()) if path is not None else _read(str(demo))
    return MunicipalitySeed.parse(document, catalog)


def apply_seed(app: BookingApplication, seed: MunicipalitySeed, first_day: date, days: int) -> int:
    """Registers the municipality and opens `days` days of times from `first_day`; idempotent.
    Returns how many site days were opened now."""
    app.register_municipality(
        seed.id,
        seed.name,
        seed.waiting_target_working_days,
        seed.sites,
        seed.services,
        active_bookings_limit=seed.active_bookings_limit,
    )
    opened = 0
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        for site_id, schedule in seed.hours.items():
            opened += app.open_day(
                seed.id, site_id, day, schedule.slots_on(day), schedule.acute_release_at(day)
            )
    return opened
