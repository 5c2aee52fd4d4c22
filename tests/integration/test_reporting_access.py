"""Who may read reports: a municipality's figures only with a staff token of that municipality
(roles staff, admin, reporting); the regional report only with the reporting or admin role of
a municipality that shares its figures in it. Refusals say nothing an attacker could use."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import httpx
import pytest
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext

from infra.http import build_api
from infra.staff_tokens import Role, StaffTokens
from services.reporting.service import ReportingService
from tests.booking_world import STAFF_KEYS
from tests.reporting_world import (
    booked,
    publish,
    reader,
    registered,
    reporting_settings,
)
from tests.support import running_in_background

M = "/api/v1/municipalities/{}"
STREAM = "/events/stream"
# One route of each family under /municipalities/{m}: JSON, CSV, HTML, snapshot, stream.
ROUTES = (
    "/reports/bookings",
    "/reports/waiting-time",
    "/reports/waiting-time.csv",
    "/reports/operations",
    "/reports/operations.csv",
    "/reports/satisfaction",
    "/reports/lead-time",
    "/reports/sms",
    "/reports/period.html",
    "/key-figures",
    STREAM,
)
READ = [route for route in ROUTES if route != STREAM]  # the stream's 200: test_sse_stream.py
REGIONAL = ("/api/v1/regional/reports/summary", "/api/v1/regional/reports/summary.html")
UNAUTHORIZED = {"detail": "Unauthorized"}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def forged(municipality: str = "slagelse") -> str:
    """A well-formed admin token for `municipality`, signed with a key that is not its own."""
    wrong = StaffTokens({municipality: "a-key-that-is-not-the-municipalitys-own"})
    return wrong.issue(municipality, "mallory", Role.ADMIN, timedelta(hours=1))


def expired(municipality: str = "slagelse") -> str:
    yesterday = datetime.now(UTC) - timedelta(days=1)
    tokens = StaffTokens(STAFF_KEYS, clock=lambda: yesterday)
    return tokens.issue(municipality, "statistik", Role.REPORTING, timedelta(hours=8))


@pytest.fixture
async def reporting(
    database_url: str, nc: NatsClient, js: JetStreamContext
) -> AsyncIterator[tuple[ReportingService, httpx.AsyncClient]]:
    """The reporting service with figures for Slagelse and Herning (Hvidovre shares with the
    region too, Herning does not), and a client that sends no token of its own."""
    settings = reporting_settings(database_url, regional_municipalities=["slagelse", "hvidovre"])
    started = await ReportingService.start(settings, nc)
    async with running_in_background(started):
        await publish(
            js,
            started,
            registered("slagelse", 5),
            registered("herning", 5),
            booked(uuid4(), "2025-03-03", "2025-03-05"),
            booked(uuid4(), "2025-03-03", "2025-03-06", municipality="herning", site="herning"),
        )
        transport = httpx.ASGITransport(app=build_api("reporting", [started.router()]))
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield started, client
    await started.close()


async def test_every_route_of_a_municipality_refuses_a_request_without_a_token(
    reporting: tuple[ReportingService, httpx.AsyncClient],
) -> None:
    service, client = reporting
    own = M.format("{municipality}")
    published = build_api("reporting", [service.router()]).openapi()["paths"]
    paths = {path.removeprefix(own) for path in published if path.startswith(own)}
    assert paths >= set(ROUTES)  # every family above is among them
    for path in sorted(paths):
        response = await client.get(M.format("slagelse") + path)
        assert response.status_code == 401, path
        assert response.headers["www-authenticate"] == "Bearer"
        assert response.json() == UNAUTHORIZED


BAD = {
    "forged": f"Bearer {forged()}",
    "expired": f"Bearer {expired()}",
    "malformed": "Bearer not-a-token",
    "not bearer": "Basic c3RhdHM6c3RhdHM=",
}


@pytest.mark.parametrize("route", ROUTES)
async def test_a_bad_token_gets_a_bare_401(
    reporting: tuple[ReportingService, httpx.AsyncClient], route: str
) -> None:
    _, client = reporting
    for kind, authorization in BAD.items():
        response = await client.get(
            M.format("slagelse") + route, headers={"Authorization": authorization}
        )
        assert response.status_code == 401, kind
        assert response.headers["www-authenticate"] == "Bearer"
        assert response.json() == UNAUTHORIZED


@pytest.mark.parametrize("route", ROUTES)
async def test_another_municipalitys_token_gets_404_though_the_figures_exist(
    reporting: tuple[ReportingService, httpx.AsyncClient], route: str
) -> None:
    _, client = reporting
    for municipality, token_of in (("slagelse", "herning"), ("herning", "slagelse")):
        response = await client.get(
            M.format(municipality) + route, headers=reader(token_of, Role.ADMIN)
        )
        assert response.status_code == 404, (municipality, token_of)
        assert response.json() == {"detail": "Not Found"}  # as for a route that does not exist


@pytest.mark.parametrize("route", READ)
async def test_the_reporting_role_reads_its_own_municipalitys_figures(
    reporting: tuple[ReportingService, httpx.AsyncClient], route: str
) -> None:
    _, client = reporting
    for municipality in ("slagelse", "herning"):
        response = await client.get(M.format(municipality) + route, headers=reader(municipality))
        assert response.status_code == 200, (municipality, response.text)


@pytest.mark.parametrize("role", [Role.STAFF, Role.ADMIN, Role.REPORTING])
async def test_every_staff_role_reads_the_figures_of_its_municipality(
    reporting: tuple[ReportingService, httpx.AsyncClient], role: Role
) -> None:
    _, client = reporting
    response = await client.get(
        M.format("slagelse") + "/reports/bookings", headers=reader(role=role)
    )

    assert response.status_code == 200
    assert response.json()["total"]["active_bookings"] == 1  # Slagelse's booking, not Herning's


async def test_without_a_token_a_malformed_query_is_401_not_a_422_that_describes_the_route(
    reporting: tuple[ReportingService, httpx.AsyncClient],
) -> None:
    _, client = reporting
    response = await client.get(M.format("slagelse") + "/reports/sms", params={"half": "x"})

    assert response.status_code == 401
    assert response.json() == UNAUTHORIZED


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        (reader("slagelse"), 200),  # sharing, the reporting role
        (reader("slagelse", Role.ADMIN), 200),
        (reader("hvidovre"), 200),  # sharing, though it has reported nothing yet
        (reader("slagelse", Role.STAFF), 403),  # the front desk: its own dashboard only
        (reader("herning"), 403),  # keeps its figures to itself, so sees no one else's
        ({}, 401),
        (bearer(forged()), 401),
        (bearer(expired()), 401),
    ],
    ids=[
        "sharing-reporting",
        "sharing-admin",
        "sharing-without-figures",
        "sharing-staff",
        "not-sharing",
        "no-token",
        "forged",
        "expired",
    ],
)
async def test_the_regional_report_is_for_reporting_and_admin_of_sharing_municipalities(
    reporting: tuple[ReportingService, httpx.AsyncClient],
    headers: dict[str, str],
    status: int,
) -> None:
    _, client = reporting
    for path in REGIONAL:
        response = await client.get(path, params={"half": "2025-H1"}, headers=headers)
        assert response.status_code == status, (path, response.text)
        if status == 401:
            assert response.json() == UNAUTHORIZED
            assert response.headers["www-authenticate"] == "Bearer"
        if status == 403:
            assert response.json() == {"detail": "Forbidden"}
