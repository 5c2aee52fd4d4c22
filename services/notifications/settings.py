"""The notifications service's one configuration object."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field, SecretStr, field_validator

from infra.manage_token import ManageTokenSettings
from infra.personal_data import PersonalDataSettings
from infra.settings import ConnectionSettings
from infra.staff_tokens import StaffTokenSettings
from services.notifications.domain.invitations import SurveyPeriod
from services.notifications.domain.links import Links


class NotificationsSettings(
    ConnectionSettings, ManageTokenSettings, PersonalDataSettings, StaffTokenSettings
):
    """Secrets (MANAGE_TOKEN_SECRET, PERSONAL_DATA_KEY, STAFF_TOKENS, and SMS_CALLBACK_SECRET
    with a real gateway) have no default; `serve notifications` refuses to start without
    them (infra/secrets.py)."""

    # "outbox": the local outbox table staff and tests read; "http": `sms_gateway_url`
    sms_provider: str = "outbox"
    sms_gateway_url: str | None = None
    sms_gateway_token: SecretStr | None = None
    sms_gateway_timeout_seconds: float = 10.0
    # the gateway's delivery receipts (and opt-outs it forwards) carry this as bearer token
    sms_callback_secret: SecretStr | None = None
    dispatch_interval_seconds: float = 0.5
    dispatch_batch: int = 50
    dispatch_concurrency: int = 10  # messages of one batch sent at the same time
    # a claimed message not recorded within this time (its dispatcher died) is sent again,
    # under the same idempotency key; longer than any one send with its timeout
    sms_lease_seconds: float = 60.0
    sms_max_attempts: int = 8
    sms_retry_seconds: float = 30.0  # first retry delay; doubles with every failed attempt
    sms_event_relay_interval_seconds: float = 0.2
    # links in the SMS: {public_base_url}/manage/{id}?token=..., .../survey/{id}?token=...
    public_base_url: str = "http://127.0.0.1:8000"
    reminder_lead_hours: int = 24
    # e.g. REMINDER_LEAD_HOURS_BY_MUNICIPALITY='{"herning": 48}'
    reminder_lead_hours_by_municipality: dict[str, int] = Field(default_factory=dict)
    # a confirmation or reschedule notice this soon after the citizen's action is sent even
    # in quiet hours: the citizen has just acted and awaits it
    reply_window_minutes: float = 30.0
    # completed visits in these periods (MM-DD/MM-DD, Danish dates) are invited to the survey
    survey_periods: list[str] = Field(default_factory=lambda: ["06-01/06-30", "11-01/11-30"])
    # e.g. SURVEY_PERIODS_BY_MUNICIPALITY='{"herning": ["05-15/06-15", "11-01/11-30"]}'
    survey_periods_by_municipality: dict[str, list[str]] = Field(default_factory=dict)
    survey_answer_days: float = 14.0

    @field_validator("survey_periods")
    @classmethod
    def _periods_parse(cls, texts: list[str]) -> list[str]:
        for text in texts:
            SurveyPeriod.parse(text)  # refused at start, not at the first completed visit
        return texts

    @field_validator("survey_periods_by_municipality")
    @classmethod
    def _municipal_periods_parse(cls, periods: dict[str, list[str]]) -> dict[str, list[str]]:
        for texts in periods.values():
            cls._periods_parse(texts)
        return periods

    def reminder_lead(self, municipality: str) -> timedelta:
        hours = self.reminder_lead_hours_by_municipality.get(municipality, self.reminder_lead_hours)
        return timedelta(hours=hours)

    def survey_periods_of(self, municipality: str) -> tuple[SurveyPeriod, ...]:
        texts = self.survey_periods_by_municipality.get(municipality, self.survey_periods)
        return tuple(SurveyPeriod.parse(text) for text in texts)

    def links(self) -> Links:
        return Links(
            public_base_url=self.public_base_url,
            tokens=self.manage_tokens(),
            survey_answer_window=timedelta(days=self.survey_answer_days),
        )
