"""`borgerservice up --demo` in its own process, on an embedded nats-server and a fresh
PostgreSQL database, for the tests that use the system as a user does."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from infra.nats_accounts import tools_url
from infra.nats_server import free_port
from tests.booking_world import STAFF_KEYS

BIN = Path(sys.executable).parent / "borgerservice"


@pytest.fixture
def deployment_env() -> dict[str, str]:
    """Settings a test module gives its deployment besides these (override the fixture)."""
    return {}


@pytest.fixture
def deployment(
    database_url: str, tmp_path: Path, deployment_env: dict[str, str]
) -> Iterator[dict[str, str]]:
    """`borgerservice up --demo` in its own process, as a user starts it; Ctrl-C at the end
    must stop it cleanly."""
    http_port, nats_port = free_port(), free_port()
    env = {
        **os.environ,
        **deployment_env,
        "DATABASE_URL": database_url,
        "NATS_PORT": str(nats_port),
        "VAR_DIR": str(tmp_path / "var"),
        "STAFF_TOKENS": json.dumps(STAFF_KEYS),  # as production: the keys come from outside
    }
    env.pop("NATS_URL", None)
    process = subprocess.Popen(
        [str(BIN), "up", "--demo", "--port", str(http_port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{http_port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"borgerservice up did not start:\n{process.communicate()[0]}")
        time.sleep(0.2)
    tools = tools_url(tmp_path / "var")  # the bus lets nobody in without credentials
    assert tools is not None
    yield {"base": base, "nats": tools, **env}
    os.killpg(process.pid, signal.SIGINT)  # Ctrl-C in a terminal signals the whole group
    output = process.communicate(timeout=30)[0]
    assert process.returncode == 0, output
    assert "Stopped cleanly." in output


def wait_for(check, timeout: float = 15.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.1)
