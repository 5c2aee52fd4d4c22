"""The booking service's one configuration object."""

from __future__ import annotations

from pydantic import Field

from infra.settings import ConnectionSettings


class BookingSettings(ConnectionSettings):
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    manage_token_secret: str = "change-me-in-production"
    relay_batch: int = 200
    availability_horizon_days: int = 60
    aggregate_cache_size: int = 10_000
    hold_minutes: int = Field(default=5, gt=0, description="A citizen's hold on a chosen time")
    waitlist_offer_minutes: int = Field(
        default=120, gt=0, description="How long an earlier time is held for a waiting citizen"
    )
    # Staff API token per municipality (env STAFF_TOKENS as JSON); none means no staff access.
    staff_tokens: dict[str, str] = Field(default_factory=dict)

    def eventsourcing_env(self) -> dict[str, str]:
        """Hot aggregates (today's site days) are served from memory and fast-forwarded from
        the store, instead of being rebuilt from all their events on every command."""
        return {
            **super().eventsourcing_env(),
            "AGGREGATE_CACHE_MAXSIZE": str(self.aggregate_cache_size),
            "AGGREGATE_CACHE_FASTFORWARD": "y",
        }
