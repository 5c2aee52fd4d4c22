"""Staff prove who they are with a signed staff token (infra/staff_tokens.py) naming their
municipality, account and role; the account is recorded on every event they cause.

Refusals tell an attacker nothing: any bad token is a bare 401; a genuine token used on
another municipality's routes is 404, whether or not the thing asked for exists there; a
role that may not do something is 403."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Mapping
from typing import Annotated

from fastapi import Header, HTTPException

from infra.staff_tokens import InvalidStaffToken, Role, StaffTokens

StaffCheck = Callable[..., Awaitable[str]]

# Who may see and change bookings; `reporting` may not (statistics only).
BOOKING_ROLES = frozenset({Role.STAFF, Role.ADMIN})


def staff_guard(keys: Mapping[str, str], roles: Collection[Role] = BOOKING_ROLES) -> StaffCheck:
    """A FastAPI dependency: the staff account acting for `municipality` in one of `roles`.
    `keys` are the municipalities' staff token signing keys (`STAFF_TOKENS`)."""
    tokens = StaffTokens(keys)
    allowed = frozenset(roles)

    async def staff_account(
        municipality: str, authorization: Annotated[str | None, Header()] = None
    ) -> str:
        scheme, _, token = (authorization or "").partition(" ")
        try:
            if scheme.lower() != "bearer" or not token.strip():
                raise InvalidStaffToken
            claims = tokens.verify(token.strip())
        except InvalidStaffToken:
            raise HTTPException(
                401, "Unauthorized", headers={"WWW-Authenticate": "Bearer"}
            ) from None
        if claims.municipality != municipality:
            raise HTTPException(404, "Not Found")  # as for a route that does not exist
        if claims.role not in allowed:
            raise HTTPException(403, "Forbidden")
        return claims.account

    return staff_account
