"""A stand-in for the booking and reporting APIs, over httpx's mock transport: the pages
are tested against the JSON they are given, and the requests they make are recorded."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import httpx

from infra.http import build_api
from services.web.danish import COPENHAGEN, today
from services.web.service import WebService
from services.web.settings import WebSettings

BOOKING_ID = UUID("00000000-0000-4000-8000-000000000001")
# In the tokens' own forms (the pages pass on nothing else); only the fake checks them.
TOKEN = "4102444800." + "m" * 43  # a manage token
STAFF_TOKEN = "staff.token.fake"
REPORTING_TOKEN = "reporting.token.fake"  # the `reporting` role: figures, never bookings
FIRST = datetime.combine(today(), datetime.min.time(), COPENHAGEN) + timedelta(days=1, hours=9)

Handler = Callable[[httpx.Request], httpx.Response]


def free_time(starts_at: datetime) -> dict[str, Any]:
    return {
        "site": "korsoer",
        "starts_at": starts_at.isoformat(),
        "ends_at": (starts_at + timedelta(minutes=15)).isoformat(),
        "seats_left": 1,
    }


def booking(**changes: Any) -> dict[str, Any]:
    return {
        "booking_id": str(BOOKING_ID),
        "municipality": "slagelse",
        "site": "korsoer",
        "site_name": "Borgerservice Korsør",
        "service": "pas",
        "service_name": "Pas",
        "starts_at": FIRST.isoformat(),
        "ends_at": (FIRST + timedelta(minutes=15)).isoformat(),
        "documents": ["Dit nuværende pas", "Betaling med kort"],
        "status": "booked",
        "channel": "web",
        "citizen_name": "Karen Jensen",
        "phone": "+4520304050",
        **changes,
    }


class FakeApi:
    """Answers like the APIs do; `routes` may be replaced per test."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        m = "/api/v1/municipalities/slagelse"
        self.routes: dict[tuple[str, str], Handler] = {
            ("GET", f"{m}/services"): lambda r: ok(
                [
                    {
                        "id": "pas",
                        "name": "Pas",
                        "duration_minutes": 15,
                        "documents": ["Dit nuværende pas"],
                    }
                ]
            ),
            ("GET", f"{m}/sites"): lambda r: ok(
                [{"id": "korsoer", "name": "Borgerservice Korsør", "address": "Korsør"}]
            ),
            ("GET", f"{m}/availability"): lambda r: ok(
                [free_time(FIRST + timedelta(hours=2)), free_time(FIRST)]  # unordered
            ),
            ("POST", f"{m}/holds"): lambda r: ok(
                {
                    "hold_id": "h1",
                    "starts_at": FIRST.isoformat(),
                    "expires_at": (FIRST - timedelta(hours=1)).isoformat(),
                },
                201,
            ),
            ("POST", f"{m}/bookings"): lambda r: ok(booking(manage_token=TOKEN), 201),
            ("GET", f"/api/v1/bookings/{BOOKING_ID}"): self.owned(lambda r: ok(booking())),
            ("GET", f"{m}/sites/korsoer/days/{today()}/bookings"): self.staff(
                lambda r: ok([booking()])
            ),
            ("POST", f"{m}/bookings/{BOOKING_ID}/check-in"): self.staff(
                lambda r: ok(booking(status="checked_in"))
            ),
        }

    @staticmethod
    def owned(handler: Handler) -> Handler:
        def check(request: httpx.Request) -> httpx.Response:
            if request.headers.get("x-manage-token") != TOKEN:
                return ok({"detail": f"no booking {BOOKING_ID}"}, 404)
            return handler(request)

        return check

    @staticmethod
    def staff(handler: Handler) -> Handler:
        """A booking staff route: the reporting role is refused with 403."""
        return _staff_route(handler, allowed=(STAFF_TOKEN,), refused=(REPORTING_TOKEN,))

    @staticmethod
    def reader(handler: Handler) -> Handler:
        """A reporting route: staff and the reporting role may read it."""
        return _staff_route(handler, allowed=(STAFF_TOKEN, REPORTING_TOKEN), refused=())

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        route = self.routes.get((request.method, request.url.path))
        if route is None:
            return ok({"detail": "Not Found"}, 404)
        return route(request)

    def sent(self, method: str, path_end: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.method == method and r.url.path.endswith(path_end)]


def _staff_route(handler: Handler, allowed: tuple[str, ...], refused: tuple[str, ...]) -> Handler:
    def check(request: httpx.Request) -> httpx.Response:
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        if token in refused:
            return ok({"detail": "Forbidden"}, 403)
        if token not in allowed:
            return ok({"detail": "staff credentials are required"}, 401)
        return handler(request)

    return check


def ok(body: Any, status: int = 200) -> httpx.Response:
    return httpx.Response(status, json=body)


def body_of(request: httpx.Request) -> dict[str, Any]:
    return dict(json.loads(request.content))


def form_token_of(page: httpx.Response) -> str:
    """The form token a staff page gives its forms (every one of its forms has the same)."""
    found = re.search(r'name="csrf_token" value="([^"]*)"', page.text)
    assert found and found.group(1), page.text[:300]
    return found.group(1)


@asynccontextmanager
async def pages(fake: FakeApi) -> AsyncIterator[httpx.AsyncClient]:
    """The web pages, served in-process, talking to `fake`."""
    web = WebService.start(WebSettings(), transport=httpx.MockTransport(fake.handle))
    app = build_api("web", [web.router()])
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://web") as client:
        yield client
    await web.close()
