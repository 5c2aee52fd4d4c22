"""Manage tokens: signed, expiring, and revocable by generation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

from infra.manage_token import ManageTokens, citizen_actor, fingerprint

NOW = datetime(2030, 3, 1, 12, tzinfo=UTC)
TOKENS = ManageTokens("a-secret-for-tests", clock=lambda: NOW)


def test_a_revocation_ends_every_earlier_token_and_only_the_new_one_works() -> None:
    booking = uuid4()
    first = TOKENS.issue(booking, appointment_at=NOW + timedelta(days=5))
    second = TOKENS.issue(booking, appointment_at=NOW + timedelta(days=5), generation=1)
    assert TOKENS.verify(booking, first, generation=0)
    assert not TOKENS.verify(booking, first, generation=1)  # revoked
    assert TOKENS.verify(booking, second, generation=1)
    assert not TOKENS.verify(booking, second, generation=2)  # revoked again


def test_the_generation_cannot_be_changed_or_forged() -> None:
    booking = uuid4()
    expiry, signature = TOKENS.issue(booking, expires_at=NOW + timedelta(days=1)).split(".")
    assert not TOKENS.verify(booking, f"{expiry}.1.{signature}", generation=1)
    assert not TOKENS.verify(booking, f"{expiry}.0.{signature}", generation=0)
    second = TOKENS.issue(booking, expires_at=NOW + timedelta(days=1), generation=2)
    e, _, s = second.split(".")
    assert not TOKENS.verify(booking, f"{e}.3.{s}", generation=3)
    assert not TOKENS.verify(booking, f"{e}.x.{s}", generation=2)
    assert not TOKENS.verify(uuid4(), second, generation=2)  # another booking's


def test_an_expired_token_of_the_current_generation_is_refused() -> None:
    booking = uuid4()
    token = TOKENS.issue(booking, expires_at=NOW - timedelta(seconds=1), generation=1)
    assert not TOKENS.verify(booking, token, generation=1)


def test_the_audit_names_a_token_without_revealing_it() -> None:
    token = TOKENS.issue(uuid4(), expires_at=NOW + timedelta(days=1))
    actor = citizen_actor(token)
    assert actor == f"citizen:{fingerprint(token)}"
    assert len(fingerprint(token)) == 12 and token not in actor
    assert citizen_actor(None) == "citizen"
