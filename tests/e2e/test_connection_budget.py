"""The connection budget: `borgerservice up --demo` holds at most 20 PostgreSQL connections
in all, also while citizens book and look for times as fast as they can (three of them fit
in PostgreSQL's default 100 beside the tools; one held 28-30 before the budget)."""

from __future__ import annotations

import asyncio
import threading
import time
from urllib.parse import urlsplit

import httpx
import psycopg
import pytest

from tests.e2e.conftest import korsoer_passport_times

BUDGET = 20
CLIENTS = 32
SECONDS = 12


@pytest.fixture
def deployment_env() -> dict[str, str]:
    # as fast as they can: the abuse limits would refuse most of this load
    return {"RATE_LIMIT_PER_IP_PER_MINUTE": "0", "RATE_LIMIT_PER_PHONE_PER_HOUR": "0"}


def connections_held(database_url: str) -> int:
    name = urlsplit(database_url).path.lstrip("/")
    with psycopg.connect(database_url.rsplit("/", 1)[0] + "/postgres") as connection:
        row = connection.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        ).fetchone()
    assert row is not None
    return int(row[0])


async def rush(base: str, times: list[str]) -> dict[int, int]:
    """CLIENTS citizens, each booking and looking up times in turn for SECONDS."""
    api = f"{base}/api/v1/municipalities/slagelse"
    statuses: dict[int, int] = {}
    ends = time.monotonic() + SECONDS

    async def citizen(n: int) -> None:
        async with httpx.AsyncClient(timeout=30) as client:
            i = 0
            while time.monotonic() < ends:
                i += 1
                booked = await client.post(
                    f"{api}/bookings",
                    json={
                        "site": "korsoer", "service": "pas", "starts_at": times[i % len(times)],
                        "citizen_name": f"Borger {n} {i}", "phone": f"+4520{30 + n:02d}{i:04d}",
                    },
                    headers={"Idempotency-Key": f"budget-{n}-{i}"},
                )  # fmt: skip
                looked = await client.get(
                    f"{api}/availability", params={"service": "pas", "site": "korsoer"}
                )
                for status in (booked.status_code, looked.status_code):
                    statuses[status] = statuses.get(status, 0) + 1

    await asyncio.gather(*(citizen(n) for n in range(CLIENTS)))
    return statuses


def test_up_holds_at_most_twenty_connections_under_load(deployment: dict[str, str]) -> None:
    base, database_url = deployment["base"], deployment["DATABASE_URL"]

    times = korsoer_passport_times(base)
    assert times, "the demo opened no times at Korsør"
    peak, sampling = 0, True

    def sample() -> None:
        nonlocal peak
        while sampling:
            peak = max(peak, connections_held(database_url))
            time.sleep(0.05)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        statuses = asyncio.run(rush(base, times))
    finally:
        sampling = False
        sampler.join()
    print(f"up held at most {peak} connections; answers {dict(sorted(statuses.items()))}")
    assert statuses.get(201, 0) > 50, statuses
    assert set(statuses) <= {200, 201, 409}, statuses  # nothing refused as invalid, no 5xx
    assert 0 < peak <= BUDGET, f"up held {peak} connections at its peak"
