"""Staff tokens: signed, expiring proof of who acts for which municipality in which role.

A token is a JWT (HS256) naming the municipality (`mun`, and `kid` in the header), the staff
account (`sub`), the role and the expiry. Each municipality has its own signing key
(`STAFF_TOKENS`, a JSON object municipality → key of at least 32 characters): a key that
leaks lets no one act for another municipality, and a municipality can issue its own tokens
(from its identity provider) without any secret shared with the others. Every token has a
`jti`, so a deny-list can revoke single tokens later; until then, rotate the key.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import jwt
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

ISSUER = "borgerservice"
AUDIENCE = "borgerservice-staff"
ALGORITHM = "HS256"
MIN_KEY_LENGTH = 32
MAX_TTL = timedelta(days=7)
_TTL = re.compile(r"^(?P<amount>\d+)(?P<unit>[smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


class Role(StrEnum):
    STAFF = "staff"  # the day view and the lifecycle of a visit
    ADMIN = "admin"  # all staff may do, and what changes a whole day
    REPORTING = "reporting"  # statistics only: never sees or changes a booking


class StaffTokenSettings(BaseSettings):
    """The settings every service that issues or checks staff tokens reads."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", hide_input_in_errors=True)

    # Signing key per municipality (STAFF_TOKENS as JSON); a municipality without one has no
    # staff access. `borgerservice serve` refuses to start without any (infra/secrets.py).
    staff_tokens: dict[str, SecretStr] = Field(default_factory=dict)

    def staff_token_keys(self) -> dict[str, str]:
        return {m: key.get_secret_value() for m, key in self.staff_tokens.items()}


class InvalidStaffToken(Exception):
    """Malformed, forged, expired or for a municipality without a key; deliberately vague."""


@dataclass(frozen=True)
class StaffClaims:
    municipality: str
    account: str
    role: Role
    expires_at: datetime
    token_id: str


def _utc_now() -> datetime:
    return datetime.now(UTC)


def parse_ttl(text: str) -> timedelta:
    """`90s`, `30m`, `8h` or `2d`; at most `MAX_TTL`."""
    found = _TTL.match(text.strip())
    if found is None:
        raise ValueError(f"{text!r} is not a duration like 30m, 8h or 2d")
    ttl = timedelta(**{_UNITS[found["unit"]]: int(found["amount"])})
    if not timedelta(0) < ttl <= MAX_TTL:
        raise ValueError(f"a staff token lives more than 0 and at most {MAX_TTL.days} days")
    return ttl


@dataclass(frozen=True)
class StaffTokens:
    keys: Mapping[str, str]
    clock: Callable[[], datetime] = field(default=_utc_now, compare=False)

    def __post_init__(self) -> None:
        short = sorted(m for m, key in self.keys.items() if len(key) < MIN_KEY_LENGTH)
        if short:
            raise ValueError(f"staff token keys shorter than {MIN_KEY_LENGTH} characters: {short}")

    def issue(self, municipality: str, account: str, role: Role, ttl: timedelta) -> str:
        if municipality not in self.keys:
            raise KeyError(f"no staff token key for {municipality!r}")
        if not 0 < len(account) <= 100:
            raise ValueError("a staff account is 1 to 100 characters")
        now = self.clock()
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": account,
            "mun": municipality,
            "role": Role(role).value,
            "iat": int(now.timestamp()),
            "exp": int((now + ttl).timestamp()),
            "jti": uuid.uuid4().hex,
        }
        return jwt.encode(claims, self.keys[municipality], ALGORITHM, headers={"kid": municipality})

    def verify(self, token: str) -> StaffClaims:
        """The claims of a genuine, unexpired token, or `InvalidStaffToken`."""
        try:
            municipality = str(jwt.get_unverified_header(token).get("kid"))
            key = self.keys.get(municipality)
            if key is None:
                raise InvalidStaffToken
            claims = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],  # never `none`, never one chosen by the token
                audience=AUDIENCE,
                issuer=ISSUER,
                options={"require": ["exp", "iat", "sub", "jti"]},
            )
            if claims.get("mun") != municipality:
                raise InvalidStaffToken
            return StaffClaims(
                municipality=municipality,
                account=str(claims["sub"]),
                role=Role(str(claims.get("role"))),
                expires_at=datetime.fromtimestamp(claims["exp"], UTC),
                token_id=str(claims["jti"]),
            )
        except (jwt.PyJWTError, ValueError, TypeError) as error:
            raise InvalidStaffToken from error
