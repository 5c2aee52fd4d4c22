"""Input is normalised at the edge: names and other free text NFC without control or bidi
characters, phone digits of any script as ASCII before limits, the web channel only for
citizens, and bounded catalog fields."""

from __future__ import annotations

import asyncio
import dataclasses
import unicodedata

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infra.http import build_api
from infra.staff_tokens import Role
from infra.text import FORBIDDEN
from services.booking.service import ERROR_STATUSES, BookingService
from tests.booking_world import MUNICIPALITY, STAFF, booking_body, later, seed_world
from tests.booking_world import staff_headers as staff_of
from tests.integration.conftest import api, booking_service  # noqa: F401 - fixtures

BASE = f"/api/v1/municipalities/{MUNICIPALITY}"
BOOKINGS = f"{BASE}/bookings"
ADMIN = staff_of(role=Role.ADMIN)
FULLWIDTH, ARABIC_INDIC, EXTENDED_ARABIC_INDIC = 0xFF10, 0x0660, 0x06F0  # each script's zero


def in_script(number: str, zero: int) -> str:
    """`number` with its ASCII digits written in the script whose zero is `zero`."""
    return number.translate({ord("0") + d: zero + d for d in range(10)})


@pytest.mark.parametrize(
    "name",
    [
        "Karen\x00Jensen",
        "Karen \x1b[31mJensen",
        "Karen \u202eneesnej",
        "   ",
        "\u2066\u2069",
        "\u200f",
        "Karen\x85",
        "Karen\x7f",
        "\t\u3000\u200b",
    ],
    ids=["nul", "esc", "rlo", "blank", "isolates", "rlm", "c1", "del", "invisible"],
)
async def test_names_with_control_or_bidi_characters_or_blank_are_422_naming_the_field(
    api: httpx.AsyncClient,  # noqa: F811
    booking_service: BookingService,  # noqa: F811
    name: str,
) -> None:
    await asyncio.to_thread(seed_world, booking_service.app)
    refused = await api.post(BOOKINGS, json=booking_body(citizen_name=name))
    assert refused.status_code == 422, refused.text
    assert "citizen_name" in refused.json()["detail"]
    staff = await api.post(
        f"{BASE}/staff/bookings", json=booking_body(citizen_name=name), headers=STAFF
    )
    assert staff.status_code == 422, staff.text
    assert "citizen_name" in staff.json()["detail"]


async def test_names_are_stored_nfc_and_trimmed(
    api: httpx.AsyncClient,  # noqa: F811
    booking_service: BookingService,  # noqa: F811
) -> None:
    await asyncio.to_thread(seed_world, booking_service.app)
    decomposed = "  Rene\u0301 Sørensen "
    made = await api.post(BOOKINGS, json=booking_body(citizen_name=decomposed))
    assert made.status_code == 201, made.text
    day = await api.get(f"{BASE}/sites/korsoer/days/2030-03-04/bookings", headers=STAFF)
    assert [b["citizen_name"] for b in day.json()] == ["Ren\u00e9 Sørensen"]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("staff-cancel", {"reason": "syg\x1b[2J"}),
        ("staff-cancel", {"reason": " \u202e "}),
        ("pre-assessment", {"outcome": "documents_ok", "note": "ok\x00"}),
    ],
    ids=["reason-esc", "reason-blank-rlo", "note-nul"],
)
async def test_staff_free_text_is_held_to_the_same_rule(
    api: httpx.AsyncClient,  # noqa: F811
    booking_service: BookingService,  # noqa: F811
    path: str,
    body: dict[str, str],
) -> None:
    await asyncio.to_thread(seed_world, booking_service.app)
    made = (await api.post(BOOKINGS, json=booking_body())).json()
    url = f"{BASE}/bookings/{made['booking_id']}/{path}"
    refused = await api.post(url, json=body, headers=STAFF)
    assert refused.status_code == 422, refused.text
    assert next(iter(body.keys() - {"outcome"})) in refused.json()["detail"]
    cancel = await api.post(
        f"/api/v1/bookings/{made['booking_id']}/cancel",
        json={"reason": "bye\x07"},
        headers={"X-Manage-Token": made["manage_token"]},
    )
    assert cancel.status_code == 422 and "reason" in cancel.json()["detail"]


async def test_a_staff_note_may_span_lines(
    api: httpx.AsyncClient,  # noqa: F811
    booking_service: BookingService,  # noqa: F811
) -> None:
    await asyncio.to_thread(seed_world, booking_service.app)
    made = (await api.post(BOOKINGS, json=booking_body())).json()
    noted = await api.post(
        f"{BASE}/bookings/{made['booking_id']}/pre-assessment",
        json={"outcome": "documents_ok", "note": "Medbring pas\r\nog billede"},
        headers=STAFF,
    )
    assert noted.status_code == 200, noted.text


