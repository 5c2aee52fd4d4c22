"""Events of a municipality's configuration: its sites and the services it books."""

from __future__ import annotations

from pydantic import Field

from events.envelope import SLUG, EventData, WireModel


class Site(WireModel):
    id: str = Field(pattern=SLUG)
    name: str
    address: str


class Service(WireModel):
    id: str = Field(pattern=SLUG)
    name: str
    duration_minutes: int = Field(gt=0)
    documents: list[str]


class MunicipalityRegistered(EventData):
    """A municipality joined the deployment with its sites and services."""

    TYPE = "municipality.registered"

    name: str
    waiting_target_working_days: int = Field(gt=0)
    sites: list[Site]
    services: list[Service]
