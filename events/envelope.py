"""The one envelope every event on the bus travels in, and the subject it is published on."""

from __future__ import annotations

from typing import ClassVar, Generic, TypeVar
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

SLUG = r"^[a-z0-9][a-z0-9-]*$"


class WireModel(BaseModel):
    """Base of every wire model: immutable and strict about unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class EventData(WireModel):
    """The event-specific part of an envelope. Subclasses set `TYPE` to `<aggregate>.<event>`."""

    TYPE: ClassVar[str]
    VERSION: ClassVar[int] = 1


DataT = TypeVar("DataT", bound=EventData)


class Envelope(WireModel, Generic[DataT]):
    """What every event on the bus looks like; `data` is specific to `type`."""

    event_id: UUID = Field(description="Stable id: the same event always has the same id")
    type: str = Field(pattern=r"^[a-z_]+\.[a-z_]+$", examples=["booking.booked"])
    schema_version: int = Field(ge=1)
    municipality: str = Field(pattern=SLUG)
    site: str | None = Field(default=None, pattern=SLUG)
    aggregate_id: UUID
    aggregate_version: int = Field(ge=1)
    occurred_at: AwareDatetime
    data: DataT

    @property
    def subject(self) -> str:
        return subject_for(self.municipality, self.type)


def subject_for(municipality: str, event_type: str) -> str:
    """`bs.<municipality>.<aggregate>.<event>`, e.g. `bs.slagelse.booking.booked`."""
    return f"bs.{municipality}.{event_type}"
