"""The links an SMS carries: signed, expiring, built from the public base URL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from infra.manage_token import ManageTokens


@dataclass(frozen=True)
class Links:
    """The same booking and moment always give the same link, so a message decided again
    after a redelivery says exactly what it said the first time."""

    public_base_url: str
    tokens: ManageTokens
    survey_answer_window: timedelta = timedelta(days=14)

    @property
    def booking_page(self) -> str:
        """Where a new time is booked."""
        return self.public_base_url.rstrip("/")

    def manage(self, booking_id: UUID, appointment_at: datetime, generation: int = 0) -> str:
        """See, move or cancel the booking; valid until a grace period after the appointment,
        or until staff revoke the booking's links (`generation` counts the revocations)."""
        token = self.tokens.issue(booking_id, appointment_at=appointment_at, generation=generation)
        return f"{self.booking_page}/manage/{booking_id}?token={token}"

    def survey(self, booking_id: UUID, invited_at: datetime) -> str:
        """Answer the survey about the visit; valid for the answer window after the invitation."""
        token = self.tokens.issue(booking_id, expires_at=self.survey_deadline(invited_at))
        return f"{self.booking_page}/survey/{booking_id}?token={token}"

    def survey_deadline(self, invited_at: datetime) -> datetime:
        return invited_at + self.survey_answer_window
