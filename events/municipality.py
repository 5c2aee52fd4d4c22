"""Events of a municipality's configuration: its sites and the services it books."""

from __future__ import annotations

from pydantic import Field

from events.envelope import SLUG, EventData, WireModel


class Site(WireModel):
    id: str = Field(pattern=SLUG)
    name: str
    address: str
    video_from: str | None = Field(
        default=None,
        pattern=SLUG,
        description="A decentral site (a library) served by video from this central site",
    )


class Service(WireModel):
    id: str = Field(pattern=SLUG)
    name: str
    duration_minutes: int = Field(gt=0)
    documents: list[str]
    competence: str | None = Field(default=None, description="The staff competence it needs")
    online_url: str | None = Field(default=None, description="Where it can be solved online")
    video: bool = Field(default=False, description="May be served by video from another site")


class MunicipalityRegistered(EventData):
    """A municipality joined the deployment with its sites and services."""

    TYPE = "municipality.registered"

    name: str
    waiting_target_working_days: int = Field(gt=0)
    sites: list[Site]
    services: list[Service]
    active_bookings_limit: int = Field(
        default=2, gt=0, description="Active bookings one citizen may hold per service"
    )


class ServiceConfigured(EventData):
    """A service was added to the catalog or its details changed."""

    TYPE = "municipality.service_configured"

    service: Service
    by: str


class SiteConfigured(EventData):
    """A site was added or its details changed."""

    TYPE = "municipality.site_configured"

    site: Site
    by: str


class WaitingTargetChanged(EventData):
    """The municipality set a new waiting-time target (working days)."""

    TYPE = "municipality.waiting_target_changed"

    waiting_target_working_days: int = Field(gt=0)
    by: str
