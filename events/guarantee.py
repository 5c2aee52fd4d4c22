"""Events of the waiting-time guarantee: the first free time per service and site against the
municipality's target, as it crosses the target and comes back."""

from __future__ import annotations

from pydantic import AwareDatetime, Field

from events.envelope import EventData


class WaitingTargetBreached(EventData):
    """A citizen booking `service` at this site now waits longer than the target.

    `first_free_at` is None when no time at all is open for booking."""

    TYPE = "guarantee.breached"

    service: str
    first_free_at: AwareDatetime | None
    working_days: int | None = Field(ge=0)
    target_working_days: int = Field(gt=0)
    observed_at: AwareDatetime


class WaitingTargetRestored(EventData):
    """The first free time is within the target again."""

    TYPE = "guarantee.restored"

    service: str
    first_free_at: AwareDatetime
    working_days: int = Field(ge=0)
    target_working_days: int = Field(gt=0)
    observed_at: AwareDatetime
