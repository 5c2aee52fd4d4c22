"""No default secrets (issue 17): `serve` and `up` refuse a missing, public or short secret in
one line, and `up --demo` makes its own once and keeps them, so what it printed stays valid."""

from __future__ import annotations

import base64
import json
import os
import signal
import stat
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from uuid import UUID

import httpx
import pytest

from infra.manage_token import ManageTokens
from infra.nats_server import free_port
from infra.personal_data import DEMO_PERSONAL_DATA_KEY
from infra.secrets import fresh
from tests.processes import BIN

SECRET_SETTINGS = (
    "MANAGE_TOKEN_SECRET",
    "PERSONAL_DATA_KEY",
    "SMS_CALLBACK_SECRET",
    "STAFF_TOKENS",
)
OLD_PUBLIC_MANAGE_SECRET = "change-me-in-production"  # MANAGE_TOKEN_SECRET's default until now
CLOSED = f"127.0.0.1:{free_port()}"  # nothing listens: a service that got this far would wait


def without_secrets(**settings: str) -> dict[str, str]:
    """This process's environment without any secret (and without a bus), plus `settings`."""
    env = {k: v for k, v in os.environ.items() if k not in (*SECRET_SETTINGS, "NATS_URL")}
    return {**env, **settings}


def secrets_of_production(command: bool = False) -> dict[str, str]:
    """Good secrets, made as an operator would (with the command itself if `command`)."""
    if not command:
        return {name: fresh(name, ["slagelse"]) for name in SECRET_SETTINGS}
    return {
        name: subprocess.run(
            [str(BIN), "secret", name, "--municipality", "slagelse"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        for name in SECRET_SETTINGS
    }


def refusal(env: dict[str, str], *command: str) -> tuple[int, list[str], float]:
    started = time.monotonic()
    try:
        done = subprocess.run(
            [str(BIN), *command], env=env, capture_output=True, text=True, timeout=20
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"`borgerservice {' '.join(command)}` started instead of refusing")
    lines = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    return done.returncode, lines, time.monotonic() - started


STARTED_ELSEWHERE = {
    "DATABASE_URL": f"postgresql://postgres@{CLOSED}/borgerservice",
    "NATS_URL": f"nats://{CLOSED}",
}


@pytest.mark.parametrize(
    ("service", "change", "named"),
    [
        ("booking", {"MANAGE_TOKEN_SECRET": None}, "MANAGE_TOKEN_SECRET"),
        ("booking", {"MANAGE_TOKEN_SECRET": OLD_PUBLIC_MANAGE_SECRET}, "MANAGE_TOKEN_SECRET"),
        ("booking", {"MANAGE_TOKEN_SECRET": "tiny-7f3a"}, "MANAGE_TOKEN_SECRET"),
        ("notifications", {"PERSONAL_DATA_KEY": None}, "PERSONAL_DATA_KEY"),
        ("notifications", {"PERSONAL_DATA_KEY": DEMO_PERSONAL_DATA_KEY}, "PERSONAL_DATA_KEY"),
        ("notifications", {"PERSONAL_DATA_KEY": "bm90IDMyIGJ5dGVz"}, "PERSONAL_DATA_KEY"),
        ("notifications", {"SMS_PROVIDER": "http", "SMS_CALLBACK_SECRET": None}, "SMS_CALLBACK"),
        ("reporting", {"STAFF_TOKENS": None}, "STAFF_TOKENS"),
        ("reporting", {"STAFF_TOKENS": '{"slagelse": "too-short"}'}, "STAFF_TOKENS"),
        ("reporting", {"STAFF_TOKENS": "{broken"}, "STAFF_TOKENS"),
    ],
)
def test_serve_refuses_a_missing_public_or_short_secret_in_one_line(
    service: str, change: dict[str, str | None], named: str
) -> None:
    env = without_secrets(**STARTED_ELSEWHERE, **secrets_of_production())
    for name, value in change.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    code, lines, seconds = refusal(env, "serve", service)
    assert code != 0
    assert len(lines) == 1, lines
    assert named in lines[0] and "borgerservice secret" in lines[0], lines
    assert seconds < 5, f"took {seconds:.1f}s"
    for name, value in change.items():
        if value and name in SECRET_SETTINGS:
            assert value not in lines[0]  # naming the setting, never repeating its value


def test_up_without_demo_names_every_missing_secret() -> None:
    code, lines, _ = refusal(without_secrets(**STARTED_ELSEWHERE), "up")
    assert code != 0
    assert len(lines) == 1, lines
    for name in ("MANAGE_TOKEN_SECRET", "PERSONAL_DATA_KEY", "STAFF_TOKENS"):
        assert name in lines[0]


def test_secret_command_prints_a_fresh_value_each_time() -> None:
    first, second = secrets_of_production(command=True), secrets_of_production(command=True)
    for name in SECRET_SETTINGS:
        assert first[name] != second[name]
    assert len(first["MANAGE_TOKEN_SECRET"]) >= 32
    assert len(base64.b64decode(first["PERSONAL_DATA_KEY"], validate=True)) == 32
    assert set(json.loads(first["STAFF_TOKENS"])) == {"slagelse"}


@dataclass
class Demo:
    base: str
    output: list[str] = field(default_factory=list)

    def staff_token(self, municipality: str) -> str:
        for line in self.output:
            words = line.split()
            if words[:2] == ["staff", municipality] and "Bearer" in words:
                return words[-1]
        raise AssertionError("no staff token printed:\n" + "".join(self.output))


@dataclass
class DemoProcess:
    env: dict[str, str]
    port: int
    process: subprocess.Popen[str] | None = None

    def start(self) -> Demo:
        self.process = subprocess.Popen(
            [str(BIN), "up", "--demo", "--port", str(self.port)],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        demo = Demo(f"http://127.0.0.1:{self.port}")
        stdout = self.process.stdout
        assert stdout is not None
        threading.Thread(
            target=lambda: demo.output.extend(iter(stdout.readline, "")), daemon=True
        ).start()
        deadline = time.monotonic() + 90
        while not any("Stop with Ctrl-C." in line for line in demo.output):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                pytest.fail("up --demo did not start:\n" + "".join(demo.output))
            time.sleep(0.2)
        return demo

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


@pytest.fixture
def demo_process(database_url: str, tmp_path: Path) -> Iterator[DemoProcess]:
    env = without_secrets(
        DATABASE_URL=database_url, NATS_PORT=str(free_port()), VAR_DIR=str(tmp_path / "var")
    )
    running = DemoProcess(env, free_port())
    yield running
    running.stop()


def book_a_time(base: str) -> tuple[UUID, str]:
    api = f"{base}/api/v1/municipalities/slagelse"
    deadline = time.monotonic() + 30
    while not (
        free := httpx.get(
            f"{api}/availability", params={"service": "pas", "site": "korsoer"}
        ).json()
    ):
        assert time.monotonic() < deadline, "the demo opened no times"
        time.sleep(0.2)
    booked = httpx.post(
        f"{api}/bookings",
        json={
            "site": "korsoer",
            "service": "pas",
            "starts_at": free[0]["starts_at"],
            "citizen_name": "Karen Jensen",
            "phone": "20 30 40 50",
        },
        headers={"Idempotency-Key": "secrets-1"},
    )
    assert booked.status_code == 201, booked.text
    return UUID(booked.json()["booking_id"]), booked.json()["manage_token"]


def opens(base: str, booking_id: UUID, token: str) -> int:
    return httpx.get(
        f"{base}/api/v1/bookings/{booking_id}", headers={"X-Manage-Token": token}
    ).status_code


def test_demo_makes_its_secrets_once_and_keeps_them_across_a_restart(
    demo_process: DemoProcess, tmp_path: Path
) -> None:
    first = demo_process.start()
    booking_id, manage_token = book_a_time(first.base)
    forged = ManageTokens(OLD_PUBLIC_MANAGE_SECRET).issue(booking_id)
    assert opens(first.base, booking_id, manage_token) == 200
    assert opens(first.base, booking_id, forged) == 404
    staff_token = first.staff_token("slagelse")
    store = tmp_path / "var" / "secrets.json"
    assert stat.S_IMODE(store.stat().st_mode) == 0o600
    kept = store.read_text()
    for name in ("MANAGE_TOKEN_SECRET", "PERSONAL_DATA_KEY", "STAFF_TOKENS"):
        assert name in json.loads(kept)
    demo_process.stop()

    again = demo_process.start()
    assert store.read_text() == kept
    assert stat.S_IMODE(store.stat().st_mode) == 0o600
    report = httpx.get(
        f"{again.base}/api/v1/municipalities/slagelse/reports/bookings",
        headers={"Authorization": f"Bearer {staff_token}"},
    )
    assert report.status_code == 200, report.text  # the token printed before the restart
    assert opens(again.base, booking_id, manage_token) == 200  # so is the SMS link
    assert opens(again.base, booking_id, forged) == 404
