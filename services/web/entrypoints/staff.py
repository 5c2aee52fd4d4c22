"""Staff pages of one municipality, after login with its staff token: the day view per site
with the steps of a visit, booking on behalf of a citizen, and bulk cancellation."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated
from urllib.parse import urlencode
from uuid import UUID, uuid4

from fastapi import APIRouter, Depends, Form, Request, Response

from infra.staff_tokens import claimed_municipality
from services.web import danish
from services.web.adapters.api import Api, ApiError, StaffAuth
from services.web.entrypoints.pages import LoginRequired, NotAllowed, PageRoute, render, see_other
from services.web.entrypoints.sessions import (
    ACCESS_COOKIE,
    ACCOUNT_COOKIE,
    COOKIES,
    LOGIN_COOKIE,
    TOKEN_COOKIE,
    cookie_path,
    form_token,
    new_login_secret,
    over_https,
    require_form_token,
    set_cookie,
)
from services.web.settings import WebSettings

Text = Annotated[str, Form()]
Optional = Annotated[str, Form()]
REPORTS_ONLY = "reports"
STEPS = ("check-in", "start", "complete", "no-show", "pre-assessment")
DONE = {*STEPS, "bulk", "booked"}
ERRORS = {"conflict", "invalid", "reason"}


def staff_auth(request: Request, municipality: str) -> StaffAuth:
    """The staff login of this municipality (cookies scoped to its pages), or LoginRequired.
    A login that says it is another municipality's gets the 404 of every route of that
    municipality's APIs (some pages would otherwise show a 404 as "nothing reported yet")."""
    token = request.cookies.get(TOKEN_COOKIE)
    if not token:
        raise LoginRequired(municipality)
    claimed = claimed_municipality(token)
    if claimed is not None and claimed != municipality:
        raise ApiError(404, "Not Found", [])
    return StaffAuth(token=token, account=request.cookies.get(ACCOUNT_COOKIE) or "staff")


def reports_only(request: Request) -> bool:
    """The login may read the figures but not the bookings (the `reporting` role)."""
    return request.cookies.get(ACCESS_COOKIE) == REPORTS_ONLY


def dashboard_url(municipality: str) -> str:
    return f"/staff/{municipality}/dashboard"


def day_url(municipality: str, site: str, day: date | str, **flash: str | int) -> str:
    query = f"?{urlencode(flash)}" if flash else ""
    return f"/staff/{municipality}/sites/{site}/days/{day}{query}"


