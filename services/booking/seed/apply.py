"""Applying a seed: the municipality registered once, then on each re-seed every difference
between the store and the file either applied as an event or told as kept, with why."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import TYPE_CHECKING

import typer

from services.booking.domain.errors import NotFound
from services.booking.domain.schedule import SiteDay
from services.booking.seed.changes import Change, configuration_changes, open_day_changes

if TYPE_CHECKING:
    from services.booking.application import BookingApplication
    from services.booking.seed.load import MunicipalitySeed

SEEDED_BY = "seed"  # the `by` of the configuration events a re-seed records


def apply_seed(
    app: BookingApplication,
    seed: MunicipalitySeed,
    first_day: date,
    days: int,
    echo: Callable[[str], object] = typer.echo,
) -> int:
    """Registers the municipality, applies what changed since, and opens `days` days of times
    from `first_day`; idempotent. Tells `echo` the file's warnings and every difference from
    the store, applied or kept. Returns how many site days were opened now."""
    for warning in seed.warnings:
        echo(f"{seed.id}: warning: {warning}")
    registered = app.register_municipality(
        seed.id,
        seed.name,
        seed.waiting_target_working_days,
        seed.sites,
        seed.services,
        active_bookings_limit=seed.active_bookings_limit,
    )
    if not registered:
        _tell(app, echo, seed.id, configuration_changes(app.get_municipality(seed.id), seed))
    opened, already_open = 0, {}
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        for site_id, schedule in seed.hours.items():
            stored = _stored_day(app, seed.id, site_id, day)
            if stored is not None:
                already_open[(site_id, day)] = stored
                continue
            opened += app.open_day(
                seed.id, site_id, day, schedule.slots_on(day), schedule.acute_release_at(day)
            )
    _tell(app, echo, seed.id, open_day_changes(already_open, seed))
    return opened


def _stored_day(app: BookingApplication, municipality: str, site: str, day: date) -> SiteDay | None:
    try:
        return app.get_site_day(municipality, site, day)
    except NotFound:
        return None


def _tell(
    app: BookingApplication, echo: Callable[[str], object], municipality: str, changes: list[Change]
) -> None:
    """Applies each change a command exists for, and tells every one."""
    for change in changes:
        if change.command is not None:
            change.command(app, SEEDED_BY)
        echo(f"{municipality}: {change}")
