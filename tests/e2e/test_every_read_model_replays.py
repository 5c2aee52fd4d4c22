"""Every stored fact replayable: each read model the history alone decides (reporting and
reporting_sms, availability, audit) is rebuilt by `borgerservice replay` from its stream
(BS_EVENTS, or BS_SMS for the SMS deliveries) to the content hash of the live one, on a real
`up --demo` after citizens booked, cancelled and got their SMS."""

from __future__ import annotations

import asyncio
import re
import subprocess
import time

import asyncpg
import httpx
import pytest

from borgerservice.cli import replayable_read_models
from infra.read_models import content_hash
from tests.e2e.conftest import korsoer_passport_times, wait_for
from tests.processes import BIN

MODELS = ("reporting", "reporting_sms", "availability", "audit")


@pytest.fixture
def deployment_env() -> dict[str, str]:
    return {"RATE_LIMIT_PER_PHONE_PER_HOUR": "0"}


def live_hashes(database_url: str) -> dict[str, str]:
    async def hashes() -> dict[str, str]:
        connection = await asyncpg.connect(database_url)
        try:
            models = replayable_read_models()
            return {name: await content_hash(connection, "public", models[name]) for name in MODELS}
        finally:
            await connection.close()

    return asyncio.run(hashes())


def sms_reported(database_url: str) -> int:
    async def count() -> int:
        connection = await asyncpg.connect(database_url)
        try:
            return int(await connection.fetchval("SELECT count(*) FROM report_sms"))
        finally:
            await connection.close()

    return asyncio.run(count())


def test_every_read_model_replays_to_the_live_content_hash(deployment: dict[str, str]) -> None:
    assert set(MODELS) == set(replayable_read_models()), "a new read model: replay it here"
    base, database_url = deployment["base"], deployment["DATABASE_URL"]
    api = f"{base}/api/v1/municipalities/slagelse"

    times = korsoer_passport_times(base)
    assert len(times) >= 3, "the demo opened too few times at Korsør"
    made = []
    for n, starts_at in enumerate(times[:3]):
        booked = httpx.post(
            f"{api}/bookings",
            json={
                "site": "korsoer", "service": "pas", "starts_at": starts_at,
                "citizen_name": f"Borger {n}", "phone": f"+45 2030 40{n:02d}",
            },
            headers={"Idempotency-Key": f"replay-{n}"},
        )  # fmt: skip
        assert booked.status_code == 201, booked.text
        made.append(booked.json())
    cancelled = httpx.post(
        f"{base}/api/v1/bookings/{made[0]['booking_id']}/cancel",
        json={"reason": "syg"},
        headers={"X-Manage-Token": made[0]["manage_token"]},
    )
    assert cancelled.status_code == 200, cancelled.text
    # the confirmations are sent, and reach reporting over BS_SMS
    assert wait_for(lambda: sms_reported(database_url) >= 3, timeout=30), "no SMS reported"

    def settled() -> dict[str, str] | None:
        before = live_hashes(database_url)
        time.sleep(1)
        return before if live_hashes(database_url) == before else None

    live = wait_for(settled, timeout=30)
    assert live, "the read models kept changing"
    for name in MODELS:
        replayed = subprocess.run(
            [str(BIN), "replay", name],
            env=deployment,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert replayed.returncode == 0, replayed.stdout + replayed.stderr
        found = re.search(r"content hash (\w+)", replayed.stdout)
        assert found, replayed.stdout
        assert found.group(1) == live[name], f"{name}: {replayed.stdout}"
