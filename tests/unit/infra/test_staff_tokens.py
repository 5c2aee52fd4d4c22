"""Staff tokens: signed per municipality, expiring, with a role."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from infra.staff_tokens import InvalidStaffToken, Role, StaffTokens, parse_ttl

KEYS = {"slagelse": "s" * 32, "herning": "h" * 32}


def test_a_token_names_municipality_account_role_and_expiry() -> None:
    token = StaffTokens(KEYS).issue("slagelse", "mette", Role.REPORTING, timedelta(hours=8))
    claims = StaffTokens(KEYS).verify(token)
    assert (claims.municipality, claims.account, claims.role) == ("slagelse", "mette", "reporting")
    assert claims.expires_at - datetime.now(UTC) <= timedelta(hours=8)


def test_a_token_signed_with_another_municipalitys_key_is_refused() -> None:
    herning_key_as_slagelse = StaffTokens({"slagelse": KEYS["herning"]})
    token = herning_key_as_slagelse.issue("slagelse", "mallory", Role.ADMIN, timedelta(hours=1))
    with pytest.raises(InvalidStaffToken):
        StaffTokens(KEYS).verify(token)


def test_an_expired_token_is_refused() -> None:
    long_ago = datetime.now(UTC) - timedelta(days=2)
    token = StaffTokens(KEYS, clock=lambda: long_ago).issue(
        "slagelse", "mette", Role.STAFF, timedelta(days=1)
    )
    with pytest.raises(InvalidStaffToken):
        StaffTokens(KEYS).verify(token)


def test_a_token_for_a_municipality_without_a_key_is_refused() -> None:
    token = StaffTokens({"roskilde": "r" * 32}).issue(
        "roskilde", "x", Role.STAFF, timedelta(hours=1)
    )
    with pytest.raises(InvalidStaffToken):
        StaffTokens(KEYS).verify(token)


def test_short_keys_are_refused_at_start() -> None:
    with pytest.raises(ValueError, match="shorter than 32"):
        StaffTokens({"slagelse": "demo-staff-slagelse"})


@pytest.mark.parametrize(
    ("text", "expected"),
    [("90s", timedelta(seconds=90)), ("30m", timedelta(minutes=30)), ("8h", timedelta(hours=8))],
)
def test_lifetimes_are_written_with_a_unit(text: str, expected: timedelta) -> None:
    assert parse_ttl(text) == expected


@pytest.mark.parametrize("text", ["8", "0h", "8 hours", "-1h", "8d"])
def test_lifetimes_without_unit_or_beyond_a_week_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_ttl(text)
