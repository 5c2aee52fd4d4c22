"""A deployment as production runs it: each service its own `borgerservice serve` process on
an external nats-server and PostgreSQL, with a supervisor that restarts what dies, and the
faults the suite injects (SIGKILL, nats-server restart, terminated database connections)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg

from infra.nats_server import EmbeddedNats, free_port
from tests.booking_world import STAFF_KEYS
from tests.processes import BIN

STARTUP_SECONDS = 60.0


@dataclass
class ServiceProcess:
    """One `borgerservice serve <service>` process; `name` tells instances apart."""

    name: str
    service: str
    env: dict[str, str]
    log_dir: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.log_dir / f"{self.name}.log"

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        env = {**self.env, "VAR_DIR": str(self.log_dir / self.name)}
        with self.log_path.open("ab") as log:
            log.write(f"--- start {self.starts + 1} at {time.strftime('%X')}\n".encode())
            self.process = subprocess.Popen(
                [str(BIN), "serve", self.service, "--port", str(self.port)],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.starts += 1

    def wait_ready(self, timeout: float = STARTUP_SECONDS) -> bool:
        """True once it answers /healthz; False if it exited or did not answer in time."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive:
                return False
            try:
                if httpx.get(f"{self.base_url}/healthz", timeout=1).status_code == 200:
                    return True
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        return False

    def kill(self) -> None:
        """SIGKILL: no clean-up of any kind runs."""
        if self.process is not None and self.alive:
            self.process.kill()
            self.process.wait()

    def stop(self, timeout: float = 20.0) -> int | None:
        """SIGTERM, as a service manager stops it; SIGKILL if it does not stop in time."""
        if self.process is None:
            return None
        if self.alive:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


@dataclass
class Deployment:
    """The services' processes, the nats-server(s) they use, and a record of what happened.

    `supervise()` plays the service manager (systemd `Restart=always`): a process found dead
    that the suite did not kill is restarted too, and recorded as an unexpected exit."""

    database_url: str
    nats_url: str
    log_dir: Path
    nats: EmbeddedNats | None = None
    processes: list[ServiceProcess] = field(default_factory=list)
    faults: Counter[str] = field(default_factory=Counter)
    unexpected_exits: list[tuple[str, str]] = field(default_factory=list)

    def env(self) -> dict[str, str]:
        env = {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "NATS_URL": self.nats_url,
            "MANAGE_TOKEN_SECRET": "manage-token-secret-of-the-fault-suite-only",
            "STAFF_TOKENS": json.dumps(STAFF_KEYS),  # the ledger reads the reports as staff
            # The load comes from one address and one phone: the abuse limits stay out of it.
            "RATE_LIMIT_PER_IP_PER_MINUTE": "0",
            "RATE_LIMIT_PER_PHONE_PER_HOUR": "0",
        }
        env.pop("NATS_PORT", None)
        return env

    def add(self, service: str, instance: int = 1) -> ServiceProcess:
        process = ServiceProcess(f"{service}-{instance}", service, self.env(), self.log_dir)
        self.processes.append(process)
        return process

    def of(self, service: str) -> list[ServiceProcess]:
        return [p for p in self.processes if p.service == service]

    def start_all(self) -> None:
        for process in self.processes:
            process.start()
        for process in self.processes:
            if not process.wait_ready():
                raise RuntimeError(f"{process.name} did not start:\n{process.log_tail()}")

    def stop_all(self) -> None:
        for process in self.processes:
            process.stop()

    def kill(self, process: ServiceProcess) -> None:
        process.kill()
        self.faults[f"SIGKILL {process.name}"] += 1

    def restart(self, process: ServiceProcess) -> None:
        process.kill()
        process.start()
        process.wait_ready()

    def supervise(self) -> None:
        """Restarts every process that is not running; an exit nobody caused is recorded."""
        for process in self.processes:
            if process.alive:
                continue
            assert process.process is not None
            if process.process.returncode != -signal.SIGKILL:
                cause = last_error(process.log_tail(400))
                self.unexpected_exits.append(
                    (process.name, f"exit {process.process.returncode}, {cause}")
                )
            process.start()
            process.wait_ready()

    def restart_nats(self) -> None:
        """SIGKILL the nats-server and start it again on the same port and data."""
        assert self.nats is not None
        self.nats.kill()
        self.faults["SIGKILL nats-server + restart"] += 1
        time.sleep(0.5)
        self.nats.start()

    def terminate_database_connections(self) -> int:
        """`pg_terminate_backend` on every connection to the deployment's database."""
        with psycopg.connect(self.database_url, autocommit=True) as connection:
            row = connection.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ).fetchone()
        terminated = int(row[0]) if row else 0
        self.faults["pg_terminate_backend (all connections)"] += 1
        self.faults["pg_terminate_backend: connections ended"] += terminated
        return terminated

    def report(self) -> str:
        lines = ["faults injected:"]
        lines += [f"  {name:<42} {count:>4}" for name, count in sorted(self.faults.items())]
        exits = len(self.unexpected_exits)
        lines.append(f"  exits nobody caused, restarted by the supervisor: {exits}")
        lines += [f"    {name}: {cause}" for name, cause in self.unexpected_exits]
        return "\n".join(lines)


def last_error(log: str) -> str:
    """The exception a crashed process died of, from its log."""
    errors = [line for line in log.splitlines() if re.match(r"^[\w.]+(Error|Exception)\b", line)]
    return errors[-1][:160] if errors else "no exception in its log"
