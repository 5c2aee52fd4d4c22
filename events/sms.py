"""Events of an SMS message: sent to the gateway, failed, delivered to the phone.

They say which booking and which kind of message, never the phone number or the text: the
bus is shared, and the text carries a manage link. The aggregate is the message itself; its
id is derived from the idempotency key (`message_id`)."""

from __future__ import annotations

import uuid
from enum import StrEnum

from pydantic import AwareDatetime, Field

from events.envelope import EventData

SMS_NAMESPACE = uuid.UUID("6f1b6e0a-5c1d-4d7e-9a57-3f2f3c0b5d11")


def message_id(idempotency_key: str) -> uuid.UUID:
    """The aggregate id of the SMS with this idempotency key: the same key, the same id."""
    return uuid.uuid5(SMS_NAMESPACE, idempotency_key)


class FailureStage(StrEnum):
    sending = "sending"  # the gateway refused it, or every attempt failed
    delivery = "delivery"  # the gateway took it; its receipt says it never reached the phone


class SmsSent(EventData):
    """The gateway accepted the message."""

    TYPE = "sms.sent"

    booking_id: uuid.UUID
    kind: str = Field(
        pattern=r"^[a-z_]+$", examples=["confirmation", "reminder", "survey_invitation"]
    )
    idempotency_key: str
    provider_message_id: str | None = Field(description="The gateway's id for the message")
    sent_at: AwareDatetime


class SmsFailed(EventData):
    """The message will not reach the citizen: given up, or reported undelivered."""

    TYPE = "sms.failed"

    booking_id: uuid.UUID
    kind: str = Field(pattern=r"^[a-z_]+$")
    idempotency_key: str
    provider_message_id: str | None
    stage: FailureStage
    reason: str
    failed_at: AwareDatetime


class SmsDelivered(EventData):
    """The gateway's receipt says the message reached the phone."""

    TYPE = "sms.delivered"

    booking_id: uuid.UUID
    kind: str = Field(pattern=r"^[a-z_]+$")
    idempotency_key: str
    provider_message_id: str
    delivered_at: AwareDatetime
