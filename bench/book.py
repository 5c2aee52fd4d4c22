"""book: booking commands decided, committed and relayed onto the stream, per second, with
p50/p99 command latency, in the application; baseline the eventsourcing library's own
single-thread `save(booking, site_day)` on the same database, aggregates kept in memory (no
re-reading, no deciding). Then bookings over HTTP at 32 connections against ours and the peer
(`bench.peer`) in alternating rounds: 201/s, p99, server CPU per 201, and how long after the
last 201 every event is on the bus."""

from __future__ import annotations

import asyncio
import math
import threading
import time
from typing import NamedTuple
from uuid import UUID, uuid4

from eventsourcing.application import Application
from eventsourcing.persistence import JSONTranscoder

from bench.environment import BenchEnvironment, ServiceProcess, Space
from bench.http_load import Connection, Response, closed_loop, connections
from bench.report import ScenarioResult, add_latencies, percentile
from bench.versus import Contender, Figures, add_comparison, alternate, ours, peer, quiet_cpu
from bench.world import MUNICIPALITY, Layout, book_command, booking_body, open_world
from infra.personal_data import DEMO_PERSONAL_DATA_KEY, MasterKey
from services.booking.application.base import DateAsISO
from services.booking.domain.booking import Booking
from services.booking.domain.schedule import SiteDay
from services.booking.service import BookingService
from services.booking.settings import BookingSettings

THREADS = 8
ROUNDS = 3  # baseline and application alternate, so that a busy spell hits both
HTTP_CONNECTIONS = 32
BOOKED = f"bs.{MUNICIPALITY}.booking.booked"
BENCH_CITIZEN, _ = MasterKey(DEMO_PERSONAL_DATA_KEY).new_subject()  # seals as a booking does


class BaselineStore(Application[UUID]):
    """The library's own application, recorder and save, none of the booking service's: its
    own tables in the same database."""

    name = "benchbaseline"

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())  # a site day's date, as the booking service stores it


class Baseline:
    """The library's own single-thread `save(booking, site_day)`, run in chunks between the
    application's rounds so that both see the same machine."""

    def __init__(self, env: dict[str, str], layout: Layout, saves: int) -> None:
        self.store = BaselineStore(env)
        self.slots = [{**s, "capacity": saves} for s in layout.slots_on(0)]
        self.day = SiteDay(MUNICIPALITY, "baseline", layout.day(0), self.slots)
        self.store.save(self.day)
        self.index = 0

    def save(self, count: int) -> float:
        """Saves `count` bookings with their site day; the seconds it took."""
        started = time.perf_counter()
        for index in range(self.index, self.index + count):
            slot = self.slots[index % len(self.slots)]
            booking_id = uuid4()
            self.day.take_seat(slot["starts_at"], str(booking_id), "pas")
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
            self.store.save(booking, self.day)
        self.index += count
        return time.perf_counter() - started

    def close(self) -> None:
        self.store.close()


