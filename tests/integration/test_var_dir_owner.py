"""One owner per data directory, and a busy port is a configuration error: a second `up` on the
same `VAR_DIR` refuses at once without touching the first (it used to SIGTERM the first's
nats-server and hang), and `up` on a port in use exits in seconds with one line (it used to
hang for minutes)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from infra.nats_server import free_port
from tests.booking_world import STAFF_KEYS
from tests.processes import interrupt, start, wait_until_healthy


def environment(database_url: str, var_dir: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "NATS_PORT": str(free_port()),
        "VAR_DIR": str(var_dir),
        "STAFF_TOKENS": json.dumps(STAFF_KEYS),
    }
    env.pop("NATS_URL", None)
    return env


def up(env: dict[str, str], port: int) -> subprocess.Popen[str]:
    return start(env, "up", "--port", str(port))


@pytest.fixture
def first(database_url: str, tmp_path: Path) -> Iterator[tuple[dict[str, str], str]]:
    env = environment(database_url, tmp_path / "var")
    port = free_port()
    process = up(env, port)
    base = f"http://127.0.0.1:{port}"
    wait_until_healthy(process, base)
    yield env, base
    interrupt(process)


def test_a_second_up_on_the_same_data_refuses_at_once_and_leaves_the_first_alone(
    first: tuple[dict[str, str], str],
) -> None:
    env, base = first
    nats_pid = (Path(env["VAR_DIR"]) / "nats" / "nats-server.pid").read_text().strip()
    started = time.monotonic()
    second = up({**env, "NATS_PORT": str(free_port())}, free_port())
    output = second.communicate(timeout=30)[0]
    assert second.returncode != 0
    assert time.monotonic() - started < 15
    assert "is in use by another borgerservice" in output, output
    assert "Traceback" not in output and len(output.strip().splitlines()) <= 3, output
    assert Path(f"/proc/{nats_pid}").exists(), "the first's nats-server was signalled"
    assert httpx.get(f"{base}/healthz", timeout=5).status_code == 200


def test_up_on_a_port_in_use_exits_in_seconds_naming_it(database_url: str, tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        started = time.monotonic()
        process = up(environment(database_url, tmp_path / "var"), port)
        output = process.communicate(timeout=60)[0]
    assert process.returncode != 0
    assert time.monotonic() - started < 30
    assert str(port) in output and "in use" in output, output
    assert "Traceback" not in output, output
