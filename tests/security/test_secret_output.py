"""No secret in any output (issue 18): the real `borgerservice` command, made to fail on purpose
in the ways an operator meets, prints none of the secrets it was given, and says a
configuration error in a line, not in a traceback."""

from __future__ import annotations

import json
import secrets
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from infra.nats_server import EmbeddedNats, free_port
from tests.security.test_secrets import BIN, CLOSED, secrets_of_production, without_secrets

PASSWORD = f"pg-{secrets.token_hex(12)}"
NATS_PASSWORD = f"nats-{secrets.token_hex(12)}"


def with_password(database_url: str, user: str = "postgres") -> str:
    parts = urlsplit(database_url)
    return urlunsplit(parts._replace(netloc=f"{user}:{PASSWORD}@{parts.hostname}:{parts.port}"))


@pytest.fixture(scope="module")
def given() -> dict[str, str]:
    return secrets_of_production()


def secret_values(given: dict[str, str], var_dir: Path | None = None) -> list[str]:
    """Every secret the process knows: the ones given, their parts, and the bus's passwords."""
    values = [PASSWORD, NATS_PASSWORD, *given.values(), *json.loads(given["STAFF_TOKENS"]).values()]
    accounts = var_dir / "nats" / "accounts.json" if var_dir else None
    if accounts is not None and accounts.exists():
        values += [m for m in _strings(json.loads(accounts.read_text())) if len(m) >= 16]
    return values


def _strings(document: object) -> Iterator[str]:
    if isinstance(document, str):
        yield document
    elif isinstance(document, dict):
        for value in document.values():
            yield from _strings(value)
    elif isinstance(document, list):
        for value in document:
            yield from _strings(value)


def run(env: dict[str, str], *command: str, for_seconds: float = 20.0) -> tuple[int | None, str]:
    """The command's exit code (None if it was still running after `for_seconds`, then
    stopped) and everything it printed."""
    process = subprocess.Popen(
        [str(BIN), *command], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        output, _ = process.communicate(timeout=for_seconds)
        return process.returncode, output
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGINT)
        try:
            output, _ = process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
        return None, output


def assert_tells_no_secret(output: str, values: list[str]) -> None:
    for value in values:
        assert value not in output, f"a secret ({value[:4]}…) was printed:\n{output}"


def test_a_refused_database_login_is_one_line_without_the_password(
    database_url: str, given: dict[str, str]
) -> None:
    env = without_secrets(
        **given,
        DATABASE_URL=with_password(database_url, user="nobody_here"),
        NATS_URL=f"nats://platform:{NATS_PASSWORD}@{CLOSED}",
    )
    code, output = run(env, "serve", "reporting")
    assert code not in (0, None), output
    assert_tells_no_secret(output, secret_values(given))
    lines = output.strip().splitlines()
    assert len(lines) == 1 and "DATABASE_URL" in lines[0], output
    assert "Traceback" not in output


def test_a_missing_secret_names_it_and_shows_no_other(given: dict[str, str]) -> None:
    env = without_secrets(**given, DATABASE_URL=with_password(f"postgresql://{CLOSED}/x"))
    env.pop("MANAGE_TOKEN_SECRET")
    code, output = run(env, "serve", "booking")
    assert code not in (0, None)
    assert "MANAGE_TOKEN_SECRET" in output and len(output.strip().splitlines()) == 1, output
    assert_tells_no_secret(output, secret_values(given))


def test_waiting_for_an_unreachable_bus_with_credentials_shows_none(
    database_url: str, given: dict[str, str]
) -> None:
    env = without_secrets(
        **given,
        DATABASE_URL=with_password(database_url),
        NATS_URL=f"nats://platform:{NATS_PASSWORD}@{CLOSED}",
    )
    code, output = run(env, "serve", "booking", "--port", str(free_port()), for_seconds=5)
    assert code is None, output  # an outage is waited out, never a reason to exit
    assert "Connect call failed" in output and "Traceback" not in output, output
    assert_tells_no_secret(output, secret_values(given))


def test_up_waiting_for_an_unreachable_database_shows_no_secret(
    tmp_path: Path, given: dict[str, str]
) -> None:
    var_dir = tmp_path / "var"
    env = without_secrets(
        **given,
        DATABASE_URL=with_password(f"postgresql://{CLOSED}/borgerservice"),
        NATS_PORT=str(free_port()),
        VAR_DIR=str(var_dir),
    )
    code, output = run(env, "up", "--port", str(free_port()), for_seconds=6)
    assert code is None, output
    assert "startup.waiting" in output, output
    values = secret_values(given, var_dir)
    assert len(values) > len(secret_values(given)), "the embedded bus made no passwords"
    assert_tells_no_secret(output, values)


def test_a_port_in_use_is_one_line_without_the_bus_password(
    database_url: str, nats_server: EmbeddedNats, given: dict[str, str]
) -> None:
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    host = urlsplit(nats_server.url).netloc.rsplit("@", 1)[-1]
    env = without_secrets(
        **given,
        DATABASE_URL=with_password(database_url),
        NATS_URL=f"nats://someone:{NATS_PASSWORD}@{host}",
    )
    started = time.monotonic()
    try:
        code, output = run(env, "serve", "reporting", "--port", str(port))
    finally:
        taken.close()
    assert code not in (0, None), output
    assert time.monotonic() - started < 15
    assert_tells_no_secret(output, secret_values(given))
    assert "Traceback" not in output and f"port {port}" in output, output
