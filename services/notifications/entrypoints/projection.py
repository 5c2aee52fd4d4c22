"""The notifications projection: turns booking events into pending SMS messages."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from events import Envelope
from events.booking import BookingBooked
from services.notifications.adapters.messages import add_pending
from services.notifications.domain.messages import confirmation


@dataclass
class NotificationsProjection:
    """Decides which SMS an event calls for and records it as pending, in the transaction
    that records the stream position. The message key, not the stream sequence, is what
    keeps a republished event (new sequence, same booking version) from a second SMS."""

    manage_base_url: str
    name: str = "notifications"
    subjects: Sequence[str] = field(default_factory=lambda: [f"bs.*.{BookingBooked.TYPE}"])

    async def apply(self, connection: asyncpg.Connection, event: Envelope[Any]) -> None:
        if isinstance(event.data, BookingBooked):
            await add_pending(connection, confirmation(event, self.manage_base_url))
