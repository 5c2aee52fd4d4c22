"""What re-seeding a changed file would change: the stored configuration compared with the file.

Each difference is a `Change`. One that a command exists for carries it (`command`), and
re-seeding applies it as that command's event; one that no command makes says why it is kept
(`kept_because`). Nothing differs silently. Both functions are pure, so a later command that
changes open days (issue 21) can take the same list and act on the days too.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from services.booking.domain.municipality import Municipality, Service, Site
from services.booking.domain.opening_hours import WEEKDAYS
from services.booking.domain.schedule import SiteDay

if TYPE_CHECKING:
    from services.booking.application import BookingApplication
    from services.booking.seed.load import MunicipalitySeed

Command = Callable[["BookingApplication", str], object]  # (the application, by whom)
OPEN_DAYS_KEPT = "re-seeding does not change the times of days already open (issue 21)"


@dataclass(frozen=True)
class Change:
    subject: str  # "site korsoer", "service pas", "korsoer mon"
    description: str  # what differs, stored → file
    command: Command | None = None  # applies it, as an event
    kept_because: str | None = None  # why it is not applied

    def __str__(self) -> str:
        if self.command is not None:
            return f"changed: {self.subject}: {self.description}"
        return f"not changed: {self.subject}: {self.description}: {self.kept_because}"


def _differences(stored: dict[str, Any], wanted: dict[str, Any]) -> str:
    return ", ".join(
        f"{key} {stored.get(key)!r} → {wanted.get(key)!r}"
        for key in wanted
        if stored.get(key) != wanted.get(key)
    )


def configuration_changes(stored: Municipality, seed: MunicipalitySeed) -> list[Change]:
    """The municipality, its sites and services as stored, against the file."""
    changes = []
    if stored.waiting_target_working_days != seed.waiting_target_working_days:
        target = seed.waiting_target_working_days
        changes.append(
            Change(
                "waiting_target_working_days",
                f"{stored.waiting_target_working_days} → {target}",
                command=lambda app, by: app.change_waiting_target(seed.id, target, by),
            )
        )
    for name, now, wanted in (
        ("name", stored.name, seed.name),
        ("active_bookings_limit", stored.active_bookings_limit, seed.active_bookings_limit),
    ):
        if now != wanted:
            changes.append(
                Change(name, f"{now!r} → {wanted!r}", kept_because="no command changes it")
            )
    changes += _catalog_changes(seed.id, "site", stored.sites, seed.sites, Site.of)
    changes += _catalog_changes(seed.id, "service", stored.services, seed.services, Service.of)
    return changes


def _configure(municipality: str, kind: str, fields: dict[str, Any]) -> Command:
    """`configure_site` or `configure_service`: the admin API's commands (SiteConfigured,
    ServiceConfigured)."""
    if kind == "site":
        return lambda app, by: app.configure_site(municipality, fields, by)
    return lambda app, by: app.configure_service(municipality, fields, by)


def _catalog_changes(
    municipality: str,
    kind: str,
    stored: Mapping[str, Site | Service],
    wanted: list[dict[str, Any]],
    of: Callable[[dict[str, Any]], Site | Service],
) -> list[Change]:
    changes = []
    for fields in wanted:
        entry, now = of(fields), stored.get(fields["id"])
        subject = f"{kind} {entry.id}"
        command = _configure(municipality, kind, fields)
        if now is None:
            changes.append(Change(subject, "new", command=command))
        elif now != entry:
            described = _differences(asdict(now), asdict(entry))
            changes.append(Change(subject, described, command=command))
    for gone in sorted(set(stored) - {fields["id"] for fields in wanted}):
        changes.append(
            Change(
                f"{kind} {gone}",
                "not in the file",
                kept_because=f"no command removes a {kind}; its bookings stay valid",
            )
        )
    return changes


# A time as it is compared: its start, end, seats in all (acute ones included, as they are
# released into the others at the release time) and the services it offers.
Time = tuple[datetime, datetime, int, frozenset[str]]


def _times(slots: Iterable[Mapping[str, Any]]) -> list[Time]:
    return sorted(
        (
            slot["starts_at"],
            slot["ends_at"],
            slot["capacity"] + slot.get("acute_capacity", 0),
            frozenset(slot["services"]),
        )
        for slot in slots
    )


def _stored_times(day: SiteDay) -> list[Time]:
    return _times(vars(slot) for slot in day.slots.values())


def _services(times: list[Time]) -> set[str]:
    return set().union(*(time[3] for time in times))


def _summary(times: list[Time]) -> tuple[str, str]:
    """The times of a day and the seats per time, in words."""
    if not times:
        return "no times", ""
    seats = sorted({time[2] for time in times})
    return (
        f"{len(times)} times {times[0][0]:%H:%M}-{times[-1][0]:%H:%M}",
        f"{'-'.join(map(str, sorted({seats[0], seats[-1]})))} seats",
    )


def _compared(now: list[Time], wanted: list[Time]) -> tuple[str, str]:
    """What a day keeps, and only what the file gives otherwise."""
    kept, given = _summary(now), _summary(wanted)
    told = " with ".join(part for part in kept if part)
    if not wanted:
        return told, "no times"
    other = [new for old, new in zip(kept, given, strict=True) if old != new]
    gone, added = _services(now) - _services(wanted), _services(wanted) - _services(now)
    other += [f"without {', '.join(sorted(gone))}"] if gone else []
    other += [f"also for {', '.join(sorted(added))}"] if added else []
    if not other:  # the same span, seats and services, but not at the same times
        other = [f"{len(set(now) ^ set(wanted)) // 2 or 1} of them with other seats or services"]
    return told, ", ".join(other)


def open_day_changes(
    stored_days: Mapping[tuple[str, date], SiteDay], seed: MunicipalitySeed
) -> list[Change]:
    """Days already open whose times the file now gives otherwise, grouped per site and
    weekday: `korsoer mon: 14 open days keep 16 times 10:00-13:45 with 2 seats (the file: ...)`."""
    kept: Counter[tuple[str, str, str, str]] = Counter()
    for (site, day), stored in stored_days.items():
        schedule = seed.hours.get(site)
        if schedule is None:
            continue  # a site no longer in the file: told by configuration_changes
        now, wanted = _stored_times(stored), _times(schedule.slots_on(day))
        if now != wanted:
            kept[(site, WEEKDAYS[day.weekday()], *_compared(now, wanted))] += 1
    return [
        Change(
            f"{site} {weekday}",
            f"{count} open {'days keep' if count > 1 else 'day keeps'} {now} (the file: {wanted})",
            kept_because=OPEN_DAYS_KEPT,
        )
        for (site, weekday, now, wanted), count in sorted(
            kept.items(), key=lambda item: (item[0][0], WEEKDAYS.index(item[0][1]))
        )
    ]
