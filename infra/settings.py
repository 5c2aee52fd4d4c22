"""Connection settings every process shares; each service's own Settings extends these."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/borgerservice"
DEFAULT_NATS_PORT = 14222


class ConnectionSettings(BaseSettings):
    """Where PostgreSQL and NATS are. No `NATS_URL` means: start the embedded nats-server."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    nats_url: str | None = None
    nats_port: int = DEFAULT_NATS_PORT  # of the embedded nats-server
    var_dir: Path = Path("var")

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
            "POSTGRES_POOL_SIZE": "8",
            "POSTGRES_MAX_OVERFLOW": "8",
            "POSTGRES_PRE_PING": "y",
        }