def staff_router(api: Api, settings: WebSettings) -> APIRouter:
    router = APIRouter(
        prefix="/staff/{municipality}",
        route_class=PageRoute,
        include_in_schema=False,
        dependencies=[Depends(require_form_token)],  # every POST of a staff page
    )

    @router.get("/login")
    async def login_form(request: Request, municipality: str, udloebet: str = "") -> Response:
        """The login form; a browser without a staff session gets a login cookie to tie the
        form's token to."""
        given = None
        if not (request.cookies.get(TOKEN_COOKIE) or request.cookies.get(LOGIN_COOKIE)):
            given = new_login_secret()
        page = render(
            request,
            "staff/login.html",
            municipality=municipality,
            expired=bool(udloebet),
            failed=False,
            csrf_token=form_token(request, given),
        )
        if given:
            https = over_https(request, settings.proxies)
            set_cookie(page, LOGIN_COOKIE, given, municipality, https)
        return page

    @router.post("/login")
    async def login(request: Request, municipality: str, account: Text, token: Text) -> Response:
        auth = StaffAuth(token=token.strip(), account=account.strip() or "staff")
        sites = await api.sites(municipality)
        access, landing = "bookings", f"/staff/{municipality}"
        try:
            await api.day(municipality, sites[0].id, danish.today(), auth)  # proves the token
        except ApiError as refused:
            if refused.status == 403:  # a genuine token of ours whose role sees no bookings
                access, landing = REPORTS_ONLY, dashboard_url(municipality)
            elif refused.refuses_credentials:
                return render(
                    request,
                    "staff/login.html",
                    401,
                    municipality=municipality,
                    expired=False,
                    failed=True,
                )
            elif refused.status != 404:  # a 404 of its own: the site is closed today
                raise
        response = see_other(landing)
        https = over_https(request, settings.proxies)
        cookies = {TOKEN_COOKIE: auth.token, ACCOUNT_COOKIE: auth.account, ACCESS_COOKIE: access}
        for name, value in cookies.items():
            set_cookie(response, name, value, municipality, https)
        return response

    @router.post("/logout")
    async def logout(municipality: str) -> Response:
        response = see_other(f"/staff/{municipality}/login")
        for name in COOKIES:
            response.delete_cookie(name, path=cookie_path(municipality))
        return response

    @router.get("")
    async def start_page(request: Request, municipality: str) -> Response:
        staff_auth(request, municipality)
        if reports_only(request):
            return see_other(dashboard_url(municipality))
        sites = await api.sites(municipality)
        return see_other(day_url(municipality, sites[0].id, danish.today()))

    @router.get("/day")
    async def pick_day(request: Request, municipality: str, site: str, day: date) -> Response:
        return see_other(day_url(municipality, site, day))

    @router.get("/sites/{site}/days/{day}")
    async def day_view(
        request: Request,
        municipality: str,
        site: str,
        day: date,
        done: str = "",
        error: str = "",
        count: int = 0,
    ) -> Response:
        auth = staff_auth(request, municipality)
        try:
            bookings, closed = await api.day(municipality, site, day, auth), False
        except ApiError as refused:
            if refused.status != 404 or refused.refuses_credentials:
                raise
            bookings, closed = [], True  # no bookable times at the site that day
        sites = await api.sites(municipality)
        return render(
            request,
            "staff/day.html",
            municipality=municipality,
            account=auth.account,
            reports_only=reports_only(request),
            sites=sites,
            site=next((s for s in sites if s.id == site), None),
            day=day,
            previous=day - timedelta(days=1),
            following=day + timedelta(days=1),
            bookings=bookings,
            closed=closed,
            done=done if done in DONE else "",
            error=error if error in ERRORS else "",
            count=count,
        )

    @router.post("/bookings/{booking_id}/{step}")
    async def take_step(
        request: Request,
        municipality: str,
        booking_id: UUID,
        step: str,
        site: Text,
        day: Annotated[date, Form()],
        outcome: Optional = "",
        note: Optional = "",
    ) -> Response:
        auth = staff_auth(request, municipality)
        if step not in STEPS:
            return see_other(day_url(municipality, site, day, error="invalid"))
        body = {"outcome": outcome, "note": note} if step == "pre-assessment" else None
        try:
            await api.staff_step(municipality, booking_id, step, auth, body)
        except ApiError as refused:
            if refused.status in (409, 422):
                error = "conflict" if refused.status == 409 else "invalid"
                return see_other(day_url(municipality, site, day, error=error))
            raise
        return see_other(day_url(municipality, site, day, done=step) + f"#booking-{booking_id}")

    @router.post("/sites/{site}/days/{day}/cancel")
    async def cancel_day(
        request: Request,
        municipality: str,
        site: str,
        day: date,
        reason: Optional = "",
        from_time: Optional = "",
        to_time: Optional = "",
    ) -> Response:
        auth = staff_auth(request, municipality)
        if not reason.strip():
            return see_other(day_url(municipality, site, day, error="reason"))
        body = {"reason": reason.strip()}
        body |= {"from_time": from_time} if from_time else {}
        body |= {"to_time": to_time} if to_time else {}
        try:
            count = await api.cancel_day(municipality, site, day, body, auth)
        except ApiError as refused:
            if refused.status in (409, 422):
                return see_other(day_url(municipality, site, day, error="invalid"))
            raise
        return see_other(day_url(municipality, site, day, done="bulk", count=count))

    async def on_behalf_page(
        request: Request,
        municipality: str,
        form: dict[str, str],
        status_code: int = 200,
        refused: ApiError | None = None,
        problem: str = "",
    ) -> Response:
        auth = staff_auth(request, municipality)
        if reports_only(request):
            raise NotAllowed(municipality)  # booking would refuse the login; say so at once
        services, sites = await api.services(municipality), await api.sites(municipality)
        free = []
        if form.get("service") and form.get("site"):
            first = danish.today()
            free = await api.free_times(
                municipality,
                form["service"],
                form["site"],
                first,
                first + timedelta(days=settings.days_shown - 1),
            )
        return render(
            request,
            "staff/book.html",
            status_code,
            municipality=municipality,
            account=auth.account,
            reports_only=False,
            services=services,
            sites=sites,
            form=form,
            free=free[:60],
            refused=refused,
            problem=problem,
        )

    @router.get("/book")
    async def on_behalf_form(
        request: Request, municipality: str, service: str = "", site: str = ""
    ) -> Response:
        form = {"service": service, "site": site, "idempotency_key": str(uuid4())}
        return await on_behalf_page(request, municipality, form)

    @router.post("/book")
    async def book_on_behalf(
        request: Request,
        municipality: str,
        service: Text,
        site: Text,
        idempotency_key: Text,
        citizen_name: Optional = "",
        phone: Optional = "",
        channel: Optional = "phone",
        starts_at: Optional = "",
        acute_time: Optional = "",
        acute_reason: Optional = "",
    ) -> Response:
        """Books for a citizen on the phone or at the counter; an acute reason books today's
        acute capacity at the given time."""
        auth = staff_auth(request, municipality)
        form = {
            "service": service,
            "site": site,
            "idempotency_key": idempotency_key,
            "citizen_name": citizen_name.strip(),
            "phone": phone.strip(),
            "channel": channel,
            "starts_at": starts_at,
            "acute_time": acute_time,
            "acute_reason": acute_reason.strip(),
        }
        when = _chosen_time(form)
        if when is None or not form["citizen_name"] or not form["phone"]:
            return await on_behalf_page(request, municipality, form, 422, problem="missing")
        body = {
            "site": site,
            "service": service,
            "starts_at": when.isoformat(),
            "citizen_name": form["citizen_name"],
            "phone": form["phone"],
            "channel": channel if channel in ("phone", "counter") else "phone",
        }
        if form["acute_reason"]:
            body["acute_reason"] = form["acute_reason"]
        try:
            booked = await api.book_on_behalf(municipality, body, auth, idempotency_key)
        except ApiError as refused:
            if refused.route_missing:
                return await on_behalf_page(request, municipality, form, 501, problem="unsupported")
            if refused.status in (409, 422):
                return await on_behalf_page(request, municipality, form, refused.status, refused)
            raise
        day = danish.local(booked.starts_at).date()
        return see_other(day_url(municipality, booked.site, day, done="booked"))

    return router


def _chosen_time(form: dict[str, str]) -> datetime | None:
    """The acute time today when an acute reason is given, else the chosen free time."""
    try:
        if form["acute_reason"]:
            at = time.fromisoformat(form["acute_time"])
            return datetime.combine(danish.today(), at, danish.COPENHAGEN)
        return datetime.fromisoformat(form["starts_at"]) if form["starts_at"] else None
    except ValueError:
        return None