@pytest.mark.parametrize(
    "phone",
    [
        in_script("20 30 40 50", FULLWIDTH),
        in_script("20 30 40 50", ARABIC_INDIC),
        in_script("+45", FULLWIDTH) + " 20304050",
        in_script("20304050", EXTENDED_ARABIC_INDIC),
    ],
    ids=["fullwidth", "arabic-indic", "mixed", "extended-arabic-indic"],
)
async def test_digits_of_any_script_count_against_the_same_citizen_limit(
    booking_service: BookingService,  # noqa: F811
    phone: str,
) -> None:
    await asyncio.to_thread(seed_world, booking_service.app)
    settings = booking_service.settings.model_copy(update={"rate_limit_per_phone_per_hour": 1})
    limited = dataclasses.replace(booking_service, settings=settings)
    transport = httpx.ASGITransport(app=build_api("test", [limited.router()], ERROR_STATUSES))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        first = await client.post(BOOKINGS, json=booking_body())
        assert first.status_code == 201, first.text
        again = await client.post(
            BOOKINGS, json=booking_body(phone=phone, starts_at=later(15).isoformat())
        )
    assert again.status_code == 429, again.text


async def test_digits_of_any_script_are_the_same_citizen_for_the_active_bookings_limit(
    api: httpx.AsyncClient,  # noqa: F811
    booking_service: BookingService,  # noqa: F811
) -> None:
    await asyncio.to_thread(seed_world, booking_service.app)
    phones = ["20 30 40 50", in_script("20304050", FULLWIDTH), in_script("20304050", ARABIC_INDIC)]
    answers = [
        await api.post(BOOKINGS, json=booking_body(phone=p, starts_at=later(15 * i).isoformat()))
        for i, p in enumerate(phones)
    ]
    assert [a.status_code for a in answers[:2]] == [201, 201]
    assert answers[2].status_code in (409, 422), answers[2].text
    day = await api.get(f"{BASE}/sites/korsoer/days/2030-03-04/bookings", headers=STAFF)
    assert {b["phone"] for b in day.json()} == {"+4520304050"}


async def test_a_citizen_cannot_claim_the_counter_channel(
    api: httpx.AsyncClient,  # noqa: F811
    booking_service: BookingService,  # noqa: F811
) -> None:
    await asyncio.to_thread(seed_world, booking_service.app)
    for channel in ("counter", "phone", "assisted"):
        refused = await api.post(BOOKINGS, json=booking_body(channel=channel))
        assert refused.status_code == 422, refused.text
        assert "channel" in refused.json()["detail"]
    assert (await api.post(BOOKINGS, json=booking_body(channel="web"))).status_code == 201


@pytest.mark.parametrize(
    "change",
    [
        {"documents": ["Pas"] * 21},
        {"documents": ["x" * 201]},
        {"documents": ["Pas\x00"]},
        {"name": "x" * 201},
        {"name": "Pas\u202e"},
        {"competence": "x" * 101},
    ],
    ids=["many-documents", "long-document", "nul-document", "long-name", "rlo-name", "competence"],
)
async def test_catalog_fields_are_bounded(
    api: httpx.AsyncClient,  # noqa: F811
    booking_service: BookingService,  # noqa: F811
    change: dict[str, object],
) -> None:
    await asyncio.to_thread(seed_world, booking_service.app)
    service = {"name": "Pas", "duration_minutes": 15, "documents": ["Pas"]} | change
    refused = await api.put(f"{BASE}/services/pas", json=service, headers=ADMIN)
    assert refused.status_code == 422, refused.text
    assert next(iter(change)) in refused.json()["detail"]


async def test_services_per_municipality_are_bounded(
    api: httpx.AsyncClient,  # noqa: F811
    booking_service: BookingService,  # noqa: F811
) -> None:
    await asyncio.to_thread(seed_world, booking_service.app)
    answers = [
        (
            await api.put(
                f"{BASE}/services/s{i}",
                json={"name": f"Ydelse {i}", "duration_minutes": 15},
                headers=ADMIN,
            )
        ).status_code
        for i in range(101)
    ]
    assert answers[:98] == [200] * 98  # two exist already: 100 in all
    assert answers[98:] == [422] * 3
    changed = await api.put(
        f"{BASE}/services/pas", json={"name": "Pas og ID", "duration_minutes": 15}, headers=ADMIN
    )
    assert changed.status_code == 200  # an existing one may still change


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(name=st.text(min_size=0, max_size=40))
async def test_any_name_is_refused_or_stored_nfc_without_control_or_bidi(
    api: httpx.AsyncClient,  # noqa: F811
    booking_service: BookingService,  # noqa: F811
    name: str,
) -> None:
    await asyncio.to_thread(seed_world, booking_service.app, 1000)  # once: then it is open
    answer = await api.post(
        f"{BASE}/staff/bookings", json=booking_body(citizen_name=name), headers=STAFF
    )
    if answer.status_code == 422:
        assert "citizen_name" in answer.json()["detail"]
        return
    assert answer.status_code == 201, answer.text
    stored = answer.json()["citizen_name"]
    assert stored == unicodedata.normalize("NFC", stored)
    assert stored.strip() == stored and stored
    assert not any(unicodedata.category(c) == "Cc" or c in FORBIDDEN for c in stored)
    await api.post(
        f"{BASE}/bookings/{answer.json()['booking_id']}/staff-cancel",
        json={"reason": "property test"},
        headers=STAFF,
    )
