"""The citizen's booking: service → site → free time → hold → name and phone →
confirmation. Every step works without JavaScript; a taken time offers the nearest ones."""

from __future__ import annotations

import contextlib
from datetime import date, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode
from uuid import UUID, uuid4

from fastapi import APIRouter, Form, Query, Request, Response
from pydantic import AwareDatetime

from services.web import danish
from services.web.adapters.api import Api, ApiError, FreeTime
from services.web.entrypoints.pages import PageRoute, render, see_other
from services.web.settings import WebSettings

Text = Annotated[str, Form()]
Moment = Annotated[AwareDatetime, Form()]


def citizen_router(api: Api, settings: WebSettings) -> APIRouter:
    router = APIRouter(route_class=PageRoute, include_in_schema=False)

    async def chosen(municipality: str, service: str, site: str) -> dict[str, Any]:
        services = {s.id: s for s in await api.services(municipality)}
        sites = {s.id: s for s in await api.sites(municipality)}
        return {"service": services.get(service), "site": sites.get(site)}

    async def times_page(
        request: Request,
        municipality: str,
        service: str,
        site: str,
        first: date,
        status_code: int = 200,
        taken: datetime | None = None,
        alternatives: list[FreeTime] | None = None,
        problem: str | None = None,
    ) -> Response:
        picked = await chosen(municipality, service, site)
        if picked["service"] is None or picked["site"] is None:
            return see_other(f"/book/{municipality}")
        last = first + timedelta(days=settings.days_shown - 1)
        free = await api.free_times(municipality, service, site, first, last)
        days: dict[date, list[FreeTime]] = {}
        for time in free:
            days.setdefault(danish.local(time.starts_at).date(), []).append(time)
        return render(
            request,
            "citizen/times.html",
            status_code,
            municipality=municipality,
            **picked,
            first=first,
            last=last,
            later=(last + timedelta(days=1)).isoformat(),
            earlier=(first - timedelta(days=settings.days_shown)).isoformat()
            if first > danish.today()
            else None,
            next_free=free[0] if free else None,
            days=days,
            taken=taken,
            alternatives=alternatives,
            problem=problem,
        )

    @router.get("/")
    async def front_page(request: Request) -> Response:
        return render(request, "index.html", municipalities=settings.municipalities)

    @router.get("/book")
    async def pick_municipality(municipality: str) -> Response:
        return see_other(f"/book/{municipality.strip().lower()}")

    @router.get("/book/{municipality}")
    async def services(request: Request, municipality: str) -> Response:
        found = await api.services(municipality)
        return render(request, "citizen/services.html", municipality=municipality, services=found)

    @router.get("/book/{municipality}/sites")
    async def sites(request: Request, municipality: str, service: str) -> Response:
        picked = await chosen(municipality, service, "")
        if picked["service"] is None:
            return see_other(f"/book/{municipality}")
        found = await api.sites(municipality)
        return render(
            request, "citizen/sites.html", municipality=municipality, sites=found, **picked
        )

    @router.get("/book/{municipality}/times")
    async def times(
        request: Request,
        municipality: str,
        service: str,
        site: str,
        from_: Annotated[date | None, Query(alias="from")] = None,
    ) -> Response:
        first = max(from_ or danish.today(), danish.today())
        return await times_page(request, municipality, service, site, first)

    @router.post("/book/{municipality}/hold")
    async def hold(
        request: Request, municipality: str, service: Text, site: Text, starts_at: Moment
    ) -> Response:
        """Holds the chosen seat while the citizen types name and phone."""
        details = {"service": service, "site": site, "starts_at": starts_at.isoformat()}
        try:
            held = await api.hold(municipality, site, service, starts_at)
        except ApiError as refused:
            if not refused.route_missing:
                return await refused_page(request, municipality, service, site, starts_at, refused)
            # A booking API without holds: the seat is taken when the booking is made.
        else:
            details |= {"hold_id": held.hold_id, "expires_at": held.expires_at.isoformat()}
        return see_other(f"/book/{municipality}/details?{urlencode(details)}")

    async def refused_page(
        request: Request,
        municipality: str,
        service: str,
        site: str,
        starts_at: datetime,
        refused: ApiError,
    ) -> Response:
        first = danish.local(starts_at).date()
        if refused.status == 409:
            return await times_page(
                request,
                municipality,
                service,
                site,
                max(first, danish.today()),
                409,
                taken=starts_at,
                alternatives=refused.alternatives,
            )
        return await times_page(
            request,
            municipality,
            service,
            site,
            danish.today(),
            refused.status,
            problem="invalid",
        )

    @router.post("/book/{municipality}/release")
    async def release(municipality: str, service: Text, site: Text, hold_id: Text) -> Response:
        """The citizen chose to pick another time: the held seat is free for others at once."""
        with contextlib.suppress(ApiError):  # already expired or released: nothing is held
            await api.release_hold(municipality, hold_id)
        return see_other(
            f"/book/{municipality}/times?{urlencode({'service': service, 'site': site})}"
        )

    async def details_page(
        request: Request,
        municipality: str,
        form: dict[str, str],
        status_code: int = 200,
        problems: dict[str, str] | None = None,
    ) -> Response:
        picked = await chosen(municipality, form["service"], form["site"])
        if picked["service"] is None or picked["site"] is None:
            return see_other(f"/book/{municipality}")
        expires = form.get("expires_at")
        return render(
            request,
            "citizen/details.html",
            status_code,
            municipality=municipality,
            form=form,
            starts_at=datetime.fromisoformat(form["starts_at"]),
            expires_at=datetime.fromisoformat(expires) if expires else None,
            problems=problems or {},
            **picked,
        )

    @router.get("/book/{municipality}/details")
    async def details(
        request: Request,
        municipality: str,
        service: str,
        site: str,
        starts_at: AwareDatetime,
        hold_id: str = "",
        expires_at: AwareDatetime | None = None,
    ) -> Response:
        form = {
            "service": service,
            "site": site,
            "starts_at": starts_at.isoformat(),
            "hold_id": hold_id,
            "expires_at": expires_at.isoformat() if expires_at else "",
            "idempotency_key": str(uuid4()),  # a double submit books once
            "citizen_name": "",
            "phone": "",
        }
        return await details_page(request, municipality, form)

    @router.post("/book/{municipality}/bookings")
    async def book(
        request: Request,
        municipality: str,
        service: Text,
        site: Text,
        starts_at: Moment,
        idempotency_key: Text,
        citizen_name: Annotated[str, Form()] = "",
        phone: Annotated[str, Form()] = "",
        hold_id: Annotated[str, Form()] = "",
        expires_at: Annotated[str, Form()] = "",
    ) -> Response:
        form = {
            "service": service,
            "site": site,
            "starts_at": starts_at.isoformat(),
            "hold_id": hold_id,
            "expires_at": expires_at,
            "idempotency_key": idempotency_key,
            "citizen_name": citizen_name.strip(),
            "phone": phone.strip(),
        }
        missing = {field: "required" for field in ("citizen_name", "phone") if not form[field]}
        if missing:
            return await details_page(request, municipality, form, 422, missing)
        body = {k: form[k] for k in ("site", "service", "starts_at", "citizen_name", "phone")}
        if hold_id:
            body["hold_id"] = hold_id
        try:
            booked = await api.book(municipality, body, idempotency_key)
        except ApiError as refused:
            if refused.status == 409:
                return await refused_page(request, municipality, service, site, starts_at, refused)
            if refused.status == 422:
                return await details_page(
                    request, municipality, form, 422, field_problems(refused.detail)
                )
            # e.g. the hold ran out: say so and let the citizen choose again
            return await details_page(
                request, municipality, form, refused.status, {"form": "refused"}
            )
        token = urlencode({"token": booked.manage_token or ""})
        return see_other(f"/book/{municipality}/confirmation/{booked.booking_id}?{token}")

    @router.get("/book/{municipality}/confirmation/{booking_id}")
    async def confirmation(
        request: Request, municipality: str, booking_id: UUID, token: str
    ) -> Response:
        booking = await api.booking(booking_id, token)
        sites = {s.id: s for s in await api.sites(booking.municipality)}
        manage = str(request.url_for("manage_page", booking_id=booking_id))
        return render(
            request,
            "citizen/confirmation.html",
            booking=booking,
            site=sites.get(booking.site),
            manage_url=f"{manage}?{urlencode({'token': token})}",
        )

    return router


def field_problems(detail: str) -> dict[str, str]:
    """The booking API's 422 detail (`field: problem; ...`), keyed by the form's fields."""
    problems = {field: "invalid" for field in ("citizen_name", "phone") if field in detail}
    return problems or {"form": "invalid"}
