"""A small booking world for tests: one municipality, one site, a few times on one day."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import httpx

from infra.staff_tokens import Role, StaffTokens
from services.booking.application import BookingApplication
from services.booking.domain.opening_hours import COPENHAGEN, OpeningHours

MUNICIPALITY = "slagelse"
SITE = "korsoer"
# Each municipality's staff token signing key (STAFF_TOKENS).
STAFF_KEYS = {
    MUNICIPALITY: "slagelse-staff-signing-key-for-tests-only",
    "herning": "herning-staff-signing-key-for-tests-only",
    "hvidovre": "hvidovre-staff-signing-key-for-tests-only",
}


def staff_headers(
    municipality: str = MUNICIPALITY, role: Role = Role.STAFF, account: str = "mette"
) -> dict[str, str]:
    token = StaffTokens(STAFF_KEYS).issue(municipality, account, role, timedelta(days=7))
    return {"Authorization": f"Bearer {token}"}


STAFF = staff_headers()
DAY = date(2030, 3, 4)  # a Monday
FIRST_TIME = datetime(2030, 3, 4, 10, 0, tzinfo=COPENHAGEN)
HOURS = OpeningHours.parse(
    {"mon": "10:00-11:00"}, slot_minutes=15, seats=2, services=["pas", "mitid"]
)


def seed_world(app: BookingApplication, seats: int = 2, day: date = DAY) -> None:
    app.register_municipality(
        MUNICIPALITY,
        "Slagelse Kommune",
        7,
        [{"id": SITE, "name": "Borgerservice Korsør", "address": "Caspar Brands Plads 7"}],
        [
            {"id": "pas", "name": "Pas", "duration_minutes": 15, "documents": ["Gammelt pas"]},
            {"id": "mitid", "name": "NemID/MitID", "duration_minutes": 15, "documents": ["Pas"]},
        ],
    )
    hours = OpeningHours(HOURS.hours, HOURS.slot_minutes, seats, HOURS.services)
    app.open_day(MUNICIPALITY, SITE, day, hours.slots_on(day))


def booking_body(**overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "site": SITE,
        "service": "pas",
        "starts_at": FIRST_TIME.isoformat(),
        "citizen_name": "Karen Jensen",
        "phone": "20 30 40 50",
    }
    body.update(overrides)
    return body


def later(minutes: int) -> datetime:
    return FIRST_TIME + timedelta(minutes=minutes)


BASE = f"/api/v1/municipalities/{MUNICIPALITY}"  # the world's municipality on the API


async def book(api: httpx.AsyncClient, **overrides: object) -> dict[str, Any]:
    """A citizen's booking of `booking_body(**overrides)`, which must succeed (201)."""
    response = await api.post(f"{BASE}/bookings", json=booking_body(**overrides))
    assert response.status_code == 201, response.text
    return dict(response.json())
