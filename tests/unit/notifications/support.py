"""What the notification unit tests share: links signed with a known secret."""

from __future__ import annotations

from infra.manage_token import ManageTokens
from services.notifications.domain.links import Links

TOKENS = ManageTokens("unit-test-secret")


def links(base_url: str = "https://x") -> Links:
    return Links(base_url, TOKENS)
