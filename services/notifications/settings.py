"""The notifications service's one configuration object."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field, SecretStr

from infra.settings import ConnectionSettings


class NotificationsSettings(ConnectionSettings):
    # "outbox": the local outbox table staff and tests read; "http": `sms_gateway_url`
    sms_provider: str = "outbox"
    sms_gateway_url: str | None = None
    sms_gateway_token: SecretStr | None = None
    sms_gateway_timeout_seconds: float = 10.0
    dispatch_interval_seconds: float = 0.5
    dispatch_batch: int = 50
    sms_max_attempts: int = 8
    sms_retry_seconds: float = 30.0  # first retry delay; doubles with every failed attempt
    manage_base_url: str = "http://127.0.0.1:8000"
    reminder_lead_hours: int = 24
    # e.g. REMINDER_LEAD_HOURS_BY_MUNICIPALITY='{"herning": 48}'
    reminder_lead_hours_by_municipality: dict[str, int] = Field(default_factory=dict)
    # a confirmation or reschedule notice this soon after the citizen's action is sent even
    # in quiet hours: the citizen has just acted and awaits it
    reply_window_minutes: float = 30.0

    def reminder_lead(self, municipality: str) -> timedelta:
        hours = self.reminder_lead_hours_by_municipality.get(municipality, self.reminder_lead_hours)
        return timedelta(hours=hours)
