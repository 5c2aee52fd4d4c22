"""Seeding municipalities from readable TOML files (the demo uses the ones in this folder)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date, timedelta
from importlib.resources import files
from pathlib import Path
from typing import Any

from services.booking.application import BookingApplication
from services.booking.domain.opening_hours import OpeningHours

DEMO_MUNICIPALITIES = ("slagelse", "herning", "hvidovre")


@dataclass(frozen=True)
class MunicipalitySeed:
    id: str
    name: str
    waiting_target_working_days: int
    sites: list[dict[str, Any]]
    services: list[dict[str, Any]]
    hours: dict[str, OpeningHours]

    @classmethod
    def parse(cls, document: dict[str, Any], catalog: list[dict[str, Any]]) -> MunicipalitySeed:
        municipality = document["municipality"]
        services = document.get("services", catalog)
        service_ids = [s["id"] for s in services]
        sites, hours = [], {}
        for site in document["sites"]:
            sites.append({"id": site["id"], "name": site["name"], "address": site["address"]})
            hours[site["id"]] = OpeningHours.parse(
                site["hours"],
                site["slot_minutes"],
                site["seats"],
                site.get("services", service_ids),
            )
        return cls(
            municipality["id"],
            municipality["name"],
            municipality["waiting_target_working_days"],
            sites,
            services,
            hours,
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
        seed.id, seed.name, seed.waiting_target_working_days, seed.sites, seed.services
    )
    opened = 0
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        for site_id, hours in seed.hours.items():
            opened += app.open_day(seed.id, site_id, day, hours.slots_on(day))
    return opened
