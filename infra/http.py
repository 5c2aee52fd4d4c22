"""The one way an HTTP API is assembled: routers, readable 422s, domain errors mapped."""

from __future__ import annotations

from collections.abc import Iterable

import structlog
from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from infra.transient import is_transient

RETRY_AFTER_SECONDS = 5
log = structlog.get_logger()


def _readable(error: RequestValidationError | ValidationError) -> JSONResponse:
    problems = [
        {"field": ".".join(str(p) for p in e["loc"] if p != "body"), "problem": e["msg"]}
        for e in error.errors()
    ]
    detail = "; ".join(f"{p['field']}: {p['problem']}" for p in problems)
    return JSONResponse({"detail": detail, "errors": problems}, status_code=422)


class AnswerOutages:
    """PostgreSQL or NATS away while a request is served: 503 with `Retry-After`, instead of
    a 500 or a request hanging; the process goes on serving what it can."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        except Exception as error:
            if started or not is_transient(error):
                raise
            log.warning("http.outage", path=scope.get("path"), error=repr(error)[:200])
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
) -> FastAPI:
    """A FastAPI app with OpenAPI at /docs; `error_statuses` maps domain errors to statuses,
    their message becoming the `detail`."""
    api = FastAPI(title=title, version="1")
    for router in routers:
        api.include_router(router)

    async def validation_failed(_: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, RequestValidationError | ValidationError)
        return _readable(error)

    api.add_exception_handler(RequestValidationError, validation_failed)
    # A command model built in a route from the request's values refuses them: still the
    # client's input, so 422, never a 500. (Response models fail as ResponseValidationError.)
    api.add_exception_handler(ValidationError, validation_failed)
    for error_type, status in (error_statuses or {}).items():

        async def domain_error(_: Request, error: Exception, status: int = status) -> JSONResponse:
            return JSONResponse({"detail": str(error)}, status_code=status)

        api.add_exception_handler(error_type, domain_error)

    api.add_middleware(AnswerOutages)

    @api.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return api
