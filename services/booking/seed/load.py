"""Reading a seed file: parsed, validated whole, and turned into the schedules it means."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime, time
from importlib.resources import files
from pathlib import Path
from typing import Any, Protocol

from pydantic import ValidationError

from services.booking.domain.municipality import Service
from services.booking.domain.opening_hours import OpeningHours
from services.booking.domain.roster import Acute, RosteredSite, StaffMember, check_no_double_duty
from services.booking.seed.checks import Checks
from services.booking.seed.file_model import CatalogFile, MunicipalityFile, ServiceEntry, SiteEntry
from services.booking.seed.problems import Located, Problem, SeedError

SITE_FIELDS = {"id", "name", "address", "video_from"}
CATALOG = "catalog.toml"

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
    warnings: tuple[Problem, ...] = field(default=(), compare=False)


def _schedule(
    site: SiteEntry, services: list[ServiceEntry], closed: frozenset[date]
) -> DaySchedule:
    service_ids = site.services if site.services is not None else [s.id for s in services]
    opening = OpeningHours(
        site.hours.week(), site.slot_minutes, site.seats or 0, tuple(service_ids), closed
    )
    if site.staff is None:
        return opening
    acute = site.acute
    return RosteredSite(
        opening=opening,
        staff=tuple(
            StaffMember(m.name, frozenset(m.competences), m.hours.week()) for m in site.staff
        ),
        catalog=tuple(Service.of(s.model_dump()) for s in services if s.id in service_ids),
        by_video=site.video_from is not None,
        acute=Acute(acute.seats, time.fromisoformat(acute.release_at)) if acute else None,
    )


def _double_duty(
    document: MunicipalityFile, hours: dict[str, DaySchedule], where: Located
) -> list[Problem]:
    """A specialist rostered at a library and at its central office at the same time."""
    problems = []
    for i, site in enumerate(document.sites):
        central = hours.get(site.video_from or "")
        video = hours[site.id]
        if isinstance(central, RosteredSite) and isinstance(video, RosteredSite):
            try:
                check_no_double_duty(central, [video])
            except ValueError as error:
                problems.append(where.at(("sites", i, "staff"), str(error)))
    return problems


def _parse(text: str, where: Located) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        found = re.search(r"at line (\d+)", str(error))
        line = int(found.group(1)) if found else None
        raise SeedError([Problem(where.file, line, "", f"not valid TOML: {error}")]) from None


def _validated(model: type[MunicipalityFile] | type[CatalogFile], text: str, where: Located) -> Any:
    try:
        return model.model_validate(_parse(text, where))
    except ValidationError as error:
        raise SeedError(where.of_validation(error)) from None


def parse_seed(
    text: str, file: str, catalog_text: str | None = None, catalog_file: str = CATALOG
) -> MunicipalitySeed:
    """The municipality of one file's text, checked whole; its services are the catalog's
    unless it lists its own. SeedError names every problem found."""
    where = Located(file, text)
    document: MunicipalityFile = _validated(MunicipalityFile, text, where)
    if document.services is not None:
        services, services_where = document.services, where
    else:
        catalog_text = catalog_text if catalog_text is not None else _demo_text(CATALOG)
        services_where = Located(catalog_file, catalog_text)
        services = _validated(CatalogFile, catalog_text, services_where).services
    checks = Checks(document, where, services, services_where).run()
    closed = frozenset(document.municipality.closed_days)
    hours = {site.id: _schedule(site, services, closed) for site in document.sites}
    errors = checks.errors + _double_duty(document, hours, where)
    if errors:
        raise SeedError(errors)
    municipality = document.municipality
    return MunicipalitySeed(
        municipality.id,
        municipality.name,
        municipality.waiting_target_working_days,
        municipality.active_bookings_limit,
        [site.model_dump(include=SITE_FIELDS, exclude_none=True) for site in document.sites],
        [{"id": s.id, **s.model_dump(exclude={"id"})} for s in services],
        hours,
        tuple(checks.warnings),
    )


def _demo_text(name: str) -> str:
    return files("services.booking.seed").joinpath(name).read_text()


def load_seed(path: Path | None = None, *, demo: str | None = None) -> MunicipalitySeed:
    """A municipality from a TOML file, or one of the demo municipalities by id."""
    if path is not None:
        return parse_seed(path.read_text(), str(path))
    return parse_seed(_demo_text(f"{demo}.toml"), f"{demo}.toml")


