"""A minimal HTTP/1.1 keep-alive client for load: cheap enough per request that the bench
measures the server, not the client (the machine's cores are shared by both)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes
    seconds: float

    def json(self) -> Any:
        return json.loads(self.body)


class Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def request(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> Response:
        started = time.perf_counter()
        payload = b"" if body is None else json.dumps(body).encode()
        head = [f"{method} {path} HTTP/1.1", "Host: bench", f"Content-Length: {len(payload)}"]
        if body is not None:
            head.append("Content-Type: application/json")
        head.extend(f"{name}: {value}" for name, value in (headers or {}).items())
        self.writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + payload)
        status_line, *header_lines = (
            (await self.reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        )
        length = 0
        for line in header_lines:
            name, _, value = line.partition(":")
            if name.lower() == "content-length":
                length = int(value)
        data = await self.reader.readexactly(length)
        return Response(int(status_line.split()[1]), data, time.perf_counter() - started)

    def close(self) -> None:
        self.writer.close()


@contextlib.asynccontextmanager
async def connections(host: str, port: int, count: int) -> AsyncIterator[list[Connection]]:
    opened: list[Connection] = []
    try:
        for _ in range(count):
            opened.append(Connection(*await asyncio.open_connection(host, port, limit=2**22)))
        yield opened
    finally:
        for connection in opened:
            connection.close()


Request = Callable[[Connection, int], Awaitable[Response]]


async def closed_loop(
    pool: Sequence[Connection], send: Request, *, seconds: float = 0.0, count: int = 0
) -> list[Response]:
    """Every connection sends its next request as soon as the previous one answered, for
    `seconds`, or until `count` requests were sent."""
    deadline = time.perf_counter() + seconds
    answers: list[Response] = []
    counter = iter(range(count) if count else range(10**12))

    async def worker(connection: Connection) -> None:
        for index in counter:
            answers.append(await send(connection, index))
            if not count and time.perf_counter() >= deadline:
                return

    await asyncio.gather(*(worker(c) for c in pool))
    return answers


async def open_loop(
    pool: Sequence[Connection], rate: float, seconds: float, send: Request
) -> list[Response]:
    """Requests at a steady `rate` per second, on whichever connection is free; latency runs
    from when a request was due, so a request kept waiting counts its wait."""
    free: asyncio.Queue[Connection] = asyncio.Queue()
    for connection in pool:
        free.put_nowait(connection)
    answers: list[Response] = []

    async def one(index: int, due: float) -> None:
        connection = await free.get()
        try:
            answer = await send(connection, index)
        finally:
            free.put_nowait(connection)
        answers.append(Response(answer.status, answer.body, time.perf_counter() - due))

    started = time.perf_counter()
    tasks = []
    for index in range(round(rate * seconds)):
        due = started + index / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(index, due)))
    await asyncio.gather(*tasks)
    return answers
