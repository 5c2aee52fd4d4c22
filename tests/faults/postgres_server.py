"""A PostgreSQL server of the fault suite's own: a fresh cluster on a free port, so that the
suite can stop and restart it (fast, immediate, for minutes) without touching the machine's
server that everything else uses."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from infra.nats_server import free_port

PG_BIN = (
    Path("/usr/lib/postgresql")
    / (
        sorted(os.listdir("/usr/lib/postgresql"))[-1]
        if Path("/usr/lib/postgresql").exists()
        else "15"
    )
    / "bin"
)


def _as_postgres(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run its tools as the `postgres` user then."""
    if os.geteuid() != 0:
        return command
    runuser = shutil.which("runuser")
    if runuser is None:
        raise RuntimeError("running as root without runuser: cannot start PostgreSQL")
    return [runuser, "-u", "postgres", "--", *command]


@dataclass
class PrivatePostgres:
    """A PostgreSQL cluster in `data_dir`, trust authentication, listening on 127.0.0.1."""

    data_dir: Path
    port: int = field(default_factory=free_port)

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}"

    def database_url(self, name: str) -> str:
        return f"{self.url}/{name}"

    def init(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.data_dir, "postgres", "postgres")
        subprocess.run(
            _as_postgres(
                [str(PG_BIN / "initdb"), "-D", str(self.data_dir), "-U", "postgres",
                 "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C"]
            ),
            check=True,
            capture_output=True,
        )  # fmt: skip
        with (self.data_dir / "postgresql.conf").open("a") as config:
            config.write(
                f"\nport = {self.port}\nlisten_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{self.data_dir}'\nmax_connections = 100\n"
                # The machine never crashes under the suite, only the server: skipping fsync
                # loses nothing then. A commit must still be in the WAL before it is answered
                # (synchronous_commit), or an immediate stop forgets committed bookings that the
                # relay has already published - a store no real deployment runs.
                "fsync = off\nsynchronous_commit = on\nfull_page_writes = off\n"
            )

    def _ctl(self, *arguments: str) -> None:
        subprocess.run(
            _as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(self.data_dir), *arguments]),
            check=True,
            capture_output=True,
        )

    def start(self) -> None:
        self._ctl("-l", str(self.data_dir / "server.log"), "-w", "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        """`fast` (clients disconnected, shut down cleanly) or `immediate` (a crash)."""
        self._ctl("-m", mode, "-w", "-t", "60", "stop")

    def restart(self, mode: str = "fast") -> None:
        self.stop(mode)
        self.start()

    def running(self) -> bool:
        return (self.data_dir / "postmaster.pid").exists()

    def ready(self, timeout: float = 30.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            finished = subprocess.run(
                [str(PG_BIN / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port), "-q"],
                check=False,
            )
            if finished.returncode == 0:
                return True
            time.sleep(0.1)
        return False
