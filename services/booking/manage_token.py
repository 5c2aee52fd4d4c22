"""The manage token a citizen gets with a booking: proof that they may see or change it."""

from __future__ import annotations

import base64
import hashlib
import hmac
from uuid import UUID


class ManageTokens:
    def __init__(self, secret: str) -> None:
        self._secret = secret.encode()

    def issue(self, booking_id: UUID) -> str:
        digest = hmac.new(self._secret, booking_id.bytes, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def valid(self, booking_id: UUID, token: str | None) -> bool:
        return token is not None and hmac.compare_digest(self.issue(booking_id), token)
