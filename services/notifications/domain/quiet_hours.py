"""Quiet hours: no SMS between 21:00 and 08:00 Danish time, unless the appointment is sooner."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from services.notifications.domain.danish import DANISH_TIME

QUIET_FROM = time(21, 0)
QUIET_UNTIL = time(8, 0)


def is_quiet(moment: datetime) -> bool:
    """True between 21:00 and 08:00 Danish local time (summer time included)."""
    local = _local(moment).time()
    return local >= QUIET_FROM or local < QUIET_UNTIL


def end_of_quiet(moment: datetime) -> datetime:
    """The first 08:00 Danish time after `moment` (on its own day before 08:00)."""
    local = _local(moment)
    day = local.date() if local.time() < QUIET_UNTIL else local.date() + timedelta(days=1)
    return datetime.combine(day, QUIET_UNTIL, tzinfo=DANISH_TIME)


def held_until(moment: datetime, appointment_at: datetime | None) -> datetime | None:
    """When a message due at `moment` may go out: None for at once, or the 08:00 that ends
    the quiet hours. An appointment before that 08:00 cannot wait: its message goes at once."""
    if not is_quiet(moment):
        return None
    release = end_of_quiet(moment)
    if appointment_at is not None and appointment_at < release:
        return None
    return release


def _local(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("a naive datetime has no place in time")
    return moment.astimezone(DANISH_TIME)
