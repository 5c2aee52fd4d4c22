"""`borgerservice` in its own process, started as a user starts it and stopped with Ctrl-C: for
the tests that use the system from outside (e2e, browser, the data directory's owner)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

BIN = Path(sys.executable).parent / "borgerservice"


def start(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    """`borgerservice <args>` in a session of its own (so Ctrl-C reaches its whole group),
    stdout and stderr together."""
    return subprocess.Popen(
        [str(BIN), *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def wait_until_healthy(process: subprocess.Popen[str], base: str, timeout: float = 60) -> None:
    """Until `base/healthz` answers 200; fails the test with the output if the process exits
    or does not answer in time."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"borgerservice did not start:\n{process.communicate()[0]}")
        time.sleep(0.2)


def interrupt(process: subprocess.Popen[str], timeout: float = 30) -> str:
    """Ctrl-C as a terminal sends it (to the whole group); the output. The process must stop
    cleanly, with exit code 0."""
    os.killpg(process.pid, signal.SIGINT)
    output = process.communicate(timeout=timeout)[0]
    assert process.returncode == 0, output
    return output
