"""Manage links in the SMS: signed for one booking, expiring, verifiable by the booking side."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from infra.manage_token import ManageTokens, ManageTokenSettings
from services.notifications.domain.links import Links

BOOKING_ID = uuid.UUID("0b7c2f4e-0000-4000-8000-000000000009")
APPOINTMENT = datetime(2025, 6, 10, 8, 0, tzinfo=UTC)
TOKENS = ManageTokens("s3cret", grace=timedelta(days=3))


def token_of(url: str) -> str:
    return parse_qs(urlsplit(url).query)["token"][0]


def test_manage_link_names_the_booking_and_carries_a_token_the_booking_side_accepts() -> None:
    url = Links("https://tid.slagelse.dk/", TOKENS).manage(BOOKING_ID, APPOINTMENT)

    assert url.startswith(f"https://tid.slagelse.dk/manage/{BOOKING_ID}?token=")
    assert TOKENS.verify(BOOKING_ID, token_of(url), now=APPOINTMENT)


def test_manage_token_expires_a_few_days_after_the_appointment() -> None:
    token = TOKENS.issue(BOOKING_ID, appointment_at=APPOINTMENT)
    expiry = APPOINTMENT + timedelta(days=3)

    assert TOKENS.verify(BOOKING_ID, token, now=expiry - timedelta(seconds=1))
    assert not TOKENS.verify(BOOKING_ID, token, now=expiry)


def test_token_is_refused_for_another_booking_with_another_secret_or_a_changed_expiry() -> None:
    token = TOKENS.issue(BOOKING_ID, appointment_at=APPOINTMENT)
    expiry, signature = token.split(".")
    later = f"{int(expiry) + 86_400 * 365}.{signature}"

    assert not TOKENS.verify(uuid.uuid4(), token, now=APPOINTMENT)
    assert not ManageTokens("other").verify(BOOKING_ID, token, now=APPOINTMENT)
    assert not TOKENS.verify(BOOKING_ID, later, now=APPOINTMENT)
    assert not TOKENS.verify(BOOKING_ID, signature, now=APPOINTMENT)  # no expiry: old format
    assert not TOKENS.verify(BOOKING_ID, None)
    assert not TOKENS.verify(BOOKING_ID, "x.y.z")


def test_token_without_an_appointment_lives_for_the_configured_lifetime() -> None:
    now = datetime(2025, 1, 1, tzinfo=UTC)
    tokens = ManageTokens("s3cret", lifetime=timedelta(days=90), clock=lambda: now)

    token = tokens.issue(BOOKING_ID)

    assert tokens.expires_at(token) == now + timedelta(days=90)
    assert tokens.valid(BOOKING_ID, token)  # the name the booking routes call


def test_the_same_booking_and_appointment_always_give_the_same_link() -> None:
    links = Links("https://x", TOKENS)

    assert links.manage(BOOKING_ID, APPOINTMENT) == links.manage(BOOKING_ID, APPOINTMENT)


def test_survey_link_expires_at_the_end_of_the_answer_window() -> None:
    links = Links("https://x", TOKENS, survey_answer_window=timedelta(days=14))
    invited = datetime(2025, 6, 12, 12, 0, tzinfo=UTC)

    url = links.survey(BOOKING_ID, invited)

    assert url.startswith(f"https://x/survey/{BOOKING_ID}?token=")
    assert TOKENS.expires_at(token_of(url)) == invited + timedelta(days=14)


def test_every_service_reads_the_one_secret_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MANAGE_TOKEN_SECRET", "from-the-environment")
    monkeypatch.setenv("MANAGE_TOKEN_GRACE_DAYS", "5")

    tokens = ManageTokenSettings().manage_tokens()

    assert tokens.secret == "from-the-environment"
    assert tokens.grace == timedelta(days=5)
