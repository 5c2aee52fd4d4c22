"""The reporting service's one configuration object."""

from __future__ import annotations

from infra.settings import ConnectionSettings


class ReportingSettings(ConnectionSettings):
    http_host: str = "127.0.0.1"
    http_port: int = 8002
