"""The satisfaction survey after a visit, from the link in the invitation SMS
(`/survey/{booking_id}?token=...`): three questions, then a thank-you. The token in the link is
the only proof needed; the booking API checks it and records the answer once."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Form, Request, Response

from infra.manage_token import ManageTokens
from services.web.adapters.api import Api, ApiError, Booking
from services.web.entrypoints.pages import PageRoute, render, see_other
from services.web.settings import WebSettings

Choice = Annotated[str, Form()]
YES_NO = {"ja": True, "nej": False}
SCORES = ("1", "2", "3", "4", "5")


def link_expired(token: str) -> bool:
    """The token says it expired (its signature is for the booking API to check; reading the
    expiry needs no secret)."""
    expires_at = ManageTokens(secret="").expires_at(token)
    return expires_at is not None and expires_at <= datetime.now(UTC)


def survey_router(api: Api, settings: WebSettings) -> APIRouter:
    router = APIRouter(route_class=PageRoute, include_in_schema=False)

    def refused_link(request: Request, token: str) -> Response:
        """An expired link (410) or one that is not for this booking, or forged (404)."""
        expired = link_expired(token)
        problem = "expired" if expired else "invalid"
        return render(request, "survey/problem.html", 410 if expired else 404, problem=problem)

    def form(
        request: Request,
        booking: Booking,
        token: str,
        status_code: int = 200,
        answers: dict[str, str] | None = None,
        missing: tuple[str, ...] = (),
    ) -> Response:
        return render(
            request,
            "survey/form.html",
            status_code,
            booking=booking,
            token=token,
            answers=answers or {},
            missing=missing,
            scores=SCORES,
        )

    async def visit(booking_id: UUID, token: str) -> Booking | None:
        """The booking the link is for; None if the link is refused."""
        try:
            return await api.booking(booking_id, token)
        except ApiError as refused:
            if refused.status == 404:
                return None
            raise

    @router.get("/survey/{booking_id}")
    async def survey(request: Request, booking_id: UUID, token: str = "") -> Response:
        booking = await visit(booking_id, token)
        if booking is None:
            return refused_link(request, token)
        if booking.status != "completed":
            return render(request, "survey/problem.html", 409, problem="not_visited")
        if booking.survey_answered:  # said before the citizen fills it in again
            return render(request, "survey/problem.html", 409, problem="answered")
        return form(request, booking, token)

    @router.post("/survey/{booking_id}")
    async def answer(
        request: Request,
        booking_id: UUID,
        token: Choice = "",
        satisfied_with_booking: Choice = "",
        easy_to_find_time: Choice = "",
        score: Choice = "",
    ) -> Response:
        answers = {
            "satisfied_with_booking": satisfied_with_booking,
            "easy_to_find_time": easy_to_find_time,
            "score": score,
        }
        missing = tuple(
            name for name in ("satisfied_with_booking", "easy_to_find_time")
            if answers[name] not in YES_NO
        )  # fmt: skip
        if missing or score not in ("", *SCORES):
            booking = await visit(booking_id, token)
            if booking is None:
                return refused_link(request, token)
            return form(request, booking, token, 422, answers, missing or ("score",))
        body = {
            "satisfied_with_booking": YES_NO[satisfied_with_booking],
            "easy_to_find_time": YES_NO[easy_to_find_time],
            "score": int(score) if score else None,
        }
        try:
            await api.answer_survey(booking_id, token, body)
        except ApiError as refused:
            if refused.status == 404:
                return refused_link(request, token)
            if refused.status != 409:
                raise
            booking = await visit(booking_id, token)  # answered already, or no visit yet
            visited = booking is not None and booking.status == "completed"
            problem = "answered" if visited else "not_visited"
            return render(request, "survey/problem.html", 409, problem=problem)
        return see_other(f"/survey/{booking_id}/tak")

    @router.get("/survey/{booking_id}/tak")
    async def thanks(request: Request, booking_id: UUID) -> Response:
        return render(request, "survey/thanks.html")

    return router
