"""Staff of a municipality prove it with that municipality's staff token (a bearer token);
the account name they give is recorded on every event they cause."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Header, HTTPException

StaffCheck = Callable[..., Awaitable[str]]


def staff_guard(tokens: dict[str, str]) -> StaffCheck:
    """A FastAPI dependency: the staff account acting for `municipality`, or 401."""

    async def staff_account(
        municipality: str,
        authorization: Annotated[str | None, Header()] = None,
        x_staff_account: Annotated[str, Header(min_length=1, max_length=100)] = "staff",
    ) -> str:
        expected = tokens.get(municipality)
        given = (authorization or "").removeprefix("Bearer ").strip()
        if expected is None or not hmac.compare_digest(expected.encode(), given.encode()):
            raise HTTPException(401, "staff credentials for this municipality are required")
        return x_staff_account

    return staff_account
