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
# Clocks of the issuer and the checker may differ this much: a token issued by a municipality's
# identity provider a little "in the future" is still good.
LEEWAY = timedelta(seconds=30)
MAX_TOKEN_LENGTH = 4096  # far more than any token `issue` writes; longer is refused unread
# A JWS in compact form: three base64url parts; anything else is refused unread.
_COMPACT = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
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
    # A token whose expiry is further than this from its issue is refused (README: 7 days).
    staff_token_max_lifetime: timedelta = Field(default=MAX_TTL, gt=timedelta(0))

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
    # what `verify` accepts at most from `iat` to `exp`, whoever signed the token
    max_lifetime: timedelta = MAX_TTL

    def __post_init__(self) -> None:
        short = sorted(m for m, key in self.keys.items() if len(key) < MIN_KEY_LENGTH)
        if short:
            raise ValueError(f"staff token keys shorter than {MIN_KEY_LENGTH} characters: {short}")

    def issue(self, municipality: str, account: str, role: Role, ttl: timedelta) -> str:
        if municipality not in self.keys:
            raise KeyError(f"no staff token key for {municipality!r}")
        if not 0 < len(account) <= 100:
            raise ValueError("a staff account is 1 to 100 characters")
        if not timedelta(0) < ttl <= self.max_lifetime:
            raise ValueError(f"a staff token lives more than 0 and at most {self.max_lifetime}")
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
        """The claims of a genuine token for the staff audience, issued not in the future,
        unexpired, and living at most `max_lifetime`; otherwise `InvalidStaffToken`."""
        try:
            if not well_formed(token):
                raise InvalidStaffToken
            municipality = str(jwt.get_unverified_header(token).get("kid"))
            key = self.keys.get(municipality)
            if key is None:
                raise InvalidStaffToken
            now = self.clock()
            claims = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],  # never `none`, never one chosen by the token
                audience=AUDIENCE,
                issuer=ISSUER,
                # No leeway on the expiry: a token is dead the second it says (a live stream
                # ends then too). The issuer's clock may run ahead a little: `iat` is
                # checked below, with LEEWAY.
                options={
                    "require": ["exp", "iat", "sub", "jti", "aud", "iss"],
                    "verify_iat": False,
                },
            )
            issued_at, expires = _instant(claims["iat"]), _instant(claims["exp"])
            if issued_at > now + LEEWAY or expires - issued_at > self.max_lifetime:
                raise InvalidStaffToken
            if claims.get("mun") != municipality:
                raise InvalidStaffToken
            return StaffClaims(
                municipality=municipality,
                account=str(claims["sub"]),
                role=Role(str(claims.get("role"))),
                expires_at=expires,
                token_id=str(claims["jti"]),
            )
        except (jwt.PyJWTError, ValueError, TypeError, OverflowError) as error:
            raise InvalidStaffToken from error


def well_formed(token: str) -> bool:
    """Whether `token` has the shape of a staff token at all (its signature unchecked): what
    may be passed on in a header."""
    return len(token) <= MAX_TOKEN_LENGTH and _COMPACT.fullmatch(token) is not None


def claimed_municipality(token: str) -> str | None:
    """The municipality a token says it is for (`kid`), unchecked: enough to refuse a token of
    another municipality early, never to admit one; None if it says nothing readable."""
    if not well_formed(token):
        return None
    try:
        kid = jwt.get_unverified_header(token).get("kid")
    except jwt.PyJWTError:
        return None
    return kid if isinstance(kid, str) else None


def _instant(claim: object) -> datetime:
    """A NumericDate claim; TypeError for anything but a number (a bool is no date)."""
    if isinstance(claim, bool) or not isinstance(claim, int | float):
        raise TypeError(f"not a NumericDate: {claim!r}")
    return datetime.fromtimestamp(claim, UTC)
