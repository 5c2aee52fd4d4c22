"""The generated nats-server accounts and their credentials."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from infra.nats_accounts import (
    PLATFORM,
    SERVICES,
    SHARED,
    TOOLS,
    Credentials,
    account_of,
    load_or_create,
    tools_context_path,
    tools_url,
    without_credentials,
    write_tools_context,
)


def test_every_municipality_gets_its_own_account_and_password(tmp_path: Path) -> None:
    accounts = load_or_create(tmp_path / "accounts.json", ["slagelse", "herning"])
    passwords = {c.password for c in accounts.credentials.values()}
    assert set(accounts.credentials) == {
        PLATFORM,
        SERVICES,
        TOOLS,
        SHARED,
        "M_SLAGELSE",
        "M_HERNING",
    }
    assert len(passwords) == 6 and all(len(p) >= 40 for p in passwords)
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


def test_no_connection_without_credentials_is_let_in(tmp_path: Path) -> None:
    accounts = load_or_create(tmp_path / "accounts.json", ["slagelse"])
    assert "no_auth_user" not in accounts.accounts_config()


def test_only_the_relays_user_may_publish_into_the_event_stream(tmp_path: Path) -> None:
    accounts = load_or_create(tmp_path / "accounts.json", ["slagelse"])
    config = json.loads(accounts.accounts_config().removeprefix("accounts: "))
    users = {user["user"]: user for user in config[PLATFORM]["users"]}
    assert set(users) == {"platform", "services", "tools"}
    assert "permissions" not in users["platform"]  # the relay's, owner of the streams
    for name in ("services", "tools"):
        allowed = users[name]["permissions"]["publish"]["allow"]
        assert not any(subject.startswith("bs.") and ".sms." not in subject for subject in allowed)
    assert "$JS.API.STREAM.PURGE.>" in users["services"]["permissions"]["publish"]["deny"]
    assert not any(
        "DELETE" in s or "PURGE" in s or "UPDATE" in s
        for s in users["tools"]["permissions"]["publish"]["allow"]
    )


def test_the_tools_credentials_are_a_private_nats_context(tmp_path: Path) -> None:
    accounts = load_or_create(tmp_path / "nats" / "accounts.json", ["slagelse"])
    path = write_tools_context(tmp_path, accounts, "nats://127.0.0.1:4222")
    assert path == tools_context_path(tmp_path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    context = json.loads(path.read_text())
    assert context["url"] == "nats://127.0.0.1:4222" and context["user"] == "tools"
    assert tools_url(tmp_path) == accounts.tools.url("nats://127.0.0.1:4222")
    assert tools_url(tmp_path / "elsewhere") is None


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
