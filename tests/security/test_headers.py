"""Headers and sessions of the pages, against the real booking and reporting APIs: every page
sends a Content-Security-Policy without inline script and is framed by no one; the staff
cookies are Secure over https, also behind a trusted proxy, and not on an untrusted peer's
word; a staff form that changes state without its session's form token, or any page form
posted from another site, is a Danish 403 and changes nothing."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute
from nats.aio.client import Client as NatsClient

from services.booking.service import BookingService
from services.web.entrypoints.sessions import LOGIN_COOKIE, TOKEN_COOKIE
from services.web.service import PAGES, WebService
from services.web.settings import WebSettings
from tests.booking_world import DAY, MUNICIPALITY, SITE, booking_body, seed_world, staff_headers
from tests.integration.conftest import api, booking_service  # noqa: F401 - fixtures
from tests.security.real_pages import real_pages

PROXY, CITIZEN = "10.0.0.5", "192.0.2.10"
STAFF = f"/staff/{MUNICIPALITY}"
DAY_PAGE = f"{STAFF}/sites/{SITE}/days/{DAY}"
BULK_CANCEL = f"{DAY_PAGE}/cancel"
FORGED = "Formularen blev ikke sendt"
# Inline script or style the policy would refuse: a <script> without src, <style>, style=, on…=
INLINE = re.compile(r"<script(?![^>]*\ssrc=)[^>]*>|<style|\sstyle=|\son[a-z]+=", re.IGNORECASE)


def staff_token() -> str:
    return staff_headers()["Authorization"].removeprefix("Bearer ")


def directives(policy: str) -> dict[str, list[str]]:
    named = (part.split() for part in policy.split(";") if part.strip())
    return {words[0]: words[1:] for words in named}


def form_token_of(page: httpx.Response) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found, page.text[:300]
    return found.group(1)


@pytest.fixture
async def pages(
    booking_service: BookingService,  # noqa: F811
    database_url: str,
    nc: NatsClient,
) -> AsyncIterator[Callable[[str], httpx.AsyncClient]]:
    """A client of the pages calling from an address; only PROXY is a trusted proxy."""
    await asyncio.to_thread(seed_world, booking_service.app)
    opened: list[httpx.AsyncClient] = []
    async with real_pages(
        booking_service, database_url, nc, TRUSTED_PROXIES=[f"{PROXY}/32"]
    ) as app:

        def at(peer: str, base: str = "http://pages.test") -> httpx.AsyncClient:
            transport = httpx.ASGITransport(app=app, client=(peer, 50_000))
            opened.append(httpx.AsyncClient(transport=transport, base_url=base))
            return opened[-1]

        yield at
        for client in opened:
            await client.aclose()


async def logged_in(client: httpx.AsyncClient, **headers: str) -> httpx.Response:
    """As a browser: the login form, then the form posted with its token and the form's
    cookie (given by hand: over the proxy's https, the client itself sees http)."""
    form = await client.get(f"{STAFF}/login", headers=headers)
    posted = {"account": "mette", "token": staff_token(), "csrf_token": form_token_of(form)}
    cookie = {"Cookie": f"{LOGIN_COOKIE}={form.cookies[LOGIN_COOKIE]}"}
    login = await client.post(f"{STAFF}/login", data=posted, headers={**headers, **cookie})
    assert login.status_code == 303, login.text[:300]
    return login


async def page_paths(booking_id: str) -> list[str]:
    """Every GET route of the pages, its path filled with values of the test's world."""
    values = {"municipality": MUNICIPALITY, "site": SITE, "day": str(DAY), "booking_id": booking_id}
    async with httpx.AsyncClient() as client:
        service = WebService(WebSettings(), client)
        routes = [route for pages in PAGES for route in pages(service.api, service.settings).routes]
    return [
        route.path.format(**values)
        for route in routes
        if isinstance(route, APIRoute) and "GET" in route.methods
    ]


async def test_every_page_sends_a_content_security_policy_without_inline_script(
    pages: Callable[[str], httpx.AsyncClient],
    api: httpx.AsyncClient,  # noqa: F811
) -> None:
    booked = await book(api)
    booking_id, manage_token = booked["booking_id"], booked["manage_token"]
    browser = pages(CITIZEN)
    await logged_in(browser)
    query: dict[str, Any] = {
        "service": "pas",
        "site": SITE,
        "day": str(DAY),
        "municipality": MUNICIPALITY,
        "starts_at": booking_body()["starts_at"],
    }
    shown = 0
    for path in await page_paths(booking_id):
        if path.endswith("/dashboard/stream"):
            continue  # an event stream, not a page (and it never ends)
        page = await browser.get(path, params={**query, "token": manage_token})
        assert page.status_code < 500, (path, page.status_code, page.text[:300])
        policy = directives(page.headers.get("content-security-policy", ""))
        assert policy, (path, "no Content-Security-Policy")
        assert "'unsafe-inline'" not in policy.get("script-src", policy.get("default-src", []))
        framed_by = ["'self'"] if path.startswith(f"{STAFF}/report") else ["'none'"]
        assert policy["frame-ancestors"] == framed_by, path
        assert page.headers["x-content-type-options"] == "nosniff"
        if page.status_code == 200 and page.headers["content-type"].startswith("text/html"):
            if not path.startswith(f"{STAFF}/report"):  # the reporting service's document
                assert policy["script-src"] == ["'self'"] and policy["style-src"] == ["'self'"]
                assert not INLINE.search(page.text), (path, INLINE.search(page.text))
            shown += 1
    assert shown >= 10  # the pages themselves, not only their redirects


async def test_the_pages_static_files_are_served_with_their_types(
    pages: Callable[[str], httpx.AsyncClient],
) -> None:
    browser = pages(CITIZEN)
    css, script = await browser.get("/static/pages.css"), await browser.get("/static/dashboard.js")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    assert script.headers["x-content-type-options"] == "nosniff"


def cookie_flags(response: httpx.Response) -> dict[str, str]:
    """Each cookie set, with its attributes as written."""
    return {h.split("=", 1)[0]: h.lower() for h in response.headers.get_list("set-cookie")}


async def test_staff_cookies_are_secure_over_https_behind_a_trusted_proxy_only(
    pages: Callable[[str], httpx.AsyncClient],
) -> None:
    https = {"X-Forwarded-Proto": "https"}
    behind_proxy = await logged_in(pages(PROXY), **https)
    claimed_by_citizen = await logged_in(pages(CITIZEN), **https)
    direct_https = await logged_in(pages(CITIZEN, base="https://pages.test"))
    plain = await logged_in(pages(CITIZEN))
    for login in (behind_proxy, direct_https):
        flags = cookie_flags(login)
        assert flags[TOKEN_COOKIE] and all("; secure" in f for f in flags.values()), flags
    for login in (claimed_by_citizen, plain):
        flags = cookie_flags(login)
        assert flags[TOKEN_COOKIE] and not any("secure" in f for f in flags.values()), flags
    for login in (behind_proxy, plain):
        flags = cookie_flags(login)[TOKEN_COOKIE]
        assert "httponly" in flags and "samesite=strict" in flags, flags
    form = await pages(PROXY).get(f"{STAFF}/login", headers=https)
    assert "; secure" in cookie_flags(form)[LOGIN_COOKIE]


async def book(booking_api: httpx.AsyncClient) -> dict[str, str]:
    booked = await booking_api.post(
        f"/api/v1/municipalities/{MUNICIPALITY}/bookings", json=booking_body()
    )
    assert booked.status_code == 201, booked.text
    return dict(booked.json())


async def status_of(booking_api: httpx.AsyncClient, booked: dict[str, str]) -> str:
    found = await booking_api.get(
        f"/api/v1/bookings/{booked['booking_id']}",
        headers={"X-Manage-Token": booked["manage_token"]},
    )
    assert found.status_code == 200, found.text
    return str(found.json()["status"])


async def test_a_staff_form_without_its_session_token_is_refused_and_changes_nothing(
    pages: Callable[[str], httpx.AsyncClient],
    api: httpx.AsyncClient,  # noqa: F811
) -> None:
    booked = await book(api)
    browser, other = pages(CITIZEN), pages("192.0.2.11")
    await logged_in(browser)
    await logged_in(other)  # another session: its token is not this session's
    token = form_token_of(await browser.get(DAY_PAGE))
    elsewhere = form_token_of(await other.get(DAY_PAGE))
    assert token != elsewhere
    cancel = {"reason": "Medarbejder syg"}
    for forged in (
        {},
        {"csrf_token": ""},
        {"csrf_token": "x" * 43},
        {"csrf_token": elsewhere},
        {"csrf_token": "æøå"},
    ):
        refused = await browser.post(BULK_CANCEL, data={**cancel, **forged})
        assert refused.status_code == 403, (forged, refused.text[:300])
        assert FORGED in refused.text
    step = await browser.post(
        f"{STAFF}/bookings/{booked['booking_id']}/check-in",
        data={"site": SITE, "day": str(DAY)},
    )
    assert step.status_code == 403 and FORGED in step.text
    assert await status_of(api, booked) == "booked"

    done = await browser.post(BULK_CANCEL, data={**cancel, "csrf_token": token})
    assert done.status_code == 303 and "done=bulk&count=1" in done.headers["location"]
    assert await status_of(api, booked) == "cancelled"


async def test_a_login_without_the_token_of_its_form_is_refused(
    pages: Callable[[str], httpx.AsyncClient],
) -> None:
    browser = pages(CITIZEN)
    await browser.get(f"{STAFF}/login")
    refused = await browser.post(
        f"{STAFF}/login", data={"account": "mette", "token": staff_token()}
    )
    assert refused.status_code == 403 and FORGED in refused.text
    assert TOKEN_COOKIE not in cookie_flags(refused)


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
    ],
    ids=["sec-fetch-cross-site", "sec-fetch-same-site", "foreign-origin", "null-origin"],
)
async def test_a_form_posted_from_another_site_is_refused_even_with_its_token(
    pages: Callable[[str], httpx.AsyncClient],
    api: httpx.AsyncClient,  # noqa: F811
    headers: dict[str, str],
) -> None:
    browser = pages(CITIZEN)
    await logged_in(browser)
    token = form_token_of(await browser.get(DAY_PAGE))
    booked = await book(api)
    staff = await browser.post(
        BULK_CANCEL, data={"reason": "Medarbejder syg", "csrf_token": token}, headers=headers
    )
    citizen = await browser.post(
        f"/book/{MUNICIPALITY}/hold",
        data={"service": "pas", "site": SITE, "starts_at": booking_body()["starts_at"]},
        headers=headers,
    )
    for refused in (staff, citizen):
        assert refused.status_code == 403 and FORGED in refused.text, refused.text[:300]
    assert await status_of(api, booked) == "booked"


async def test_a_form_from_the_pages_own_origin_passes(
    pages: Callable[[str], httpx.AsyncClient],
    api: httpx.AsyncClient,  # noqa: F811
) -> None:
    browser = pages(CITIZEN)
    await logged_in(browser, Origin="http://pages.test", **{"Sec-Fetch-Site": "same-origin"})
    token = form_token_of(await browser.get(DAY_PAGE))
    booked = await book(api)
    done = await browser.post(
        BULK_CANCEL,
        data={"reason": "Medarbejder syg", "csrf_token": token},
        headers={"Origin": "http://pages.test"},
    )
    assert done.status_code == 303, done.text[:300]
    assert await status_of(api, booked) == "cancelled"
