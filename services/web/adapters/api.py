"""The booking and reporting JSON APIs as the pages use them, over HTTP. A tolerant reader:
fields the pages do not show are ignored, so the APIs may grow without breaking the pages."""

from __future__ import annotations

from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID, uuid4

import httpx
from pydantic import BaseModel, ConfigDict, TypeAdapter

from infra.manage_token import parse
from infra.staff_tokens import well_formed

# The address of the citizen (or staff member) whose page request this API call serves: the
# APIs' per-address rate limit counts them, not the pages' one address (X-Forwarded-For, which
# the APIs believe only from TRUSTED_PROXIES; `up` trusts loopback when it serves the pages).
on_behalf_of: ContextVar[str | None] = ContextVar("on_behalf_of", default=None)


class ApiModel(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Service(ApiModel):
    id: str
    name: str
    duration_minutes: int
    documents: list[str] = []
    description: str = ""


class Site(ApiModel):
    id: str
    name: str
    address: str = ""


class FreeTime(ApiModel):
    site: str
    starts_at: datetime
    ends_at: datetime
    seats_left: int


class Hold(ApiModel):
    hold_id: str
    starts_at: datetime
    expires_at: datetime


class Booking(ApiModel):
    booking_id: UUID
    municipality: str
    site: str
    site_name: str
    service: str
    service_name: str
    starts_at: datetime
    ends_at: datetime
    documents: list[str] = []
    status: str
    channel: str = "web"
    citizen_name: str = ""
    phone: str = ""
    manage_token: str | None = None
    acute_reason: str | None = None
    survey_answered: bool = False
    personal_data_erased: bool = False  # the name and phone are gone for good (staff views)


class FirstFree(ApiModel):
    starts_at: datetime | None = None
    working_days: int | None = None
    within_target: bool | None = None


class KeyFigures(ApiModel):
    """Today's figures of a municipality, as the reporting service's snapshot gives them."""

    booked_today: int = 0
    cancelled_today: int = 0
    appointments_today: int = 0
    no_shows_today: int = 0
    sms_sent_today: int = 0
    sms_delivered_today: int = 0
    sms_failed_today: int = 0
    waiting_target_working_days: int | None = None
    first_free: dict[str, FirstFree] = {}
    reporting_position: int = 0
    sms_position: int = 0


class ApiError(Exception):
    """The API refused: its status, its reason and, for a taken time, nearby free times."""

    def __init__(
        self, status: int, detail: str, alternatives: list[FreeTime], retry_after: int = 0
    ) -> None:
        super().__init__(f"{status}: {detail}")
        self.status = status
        self.detail = detail
        self.alternatives = alternatives
        self.retry_after = retry_after  # seconds, from a 429's or 503's Retry-After

    @property
    def route_missing(self) -> bool:
        """The API does not offer this route at all (an older deployment)."""
        return (self.status, self.detail) in ((404, "Not Found"), (405, "Method Not Allowed"))

    @property
    def refuses_credentials(self) -> bool:
        """Staff credentials refused: a bad token (401), a role not allowed (403), or another
        municipality's token (answered as for a route that does not exist)."""
        return self.status in (401, 403) or self.route_missing


class ApiUnavailable(Exception):
    """The API could not be reached or failed on its side."""


@dataclass(frozen=True)
class StaffAuth:
    token: str
    account: str

    @property
    def headers(self) -> dict[str, str]:
        """What proves the login to the APIs; a token of no staff token's shape (a cookie
        of any bytes) is refused here as the APIs would (401), without a call."""
        if not well_formed(self.token):
            raise ApiError(401, "Unauthorized", [])
        account = {"X-Staff-Account": self.account} if _sendable(self.account) else {}
        return {"Authorization": f"Bearer {self.token}", **account}


_services = TypeAdapter(list[Service])
_sites = TypeAdapter(list[Site])
_free_times = TypeAdapter(list[FreeTime])
_bookings = TypeAdapter(list[Booking])


class Api:
    """One method per API call the pages make; refusals raise `ApiError`."""

    def __init__(self, client: httpx.AsyncClient, booking_url: str, reporting_url: str) -> None:
        self._client = client
        self._booking = booking_url.rstrip("/") + "/api/v1"
        self._reporting = reporting_url.rstrip("/")

    async def _call(
        self,
        method: str,
        url: str,
        *,
        json: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        client_address = on_behalf_of.get()
        if client_address is not None:
            headers = {**(headers or {}), "X-Forwarded-For": client_address}
        try:
            response = await self._client.request(
                method, url, json=json, params=params, headers=headers
            )
        except httpx.HTTPError as error:
            raise ApiUnavailable(f"{method} {url}: {error}") from error
        if response.status_code >= 500:
            raise ApiUnavailable(f"{method} {url}: {response.status_code}")
        if response.status_code >= 400:
            raise _refusal(response)
        if response.status_code == 204 or not response.content:
            return None
        if response.headers.get("content-type", "").startswith("application/json"):
            return response.json()
        return response.text

    def _m(self, municipality: str) -> str:
        return f"{self._booking}/municipalities/{municipality}"

    # Citizen

    async def services(self, municipality: str) -> list[Service]:
        return _services.validate_python(
            await self._call("GET", f"{self._m(municipality)}/services")
        )

    async def sites(self, municipality: str) -> list[Site]:
        return _sites.validate_python(await self._call("GET", f"{self._m(municipality)}/sites"))

    async def free_times(
        self, municipality: str, service: str, site: str | None, first: date, last: date
    ) -> list[FreeTime]:
        """Free times earliest first; at every site when `site` is None."""
        params = {"service": service, "from": first.isoformat(), "to": last.isoformat()}
        params |= {"site": site} if site else {}
        found = await self._call("GET", f"{self._m(municipality)}/availability", params=params)
        return sorted(_free_times.validate_python(found), key=lambda t: t.starts_at)

    async def hold(self, municipality: str, site: str, service: str, starts_at: datetime) -> Hold:
        body = {"site": site, "service": service, "starts_at": starts_at.isoformat()}
        return Hold.model_validate(
            await self._call("POST", f"{self._m(municipality)}/holds", json=body)
        )

    async def release_hold(self, municipality: str, hold_id: str) -> None:
        await self._call("DELETE", f"{self._m(municipality)}/holds/{hold_id}")

    async def book(
        self, municipality: str, body: Mapping[str, Any], idempotency_key: str | None = None
    ) -> Booking:
        """Books a time; the same `idempotency_key` books it once however often it is sent."""
        headers = {"Idempotency-Key": idempotency_key or str(uuid4())}
        created = await self._call(
            "POST", f"{self._m(municipality)}/bookings", json=body, headers=headers
        )
        return Booking.model_validate(created)

    async def booking(self, booking_id: UUID, token: str) -> Booking:
        return Booking.model_validate(
            await self._call(
                "GET", f"{self._booking}/bookings/{booking_id}", headers=_manage(token)
            )
        )

    async def reschedule(self, booking_id: UUID, token: str, starts_at: datetime) -> Booking:
        moved = await self._call(
            "POST",
            f"{self._booking}/bookings/{booking_id}/reschedule",
            json={"starts_at": starts_at.isoformat()},
            headers=_manage(token),
        )
        return Booking.model_validate(moved)

    async def cancel(self, booking_id: UUID, token: str) -> None:
        await self._call(
            "POST",
            f"{self._booking}/bookings/{booking_id}/cancel",
            json={"reason": "aflyst af borgeren"},
            headers=_manage(token),
        )

    async def answer_survey(
        self, booking_id: UUID, token: str, answers: Mapping[str, Any]
    ) -> Booking:
        """The satisfaction survey after the visit; refused with 409 once it is answered."""
        answered = await self._call(
            "POST",
            f"{self._booking}/bookings/{booking_id}/survey",
            json=answers,
            headers=_manage(token),
        )
        return Booking.model_validate(answered)

    async def waitlist(self, booking_id: UUID, token: str, step: str) -> None:
        """`step` is `join`, `leave` or `accept` (the offered earlier time)."""
        method, suffix = {
            "join": ("POST", ""),
            "leave": ("DELETE", ""),
            "accept": ("POST", "/accept"),
        }[step]
        url = f"{self._booking}/bookings/{booking_id}/waitlist{suffix}"
        await self._call(method, url, headers=_manage(token))

    # Staff

    async def day(self, municipality: str, site: str, day: date, auth: StaffAuth) -> list[Booking]:
        url = f"{self._m(municipality)}/sites/{site}/days/{day.isoformat()}/bookings"
        found = await self._call("GET", url, headers=auth.headers)
        return sorted(_bookings.validate_python(found), key=lambda b: b.starts_at)

    async def staff_step(
        self,
        municipality: str,
        booking_id: UUID,
        step: str,
        auth: StaffAuth,
        body: Mapping[str, Any] | None = None,
    ) -> None:
        """`step` is one of check-in, start, complete, no-show, pre-assessment."""
        url = f"{self._m(municipality)}/bookings/{booking_id}/{step}"
        await self._call("POST", url, json=body, headers=auth.headers)

    async def book_on_behalf(
        self, municipality: str, body: Mapping[str, Any], auth: StaffAuth, idempotency_key: str
    ) -> Booking:
        headers = {**auth.headers, "Idempotency-Key": idempotency_key}
        created = await self._call(
            "POST", f"{self._m(municipality)}/staff/bookings", json=body, headers=headers
        )
        return Booking.model_validate(created)

    async def cancel_day(
        self, municipality: str, site: str, day: date, body: Mapping[str, Any], auth: StaffAuth
    ) -> int:
        """Cancels the site's bookings that day in the body's time range; how many."""
        url = f"{self._m(municipality)}/sites/{site}/days/{day.isoformat()}/cancel-bookings"
        cancelled = await self._call("POST", url, json=body, headers=auth.headers)
        return len(cancelled.get("cancelled", []))

    # Reporting

    async def key_figures(self, municipality: str, auth: StaffAuth) -> KeyFigures:
        url = f"{self._reporting}/api/v1/municipalities/{municipality}/key-figures"
        return KeyFigures.model_validate(await self._call("GET", url, headers=auth.headers))

    async def report_page(self, path: str, params: Mapping[str, str], auth: StaffAuth) -> str:
        return str(
            await self._call("GET", f"{self._reporting}{path}", params=params, headers=auth.headers)
        )

    async def open_event_stream(
        self, municipality: str, auth: StaffAuth, last_event_id: str | None = None
    ) -> httpx.Response:
        """The reporting service's server-sent events of key figures, opened for streaming
        (after `last_event_id` when given); the caller closes it."""
        url = f"{self._reporting}/api/v1/municipalities/{municipality}/events/stream"
        headers = {**auth.headers, "Accept": "text/event-stream"}
        if last_event_id:
            headers["Last-Event-ID"] = last_event_id
        request = self._client.build_request(
            "GET",
            url,
            headers=headers,
            timeout=httpx.Timeout(10.0, read=None),
        )
        try:
            response = await self._client.send(request, stream=True)
        except httpx.HTTPError as error:
            raise ApiUnavailable(f"GET {url}: {error}") from error
        if response.status_code >= 400:
            await response.aread()
            await response.aclose()
            if response.status_code >= 500:
                raise ApiUnavailable(f"GET {url}: {response.status_code}")
            raise _refusal(response)
        return response


def _manage(token: str) -> dict[str, str]:
    """A manage token not in its one form (any length, any script) is refused here as the
    booking API would (404), without a call."""
    if parse(token) is None:
        raise ApiError(404, "no such booking", [])
    return {"X-Manage-Token": token}


def _sendable(value: str) -> bool:
    """Fits in an HTTP header as it is: printable ASCII."""
    return value.isascii() and value.isprintable() and len(value) <= 200


def _refusal(response: httpx.Response) -> ApiError:
    try:
        body = response.json()
    except ValueError:
        body = {"detail": response.text}
    if not isinstance(body, dict):
        body = {"detail": body}
    detail = body.get("detail", "")
    alternatives = _free_times.validate_python(body.get("alternatives") or [])
    retry_after = response.headers.get("retry-after", "")
    return ApiError(
        response.status_code,
        detail if isinstance(detail, str) else str(detail),
        alternatives,
        int(retry_after) if retry_after.isascii() and retry_after.isdigit() else 0,
    )
