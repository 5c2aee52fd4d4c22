"""Abuse limits on the citizens' HTTP API: token buckets per client address and per phone
number; over the limit is 429 with `Retry-After`.

The buckets live in this process: right for one instance. Several instances behind a load
balancer each allow the full rate, so a multi-instance deployment needs the buckets in a
shared store (Redis `INCR`/`EXPIRE` or a GCRA script, or a NATS KV bucket with CAS updates),
or the limit enforced at the proxy in front, with the per-phone limit kept here on a store
shared by all instances. Behind a proxy, run uvicorn with `--forwarded-allow-ips` so the
client address is the citizen's, not the proxy's.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import Depends, HTTPException, Request

from infra.settings import ConnectionSettings
from infra.text import ascii_digits

_NOT_DIGITS = re.compile(r"\D")
_CHANGING = frozenset({"POST", "PUT", "PATCH"})


@dataclass(frozen=True)
class Rate:
    """`count` requests per `seconds`, of which all `count` may come at once."""

    count: int
    seconds: float


@dataclass
class TokenBuckets:
    """One bucket per key; a key unseen for long holds a full bucket, so it is forgotten
    (and the oldest is evicted beyond `max_keys`, bounding memory under key rotation)."""

    rate: Rate
    max_keys: int = 100_000
    clock: Callable[[], float] = time.monotonic
    _buckets: OrderedDict[str, tuple[float, float]] = field(default_factory=OrderedDict)

    def take(self, key: str) -> float:
        """0 if a request for `key` may pass now (and counts it), else seconds to wait."""
        now = self.clock()
        per_second = self.rate.count / self.rate.seconds
        tokens, then = self._buckets.pop(key, (float(self.rate.count), now))
        tokens = min(float(self.rate.count), tokens + (now - then) * per_second)
        if tokens >= 1:
            self._buckets[key] = (tokens - 1, now)
            wait = 0.0
        else:
            self._buckets[key] = (tokens, now)
            wait = (1 - tokens) / per_second
        while len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)
        return wait


def phone_key(phone: str) -> str:
    """The same number however it was written: `20 30 40 50`, `+4520304050`, `0045...`, in
    fullwidth or Arabic-Indic digits."""
    digits = _NOT_DIGITS.sub("", ascii_digits(phone)).removeprefix("00")
    return digits[2:] if len(digits) == 10 and digits.startswith("45") else digits


@dataclass(eq=False)  # hashable by identity: FastAPI caches dependencies by it
class CitizenRateLimit:
    """A FastAPI dependency: every request counts against its client address; a request
    whose JSON body has a `phone` also counts against that number."""

    per_ip: TokenBuckets | None
    per_phone: TokenBuckets | None

    @classmethod
    def from_settings(cls, settings: ConnectionSettings) -> CitizenRateLimit:
        ip, phone = settings.rate_limit_per_ip_per_minute, settings.rate_limit_per_phone_per_hour
        return cls(
            TokenBuckets(Rate(ip, 60)) if ip else None,
            TokenBuckets(Rate(phone, 3600)) if phone else None,
        )

    async def __call__(self, request: Request) -> None:
        if self.per_ip is not None:
            _refuse_after(self.per_ip.take(request.client.host if request.client else "-"))
        if self.per_phone is not None and request.method in _CHANGING:
            phone = await _phone_in(request)
            if phone:
                _refuse_after(self.per_phone.take(phone_key(phone)))


def citizen_rate_limit(settings: ConnectionSettings) -> Any:
    """`Depends(...)` of a fresh limit, for `include_router(..., dependencies=[...])`."""
    return Depends(CitizenRateLimit.from_settings(settings))


async def _phone_in(request: Request) -> str | None:
    """The body's `phone`; the body is cached by the request, so the route still reads it."""
    if "json" not in request.headers.get("content-type", ""):
        return None
    try:
        body = json.loads(await request.body())
    except ValueError:
        return None  # the route answers 422
    phone = body.get("phone") if isinstance(body, dict) else None
    return phone if isinstance(phone, str) else None


def _refuse_after(wait: float) -> None:
    if wait > 0:
        raise HTTPException(
            429, "Too many requests", headers={"Retry-After": str(max(1, math.ceil(wait)))}
        )
