"""Staff prove who they are with a signed staff token (infra/staff_tokens.py) naming their
municipality, account and role; every service's staff routes check it with these FastAPI
dependencies, so that they refuse alike.

Refusals tell an attacker nothing: any bad token is a bare 401; a genuine token used on
another municipality's routes is 404, whether or not the thing asked for exists there; a
role that may not do something is 403."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Mapping
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Header, HTTPException

from infra.staff_tokens import MAX_TTL, InvalidStaffToken, Role, StaffClaims, StaffTokens

StaffCheck = Callable[..., Awaitable[str]]
ClaimsCheck = Callable[..., Awaitable[StaffClaims]]

# Who may see and change bookings; `reporting` may not (statistics only).
BOOKING_ROLES = frozenset({Role.STAFF, Role.ADMIN})


def _verified(tokens: StaffTokens, authorization: str | None) -> StaffClaims:
    """The claims of the bearer token, or a bare 401."""
    scheme, _, token = (authorization or "").partition(" ")
    try:
        if scheme.lower() != "bearer" or not token.strip():
            raise InvalidStaffToken
        return tokens.verify(token.strip())
    except InvalidStaffToken:
        raise HTTPException(401, "Unauthorized", headers={"WWW-Authenticate": "Bearer"}) from None


def staff_claims(
    keys: Mapping[str, str], roles: Collection[Role], max_lifetime: timedelta = MAX_TTL
) -> ClaimsCheck:
    """A FastAPI dependency: the claims of a token acting for the path's `municipality` in one
    of `roles`. `keys` are the municipalities' staff token signing keys (`STAFF_TOKENS`);
    a token living longer than `max_lifetime` (`STAFF_TOKEN_MAX_LIFETIME`) is refused."""
    tokens = StaffTokens(keys, max_lifetime=max_lifetime)
    allowed = frozenset(roles)

    async def claims_of_municipality(
        municipality: str, authorization: Annotated[str | None, Header()] = None
    ) -> StaffClaims:
        claims = _verified(tokens, authorization)
        if claims.municipality != municipality:
            raise HTTPException(404, "Not Found")  # as for a route that does not exist
        if claims.role not in allowed:
            raise HTTPException(403, "Forbidden")
        return claims

    return claims_of_municipality


def staff_guard(
    keys: Mapping[str, str],
    roles: Collection[Role] = BOOKING_ROLES,
    max_lifetime: timedelta = MAX_TTL,
) -> StaffCheck:
    """A FastAPI dependency: the staff account acting for `municipality` in one of `roles`."""
    verified = Depends(staff_claims(keys, roles, max_lifetime))

    async def staff_account(claims: StaffClaims = verified) -> str:
        return claims.account

    return staff_account


def member_claims(
    keys: Mapping[str, str],
    members: Collection[str],
    roles: Collection[Role],
    max_lifetime: timedelta = MAX_TTL,
) -> ClaimsCheck:
    """A FastAPI dependency for what several municipalities share, with no municipality in
    the path: the claims of a token of one of `members` in one of `roles`. A genuine token of
    any other municipality or role is 403: what is shared is no secret, only who may read it."""
    tokens = StaffTokens(keys, max_lifetime=max_lifetime)
    allowed, sharing = frozenset(roles), frozenset(members)

    async def claims_of_member(
        authorization: Annotated[str | None, Header()] = None,
    ) -> StaffClaims:
        claims = _verified(tokens, authorization)
        if claims.municipality not in sharing or claims.role not in allowed:
            raise HTTPException(403, "Forbidden")
        return claims

    return claims_of_member
