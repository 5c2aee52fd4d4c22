"""After a completed visit the citizen answers the satisfaction survey from the invitation
link on a phone, and the satisfaction report counts the answer; that it is answered already
and an expired link are told clearly."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from infra.manage_token import ManageTokens
from services.notifications.domain.links import Links
from tests.browser.conftest import MANAGE_TOKEN_SECRET, Demo, screenshot, wait_for

SITE, SERVICE = "slagelse", "pas"


def survey_link(demo: Demo, booking_id: str, invited_at: datetime) -> str:
    """The link the invitation SMS carries, made as notifications make it."""
    links = Links(public_base_url=demo.base, tokens=ManageTokens(MANAGE_TOKEN_SECRET))
    return links.survey(UUID(booking_id), invited_at)


def responses(demo: Demo) -> int:
    return int(demo.get("/reports/satisfaction")["total"]["responses"])


def test_a_citizen_answers_the_survey_and_the_satisfaction_report_counts_it(
    demo: Demo, phone_page: Any
) -> None:
    page = phone_page
    free = wait_for(lambda: demo.free_times(SERVICE, SITE), what="free times")
    booked = demo.book(SERVICE, SITE, free[0]["starts_at"], "20 30 40 91")
    for step in ("check-in", "start", "complete"):
        demo.staff_step(booked["booking_id"], step)
    before = responses(demo)
    link = survey_link(demo, booked["booking_id"], datetime.now(UTC))
    assert link.startswith(f"{demo.base}/survey/{booked['booking_id']}?token=")

    page.goto(link)
    page.get_by_role("group", name=re.compile("bestille tid")).get_by_label("Ja").check()
    page.get_by_role("group", name=re.compile("let at finde")).get_by_label("Nej").check()
    page.get_by_label("4", exact=True).check()
    screenshot(page, "30-borger-spoergeskema")
    page.get_by_role("button", name="Send mine svar").click()
    page.get_by_role("heading", name="Tak for dine svar").wait_for()
    screenshot(page, "31-borger-spoergeskema-tak")

    wait_for(lambda: responses(demo) == before + 1, what="the answer in the satisfaction report")

    page.goto(link)  # the link once more: answered already, said before any question
    page.get_by_role("heading", name="Du har allerede svaret").wait_for()
    assert page.get_by_role("button", name="Send mine svar").count() == 0
    assert responses(demo) == before + 1


def test_an_expired_survey_link_says_so(demo: Demo, phone_page: Any) -> None:
    free = wait_for(lambda: demo.free_times(SERVICE, SITE), what="free times")
    booked = demo.book(SERVICE, SITE, free[0]["starts_at"], "20 30 40 92")
    month_ago = datetime.now(UTC) - timedelta(days=30)  # the answer window is 14 days

    phone_page.goto(survey_link(demo, booked["booking_id"], month_ago))

    phone_page.get_by_role("heading", name="Linket er udløbet").wait_for()
    screenshot(phone_page, "32-borger-spoergeskema-udloebet")
