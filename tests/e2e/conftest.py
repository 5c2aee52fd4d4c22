"""`borgerservice up --demo` in its own process, on an embedded nats-server and a fresh
PostgreSQL database, for the tests that use the system as a user does."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from infra.nats_accounts import tools_url
from infra.nats_server import free_port
from tests.booking_world import STAFF_KEYS
from tests.processes import interrupt, start, wait_until_healthy


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
    process = start(env, "up", "--demo", "--port", str(http_port))
    base = f"http://127.0.0.1:{http_port}"
    wait_until_healthy(process, base)
    tools = tools_url(tmp_path / "var")  # the bus lets nobody in without credentials
    assert tools is not None
    yield {"base": base, "nats": tools, **env}
    assert "Stopped cleanly." in interrupt(process)


def wait_for(check, timeout: float = 15.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.1)


def korsoer_passport_times(base: str) -> list[str]:
    """The demo's free passport times at Korsør (Slagelse), once it has opened some."""

    def free_times() -> list[str]:
        found = httpx.get(
            f"{base}/api/v1/municipalities/slagelse/availability",
            params={"service": "pas", "site": "korsoer"},
        )
        return [t["starts_at"] for t in found.json()]

    times: list[str] = wait_for(free_times)
    return times
