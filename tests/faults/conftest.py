"""The fault suite's world: one municipality with two weeks of times, two seats each, opened
in the event store before the services start; and a deployment of real processes on it."""

from __future__ import annotations

import asyncio
import os
import random
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from infra.nats_server import EmbeddedNats
from services.booking.application import BookingApplication
from services.booking.domain.opening_hours import OpeningHours
from services.booking.settings import BookingSettings
from tests.booking_world import DAY, MUNICIPALITY, SITE, seed_world
from tests.booking_world import HOURS as FIRST_DAY_HOURS
from tests.faults.deployment import Deployment
from tests.faults.ledger import Ledger
from tests.faults.load import BookingLoad

SEATS = 2
LOAD_SECONDS = float(os.environ.get("FAULT_LOAD_SECONDS", "65"))
SEED = int(os.environ.get("FAULT_SEED", str(random.randrange(10_000))))
HOURS = OpeningHours.parse(
    {day: "09:00-15:00" for day in ("mon", "tue", "wed", "thu", "fri")},
    slot_minutes=15,
    seats=SEATS,
    services=["pas"],
)


def open_world(database_url: str, days: int = 12) -> list[str]:
    """Registers the municipality and opens its times; returns every bookable `starts_at`."""
    app = BookingApplication(BookingSettings(database_url=database_url).eventsourcing_env())
    try:
        seed_world(app, seats=SEATS)
        times = [s["starts_at"] for s in FIRST_DAY_HOURS.slots_on(DAY)]
        for offset in range(1, days):
            slots = HOURS.slots_on(DAY + timedelta(days=offset))
            if slots:
                app.open_day(MUNICIPALITY, SITE, DAY + timedelta(days=offset), slots)
                times += [s["starts_at"] for s in slots]
    finally:
        app.close()
    return [t.isoformat() for t in times]


@pytest.fixture
def world(database_url: str) -> list[str]:
    return open_world(database_url)


@pytest.fixture
def nats_node(tmp_path: Path) -> Iterator[EmbeddedNats]:
    """An external nats-server of the suite's own, which it may kill and restart."""
    server = EmbeddedNats(tmp_path / "nats", server_name="faults")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def make_deployment(database_url: str, tmp_path: Path) -> Iterator[Callable[..., Deployment]]:
    made: list[Deployment] = []

    def make(nats_url: str, nats: EmbeddedNats | None = None) -> Deployment:
        deployment = Deployment(database_url, nats_url, tmp_path / "logs", nats)
        made.append(deployment)
        return deployment

    yield make
    for deployment in made:
        deployment.stop_all()


def booking_load(deployment: Deployment, times: list[str], seed: int, rate: float) -> BookingLoad:
    urls = [p.base_url for p in deployment.of("booking")]
    return BookingLoad(urls, MUNICIPALITY, SITE, "pas", times, rate=rate, seed=seed)


class Supervisor:
    """Restarts dead processes every second, as a service manager would, except while a
    fault holds `lock` (a nats-server being restarted)."""

    def __init__(self, deployment: Deployment) -> None:
        self.deployment = deployment
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self.stopped.wait(1.0):
            with self.lock:
                self.deployment.supervise()

    def __enter__(self) -> Supervisor:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stopped.set()
        self.thread.join()
        self.deployment.supervise()


async def at_random_moments(
    seconds: float, actions: list[Callable[[], object]], rng: random.Random
) -> None:
    """Runs each action once (in a worker thread) at a random moment within `seconds`."""
    moments = sorted(rng.uniform(3, seconds - 3) for _ in actions)
    rng.shuffle(actions)
    started = time.monotonic()
    for moment, action in zip(moments, actions, strict=True):
        await asyncio.sleep(max(0.0, moment - (time.monotonic() - started)))
        await asyncio.to_thread(action)


async def checked_ledger(
    load: BookingLoad,
    deployment: Deployment,
    started: float,
    title: str,
    capsys: pytest.CaptureFixture[str],
) -> Ledger:
    """Settles the load, waits for every place to catch up, prints the ledger and checks it."""
    await load.settle()
    ledger = Ledger(load, deployment, capacity=SEATS)
    rows = await ledger.converge()
    reported = await ledger.reported_totals()
    text = "\n".join(
        [
            f"===== {title} =====",
            load.report(),
            deployment.report(),
            ledger.render(rows, reported, time.monotonic() - started),
        ]
    )
    with capsys.disabled():
        print("\n" + text)
    (deployment.log_dir / "ledger.txt").write_text(text)
    assert not load.undecided, f"attempts never decided: {[a.key for a in load.undecided]}"
    assert all(row.ok for row in rows), text
    assert reported == [len(ledger.accepted)] * len(reported), text
    return ledger
