"""Whether a due message goes out now, waits for the morning, or is no longer worth sending."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from services.notifications.domain.messages import MessageKind
from services.notifications.domain.quiet_hours import held_until


@dataclass(frozen=True)
class SendNow:
    pass


@dataclass(frozen=True)
class Hold:
    until: datetime


@dataclass(frozen=True)
class Drop:
    reason: str


Decision = SendNow | Hold | Drop


def decide(
    now: datetime,
    kind: MessageKind,
    due_at: datetime,
    appointment_at: datetime | None,
    reply_window: timedelta,
) -> Decision:
    """Nothing is sent about an appointment that has begun (or an offer or survey that has
    closed). Quiet hours hold a message back unless its appointment comes first (never for
    a survey), or it answers what the citizen did within
    `reply_window` (a confirmation of a booking made at 22:00 is awaited, not a disturbance)."""
    if appointment_at is not None and appointment_at <= now:
        return Drop("the appointment has begun")
    if kind.is_reply and now - due_at <= reply_window:
        return SendNow()
    until = held_until(now, appointment_at if kind.may_wake else None)
    return SendNow() if until is None else Hold(until)
