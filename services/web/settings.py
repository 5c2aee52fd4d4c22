"""The web service's one configuration object."""

from __future__ import annotations

from collections.abc import Collection
from ipaddress import IPv4Network, IPv6Network, ip_network

from pydantic import Field, IPvAnyNetwork
from pydantic_settings import BaseSettings, SettingsConfigDict


class WebSettings(BaseSettings):
    """Where the JSON APIs are (env WEB_BOOKING_API_URL, WEB_REPORTING_API_URL). The pages
    reach them over HTTP only, so they may run on other machines."""

    model_config = SettingsConfigDict(env_prefix="WEB_", env_file=".env", extra="ignore")

    booking_api_url: str = "http://127.0.0.1:8000"
    reporting_api_url: str = "http://127.0.0.1:8001"
    api_timeout_seconds: float = 10.0
    # Municipalities linked from the front page (WEB_MUNICIPALITIES as JSON).
    municipalities: list[str] = []
    # Where the reporting service serves its HTML period report; embedded on the dashboard.
    report_page_path: str = "/api/v1/municipalities/{municipality}/reports/period.html"
    # How many days of free times the citizen sees on one page.
    days_shown: int = 14
    # The deployment's proxies (TRUSTED_PROXIES, as the APIs read it): a page request from one
    # of them names its citizen in X-Forwarded-For, whom the pages then name to the APIs.
    trusted_proxies: list[IPvAnyNetwork] = Field(
        default_factory=list, validation_alias="TRUSTED_PROXIES"
    )

    @property
    def proxies(self) -> tuple[IPv4Network | IPv6Network, ...]:
        """`trusted_proxies` as the networks infra.ratelimit reads them."""
        return tuple(ip_network(str(proxy)) for proxy in self.trusted_proxies)

    def beside(
        self, port: int, services: Collection[str], municipalities: Collection[str] = ()
    ) -> WebSettings:
        """These settings when the pages run in one process with `services` on `port`:
        the APIs of those services are then on that port, unless set explicitly."""
        here = f"http://127.0.0.1:{port}"
        update: dict[str, object] = {}
        if "booking" in services and "booking_api_url" not in self.model_fields_set:
            update["booking_api_url"] = here
        if "reporting" in services and "reporting_api_url" not in self.model_fields_set:
            update["reporting_api_url"] = here
        if municipalities and not self.municipalities:
            update["municipalities"] = list(municipalities)
        return self.model_copy(update=update)
