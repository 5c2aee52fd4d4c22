"""The one way an HTTP API is assembled: routers, readable 422s, domain errors mapped, request
bodies bounded, and an OpenAPI document that describes the error bodies the API really sends."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import structlog
import uvicorn
from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from infra.health import Operations
from infra.metrics import RequestLatency
from infra.settings import ConnectionSettings
from infra.transient import is_database_outage, is_transient

RETRY_AFTER_SECONDS = 5
log = structlog.get_logger()

STAFF_TAG = "staff"  # routes with this tag are the administration's: the larger body limit
# Every response of the API; the pages add their Content-Security-Policy (services/web).
SECURITY_HEADERS = ((b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer"))


@dataclass(frozen=True)
class BodyLimits:
    """The largest request body, in bytes, of a citizen route and of a staff route."""

    citizen: int = 64 * 1024
    staff: int = 1024 * 1024

    @classmethod
    def of(cls, settings: ConnectionSettings) -> BodyLimits:
        return cls(settings.max_body_bytes, settings.max_staff_body_bytes)


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"The request body is larger than the limit of {limit} bytes")


class _Bounded:
    """Refuses a body beyond its route's limit with 413 before reading it (a Content-Length
    above the limit) or as soon as it is exceeded (chunked, or a Content-Length that lies):
    no more than the limit plus one chunk is ever held in memory."""

    def __init__(self, app: ASGIApp, limits: BodyLimits) -> None:
        self.app, self.limits = app, limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length", b"")
        declared = int(length) if length.isdigit() else 0
        received = 0
        started = False

        async def bounded_receive() -> Message:
            nonlocal received
            limit = self._limit_of(scope)  # the route is known once its body is read
            if declared > limit:
                raise BodyTooLarge(limit)
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, bounded_receive, tracked_send)
        except BodyTooLarge as refused:  # read outside a route (a dependency, a middleware)
            if started:
                raise
            await _refuse(refused, send)

    def _limit_of(self, scope: Scope) -> int:
        route = scope.get("route")
        staff = isinstance(route, APIRoute) and STAFF_TAG in route.tags
        return self.limits.staff if staff else self.limits.citizen


async def _refuse(refused: HTTPException, send: Send) -> None:
    await _send_json(send, refused.status_code, {"detail": refused.detail})


async def _send_json(send: Send, status: int, body: dict[str, Any]) -> None:
    response = JSONResponse(body, status_code=status, headers={"Connection": "close"})
    await send({"type": "http.response.start", "status": status, "headers": response.raw_headers})
    await send({"type": "http.response.body", "body": response.body})


class _SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(n, v) for n, v in SECURITY_HEADERS if n not in present]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, with_headers if scope["type"] == "http" else send)


def http_server(api: FastAPI, host: str, port: int) -> uvicorn.Server:
    """The HTTP server of `api`. It never believes X-Forwarded-For or X-Forwarded-Proto itself
    (uvicorn would, from loopback): the rate limit decides whom to trust (TRUSTED_PROXIES)."""
    config = uvicorn.Config(api, host=host, port=port, log_level="warning", proxy_headers=False)
    return uvicorn.Server(config)


def _readable(error: RequestValidationError | ValidationError) -> JSONResponse:
    problems = [
        {"field": ".".join(str(p) for p in e["loc"] if p != "body"), "problem": e["msg"]}
        for e in error.errors()
    ]
    detail = "; ".join(f"{p['field']}: {p['problem']}" for p in problems)
    return JSONResponse({"detail": detail, "errors": problems}, status_code=422)


# What FastAPI answers (400) for a body it cannot even decode, such as bytes that are no UTF-8.
_UNDECODABLE_BODY = "There was an error parsing the body"


async def _refused(request: Request, error: Exception) -> Any:
    """FastAPI's own refusals, but an undecodable body is invalid input like any other: 422
    naming the body, as the OpenAPI document promises."""
    assert isinstance(error, StarletteHTTPException)
    if error.status_code == 400 and error.detail == _UNDECODABLE_BODY:
        problem = {"field": "body", "problem": "is not JSON in UTF-8"}
        return JSONResponse({"detail": "body: is not JSON in UTF-8", "errors": [problem]}, 422)
    return await http_exception_handler(request, error)


class AnswerOutages:
    """PostgreSQL or NATS away while a request is served: 503 with `Retry-After`, instead of
    a 500 or a request hanging; the process goes on serving what it can.

    A breaker in front: once a request found PostgreSQL away, the next ones answer 503 at once
    for `open_seconds` instead of each waiting out the pool's connect timeout and queueing in
    the worker threads; then one request at a time tries the database again until one gets
    through. A bus outage never opens it (bookings need only the database). Paths outside
    `/api/` (health, metrics, the pages' own assets) always pass."""

    def __init__(self, app: ASGIApp, open_seconds: float = 2.0) -> None:
        self.app = app
        self.open_seconds = open_seconds
        self.away_until = 0.0  # monotonic time until which PostgreSQL is taken to be away
        self.trying = False  # one request is finding out whether it is back

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        guarded = str(scope.get("path", "")).startswith("/api/")
        trying = False
        if guarded and self.away_until:
            if self.trying or time.monotonic() < self.away_until:
                await self._unavailable(scope, receive, send)
                return
            self.trying = trying = True
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracked)
            if trying:
                self.away_until = 0.0
                log.info("http.database_back")
        except Exception as error:
            if guarded and is_database_outage(error):
                self.away_until = time.monotonic() + self.open_seconds
            if started or not is_transient(error):
                raise
            log.warning("http.outage", path=scope.get("path"), error=repr(error)[:200])
            await self._unavailable(scope, receive, send)
        finally:
            if trying:
                self.trying = False

    @staticmethod
    async def _unavailable(scope: Scope, receive: Receive, send: Send) -> None:
        response = JSONResponse(
            {"detail": "temporarily unavailable: the database or the bus is restarting"},
            status_code=503,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
        await response(scope, receive, send)


def build_api(
    title: str,
    routers: Iterable[APIRouter],
    error_statuses: dict[type[Exception], int] | None = None,
    body_limits: BodyLimits | None = None,
    operations: Operations | None = None,
) -> FastAPI:
    """A FastAPI app with OpenAPI at /docs; `error_statuses` maps domain errors to statuses,
    their message becoming the `detail`. `/livez`, `/readyz` and `/metrics` tell about the
    services of `operations` (infra/health.py); without them, about the process alone."""
    api = FastAPI(title=title, version="1")
    operations = operations or Operations()
    for router in [operations.router(), *routers]:
        api.include_router(router)

    async def validation_failed(_: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, RequestValidationError | ValidationError)
        return _readable(error)

    api.add_exception_handler(RequestValidationError, validation_failed)
    api.add_exception_handler(StarletteHTTPException, _refused)
    # A command model built in a route from the request's values refuses them: still the
    # client's input, so 422, never a 500. (Response models fail as ResponseValidationError.)
    api.add_exception_handler(ValidationError, validation_failed)
    statuses = dict(error_statuses or {})
    for error_type, status in statuses.items():

        async def domain_error(_: Request, error: Exception, status: int = status) -> JSONResponse:
            return JSONResponse({"detail": str(error)}, status_code=status)

        api.add_exception_handler(error_type, domain_error)

    api.add_middleware(AnswerOutages)
    api.add_middleware(_Bounded, limits=body_limits or BodyLimits())
    api.add_middleware(_SecurityHeaders)
    api.add_middleware(RequestLatency, histogram=operations.latency)  # outermost: all of it
    _describe_errors(api, set(statuses.values()))
    return api


# The project's error bodies, as the OpenAPI document promises them.
PROBLEM = {
    "title": "Problem",
    "type": "object",
    "properties": {"detail": {"title": "Detail", "type": "string"}},
    "required": ["detail"],
}
FIELD_PROBLEM = {
    "title": "FieldProblem",
    "type": "object",
    "properties": {
        "field": {"title": "Field", "type": "string"},
        "problem": {"title": "Problem", "type": "string"},
    },
    "required": ["field", "problem"],
}
VALIDATION_PROBLEM = {
    "title": "ValidationProblem",
    "type": "object",
    "properties": {
        "detail": {"title": "Detail", "type": "string"},
        "errors": {"type": "array", "items": {"$ref": "#/components/schemas/FieldProblem"}},
    },
    "required": ["detail"],
}
ERROR_DESCRIPTIONS = {
    401: "No valid staff token (Authorization: Bearer)",
    403: "The token's municipality or role may not do this",
    409: "Conflict with the current state",
    413: "Request body too large",
    422: "Invalid input, naming each field and its problem",
    429: "Too many requests; wait the seconds in Retry-After",
}
_METHODS = frozenset({"get", "put", "post", "delete", "patch", "head", "options"})


def _describe_errors(api: FastAPI, domain_statuses: set[int]) -> None:
    """Replaces FastAPI's validation error schema by the project's, and adds the error
    statuses every operation may answer (422, 413, 429 and the domain errors')."""

    def openapi() -> dict[str, Any]:
        if api.openapi_schema is None:
            document = get_openapi(title=api.title, version=api.version, routes=api.routes)
            schemas = document.setdefault("components", {}).setdefault("schemas", {})
            for unused in ("HTTPValidationError", "ValidationError"):
                schemas.pop(unused, None)
            schemas |= {
                "Problem": PROBLEM,
                "FieldProblem": FIELD_PROBLEM,
                "ValidationProblem": VALIDATION_PROBLEM,
            }
            for path in document.get("paths", {}).values():
                for method, operation in path.items():
                    if method in _METHODS:
                        _add_error_responses(operation, domain_statuses)
            api.openapi_schema = document
        return api.openapi_schema

    api.openapi = openapi  # type: ignore[method-assign]


def _takes_staff_token(operation: dict[str, Any]) -> bool:
    return any(
        parameter.get("in") == "header" and str(parameter.get("name")).lower() == "authorization"
        for parameter in operation.get("parameters", [])
    )


def _add_error_responses(operation: dict[str, Any], domain_statuses: set[int]) -> None:
    responses = operation.setdefault("responses", {})
    statuses = {422, 429, *domain_statuses} | ({413} if "requestBody" in operation else set())
    if _takes_staff_token(operation):
        statuses |= {401, 403}
    for status in sorted(statuses):
        schema = "ValidationProblem" if status == 422 else "Problem"
        existing = responses.get(str(status))
        if existing is not None and status != 422:
            continue  # the route documents its own body (e.g. 409 with alternatives)
        responses[str(status)] = {
            "description": ERROR_DESCRIPTIONS.get(status, "Refused"),
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
        }
