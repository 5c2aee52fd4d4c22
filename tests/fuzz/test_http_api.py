"""Fuzzing the HTTP APIs from their own OpenAPI description (schemathesis): whatever a client
sends, the booking and reporting services answer it, never with a 5xx. They run as production
runs them (`borgerservice serve`), on a municipality with open times and a few bookings.

Most requests carry a genuine staff token of that municipality, and a share of them name it
(and its site, day and bookings) in the path, so that generated inputs get past the staff
check and reach the handlers; the rest keep a random municipality or the generated
Authorization header, so the refusals are fuzzed too. `-m fuzz` runs the long version."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from infra.database import drop_database, ensure_database
from infra.nats_server import EmbeddedNats
from infra.staff_tokens import Role
from tests.booking_world import DAY, MUNICIPALITY, SITE, booking_body, staff_headers
from tests.conftest import BASE_DATABASE_URL
from tests.faults.conftest import open_world
from tests.faults.deployment import Deployment

QUICK, LONG = 6, 300
SETTINGS = {
    "deadline": None,
    "suppress_health_check": list(HealthCheck),
    "database": None,
}
BOOKINGS = 4
# Who the token-bearing requests act as: booking's staff routes take staff or admin, reports
# are read with the role made for statistics.
ROLES = {"booking": (Role.STAFF, Role.ADMIN), "reporting": (Role.REPORTING,)}
# An event stream never ends: read what it sends in this long, then hang up.
STREAM_SECONDS = 2.0


@dataclass(frozen=True)
class Booked:
    booking_id: str
    manage_token: str


@dataclass
class Fuzzed:
    deployment: Deployment
    booked: list[Booked]


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fuzzed]:
    """The booking and reporting services on a fresh database with a municipality open and
    a few bookings made; the municipality shares its figures with the regional report."""
    parts = urlsplit(BASE_DATABASE_URL)
    database_url = urlunsplit(parts._replace(path=f"/bs_fuzz_{uuid.uuid4().hex[:10]}"))
    asyncio.run(ensure_database(database_url))
    tmp = Path(tmp_path_factory.mktemp("fuzz"))
    nats = EmbeddedNats(tmp / "nats")
    nats.start()
    running = Deployment(database_url, nats.url, tmp / "logs", nats)
    try:
        times = open_world(database_url, days=3)
        running.add("booking")
        running.add("reporting").env["REGIONAL_MUNICIPALITIES"] = f'["{MUNICIPALITY}"]'
        running.start_all()
        booking_url = running.of("booking")[0].base_url
        yield Fuzzed(
            running,
            [book(booking_url, starts_at, n) for n, starts_at in enumerate(times[:BOOKINGS])],
        )
    finally:
        running.stop_all()
        nats.stop()
        asyncio.run(drop_database(database_url))


def book(base_url: str, starts_at: str, n: int) -> Booked:
    response = httpx.post(
        f"{base_url}/api/v1/municipalities/{MUNICIPALITY}/bookings",
        json=booking_body(starts_at=starts_at, phone=f"+45 2030 41{n:02d}"),
        headers={"Idempotency-Key": str(uuid.uuid4())},
        timeout=30,
    )
    assert response.status_code == 201, response.text
    made = response.json()
    return Booked(str(made["booking_id"]), made["manage_token"])


def server_errors(
    base_url: str, roles: tuple[Role, ...], booked: list[Booked], max_examples: int
) -> tuple[list[str], Counter[int]]:
    """Every operation of the API at `base_url`, with valid and invalid inputs generated from
    its OpenAPI description; returns each (shrunk) request that got a 5xx, and how many
    answers to a genuine token on the routes that check it had each status."""
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    found: list[str] = []
    statuses: Counter[int] = Counter()
    tokens = [staff_headers(MUNICIPALITY, role) for role in roles]
    for result in schema.get_all_operations():
        operation = result.ok()  # type: ignore[union-attr]  # an invalid schema fails here
        cases = aimed(operation, tokens, booked)
        error = server_error(operation, base_url, cases, max_examples, statuses)
        if error is not None:
            found.append(f"{operation.label}: {error}")
    return found, statuses


# What the OpenAPI document promises of every answer: a documented status, its content type
# and a body of its schema (the project's own error bodies included, infra/http.py).
CONTRACT = [status_code_conformance, content_type_conformance, response_schema_conformance]


def breaches_of_contract(case: schemathesis.Case, response: Any, headers: dict[str, str]) -> str:
    """What in `response` the OpenAPI document does not promise; empty if nothing."""
    try:
        case.validate_response(response, checks=CONTRACT, headers=headers)
    except FailureGroup as group:
        return "; ".join(sorted({f"{response.status_code} {f.title}" for f in group.exceptions}))
    return ""


def server_error(
    operation: Any,
    base_url: str,
    cases: st.SearchStrategy[tuple[schemathesis.Case, dict[str, str]]],
    max_examples: int,
    statuses: Counter[int],
) -> str | None:
    """The shrunk request of `cases` that got a 5xx, if any; counts into `statuses`."""
    timeout = STREAM_SECONDS if streams(operation) else 30.0
    checked = takes_staff_token(operation)
    breaches: list[str] = []
    seen: set[str] = set()

    @settings(max_examples=max_examples, **SETTINGS)  # type: ignore[arg-type]
    @given(cases)
    def answers(aim: tuple[schemathesis.Case, dict[str, str]]) -> None:
        case, headers = aim
        response = case.call(base_url=base_url, headers=headers, timeout=timeout)
        if checked and "Authorization" in headers:
            statuses[response.status_code] += 1
        assert response.status_code < 500, (
            f"{response.status_code} for {case.as_curl_command(headers)}\n{response.text[:300]}"
        )
        if not streams(operation):
            breach = breaches_of_contract(case, response, headers)
            if breach and breach not in seen:
                seen.add(breach)
                breaches.append(f"{breach}\n    {case.as_curl_command(headers)[:300]}")

    try:
        answers()
    except AssertionError as error:
        return str(error)
    if breaches:
        return "answered outside its OpenAPI document:\n  " + "\n  ".join(breaches)
    return None


def aimed(
    operation: Any, tokens: list[dict[str, str]], booked: list[Booked]
) -> st.SearchStrategy[tuple[schemathesis.Case, dict[str, str]]]:
    """Generated requests with the headers to add: a third name the municipality (its site,
    day and a booking) in the path with a genuine token; a third a random municipality with
    a genuine token; a third as generated, Authorization header included."""

    def generated(path: Mapping[str, str] | None = None) -> st.SearchStrategy[schemathesis.Case]:
        return st.one_of(
            operation.as_strategy(GenerationMode.POSITIVE, path_parameters=path),
            operation.as_strategy(GenerationMode.NEGATIVE, path_parameters=path),
        )

    def in_the_world(booking: Booked) -> st.SearchStrategy[schemathesis.Case]:
        known = {
            "municipality": MUNICIPALITY,
            "site": SITE,
            "day": DAY.isoformat(),
            "booking_id": booking.booking_id,
        }
        path = {name: value for name, value in known.items() if f"{{{name}}}" in operation.path}
        return generated(path or None)

    def with_token(booking: Booked) -> st.SearchStrategy[dict[str, str]]:
        return st.sampled_from(tokens).map(lambda t: {**t, "X-Manage-Token": booking.manage_token})

    known_booking = st.sampled_from(booked)
    return st.one_of(
        known_booking.flatmap(lambda b: st.tuples(in_the_world(b), with_token(b))),
        known_booking.flatmap(lambda b: st.tuples(generated(), with_token(b))),
        st.tuples(generated(), st.just({})),
    )


def takes_staff_token(operation: Any) -> bool:
    parameters = operation.definition.raw.get("parameters", [])
    return any(p.get("in") == "header" and p["name"].lower() == "authorization" for p in parameters)


def streams(operation: Any) -> bool:
    """Whether the operation answers with an event stream, which never ends by itself."""
    responses = operation.definition.raw.get("responses", {})
    return any("text/event-stream" in r.get("content", {}) for r in responses.values())


def fuzz(fuzzed: Fuzzed, service: str, max_examples: int) -> None:
    base_url = fuzzed.deployment.of(service)[0].base_url
    failures, statuses = server_errors(base_url, ROLES[service], fuzzed.booked, max_examples)
    assert not failures, "\n\n".join(failures)
    # The tokens work: requests got past the staff check and were answered by the handlers.
    assert statuses[200] + statuses[201] > 0, statuses


# The first and last days of the calendar, where converting a time to UTC or moving a date by
# a day overflows: what the fuzzing found as 500s, refused now as invalid input.
EDGES = ("0001-01-01T00:00:00+00:01", "9999-12-31T23:59:00-00:01")


@pytest.mark.parametrize("edge", EDGES)
def test_times_at_the_ends_of_the_calendar_are_invalid_input(fuzzed: Fuzzed, edge: str) -> None:
    api = f"{fuzzed.deployment.of('booking')[0].base_url}/api/v1"
    m, booked, admin = f"{api}/municipalities/{MUNICIPALITY}", fuzzed.booked[0], Role.ADMIN
    day = edge[:10]
    body = booking_body(starts_at=edge)
    answers = {
        "book": httpx.post(f"{m}/bookings", json=body),
        "book on behalf": httpx.post(f"{m}/staff/bookings", json=body, headers=staff_headers()),
        "hold": httpx.post(f"{m}/holds", json={"site": SITE, "service": "pas", "starts_at": edge}),
        "reschedule": httpx.post(
            f"{api}/bookings/{booked.booking_id}/reschedule",
            json={"starts_at": edge},
            headers={"X-Manage-Token": booked.manage_token},
        ),
        "availability from": httpx.get(f"{m}/availability", params={"from": day}),
        "availability to": httpx.get(f"{m}/availability", params={"to": day}),
        "day view": httpx.get(f"{m}/sites/{SITE}/days/{day}/bookings", headers=staff_headers()),
        "cancel a day": httpx.post(
            f"{m}/sites/{SITE}/days/{day}/cancel-bookings",
            json={"reason": "lukket"},
            headers=staff_headers(role=admin),
        ),
    }
    refused = {name: (r.status_code, "between the years" in r.text) for name, r in answers.items()}
    assert refused == dict.fromkeys(answers, (422, True))


@pytest.mark.parametrize("service", ["booking", "reporting"])
def test_api_answers_any_request_without_a_server_error(fuzzed: Fuzzed, service: str) -> None:
    fuzz(fuzzed, service, QUICK)


@pytest.mark.fuzz
@pytest.mark.parametrize("service", ["booking", "reporting"])
def test_api_long_fuzz(fuzzed: Fuzzed, service: str) -> None:
    fuzz(fuzzed, service, LONG)
