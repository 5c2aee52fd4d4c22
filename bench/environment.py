"""Where the bench runs: its own nats-server on a free port, a fresh PostgreSQL database per
scenario (dropped afterwards), and services started as their own processes."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import nats
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from infra.database import apply_schema, create_pool, drop_database, ensure_database
from infra.nats_server import EmbeddedNats, free_port
from infra.secrets import SECRETS, fresh
from infra.streams import EVENTS_STREAM, STREAMS, ensure_streams
from services.booking.seed import DEMO_MUNICIPALITIES


@dataclass
class Space:
    """One scenario's own database and freshly emptied streams."""

    database_url: str
    nats_url: str
    nc: NatsClient
    js: JetStreamContext
    workdir: Path

    async def stream_count(self, subject: str = ">", stream: str = EVENTS_STREAM) -> int:
        """How many messages on `stream` (the events stream) match `subject`."""
        if subject == ">":
            return int((await self.js.stream_info(stream)).state.messages)
        info = await self.js.stream_info(stream, subjects_filter=subject)
        return sum((info.state.subjects or {}).values())


@contextlib.asynccontextmanager
async def fresh_database(base_url: str, name: str, *, schema: bool = True) -> AsyncIterator[str]:
    """A new database with every read-model schema (unless not `schema`), dropped afterwards."""
    parts = urlsplit(base_url)
    database_url = urlunsplit(parts._replace(path=f"/bs_bench_{name}_{uuid.uuid4().hex[:8]}"))
    await ensure_database(database_url)
    try:
        if schema:
            pool = await create_pool(database_url, max_size=1)
            await apply_schema(pool)
            await pool.close()
        yield database_url
    finally:
        await drop_database(database_url)


@dataclass
class BenchEnvironment:
    base_database_url: str
    workdir: Path
    quick: bool
    scale: float
    nats: EmbeddedNats

    def size(self, quick: int, full: int) -> int:
        """A workload size for this mode, scaled down for the command's own test."""
        return max(1, round((quick if self.quick else full) * self.scale))

    def seconds(self, quick: float, full: float) -> float:
        return max(0.5, (quick if self.quick else full) * min(1.0, self.scale * 4))

    @contextlib.asynccontextmanager
    async def space(self, scenario: str) -> AsyncIterator[Space]:
        async with fresh_database(self.base_database_url, scenario) as database_url:
            nc = await nats.connect(self.nats.url, name=f"bench-{scenario}")
            try:
                js = nc.jetstream()
                for config in STREAMS:
                    with contextlib.suppress(NotFoundError):
                        await js.delete_stream(str(config.name))
                await ensure_streams(js)
                workdir = self.workdir / urlsplit(database_url).path.lstrip("/")
                workdir.mkdir(parents=True)
                yield Space(database_url, self.nats.url, nc, js, workdir)
            finally:
                await nc.close()


# The secrets every service of this bench run shares (no service has a default): made for the
# run, so that nothing measured depends on a key anyone knows.
RUN_SECRETS = {secret.name: fresh(secret.name, DEMO_MUNICIPALITIES) for secret in SECRETS}


@contextlib.asynccontextmanager
async def bench_environment(
    base_database_url: str, workdir: Path, *, quick: bool, scale: float
) -> AsyncIterator[BenchEnvironment]:
    """The run's nats-server, and its secrets in this process's environment too: the services
    a scenario builds in-process read their settings from it (a clean shell has none set)."""
    before = {name: os.environ.get(name) for name in RUN_SECRETS}
    os.environ.update(RUN_SECRETS)
    server = EmbeddedNats(workdir / "nats")
    await server.astart()
    try:
        yield BenchEnvironment(base_database_url, workdir, quick, scale, server)
    finally:
        await server.astop()
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@dataclass
class ServiceProcess:
    """`borgerservice serve <service>` in its own process, as production runs it (or the peer,
    `python -m bench.peer`)."""

    service: str
    port: int
    process: asyncio.subprocess.Process
    log: Path

    @classmethod
    async def start(cls, service: str, space: Space, timeout: float = 60.0) -> ServiceProcess:
        port = free_port()
        env = {
            **os.environ,
            "DATABASE_URL": space.database_url,
            "NATS_URL": space.nats_url,
            "VAR_DIR": str(space.workdir / "var"),
            **RUN_SECRETS,
            # The citizens' abuse limits would refuse a load generator on one address.
            "RATE_LIMIT_PER_IP_PER_MINUTE": "0",
            "RATE_LIMIT_PER_PHONE_PER_HOUR": "0",
        }
        command = ("-c", "from borgerservice.cli import app; app()", "serve", service)
        return await cls.launch(service, (*command, "--port", str(port)), port, env, space, timeout)

    @classmethod
    async def start_peer(
        cls, database_url: str, space: Space, timeout: float = 60.0
    ) -> ServiceProcess:
        """The peer (`bench.peer`) on its own database, publishing to this run's nats-server."""
        port = free_port()
        command: tuple[str, ...] = ("-m", "bench.peer", "--database-url", database_url)
        command += ("--nats-url", space.nats_url, "--port", str(port))
        return await cls.launch("peer", command, port, dict(os.environ), space, timeout)

    @classmethod
    async def launch(
        cls,
        name: str,
        arguments: tuple[str, ...],
        port: int,
        env: dict[str, str],
        space: Space,
        timeout: float,
    ) -> ServiceProcess:
        log_path = space.workdir / f"{name}.log"
        with log_path.open("ab") as log:
            process = await asyncio.create_subprocess_exec(
                sys.executable, *arguments, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        started = cls(name, port, process, log_path)
        await started.wait_healthy(timeout)
        return started

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient() as client:
            while time.monotonic() < deadline:
                if self.process.returncode is not None:
                    last = self.log.read_text(errors="replace").strip().splitlines()[-3:]
                    raise RuntimeError(
                        f"{self.service} exited with {self.process.returncode}: " + " | ".join(last)
                    )
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(f"{self.base_url}/healthz")).status_code == 200:
                        return
                await asyncio.sleep(0.1)
        raise TimeoutError(f"{self.service} was not healthy within {timeout}s")

    def memory_mb(self) -> tuple[float, float]:
        """(resident now, peak resident) in MB, from the kernel's own accounting."""
        figures = {}
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                figures[key] = int(value.split()[0]) / 1024
        return figures["VmRSS"], figures["VmHWM"]

    def cpu_seconds(self) -> float:
        """The process's CPU time so far, every thread, user and system (the kernel's count)."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    async def stop(self, timeout: float = 20.0) -> None:
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), timeout)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
