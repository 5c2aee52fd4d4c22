"""Staff tokens on the API: signed, expiring, scoped to one municipality, with roles."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest

from infra.staff_tokens import Role, StaffTokens
from services.booking.service import BookingService
from tests.booking_world import (
    DAY,
    MUNICIPALITY,
    SITE,
    STAFF_KEYS,
    booking_body,
    seed_world,
    staff_headers,
)

BASE = f"/api/v1/municipalities/{MUNICIPALITY}"
HERNING = "/api/v1/municipalities/herning"


@pytest.fixture
async def booking_id(api: httpx.AsyncClient, booking_service: BookingService) -> str:
    await asyncio.to_thread(seed_world, booking_service.app)
    response = await api.post(f"{BASE}/bookings", json=booking_body())
    assert response.status_code == 201, response.text
    return str(response.json()["booking_id"])


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def forged(**claims: Any) -> str:
    """A well-formed token for Slagelse signed with a key that is not Slagelse's."""
    now = datetime.now(UTC)
    body = {
        "iss": "borgerservice",
        "aud": "borgerservice-staff",
        "sub": "mallory",
        "mun": MUNICIPALITY,
        "role": "admin",
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(hours=1)).timestamp()),
        "jti": uuid.uuid4().hex,
        **claims,
    }
    return jwt.encode(body, "x" * 40, "HS256", headers={"kid": MUNICIPALITY})


async def test_staff_act_with_a_token_naming_their_account(
    api: httpx.AsyncClient, booking_id: str, booking_service: BookingService
) -> None:
    response = await api.post(f"{BASE}/bookings/{booking_id}/check-in", headers=staff_headers())
    assert response.status_code == 200, response.text
    checked_in = await booking_service.pool.fetchval(
        "SELECT state FROM booking_events WHERE topic LIKE '%Booking.CheckedIn'"
    )
    assert b'"mette"' in bytes(checked_in)  # the account named by the token, on the event


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Bearer",
        "Bearer guess",
        "Basic bWV0dGU6c2VjcmV0",
        "Bearer not.a.jwt",
        f"Bearer {forged()}",
        f"Bearer {jwt.encode({'sub': 'x', 'mun': MUNICIPALITY}, None, 'none')}",
        f"Bearer {forged(exp=1)}",
    ],
    ids=["none", "empty", "guess", "basic", "garbage", "forged", "alg-none", "expired-forged"],
)
async def test_malformed_or_forged_tokens_get_a_bare_401(
    api: httpx.AsyncClient, booking_id: str, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = await api.post(f"{BASE}/bookings/{booking_id}/check-in", headers=headers)
    assert response.status_code == 401
    assert response.json() == {"detail": "Unauthorized"}


async def test_an_expired_token_gets_401(api: httpx.AsyncClient, booking_id: str) -> None:
    yesterday = datetime.now(UTC) - timedelta(days=1)
    expired = StaffTokens(STAFF_KEYS, clock=lambda: yesterday).issue(
        MUNICIPALITY, "mette", Role.STAFF, timedelta(hours=8)
    )
    response = await api.post(f"{BASE}/bookings/{booking_id}/check-in", headers=bearer(expired))
    assert response.status_code == 401
    assert response.json() == {"detail": "Unauthorized"}


async def test_a_token_whose_claims_were_changed_gets_401(
    api: httpx.AsyncClient, booking_id: str
) -> None:
    header, _, signature = staff_headers()["Authorization"].removeprefix("Bearer ").split(".")
    claims = jwt.decode(
        staff_headers()["Authorization"].removeprefix("Bearer "),
        options={"verify_signature": False},
    )
    tampered_body = jwt.encode({**claims, "role": "admin"}, "k" * 40, "HS256").split(".")[1]
    tampered = f"{header}.{tampered_body}.{signature}"
    response = await api.post(f"{BASE}/bookings/{booking_id}/check-in", headers=bearer(tampered))
    assert response.status_code == 401


async def test_staff_of_another_municipality_get_404_even_for_real_ids(
    api: httpx.AsyncClient, booking_id: str
) -> None:
    herning = staff_headers("herning", Role.ADMIN)
    guessed = uuid.uuid4()
    for target in (booking_id, guessed):
        response = await api.post(f"{BASE}/bookings/{target}/check-in", headers=herning)
        assert response.status_code == 404
        assert response.json() == {"detail": "Not Found"}  # the same for real and guessed
    day_view = await api.get(f"{BASE}/sites/{SITE}/days/{DAY}/bookings", headers=herning)
    assert day_view.status_code == 404
    # Herning's staff on their own routes do not find Slagelse's booking either.
    own = await api.post(f"{HERNING}/bookings/{booking_id}/check-in", headers=herning)
    assert own.status_code == 404


async def test_the_reporting_role_cannot_see_or_change_bookings(
    api: httpx.AsyncClient, booking_id: str
) -> None:
    reporting = staff_headers(role=Role.REPORTING)
    for step in ("check-in", "no-show"):
        response = await api.post(f"{BASE}/bookings/{booking_id}/{step}", headers=reporting)
        assert response.status_code == 403
    cancel = await api.post(
        f"{BASE}/bookings/{booking_id}/staff-cancel", json={"reason": "x"}, headers=reporting
    )
    assert cancel.status_code == 403
    bulk = await api.post(
        f"{BASE}/sites/{SITE}/days/{DAY}/cancel-bookings", json={"reason": "x"}, headers=reporting
    )
    assert bulk.status_code == 403
    day_view = await api.get(f"{BASE}/sites/{SITE}/days/{DAY}/bookings", headers=reporting)
    assert day_view.status_code == 403  # names and phone numbers are not statistics
    still = await api.get(f"{BASE}/sites/{SITE}/days/{DAY}/bookings", headers=staff_headers())
    assert [b["status"] for b in still.json()] == ["booked"]


async def test_admin_may_do_what_staff_do(api: httpx.AsyncClient, booking_id: str) -> None:
    admin = staff_headers(role=Role.ADMIN, account="lone")
    response = await api.post(f"{BASE}/bookings/{booking_id}/check-in", headers=admin)
    assert response.status_code == 200, response.text
