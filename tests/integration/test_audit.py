"""The audit trail: who did what to which booking, built from its events, per municipality."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from infra.manage_token import fingerprint
from infra.staff_tokens import Role
from services.booking.service import BookingService
from tests.booking_world import MUNICIPALITY, STAFF, booking_body, seed_world, staff_headers
from tests.support import eventually

BASE = f"/api/v1/municipalities/{MUNICIPALITY}"


async def trail(api: httpx.AsyncClient, booking_id: str, count: int) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []

    async def complete() -> bool:
        response = await api.get(f"{BASE}/bookings/{booking_id}/audit", headers=STAFF)
        found[:] = response.json() if response.status_code == 200 else []
        return len(found) >= count

    await eventually(complete, timeout=15)
    return found


async def booked(
    running_booking: BookingService, api: httpx.AsyncClient, key: str, **body: str
) -> dict[str, Any]:
    """A day of times in the world, and one booking made online with `body`'s details."""
    await asyncio.to_thread(seed_world, running_booking.app, 2)
    made = await api.post(
        f"{BASE}/bookings", json=booking_body(**body), headers={"Idempotency-Key": key}
    )
    assert made.status_code == 201, made.text
    return dict(made.json())


async def test_each_action_names_who_did_it_and_nothing_personal(
    running_booking: BookingService, api: httpx.AsyncClient
) -> None:
    made = await booked(
        running_booking, api, "audit-1", citizen_name="Audit Auditsen", phone="20 30 77 66"
    )
    booking_id = made["booking_id"]
    for action, account in (("check-in", "mette"), ("start", "jens"), ("complete", "jens")):
        done = await api.post(
            f"{BASE}/bookings/{booking_id}/{action}", headers=staff_headers(account=account)
        )
        assert done.status_code == 200, done.text

    entries = await trail(api, booking_id, 4)
    assert [(e["action"], e["actor_kind"], e["actor"]) for e in entries] == [
        ("booked", "citizen", "citizen"),
        ("checked_in", "staff", "mette"),
        ("started", "staff", "jens"),
        ("completed", "staff", "jens"),
    ]
    assert [e["version"] for e in entries] == [1, 2, 3, 4]
    assert entries[0]["detail"]["channel"] == "web"
    rows = await running_booking.pool.fetch("SELECT actor, detail::text AS detail FROM audit_entry")
    text = " ".join(f"{r['actor']} {r['detail']}" for r in rows)
    for personal in ("Audit", "Auditsen", "20307766", "20 30 77 66"):
        assert personal not in text


async def test_only_the_municipalitys_booking_staff_see_its_trail(
    running_booking: BookingService, api: httpx.AsyncClient
) -> None:
    booking_id = (await booked(running_booking, api, "audit-2", phone="20 30 77 67"))["booking_id"]
    await trail(api, booking_id, 1)
    url = f"{BASE}/bookings/{booking_id}/audit"
    foreign = await api.get(
        f"/api/v1/municipalities/herning/bookings/{booking_id}/audit",
        headers=staff_headers("herning"),
    )
    assert foreign.status_code == 404  # by a guessed id, another municipality sees nothing
    herning_on_slagelse = await api.get(url, headers=staff_headers("herning"))
    assert herning_on_slagelse.status_code == 404
    reporting = await api.get(url, headers=staff_headers(role=Role.REPORTING))
    assert reporting.status_code == 403
    assert (await api.get(url)).status_code == 401
    forged = await api.get(url, headers={"Authorization": "Bearer not.a.token"})
    assert forged.status_code == 401


async def test_revoked_manage_links_stop_working_and_the_trail_names_each_token(
    running_booking: BookingService, api: httpx.AsyncClient
) -> None:
    body = await booked(running_booking, api, "audit-3", phone="20 30 77 68")
    booking_id, old_token = body["booking_id"], body["manage_token"]
    joined = await api.post(
        f"/api/v1/bookings/{booking_id}/waitlist", headers={"X-Manage-Token": old_token}
    )
    assert joined.status_code == 200, joined.text

    revoke = f"{BASE}/bookings/{booking_id}/manage-tokens/revoke"
    assert (await api.post(revoke, headers=staff_headers(role=Role.REPORTING))).status_code == 403
    foreign = await api.post(
        f"/api/v1/municipalities/herning/bookings/{booking_id}/manage-tokens/revoke",
        headers=staff_headers("herning"),
    )
    assert foreign.status_code == 404
    revoked = await api.post(revoke, headers=staff_headers(account="mette"))
    assert revoked.status_code == 200, revoked.text
    new_token = revoked.json()["manage_token"]
    assert revoked.json()["manage_path"] == f"/manage/{booking_id}?token={new_token}"

    old = await api.get(f"/api/v1/bookings/{booking_id}", headers={"X-Manage-Token": old_token})
    assert old.status_code == 404  # as for a booking that does not exist
    left = await api.delete(
        f"/api/v1/bookings/{booking_id}/waitlist", headers={"X-Manage-Token": old_token}
    )
    assert left.status_code == 404
    new = await api.delete(
        f"/api/v1/bookings/{booking_id}/waitlist", headers={"X-Manage-Token": new_token}
    )
    assert new.status_code == 200, new.text

    entries = await trail(api, booking_id, 4)
    assert [(e["action"], e["actor_kind"], e["actor"]) for e in entries] == [
        ("booked", "citizen", "citizen"),
        ("waitlisted", "citizen", f"citizen:{fingerprint(old_token)}"),
        ("manage_tokens_revoked", "staff", "mette"),
        ("left_waitlist", "citizen", f"citizen:{fingerprint(new_token)}"),
    ]
    assert entries[2]["detail"]["generation"] == 1
