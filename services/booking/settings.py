"""The booking service's one configuration object."""

from __future__ import annotations

from infra.settings import ConnectionSettings


class BookingSettings(ConnectionSettings):
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    manage_token_secret: str = "change-me-in-production"
    relay_batch: int = 200
    availability_horizon_days: int = 60
