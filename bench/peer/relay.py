"""The peer's outbox relay: unsent rows in order, published to JetStream with `Nats-Msg-Id`
(so a row published twice, after a crash between publish and mark, is stored once), then
marked sent. Woken by the requests that commit a row; a poll every second as well."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import asyncpg
from nats.errors import Error as NatsError
from nats.js import JetStreamContext

BATCH = 500


class OutboxRelay:
    def __init__(self, pool: asyncpg.Pool, js: JetStreamContext) -> None:
        self.pool, self.js = pool, js
        self._work = asyncio.Event()

    def wake(self) -> None:
        """A row was committed: publish it now rather than at the next poll."""
        self._work.set()

    async def run(self) -> None:
        while True:
            self._work.clear()
            try:
                relayed = await self.relay_once()
            except (OSError, asyncpg.PostgresError, NatsError) as error:  # tried again
                logging.getLogger("peer.relay").warning("relay failed: %s", error)
                relayed = 0
            if not relayed:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._work.wait(), timeout=1.0)

    async def relay_once(self) -> int:
        rows = await self.pool.fetch(
            "SELECT id, subject, msg_id, payload FROM outbox "
            "WHERE sent_at IS NULL ORDER BY id LIMIT $1",
            BATCH,
        )
        if rows:
            # Published concurrently, acknowledged all before any row is marked.
            await asyncio.gather(
                *(
                    self.js.publish(
                        row["subject"],
                        row["payload"].encode(),
                        headers={"Nats-Msg-Id": str(row["msg_id"])},
                    )
                    for row in rows
                )
            )
            await self.pool.execute(
                "UPDATE outbox SET sent_at = now() WHERE id = ANY($1)", [row["id"] for row in rows]
            )
        return len(rows)
