"""Helpers shared by tests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Protocol


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 10.0) -> None:
    """Waits until `check()` is true; fails the test with a clear message otherwise."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not true within {timeout}s: {check.__qualname__}")
        await asyncio.sleep(0.05)


class Runnable(Protocol):
    async def run(self, stop: asyncio.Event) -> None: ...


@asynccontextmanager
async def running_in_background(service: Runnable) -> AsyncIterator[None]:
    """Runs `service.run(stop)` for the duration of the block, then stops it and waits."""
    stop = asyncio.Event()
    task = asyncio.create_task(service.run(stop))
    try:
        yield
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=10)