async def wait_for_stream(space: Space, subject: str, count: int, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while await space.stream_count(subject) < count:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{count} messages on {subject} not relayed within {timeout}s")
        await asyncio.sleep(0.02)


async def settled(space: Space, quiet: float = 0.1) -> None:
    """Until the stream stops growing: the relay's tail of a round is not left to slow the
    baseline's next chunk."""
    count = -1
    while (now := await space.stream_count()) != count:
        count = now
        await asyncio.sleep(quiet)


def book_in_threads(service: BookingService, layout: Layout, indexes: range) -> list[float]:
    """`indexes` booked by THREADS plain threads (each its share, in a loop: the load
    generator adds no hand-off per command); the latency of each command."""
    latencies: list[list[float]] = [[] for _ in range(THREADS)]
    failures: list[BaseException] = []

    def worker(share: range, into: list[float]) -> None:
        try:
            for index in share:
                command = book_command(layout, index)
                started = time.perf_counter()
                service.app.book(command)
                into.append(time.perf_counter() - started)
        except BaseException as error:  # reported by the caller, not lost in a thread
            failures.append(error)

    threads = [
        threading.Thread(target=worker, args=(indexes[n::THREADS], latencies[n]))
        for n in range(THREADS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]
    return [latency for share in latencies for latency in share]


class Rounds(NamedTuple):
    """What the alternating rounds measured."""

    saves_per_second: float
    commands_per_second: float
    latencies: list[float]
    ratios: list[float]  # app / baseline, per round
    cpu_per_command: float  # this process's CPU seconds, relay included


async def application_level(
    service: BookingService,
    space: Space,
    layout: Layout,
    baseline: Baseline,
    commands: int,
    saves: int,
) -> Rounds:
    """ROUNDS rounds, each a chunk of baseline saves then a chunk of commands (until they are
    on the stream)."""
    stop = asyncio.Event()
    relay = asyncio.create_task(service.relay().run(stop))
    try:
        await wait_for_stream(space, f"bs.{MUNICIPALITY}.schedule.day_opened", 1)
        saving = booking = cpu = 0.0
        latencies: list[float] = []
        rounds: list[float] = []
        for n in range(ROUNDS):
            chunk = range(n * commands // ROUNDS, (n + 1) * commands // ROUNDS)
            save_chunk = (n + 1) * saves // ROUNDS - n * saves // ROUNDS
            saved_in = await asyncio.to_thread(baseline.save, save_chunk)
            started, cpu_started = time.perf_counter(), time.process_time()
            latencies += await asyncio.to_thread(book_in_threads, service, layout, chunk)
            await wait_for_stream(space, BOOKED, chunk.stop)
            booked_in = time.perf_counter() - started
            await settled(space)
            cpu += time.process_time() - cpu_started
            rounds.append((len(chunk) / booked_in) / (save_chunk / saved_in))
            saving += saved_in
            booking += booked_in
        return Rounds(saves / saving, commands / booking, latencies, rounds, cpu / commands)
    finally:
        stop.set()
        await relay


async def http_rounds(
    env: BenchEnvironment, space: Space, layout: Layout, first: int, commands: int
) -> tuple[dict[str, list[Figures]], set[int]]:
    """`commands` bookings over HTTP_CONNECTIONS connections for ours and as many for the peer,
    the same bodies, in alternating rounds. CPU per 201 is the server process's (every
    thread) from the round's first request until its events are on the bus and it is quiet."""
    async with peer(env, space, layout) as conventional:
        contenders = (ours(await ServiceProcess.start("booking", space)), conventional)
        try:

            async def measure(contender: Contender, n: int) -> Figures:
                chunk = range(n * commands // ROUNDS, (n + 1) * commands // ROUNDS)

                async def send(connection: Connection, index: int) -> Response:
                    return await connection.request(
                        "POST",
                        f"/api/v1/municipalities/{MUNICIPALITY}/bookings",
                        booking_body(layout, first + chunk.start + index),
                    )

                server = contender.server
                before = await contender.booked_on_the_bus(space)
                async with connections("127.0.0.1", server.port, HTTP_CONNECTIONS) as pool:
                    cpu, started = server.cpu_seconds(), time.perf_counter()
                    answers = await closed_loop(pool, send, count=len(chunk))
                    answered = time.perf_counter()
                    created = sum(a.status == 201 for a in answers)
                    await contender.on_the_bus(space, before + created)
                    drained = time.perf_counter()
                statuses.update(a.status for a in answers)
                return {
                    f"answered 201, {HTTP_CONNECTIONS} connections": created / (answered - started),
                    "answer time p99": percentile([a.seconds for a in answers], 0.99) * 1000,
                    "CPU per 201": await quiet_cpu(server, cpu) / max(1, created) * 1000,
                    "events on the bus after the last 201": drained - answered,
                }

            statuses: set[int] = set()
            return await alternate(contenders, measure), statuses
        finally:
            await contenders[0].server.stop()


async def run(env: BenchEnvironment, space: Space, result: ScenarioResult) -> None:
    # Quick rounds of 100 commands were mostly warm-up and the wait for the relay's tail:
    # 0.75-0.86x where the same code measured 1.19-2.15x with rounds of 500.
    commands = env.size(1_200, 10_000)
    http_commands = env.size(600, 6_000)  # for each of ours and the peer
    saves = env.size(1_500, 5_000)
    per_site_day = 96 * 4
    layout = Layout(
        sites=4,
        days=math.ceil((commands + http_commands) / (4 * per_site_day)),
        slots=96,
        capacity=4,
    )
    settings = BookingSettings(database_url=space.database_url, nats_url=space.nats_url)
    baseline = await asyncio.to_thread(Baseline, settings.eventsourcing_env(), layout, saves)
    service = await BookingService.start(settings, space.nc)
    try:
        await asyncio.to_thread(open_world, service.app, layout)
        measured_app = await application_level(service, space, layout, baseline, commands, saves)
    finally:
        await service.close()
        await asyncio.to_thread(baseline.close)
    result.add(
        "baseline: eventsourcing save(booking, day), 1 thread",
        measured_app.saves_per_second,
        "saves/s",
    )
    result.add(
        f"app: commands relayed ({THREADS} threads)", measured_app.commands_per_second, "commands/s"
    )
    add_latencies(result, "app: command latency", measured_app.latencies)
    result.add("app: CPU per command, this process", measured_app.cpu_per_command * 1000, "ms")
    measured, statuses = await http_rounds(env, space, layout, commands, http_commands)
    add_comparison(
        result,
        measured,
        {
            f"answered 201, {HTTP_CONNECTIONS} connections": "per s",
            "answer time p99": "ms",
            "CPU per 201": "ms",
            "events on the bus after the last 201": "s",
        },
    )
    result.checks["every http booking answered 201"] = statuses == {201}
    base = result.figures[0].name
    result.ratio(f"app: commands relayed ({THREADS} threads)", base)
    result.target(f"app: commands relayed ({THREADS} threads)", ">=", result.value(base))
    result.target_against_peer(f"answered 201, {HTTP_CONNECTIONS} connections", ">=", 1.5)
    result.target_against_peer("answer time p99", "<=")
    result.target_against_peer("CPU per 201", "<=")
    result.notes.append(
        f"{commands:,} app commands and {saves:,} baseline saves in {ROUNDS} alternating rounds "
        f"(app/baseline per round: {', '.join(f'{r:.2f}x' for r in measured_app.ratios)}); "
        f"then {http_commands:,} bookings over HTTP for each of ours and the peer"
    )
