"""Fuzzing the HTTP APIs from their own OpenAPI description (schemathesis): whatever a client
sends, the booking and reporting services answer it, never with a 5xx. They run as production
runs them (`borgerservice serve`), on a municipality with open times so that valid requests
reach the application too. `-m fuzz` runs the long version."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from infra.database import drop_database, ensure_database
from infra.nats_server import EmbeddedNats
from tests.conftest import BASE_DATABASE_URL
from tests.faults.conftest import open_world
from tests.faults.deployment import Deployment

QUICK, LONG = 6, 300
SETTINGS = {
    "deadline": None,
    "suppress_health_check": list(HealthCheck),
    "database": None,
}


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    """The booking and reporting services on a fresh database with a municipality open."""
    parts = urlsplit(BASE_DATABASE_URL)
    database_url = urlunsplit(parts._replace(path=f"/bs_fuzz_{uuid.uuid4().hex[:10]}"))
    asyncio.run(ensure_database(database_url))
    tmp = Path(tmp_path_factory.mktemp("fuzz"))
    nats = EmbeddedNats(tmp / "nats")
    nats.start()
    running = Deployment(database_url, nats.url, tmp / "logs", nats)
    try:
        open_world(database_url, days=3)
        running.add("booking")
        running.add("reporting")
        running.start_all()
        yield running
    finally:
        running.stop_all()
        nats.stop()
        asyncio.run(drop_database(database_url))


def server_errors(base_url: str, max_examples: int) -> list[str]:
    """Every operation of the API at `base_url`, with valid and invalid inputs generated from
    its OpenAPI description; returns each (shrunk) request that got a 5xx."""
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    found: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()  # type: ignore[union-attr]  # an invalid schema fails here
        cases = st.one_of(
            operation.as_strategy(GenerationMode.POSITIVE),
            operation.as_strategy(GenerationMode.NEGATIVE),
        )

        @settings(max_examples=max_examples, **SETTINGS)  # type: ignore[arg-type]
        @given(cases)
        def answers(case: schemathesis.Case) -> None:
            response = case.call(base_url=base_url, timeout=30)
            assert response.status_code < 500, (
                f"{response.status_code} for {case.as_curl_command()}\n{response.text[:300]}"
            )

        try:
            answers()
        except AssertionError as error:
            found.append(f"{operation.label}: {error}")
    return found


@pytest.mark.parametrize("service", ["booking", "reporting"])
def test_api_answers_any_request_without_a_server_error(
    deployment: Deployment, service: str
) -> None:
    failures = server_errors(deployment.of(service)[0].base_url, QUICK)
    assert not failures, "\n\n".join(failures)


@pytest.mark.fuzz
@pytest.mark.parametrize("service", ["booking", "reporting"])
def test_api_long_fuzz(deployment: Deployment, service: str) -> None:
    failures = server_errors(deployment.of(service)[0].base_url, LONG)
    assert not failures, "\n\n".join(failures)
