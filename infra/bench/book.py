"""book: booking commands decided, committed and relayed onto the stream, per second, with
p50/p99 command latency, in the application and through HTTP. Baseline: the eventsourcing
library's own single-thread `save(booking, site_day)` on the same database, aggregates kept
in memory (no re-reading, no deciding)."""

from __future__ import annotations

import asyncio
import math
import time
from concurrent.futures import ThreadPoolExecutor
from uuid import UUID, uuid4

from eventsourcing.application import Application
from eventsourcing.persistence import JSONTranscoder

from infra.bench.environment import BenchEnvironment, ServiceProcess, Space
from infra.bench.http_load import Connection, Response, closed_loop, connections
from infra.bench.report import ScenarioResult, add_latencies
from infra.bench.world import MUNICIPALITY, Layout, book_command, booking_body, open_world
from infra.personal_data import DEMO_PERSONAL_DATA_KEY, MasterKey
from services.booking.application.base import DateAsISO
from services.booking.domain.booking import Booking
from services.booking.domain.schedule import SiteDay
from services.booking.service import BookingService
from services.booking.settings import BookingSettings

THREADS = 8
HTTP_CONNECTIONS = 16
BOOKED = f"bs.{MUNICIPALITY}.booking.booked"
BENCH_CITIZEN, _ = MasterKey(DEMO_PERSONAL_DATA_KEY).new_subject()  # seals as a booking does


class BaselineStore(Application[UUID]):
    """The library's own application, recorder and save, none of the booking service's: its
    own tables in the same database."""

    name = "benchbaseline"

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())  # a site day's date, as the booking service stores it


def baseline_saves_per_second(env: dict[str, str], layout: Layout, saves: int) -> float:
    store = BaselineStore(env)
    try:
        slots = [{**s, "capacity": saves} for s in layout.slots_on(0)]
        day = SiteDay(MUNICIPALITY, "baseline", layout.day(0), slots)
        store.save(day)
        started = time.perf_counter()
        for index in range(saves):
            slot = slots[index % len(slots)]
            booking_id = uuid4()
            day.take_seat(slot["starts_at"], str(booking_id), "pas")
            booking = Booking.book(
                booking_id,
                BENCH_CITIZEN,
                municipality=MUNICIPALITY,
                site="baseline",
                service="pas",
                service_name="Pas",
                site_name="Baseline",
                documents=["Gammelt pas"],
                starts_at=slot["starts_at"],
                ends_at=slot["ends_at"],
                citizen_name=f"Borger {index}",
                phone="+4520304050",
                channel="web",
                booked_at=slot["starts_at"],
            )
            store.save(booking, day)
        return saves / (time.perf_counter() - started)
    finally:
        store.close()


async def wait_for_stream(space: Space, subject: str, count: int, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while await space.stream_count(subject) < count:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{count} messages on {subject} not relayed within {timeout}s")
        await asyncio.sleep(0.02)


async def application_level(
    service: BookingService, space: Space, layout: Layout, commands: int
) -> tuple[float, list[float]]:
    """Commands from THREADS threads; (commands/s until all are on the stream, latencies)."""
    stop = asyncio.Event()
    relay = asyncio.create_task(service.relay().run(stop))
    try:
        await wait_for_stream(space, f"bs.{MUNICIPALITY}.schedule.day_opened", 1)

        def book(index: int) -> float:
            started = time.perf_counter()
            service.app.book(book_command(layout, index))
            return time.perf_counter() - started

        loop = asyncio.get_running_loop()
        with ThreadPoolExecutor(THREADS) as pool:
            started = time.perf_counter()
            latencies = await asyncio.gather(
                *(loop.run_in_executor(pool, book, i) for i in range(commands))
            )
            await wait_for_stream(space, BOOKED, commands)
            elapsed = time.perf_counter() - started
        return commands / elapsed, list(latencies)
    finally:
        stop.set()
        await relay


async def http_level(
    space: Space, layout: Layout, first: int, commands: int
) -> tuple[float, list[Response]]:
    server = await ServiceProcess.start("booking", space)
    try:

        async def send(connection: Connection, index: int) -> Response:
            return await connection.request(
                "POST",
                f"/api/v1/municipalities/{MUNICIPALITY}/bookings",
                booking_body(layout, first + index),
            )

        async with connections("127.0.0.1", server.port, HTTP_CONNECTIONS) as pool:
            started = time.perf_counter()
            answers = await closed_loop(pool, send, count=commands)
            await wait_for_stream(space, BOOKED, first + commands)
            elapsed = time.perf_counter() - started
        return commands / elapsed, answers
    finally:
        await server.stop()


async def run(env: BenchEnvironment, space: Space, result: ScenarioResult) -> None:
    commands = env.size(300, 10_000)
    http_commands = env.size(200, 4_000)
    saves = env.size(400, 5_000)
    per_site_day = 96 * 4
    layout = Layout(
        sites=4,
        days=math.ceil((commands + http_commands) / (4 * per_site_day)),
        slots=96,
        capacity=4,
    )
    settings = BookingSettings(database_url=space.database_url, nats_url=space.nats_url)
    result.add(
        "baseline: eventsourcing save(booking, day), 1 thread",
        await asyncio.to_thread(
            baseline_saves_per_second, settings.eventsourcing_env(), layout, saves
        ),
        "saves/s",
    )
    service = await BookingService.start(settings, space.nc)
    try:
        await asyncio.to_thread(open_world, service.app, layout)
        rate, latencies = await application_level(service, space, layout, commands)
    finally:
        await service.close()
    result.add(f"app: commands relayed ({THREADS} threads)", rate, "commands/s")
    add_latencies(result, "app: command latency", latencies)
    rate, answers = await http_level(space, layout, commands, http_commands)
    result.add(f"http: commands relayed ({HTTP_CONNECTIONS} connections)", rate, "commands/s")
    add_latencies(result, "http: answer time", [a.seconds for a in answers])
    result.checks["every http booking answered 201"] = all(a.status == 201 for a in answers)
    baseline = result.figures[0].name
    result.ratio(f"app: commands relayed ({THREADS} threads)", baseline)
    result.ratio(f"http: commands relayed ({HTTP_CONNECTIONS} connections)", baseline)
    result.target(f"app: commands relayed ({THREADS} threads)", ">=", result.value(baseline))
    result.notes.append(f"{commands:,} app commands, {http_commands:,} over HTTP, {saves:,} saves")
