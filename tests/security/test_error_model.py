"""The error model is in the contract: what the APIs answer when they refuse is what their
OpenAPI document says. The generated requests of tests/fuzz/test_http_api.py check every
answer against the document (status, content type, body schema: schemathesis's conformance
checks); these are the refusals it found undocumented, pinned by hand."""

from __future__ import annotations

import httpx

from tests.booking_world import MUNICIPALITY, booking_body, staff_headers
from tests.integration.conftest import api, booking_service  # noqa: F401 - fixtures


async def test_a_body_that_is_no_utf8_is_invalid_input_naming_the_body(
    api: httpx.AsyncClient,  # noqa: F811
) -> None:
    """FastAPI answered bytes that are no UTF-8 with a bare 400 that no operation documents."""
    for path, headers in (
        (f"/api/v1/municipalities/{MUNICIPALITY}/bookings", {}),
        (f"/api/v1/municipalities/{MUNICIPALITY}/staff/bookings", staff_headers()),
    ):
        answer = await api.post(
            path,
            content=b'{"site": "\xff\xfe"}',
            headers={**headers, "Content-Type": "application/json"},
        )
        assert answer.status_code == 422, answer.text
        assert answer.json()["errors"] == [{"field": "body", "problem": "is not JSON in UTF-8"}]


async def test_the_document_promises_every_refusal_a_route_makes(
    api: httpx.AsyncClient,  # noqa: F811
) -> None:
    document = (await api.get("/openapi.json")).json()
    staff = document["paths"]["/api/v1/municipalities/{municipality}/staff/bookings"]["post"]
    citizen = document["paths"]["/api/v1/municipalities/{municipality}/bookings"]["post"]
    # a staff route refuses a missing or bad token (401) and a token that may not (403)
    assert {"401", "403", "413", "422", "429"} <= set(staff["responses"])
    assert {"401", "403"}.isdisjoint(citizen["responses"])
    schema = staff["responses"]["401"]["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/Problem"}
    invalid = citizen["responses"]["422"]["content"]["application/json"]["schema"]
    assert invalid == {"$ref": "#/components/schemas/ValidationProblem"}
    # and what the route answers has that shape
    refused = await api.post(
        f"/api/v1/municipalities/{MUNICIPALITY}/staff/bookings", json=booking_body()
    )
    assert refused.status_code == 401 and set(refused.json()) == {"detail"}
