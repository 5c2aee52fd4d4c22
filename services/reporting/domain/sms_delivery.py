"""The SMS delivery report: messages sent to citizens, delivered to their phones or given up, per
kind of message (confirmation, reminder, survey invitation, ...), in a period."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from services.reporting.domain.report import Period


class SmsFigures(BaseModel):
    """Each step is counted on its own Copenhagen date: a message sent on the last day of the
    period and delivered the day after counts as sent in this period, delivered in the next."""

    model_config = ConfigDict(frozen=True)

    sent: int = Field(description="Accepted by the gateway")
    delivered: int = Field(description="Reported delivered to the phone by the gateway")
    failed: int = Field(description="Given up, or reported undelivered")
    delivered_share: float | None = Field(
        description="Of the messages sent in the period, the share reported delivered so far; "
        "None when none was sent"
    )


class SmsKindFigures(SmsFigures):
    kind: str


class SmsDeliveryReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    municipality: str
    period: Period
    survey_half: str | None
    by_kind: list[SmsKindFigures]
    total: SmsFigures
