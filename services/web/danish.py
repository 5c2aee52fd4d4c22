"""Danish wording of dates, times and statuses on the pages, independent of the machine's
locale; every time is shown in Danish local time."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

COPENHAGEN = ZoneInfo("Europe/Copenhagen")
WEEKDAYS = ("mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag", "søndag")
MONTHS = (
    "januar",
    "februar",
    "marts",
    "april",
    "maj",
    "juni",
    "juli",
    "august",
    "september",
    "oktober",
    "november",
    "december",
)
STATUSES = {
    "booked": "Booket",
    "checked_in": "Tjekket ind",
    "started": "I gang",
    "completed": "Afsluttet",
    "no_show": "Udeblevet",
    "cancelled": "Aflyst",
    "resolved_online": "Løst online",
}
CHANNELS = {"web": "Web", "phone": "Telefon", "counter": "Skranke", "assisted": "Assisteret"}


def local(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("a naive datetime has no place in time")
    return moment.astimezone(COPENHAGEN)


def clock(moment: datetime) -> str:
    """`09.30`, the Danish way of writing a time of day."""
    return local(moment).strftime("%H.%M")


def day_name(day: date | datetime) -> str:
    """`tirsdag 24. november`."""
    if isinstance(day, datetime):
        day = local(day).date()
    return f"{WEEKDAYS[day.weekday()]} {day.day}. {MONTHS[day.month - 1]}"


def when(moment: datetime) -> str:
    """`tirsdag 24. november 2026 kl. 09.30`."""
    at = local(moment)
    return f"{day_name(at)} {at.year} kl. {clock(at)}"


def today() -> date:
    return datetime.now(COPENHAGEN).date()
