"""Times on the pages are Danish local time, written the Danish way."""

from __future__ import annotations

from datetime import UTC, datetime

from services.web.danish import when
from services.web.settings import WebSettings


def test_a_summer_time_is_shown_in_danish_local_time() -> None:
    assert when(datetime(2026, 6, 2, 7, 30, tzinfo=UTC)) == "tirsdag 2. juni 2026 kl. 09.30"


def test_a_winter_time_is_shown_in_danish_local_time() -> None:
    assert when(datetime(2026, 11, 24, 8, 0, tzinfo=UTC)) == "tirsdag 24. november 2026 kl. 09.00"


def test_pages_beside_the_apis_use_this_port_unless_told_otherwise() -> None:
    beside = WebSettings().beside(8123, ("booking", "web"))
    assert beside.booking_api_url == "http://127.0.0.1:8123"
    assert beside.reporting_api_url == "http://127.0.0.1:8001"
    explicit = WebSettings(booking_api_url="http://booking:8000").beside(8123, ("booking",))
    assert explicit.booking_api_url == "http://booking:8000"
