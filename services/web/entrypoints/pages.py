"""What every page shares: the Danish templates, their headers (Content-Security-Policy), the
refusal of forms posted from another site, and the one place where an API that is down, a
booking that is not found, a staff login that has run out or a role that may not use a page
become a page."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import structlog
from fastapi import Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from services.web import danish
from services.web.adapters.api import ApiError, ApiUnavailable
from services.web.entrypoints.sessions import FORM_FIELD, ForgedForm, form_token

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
log = structlog.get_logger()
# Scripts and styles only from the pages' own static files, nothing inline; the pages are
# framed by no one; the dashboard's EventSource and fetch reach this origin only.
PAGE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; "
    "object-src 'none'"
)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class LoginRequired(Exception):
    """The staff page needs a (new) staff login for this municipality."""

    def __init__(self, municipality: str) -> None:
        super().__init__(municipality)
        self.municipality = municipality


class NotAllowed(Exception):
    """The staff login's role may not use this page (the `reporting` role on a booking page)."""

    def __init__(self, municipality: str) -> None:
        super().__init__(municipality)
        self.municipality = municipality


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        clock=danish.clock, day_name=danish.day_name, when=danish.when, local=danish.local
    )
    env.globals.update(STATUSES=danish.STATUSES, CHANNELS=danish.CHANNELS)
    return env


ENVIRONMENT = _environment()


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """The page; a staff page's forms get the session's form token (`csrf_token`)."""
    context.setdefault(FORM_FIELD, form_token(request))
    page = ENVIRONMENT.get_template(template).render(request=request, **context)
    return HTMLResponse(page, status_code=status_code)


def see_other(url: str) -> RedirectResponse:
    """After a form is posted: the browser fetches `url`, so a reload posts nothing twice."""
    return RedirectResponse(url, status_code=303)


def login_url(municipality: str) -> str:
    return f"/staff/{municipality}/login"


def not_allowed(request: Request, municipality: str) -> HTMLResponse:
    return render(request, "error.html", 403, problem="not_allowed", municipality=municipality)


def from_another_site(request: Request) -> bool:
    """A form posted by a page of another origin, as the browser tells: by Sec-Fetch-Site, or
    where a browser sends none, by an Origin that is not this host. A request with neither is
    not a browser's form (the order of Go's net/http CrossOriginProtection)."""
    if request.method in SAFE_METHODS:
        return False
    fetched_from = request.headers.get("sec-fetch-site")
    if fetched_from is not None:
        return fetched_from not in ("same-origin", "none")
    origin = request.headers.get("origin")
    if origin is None:
        return False
    host = request.headers.get("host", "").lower()
    return origin == "null" or urlsplit(origin.lower()).netloc != host


def forged(request: Request) -> HTMLResponse:
    return render(request, "error.html", 403, problem="forged")


class PageRoute(APIRoute):
    """A page route: failures of the APIs behind it are shown as a page, not a traceback;
    every response carries the pages' Content-Security-Policy (unless it has its own)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def page(request: Request) -> Response:
            shown = await answer(request)
            shown.headers.setdefault("Content-Security-Policy", PAGE_POLICY)
            return shown

        async def answer(request: Request) -> Response:
            municipality = str(request.path_params.get("municipality", ""))
            if from_another_site(request):
                return forged(request)
            try:
                return await handle(request)
            except ForgedForm:
                return forged(request)
            except LoginRequired as needed:
                return see_other(login_url(needed.municipality))
            except NotAllowed as refused:
                return not_allowed(request, refused.municipality)
            except ApiError as refused:
                if refused.status == 401 and municipality:
                    return see_other(login_url(municipality) + "?udloebet=1")
                if refused.status == 403 and municipality:
                    return not_allowed(request, municipality)
                if refused.status == 404:
                    return render(request, "error.html", 404, problem="not_found")
                if refused.status == 429:  # the citizen's own allowance, not a fault of ours
                    wait = max(refused.retry_after, 1)
                    shown = render(
                        request, "error.html", 429, problem="too_many", minutes=-(-wait // 60)
                    )
                    shown.headers["Retry-After"] = str(wait)
                    return shown
                raise
            except ApiUnavailable as failure:
                log.warning("web.api_unavailable", error=str(failure))
                return render(request, "error.html", 502, problem="unavailable")

        return page
