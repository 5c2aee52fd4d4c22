"""The generated nats-server accounts and their credentials."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from infra.nats_accounts import (
    PLATFORM,
    SHARED,
    Credentials,
    account_of,
    load_or_create,
    without_credentials,
)


def test_every_municipality_gets_its_own_account_and_password(tmp_path: Path) -> None:
    accounts = load_or_create(tmp_path / "accounts.json", ["slagelse", "herning"])
    passwords = {c.password for c in accounts.credentials.values()}
    assert set(accounts.credentials) == {PLATFORM, SHARED, "M_SLAGELSE", "M_HERNING"}
    assert len(passwords) == 4 and all(len(p) >= 40 for p in passwords)
    assert stat.S_IMODE((tmp_path / "accounts.json").stat().st_mode) == 0o600


def test_passwords_survive_a_restart_and_a_new_municipality(tmp_path: Path) -> None:
    first = load_or_create(tmp_path / "accounts.json", ["slagelse"])
    again = load_or_create(tmp_path / "accounts.json", ["slagelse", "hvidovre"])
    assert again.municipality("slagelse") == first.municipality("slagelse")
    assert again.platform == first.platform
    assert again.municipality("hvidovre").user == "hvidovre"


def test_a_municipality_may_publish_only_its_commands_and_its_consumer(tmp_path: Path) -> None:
    accounts = load_or_create(tmp_path / "accounts.json", ["slagelse", "herning"])
    config = json.loads(accounts.accounts_config().removeprefix("accounts: "))
    slagelse = config[account_of("slagelse")]
    allowed = slagelse["users"][0]["permissions"]["publish"]["allow"]
    assert all("slagelse" in subject for subject in allowed)
    assert "jetstream" not in slagelse and config[PLATFORM]["jetstream"] == "enabled"
    imported = {i.get("stream", i.get("service"))["subject"] for i in slagelse["imports"]}
    assert all("slagelse" in s and "herning" not in s for s in imported)
    assert config[SHARED]["imports"] == []  # nothing shared unless a municipality says so


def test_only_the_embedded_loopback_server_lets_tools_in_without_credentials(
    tmp_path: Path,
) -> None:
    accounts = load_or_create(tmp_path / "accounts.json", ["slagelse"])
    assert "no_auth_user" not in accounts.accounts_config()
    assert 'no_auth_user: "platform"' in accounts.accounts_config(no_auth_platform=True)


@pytest.mark.parametrize("municipality", ["Slagelse", "bs.x", "a>", "*", "", "a b"])
def test_a_municipality_id_must_be_one_lowercase_subject_token(
    tmp_path: Path, municipality: str
) -> None:
    with pytest.raises(ValueError, match="subject token"):
        load_or_create(tmp_path / "accounts.json", [municipality])


@pytest.mark.parametrize("tail", [">", "booking.>", "cmd.book", "unknown.x", "sms"])
def test_only_event_subjects_can_be_shared(tmp_path: Path, tail: str) -> None:
    with pytest.raises(ValueError, match="shared export"):
        load_or_create(tmp_path / "accounts.json", ["slagelse"], {"slagelse": [tail]})


def test_credentials_go_into_the_url_and_out_for_printing() -> None:
    url = Credentials("platform", "p/ss@word").url("nats://127.0.0.1:4222")
    assert url == "nats://platform:p%2Fss%40word@127.0.0.1:4222"
    assert without_credentials(url) == "nats://127.0.0.1:4222"
