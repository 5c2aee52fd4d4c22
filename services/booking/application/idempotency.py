"""Idempotent booking (the IETF Idempotency-Key draft): a key replays only the request it was
first sent with.

The booking id of a key is an HMAC of municipality and key under a key derived from the server
secret (`PERSONAL_DATA_KEY`), so nobody without the secret can tell which id a key gives, or
which key an id came from. A keyed digest of the canonical request (every field of the command
after validation and normalisation, the time as a UTC instant) is stored with the booking; a
key sent again is compared by digest alone, in constant time, so the check needs no plaintext
of the first request and a different request learns nothing of it."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC
from uuid import UUID

from services.booking.commands import BookTime
from services.booking.domain.errors import Invalid

ID_PURPOSE = b"borgerservice:idempotency:booking-id"
REQUEST_PURPOSE = b"borgerservice:idempotency:request"


class KeyReused(Invalid):
    """The key was first sent with another request (422); says nothing of that request."""

    def __init__(self) -> None:
        super().__init__(
            "this Idempotency-Key was used for a different request: send a new key for a new "
            "booking, or the identical request to get its answer again"
        )


class Idempotency:
    """Booking ids and request digests for idempotency keys, under one server secret."""

    def __init__(self, secret: bytes) -> None:
        self._ids = hmac.new(secret, ID_PURPOSE, hashlib.sha256).digest()
        self._requests = hmac.new(secret, REQUEST_PURPOSE, hashlib.sha256).digest()

    @classmethod
    def from_master_key(cls, encoded: str) -> Idempotency:
        """From `PERSONAL_DATA_KEY` as the settings hold it (base64)."""
        return cls(base64.b64decode(encoded))

    def booking_id(self, municipality: str, key: str) -> UUID:
        message = f"{municipality}\x00{key}".encode()
        digest = hmac.new(self._ids, message, hashlib.sha256).digest()
        return UUID(bytes=digest[:16], version=4)

    def request_digest(self, command: BookTime) -> str:
        digest = hmac.new(self._requests, canonical(command), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def check_replay(self, command: BookTime, stored_digest: str | None) -> None:
        """Raises `KeyReused` unless `command` is the request the stored digest was made of."""
        if stored_digest is None or not hmac.compare_digest(
            self.request_digest(command), stored_digest
        ):
            raise KeyReused


def canonical(command: BookTime) -> bytes:
    """The request as compared: every field but the key, normalised, in one byte form."""
    fields = command.model_dump(mode="json", exclude={"idempotency_key", "starts_at"})
    fields["starts_at"] = command.starts_at.astimezone(UTC).isoformat()
    return json.dumps(fields, sort_keys=True, ensure_ascii=True, separators=(",", ":")).encode()
