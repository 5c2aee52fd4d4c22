"""Danish wording of times and lists, independent of the machine's locale."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from services.notifications.domain.templates import MONTHS, WEEKDAYS, WHEN

DANISH_TIME = ZoneInfo("Europe/Copenhagen")


def danish_when(moment: datetime) -> str:
    """The moment in Danish local time (summer time included), e.g. `mandag den 3. marts 2025
    kl. 09.30`. `moment` must be timezone-aware."""
    if moment.tzinfo is None:
        raise ValueError("a naive datetime has no place in time")
    local = moment.astimezone(DANISH_TIME)
    return WHEN.substitute(
        weekday=WEEKDAYS[local.weekday()],
        day=local.day,
        month=MONTHS[local.month - 1],
        year=local.year,
        hour=f"{local.hour:02d}",
        minute=f"{local.minute:02d}",
    )


def danish_list(items: Sequence[str]) -> str:
    """`a, b og c`."""
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} og {items[-1]}"
