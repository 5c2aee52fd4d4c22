"""The HTTP breaker: once PostgreSQL is found away, requests answer 503 at once instead of each
waiting out the pool's timeout; one at a time finds out whether it is back; a bus outage and
paths outside the API never open it."""

from __future__ import annotations

import asyncio

import httpx
import nats.errors
import psycopg
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.types import ASGIApp

from infra.http import AnswerOutages


class Backend:
    def __init__(self) -> None:
        self.calls = 0
        self.failure: Exception | None = psycopg.OperationalError("connection refused")

    async def answer(self, request: Request) -> PlainTextResponse:
        self.calls += 1
        await asyncio.sleep(0.01)
        if self.failure is not None:
            raise self.failure
        return PlainTextResponse("ok")


def client(backend: Backend, open_seconds: float) -> tuple[httpx.AsyncClient, AnswerOutages]:
    """As `build_api` has it: inside Starlette's error middleware, which answers 500."""
    routes = [Route("/api/x", backend.answer), Route("/healthz", backend.answer)]
    app = Starlette(routes=routes)
    breakers: list[AnswerOutages] = []

    def made(inner: ASGIApp) -> AnswerOutages:
        breakers.append(AnswerOutages(inner, open_seconds=open_seconds))
        return breakers[-1]

    app.add_middleware(made)  # type: ignore[arg-type]
    app.middleware_stack = app.build_middleware_stack()
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://test"), breakers[0]


async def test_a_database_outage_answers_at_once_then_one_request_tries_again() -> None:
    backend = Backend()
    http, breaker = client(backend, open_seconds=0.3)
    async with http:
        first = await http.get("/api/x")
        assert (first.status_code, first.headers["retry-after"]) == (503, "5")
        answers = await asyncio.gather(*(http.get("/api/x") for _ in range(20)))
        assert {a.status_code for a in answers} == {503}
        assert backend.calls == 1  # none of them waited on the database
        assert (await http.get("/healthz")).status_code == 503
        assert backend.calls == 2  # health always reaches the service
        await asyncio.sleep(0.35)
        backend.failure = None
        trying = await asyncio.gather(*(http.get("/api/x") for _ in range(5)))
        assert sorted(a.status_code for a in trying).count(200) == 1  # one tried, it got through
        assert breaker.away_until == 0.0
        assert (await http.get("/api/x")).status_code == 200


async def test_a_bus_outage_never_opens_it() -> None:
    backend = Backend()
    backend.failure = nats.errors.NoServersError()
    http, breaker = client(backend, open_seconds=10)
    async with http:
        assert (await http.get("/api/x")).status_code == 503
        assert (await http.get("/api/x")).status_code == 503
        assert backend.calls == 2 and breaker.away_until == 0.0
