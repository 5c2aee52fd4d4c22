"""Events about a citizen as a person rather than a booking: their personal data erased."""

from __future__ import annotations

from enum import StrEnum
from uuid import UUID

from pydantic import AwareDatetime, Field

from events.envelope import EventData


class ErasureReason(StrEnum):
    requested = "requested"  # the citizen asked; staff erased them
    retention = "retention"  # the retention period after their last appointment ended


class CitizenErased(EventData):
    """The citizen's key is deleted: everything sealed for `subject_id` is unreadable for good.
    Whoever cached their name or phone number in plaintext forgets it now; counts and
    statistics stay as they are. The aggregate is the citizen (`aggregate_id == subject_id`)."""

    TYPE = "citizen.erased"

    subject_id: UUID
    reason: ErasureReason
    by: str = Field(description="The staff account, or 'retention' for the automatic erasure")
    erased_at: AwareDatetime
