"""The JetStream streams, declared here and nowhere else. Consumers bind; they never redeclare."""

from __future__ import annotations

from datetime import timedelta

from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import NotFoundError

EVENTS_STREAM = "BS_EVENTS"
DEADLETTER_STREAM = "BS_DEADLETTER"

# Command subjects (`bs.<m>.cmd.<verb>`) have the same shape as event subjects, so the stream
# names each aggregate rather than `bs.*.*.*`: request-reply traffic must never be stored.
EVENT_AGGREGATES = ("municipality", "schedule", "booking", "guarantee", "sms")

# Deduplication on Nats-Msg-Id. The relay also resumes from the last event on the stream, so a
# restart after a longer outage does not republish either; consumers are idempotent regardless.
DUPLICATE_WINDOW = timedelta(minutes=15)


def deadletter_subject(consumer: str) -> str:
    return f"deadletter.{consumer}"


STREAMS = (
    StreamConfig(
        name=EVENTS_STREAM,
        description="Every booking event, immutable; the replayable history for consumers",
        subjects=[f"bs.*.{aggregate}.*" for aggregate in EVENT_AGGREGATES],
        retention=RetentionPolicy.LIMITS,
        max_age=0,  # history is kept
        max_msgs=-1,
        max_bytes=-1,
        discard=DiscardPolicy.NEW,
        storage=StorageType.FILE,
        num_replicas=1,
        duplicate_window=DUPLICATE_WINDOW.total_seconds(),
        allow_direct=True,
    ),
    StreamConfig(
        name=DEADLETTER_STREAM,
        description="Messages a consumer could not handle, with the reason in the headers",
        subjects=[deadletter_subject(">")],
        retention=RetentionPolicy.LIMITS,
        max_age=timedelta(days=90).total_seconds(),
        storage=StorageType.FILE,
        num_replicas=1,
        duplicate_window=DUPLICATE_WINDOW.total_seconds(),
    ),
)


async def ensure_streams(js: JetStreamContext) -> None:
    """Creates the streams, or brings an existing one's settings to these; idempotent."""
    for config in STREAMS:
        assert config.name is not None
        try:
            await js.stream_info(config.name)
        except NotFoundError:
            await js.add_stream(config)
        else:
            await js.update_stream(config)
