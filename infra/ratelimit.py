"""Abuse limits on the citizens' HTTP API: token buckets per client address and per phone
number; over the limit is 429 with `Retry-After`.

The buckets live in this process: right for one instance. Several instances behind a load
balancer each allow the full rate, so a multi-instance deployment needs the buckets in a
shared store (Redis `INCR`/`EXPIRE` or a GCRA script, or a NATS KV bucket with CAS updates),
or the limit enforced at the proxy in front, with the per-phone limit kept here on a store
shared by all instances.

The client address is the peer's, unless the peer is a configured trusted proxy (the pages
are one): then X-Forwarded-For is read from the right, past every trusted proxy, to the
first address no trusted proxy vouches for. A client cannot choose its own address.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from ipaddress import IPv4Network, IPv6Network, ip_address, ip_network
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
    trusted_proxies: tuple[IPv4Network | IPv6Network, ...] = ()

    @classmethod
    def from_settings(cls, settings: ConnectionSettings) -> CitizenRateLimit:
        ip, phone = settings.rate_limit_per_ip_per_minute, settings.rate_limit_per_phone_per_hour
        return cls(
            TokenBuckets(Rate(ip, 60)) if ip else None,
            TokenBuckets(Rate(phone, 3600)) if phone else None,
            tuple(ip_network(str(proxy)) for proxy in settings.trusted_proxies),
        )

    async def __call__(self, request: Request) -> None:
        if self.per_ip is not None:
            peer = request.client.host if request.client else "-"
            forwarded = request.headers.get("x-forwarded-for", "")
            _refuse_after(self.per_ip.take(client_address(peer, forwarded, self.trusted_proxies)))
        if self.per_phone is not None and request.method in _CHANGING:
            phone = await _phone_in(request)
            if phone:
                _refuse_after(self.per_phone.take(phone_key(phone)))


def client_address(
    peer: str, forwarded_for: str, trusted: tuple[IPv4Network | IPv6Network, ...]
) -> str:
    """The client's address: `peer`, or, while the address at hand is a trusted proxy, the
    one it names as its own peer (the rightmost X-Forwarded-For entry not yet read)."""
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()] if trusted else []
    address = peer
    while hops and is_trusted_proxy(address, trusted):
        named = _canonical(hops.pop())
        if named is None:
            break  # no proxy writes this: the hop that passed it on is the client
        address = named
    return address


def _canonical(text: str) -> str | None:
    """One spelling per address (IPv6 has many), or None for what is no address."""
    try:
        return str(ip_address(text))
    except ValueError:
        return None


def is_trusted_proxy(address: str, trusted: tuple[IPv4Network | IPv6Network, ...]) -> bool:
    """`address` is one of the deployment's proxies, whose forwarded headers are believed."""
    try:
        ip = ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in trusted)


def citizen_rate_limit(settings: ConnectionSettings) -> Any:
    """`Depends(...)` of a fresh limit, for `include_router(..., dependencies=[...])`: one
    budget for every router it is given to."""
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
