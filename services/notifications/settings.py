"""The notifications service's one configuration object."""

from __future__ import annotations

from infra.settings import ConnectionSettings


class NotificationsSettings(ConnectionSettings):
    sms_provider: str = "outbox"  # "outbox": the local outbox table staff and tests read
    dispatch_interval_seconds: float = 0.5
    dispatch_batch: int = 50
    sms_max_attempts: int = 8
    sms_retry_seconds: float = 30.0  # first retry delay; doubles with every failed attempt
    manage_base_url: str = "http://127.0.0.1:8000"
