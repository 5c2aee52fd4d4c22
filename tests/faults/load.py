"""Steady booking load over HTTP, as careful citizens' browsers make it: every attempt has its
own Idempotency-Key, and an attempt without an answer (a 5xx, a dropped connection) is sent
again with the same key until the API decides it: 201 (accepted) or 409 (refused)."""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from uuid import UUID

import httpx

ACCEPTED, REFUSED = "accepted", "refused"


@dataclass
class Attempt:
    key: str
    starts_at: str
    phone: str  # a citizen's own: at most two active bookings per phone and service
    outcome: str | None = None
    booking_id: UUID | None = None
    tries: int = 0


@dataclass
class BookingLoad:
    """`rate` booking attempts per second, spread over the booking instances at `urls`."""

    urls: Sequence[str]
    municipality: str
    site: str
    service: str
    times: Sequence[str]
    rate: float = 12.0
    workers: int = 6
    seed: int = 0
    attempts: list[Attempt] = field(default_factory=list)
    retried: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    async def run(self, seconds: float, give_up_after: float = 120.0) -> None:
        """Sends new attempts for `seconds`; each is retried until decided or `give_up_after`."""
        deadline = time.monotonic() + seconds
        limits = httpx.Limits(max_connections=self.workers * 2)
        async with httpx.AsyncClient(timeout=10, limits=limits) as client:
            await asyncio.gather(
                *(self._worker(client, w, deadline, give_up_after) for w in range(self.workers))
            )

    async def settle(self, give_up_after: float = 60.0) -> None:
        """Asks again for every attempt still undecided (the deployment is up again)."""
        async with httpx.AsyncClient(timeout=10) as client:
            for attempt in self.undecided:
                await self._decide(client, attempt, time.monotonic() + give_up_after)

    @property
    def undecided(self) -> list[Attempt]:
        return [a for a in self.attempts if a.outcome is None]

    def decided(self, outcome: str) -> list[Attempt]:
        return [a for a in self.attempts if a.outcome == outcome]

    async def _worker(
        self, client: httpx.AsyncClient, worker: int, deadline: float, give_up_after: float
    ) -> None:
        interval = self.workers / self.rate
        n = 0
        while time.monotonic() < deadline:
            started = time.monotonic()
            attempt = Attempt(
                f"fault-{self.seed}-{worker}-{n}",
                self.rng.choice(self.times),
                phone=f"203{len(self.attempts):05d}",
            )
            self.attempts.append(attempt)
            n += 1
            await self._decide(client, attempt, started + give_up_after)
            await asyncio.sleep(max(0.0, interval - (time.monotonic() - started)))

    async def _decide(self, client: httpx.AsyncClient, attempt: Attempt, give_up: float) -> None:
        body = {
            "site": self.site,
            "service": self.service,
            "starts_at": attempt.starts_at,
            "citizen_name": f"Borger {attempt.key}",
            "phone": attempt.phone,
        }
        while attempt.outcome is None and time.monotonic() < give_up:
            url = self.rng.choice(self.urls)
            attempt.tries += 1
            started = time.monotonic()
            try:
                response = await client.post(
                    f"{url}/api/v1/municipalities/{self.municipality}/bookings",
                    json=body,
                    headers={"Idempotency-Key": attempt.key},
                )
            except httpx.HTTPError as error:
                self.retried[type(error).__name__] += 1
                await asyncio.sleep(0.3)
                continue
            if response.status_code == 201:
                attempt.outcome, attempt.booking_id = ACCEPTED, UUID(response.json()["booking_id"])
                self.latencies.append(time.monotonic() - started)
            elif response.status_code == 409:
                attempt.outcome = REFUSED
                self.latencies.append(time.monotonic() - started)
            elif response.status_code >= 500:
                self.retried[f"HTTP {response.status_code}"] += 1
                await asyncio.sleep(0.3)
            else:
                raise AssertionError(f"{attempt.key}: {response.status_code} {response.text}")

    def report(self) -> str:
        retried = ", ".join(f"{k} {v}" for k, v in sorted(self.retried.items())) or "none"
        ordered = sorted(self.latencies) or [0.0]
        p50, p99 = ordered[len(ordered) // 2], ordered[int(len(ordered) * 0.99)]
        return (
            f"load: {len(self.attempts)} attempts over {len(self.urls)} booking instance(s); "
            f"answer p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms\n"
            f"  tries repeated with the same Idempotency-Key: {retried}"
        )
