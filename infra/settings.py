"""Connection settings every process shares; each service's own Settings extends these."""

from __future__ import annotations

from collections.abc import Collection
from ipaddress import ip_network
from pathlib import Path
from typing import Self
from urllib.parse import urlsplit

from pydantic import Field, IPvAnyNetwork
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/borgerservice"
DEFAULT_NATS_PORT = 14222


class ConnectionSettings(BaseSettings):
    """Where PostgreSQL and NATS are. No `NATS_URL` means: start the embedded nats-server."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    # The connection budget (docs/operations.md): the most connections this service's
    # read-model pool holds, its workers' one lock connection included; and the event store's
    # pool (booking), held and at most. `up` runs every service in one process: the defaults
    # hold at most 18 in all. Running out is an outage, waited out, never a crash.
    database_pool_size: int = Field(default=3, ge=2)
    event_store_pool_size: int = Field(default=4, ge=1)
    event_store_pool_overflow: int = Field(default=2, ge=0)
    nats_url: str | None = None
    nats_port: int = DEFAULT_NATS_PORT  # of the embedded nats-server
    var_dir: Path = Path("var")
    # Municipalities that get their own NATS account; empty means those seeded from
    # services/booking/seed/. A new one needs a restart (or reload) of the nats-server.
    municipalities: list[str] = Field(default_factory=list)
    # What each municipality shares with the SHARED account (regional reporting, SMS
    # gateway), as `<aggregate>.<event or *>`, e.g. {"slagelse": ["sms.*"]}. Default: nothing.
    nats_shared_exports: dict[str, list[str]] = Field(default_factory=dict)
    # Abuse limits of the citizens' HTTP API (infra/ratelimit.py); 0 turns one off.
    rate_limit_per_ip_per_minute: int = Field(default=120, ge=0)
    rate_limit_per_phone_per_hour: int = Field(default=10, ge=0)
    # Peers whose X-Forwarded-For names the client (TRUSTED_PROXIES as JSON, addresses or
    # CIDRs, e.g. '["10.0.0.0/8"]'); from any other peer the header is ignored. Default: none.
    trusted_proxies: list[IPvAnyNetwork] = Field(default_factory=list)
    # The largest request body (413 beyond): citizen routes, and the staff routes.
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    max_staff_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    # /readyz answers 503 once a relay or a projection is this far behind (infra/health.py).
    ready_max_lag_seconds: float = Field(default=30.0, gt=0)

    def beside_pages(self, services: Collection[str]) -> Self:
        """These settings when the pages (`web`) run in this process: they call the API on
        loopback with the citizen's address in X-Forwarded-For, so loopback is trusted."""
        if "web" not in services:
            return self
        loopback = [ip_network("127.0.0.0/8"), ip_network("::1/128")]
        return self.model_copy(update={"trusted_proxies": [*self.trusted_proxies, *loopback]})

    def bus_municipalities(self) -> list[str]:
        """The municipalities given the bus (`MUNICIPALITIES`); the composition root fills in
        the seeded ones when none is set (borgerservice/cli.py)."""
        return self.municipalities

    @property
    def database_name(self) -> str:
        return urlsplit(self.database_url).path.lstrip("/") or "postgres"

    def eventsourcing_env(self) -> dict[str, str]:
        """The `eventsourcing` library's own configuration, derived from `database_url`."""
        parts = urlsplit(self.database_url)
        return {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": self.database_name,
            "POSTGRES_HOST": parts.hostname or "127.0.0.1",
            "POSTGRES_PORT": str(parts.port or 5432),
            "POSTGRES_USER": parts.username or "postgres",
            "POSTGRES_PASSWORD": parts.password or "",
            "POSTGRES_POOL_SIZE": str(self.event_store_pool_size),
            "POSTGRES_MAX_OVERFLOW": str(self.event_store_pool_overflow),
            "POSTGRES_PRE_PING": "y",
            # waiting longer for a connection than this is an outage: the command answers 503
            "POSTGRES_CONNECT_TIMEOUT": "5",
        }
