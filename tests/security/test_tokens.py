"""Strict tokens: a staff token lives at most `STAFF_TOKEN_MAX_LIFETIME`, was not issued in the
future and is for the staff audience; a manage token has one canonical form; any malformed
token, on the API or the pages, is a 401 or 404, never a 5xx; another municipality's
dashboard is a 404 like every other route."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any
from uuid import UUID, uuid4

import httpx
import jwt
import pytest
from nats.aio.client import Client as NatsClient

from infra.manage_token import ManageTokens
from infra.staff_tokens import ALGORITHM, AUDIENCE, ISSUER, InvalidStaffToken, Role, StaffTokens
from services.booking.service import BookingService
from services.web.entrypoints.staff import TOKEN_COOKIE
from tests.booking_world import MUNICIPALITY, STAFF_KEYS, booking_body, seed_world, staff_headers
from tests.integration.conftest import api, booking_service  # noqa: F401 - fixtures
from tests.security.real_pages import real_pages

DAY_VIEW = f"/api/v1/municipalities/{MUNICIPALITY}/sites/korsoer/days/2030-03-04/bookings"
BOOKINGS = f"/api/v1/municipalities/{MUNICIPALITY}/bookings"
FULLWIDTH_ZERO = 0xFF10
HUGE = "9" * 10_000  # 10 kB


def fullwidth(digits: str) -> str:
    return digits.translate({ord("0") + d: FULLWIDTH_ZERO + d for d in range(10)})


def staff_token(**changes: Any) -> str:
    """A Slagelse staff token signed with Slagelse's own key; `changes` set or drop (None)
    claims."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "mette",
        "mun": MUNICIPALITY,
        "role": "staff",
        "iat": now,
        "exp": now + 3600,
        "jti": uuid4().hex,
    }
    claims.update(changes)
    claims = {name: value for name, value in claims.items() if value is not None}
    return jwt.encode(claims, STAFF_KEYS[MUNICIPALITY], ALGORITHM, headers={"kid": MUNICIPALITY})


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


TEN_YEARS = 10 * 365 * 24 * 3600


@pytest.mark.parametrize(
    "token",
    [
        staff_token(exp=int(time.time()) + TEN_YEARS),
        staff_token(exp=int(time.time()) + 8 * 24 * 3600),
        staff_token(iat=None),
        staff_token(iat=int(time.time()) + 3600, exp=int(time.time()) + 7200),
        staff_token(aud="borgerservice-citizens"),
        staff_token(aud=None),
    ],
    ids=["ten-years", "eight-days", "no-iat", "future-iat", "other-audience", "no-audience"],
)
async def test_a_staff_token_beyond_the_rules_is_401(
    api: httpx.AsyncClient,  # noqa: F811
    booking_service: BookingService,  # noqa: F811
    token: str,
) -> None:
    await asyncio.to_thread(seed_world, booking_service.app)
    assert (await api.get(DAY_VIEW, headers=bearer(staff_token()))).status_code == 200
    refused = await api.get(DAY_VIEW, headers=bearer(token))
    assert refused.status_code == 401, refused.text


def test_the_maximum_lifetime_is_a_setting() -> None:
    short = StaffTokens(STAFF_KEYS, max_lifetime=timedelta(hours=8))
    day = StaffTokens(STAFF_KEYS).issue(MUNICIPALITY, "mette", Role.STAFF, timedelta(days=1))
    with pytest.raises(InvalidStaffToken):
        short.verify(day)
    assert StaffTokens(STAFF_KEYS).verify(day).account == "mette"


@pytest.mark.parametrize(
    "header",
    [
        b"Bearer \xc3\xa6\xc3\xb8\xc3\xa5",
        b"Bearer " + b"a" * 10_000,
        b"Bearer e30.e30.e30",
        b"Bearer !!!.@@@.###",
        b"Bearer \xff\xfe",
    ],
    ids=["non-ascii", "10kB", "empty-json", "bad-base64", "latin-1"],
)
async def test_a_malformed_staff_token_is_401(
    api: httpx.AsyncClient,  # noqa: F811
    booking_service: BookingService,  # noqa: F811
    header: bytes,
) -> None:
    refused = await api.get(DAY_VIEW, headers={"Authorization": header})
    assert refused.status_code == 401, refused.text


async def booked(client: httpx.AsyncClient) -> tuple[str, str]:
    created = await client.post(
        f"/api/v1/municipalities/{MUNICIPALITY}/bookings", json=booking_body()
    )
    assert created.status_code == 201, created.text
    return created.json()["booking_id"], created.json()["manage_token"]


def malleable_forms(token: str) -> list[str]:
    expiry, signature = token.split(".")
    return [
        f"0{expiry}.{signature}",  # a leading zero
        f"{fullwidth(expiry)}.{signature}",  # fullwidth digits
        f"{expiry}.0.{signature}",  # generation 0 written out
        f"+{expiry}.{signature}",
        f" {expiry}.{signature}",
        f"{expiry}.{signature}=",  # padded
        f"{expiry}.{signature}\n",
    ]


