"""The manage token a citizen gets with a booking (in the booking reply and in SMS links): proof
that they may see, change or answer about it, until it expires.

A token is `<expiry as unix seconds>.<HMAC-SHA256 of booking id and expiry>`, so it can be
checked without any lookup; changing the expiry breaks the signature. Anyone holding the one
secret (`MANAGE_TOKEN_SECRET`, read by every service that issues or checks tokens) can issue;
tokens without an expiry (the format before expiry existed) are refused.

Revocable: a booking has a token generation (0 until staff revoke its links, event
`booking.manage_tokens_revoked`). A token of generation N > 0 reads
`<expiry>.<N>.<HMAC of booking id, expiry and N>`; the checker passes the booking's current
generation, so every token issued before a revocation stops working.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from uuid import UUID

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from infra.transient import ConfigurationError


class ManageTokenSettings(BaseSettings):
    """The settings every service that issues or checks manage tokens reads: one secret, with
    no default (`borgerservice secret MANAGE_TOKEN_SECRET` makes one; infra/secrets.py)."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", hide_input_in_errors=True)

    manage_token_secret: SecretStr | None = None
    # a token stays valid this long after the appointment it was issued for
    manage_token_grace_days: float = Field(default=3.0, gt=0)
    # and this long after issue when no appointment is known
    manage_token_lifetime_days: float = Field(default=90.0, gt=0)

    def manage_tokens(self) -> ManageTokens:
        if self.manage_token_secret is None:
            raise ConfigurationError("MANAGE_TOKEN_SECRET is not set")
        return ManageTokens(
            self.manage_token_secret.get_secret_value(),
            grace=timedelta(days=self.manage_token_grace_days),
            lifetime=timedelta(days=self.manage_token_lifetime_days),
        )


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class ManageTokens:
    secret: str = field(repr=False)
    grace: timedelta = timedelta(days=3)
    lifetime: timedelta = timedelta(days=90)
    clock: Callable[[], datetime] = field(default=_utc_now, compare=False)

    def issue(
        self,
        booking_id: UUID,
        *,
        appointment_at: datetime | None = None,
        expires_at: datetime | None = None,
        generation: int = 0,
    ) -> str:
        """A token valid until `expires_at`, else until `grace` after `appointment_at`, else
        for `lifetime` from now. The same arguments always give the same token."""
        if expires_at is None:
            expires_at = (
                appointment_at + self.grace
                if appointment_at is not None
                else self.clock() + self.lifetime
            )
        expiry = int(expires_at.timestamp())
        signature = self._signature(booking_id, expiry, generation)
        return f"{expiry}.{generation}.{signature}" if generation else f"{expiry}.{signature}"

    def verify(
        self,
        booking_id: UUID,
        token: str | None,
        now: datetime | None = None,
        generation: int = 0,
    ) -> bool:
        """True if `token` was issued for `booking_id` with this secret, for its current
        `generation`, and has not expired. Only the one form `issue` writes is read."""
        parsed = parse(token)
        if parsed is None or parsed.generation != generation:
            return False
        expected = self._signature(booking_id, parsed.expiry, generation)
        if not hmac.compare_digest(expected.encode(), parsed.signature.encode()):
            return False
        return (now or self.clock()).timestamp() < parsed.expiry

    # The name the booking routes use.
    valid = verify

    def expires_at(self, token: str) -> datetime | None:
        """When `token` expires, as it says (not checked: use `verify`); None if malformed."""
        parsed = parse(token)
        return None if parsed is None else datetime.fromtimestamp(parsed.expiry, UTC)

    def _signature(self, booking_id: UUID, expiry: int, generation: int = 0) -> str:
        message = booking_id.bytes + expiry.to_bytes(8, "big")
        if generation:
            message += b"g" + generation.to_bytes(4, "big")
        digest = hmac.new(self.secret.encode(), message, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")


# The one form of a token: expiry as ten ASCII digits (unix seconds, no leading zero), a
# generation only when above 0 (no leading zero, below 2**32), and the 43 characters of an
# unpadded URL-safe base64 SHA-256. Anything else, of any length or script, is no token.
TOKEN_FORM = re.compile(
    r"(?P<expiry>[1-9][0-9]{9})(?:\.(?P<generation>[1-9][0-9]{0,8}))?\.(?P<signature>[A-Za-z0-9_-]{43})"
)
MAX_TOKEN_LENGTH = 64  # longer than any token `issue` writes


@dataclass(frozen=True)
class ParsedToken:
    expiry: int
    generation: int
    signature: str


def parse(token: str | None) -> ParsedToken | None:
    """The parts of a token in its one canonical form, or None (its signature unchecked)."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    found = TOKEN_FORM.fullmatch(token)
    if found is None:
        return None
    return ParsedToken(
        expiry=int(found["expiry"]),
        generation=int(found["generation"] or 0),
        signature=found["signature"],
    )


def claimed_generation(token: str) -> int:
    """The generation a token says it has (checked by its signature, not here); 0 if
    malformed."""
    parsed = parse(token)
    return 0 if parsed is None else parsed.generation


def fingerprint(token: str) -> str:
    """Names a token in the audit trail without revealing it: 12 hex digits of its SHA-256."""
    return hashlib.sha256(token.encode()).hexdigest()[:12]


def citizen_actor(token: str | None) -> str:
    """Who acted, as the events record it: the citizen holding this manage token."""
    return f"citizen:{fingerprint(token)}" if token else "citizen"