async def test_only_the_canonical_form_of_a_manage_token_opens_the_booking(
    api: httpx.AsyncClient,  # noqa: F811
    booking_service: BookingService,  # noqa: F811
) -> None:
    await asyncio.to_thread(seed_world, booking_service.app)
    booking_id, token = await booked(api)
    url = f"/api/v1/bookings/{booking_id}"
    assert (await api.get(url, headers={"X-Manage-Token": token})).status_code == 200
    tokens = booking_service.tokens
    for other in malleable_forms(token):
        assert not tokens.verify(uuid4(), other)
        assert not ManageTokens(tokens.secret).verify(UUID(booking_id), other)
        sent = other.encode()  # as the bytes a client sends
        refused = await api.get(url, headers={"X-Manage-Token": sent})
        assert refused.status_code == 404, (other, refused.text)


@pytest.mark.parametrize(
    "token",
    ["\xe6\xf8\xe5", "1" * 10_000, HUGE, "\u0661" * 10 + "." + "a" * 43],
    ids=["non-ascii", "10kB", "huge-number", "arabic-digits"],
)
async def test_a_malformed_manage_token_on_the_api_is_404(
    api: httpx.AsyncClient,  # noqa: F811
    booking_service: BookingService,  # noqa: F811
    token: str,
) -> None:
    await asyncio.to_thread(seed_world, booking_service.app)
    booking_id, _ = await booked(api)
    for method, path, body in (
        ("GET", "", None),
        ("POST", "/cancel", {}),
        ("POST", "/reschedule", {"starts_at": "2030-03-04T10:30:00+01:00"}),
    ):
        refused = await api.request(
            method,
            f"/api/v1/bookings/{booking_id}{path}",
            json=body,
            headers={"X-Manage-Token": token.encode()},
        )
        assert refused.status_code == 404, (path, refused.text)


@pytest.fixture
async def web(
    booking_service: BookingService,  # noqa: F811
    database_url: str,
    nc: NatsClient,
) -> AsyncIterator[httpx.AsyncClient]:
    """The pages in front of the real booking and reporting APIs."""
    async with real_pages(booking_service, database_url, nc) as app:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://web") as browser:
            yield browser


@pytest.mark.parametrize(
    "token",
    ["æøå", "\u0661" * 10 + "." + "a" * 43, "1" * 10_000, "\uff10" * 10 + "." + "a" * 43],
    ids=["non-ascii", "arabic-digits", "10kB", "fullwidth"],
)
async def test_a_malformed_token_on_the_manage_and_survey_pages_is_404(
    web: httpx.AsyncClient,
    booking_service: BookingService,  # noqa: F811
    token: str,
) -> None:
    await asyncio.to_thread(seed_world, booking_service.app)
    booking_id = uuid4()
    for page in (f"/manage/{booking_id}", f"/survey/{booking_id}"):
        refused = await web.get(page, params={"token": token})
        assert refused.status_code == 404, (page, refused.status_code, refused.text[:300])
    posted = await web.post(f"/manage/{booking_id}/cancel", data={"token": token, "confirm": "ja"})
    assert 400 <= posted.status_code < 500, posted.text[:300]


@pytest.mark.parametrize(
    "cookie",
    ["æøå".encode(), b"a" * 10_000, b"e30.e30.e30"],
    ids=["non-ascii", "10kB", "bad-token"],
)
async def test_a_malformed_staff_cookie_on_the_pages_is_a_login_not_a_500(
    web: httpx.AsyncClient, cookie: bytes
) -> None:
    for page in ("/dashboard", "/sites/korsoer/days/2030-03-04"):
        response = await web.get(
            f"/staff/{MUNICIPALITY}{page}",
            headers={"Cookie": TOKEN_COOKIE.encode() + b"=" + cookie},
        )
        assert response.status_code in (303, 401, 404), (page, response.status_code)


def login_of(municipality: str) -> dict[str, str]:
    token = staff_headers(municipality)["Authorization"].removeprefix("Bearer ")
    return {"Cookie": f"{TOKEN_COOKIE}={token}"}


async def test_another_municipalitys_dashboard_is_404_with_a_valid_cookie(
    web: httpx.AsyncClient,
    booking_service: BookingService,  # noqa: F811
) -> None:
    await asyncio.to_thread(seed_world, booking_service.app)
    own = await web.get(f"/staff/{MUNICIPALITY}/dashboard", headers=login_of(MUNICIPALITY))
    assert own.status_code == 200, own.text[:300]  # nothing reported yet: an empty dashboard
    for page in ("/dashboard", "/dashboard/figures", "/report"):
        foreign = await web.get(f"/staff/{MUNICIPALITY}{page}", headers=login_of("herning"))
        assert foreign.status_code == 404, (page, foreign.status_code, foreign.text[:300])
