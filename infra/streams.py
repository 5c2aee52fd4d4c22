"""The JetStream streams, declared here and nowhere else. Consumers bind; they never redeclare."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import NotFoundError

EVENTS_STREAM = "BS_EVENTS"
SMS_STREAM = "BS_SMS"
DEADLETTER_STREAM = "BS_DEADLETTER"

# Command subjects (`bs.<m>.cmd.<verb>`) have the same shape as event subjects, so the stream
# names each aggregate rather than `bs.*.*.*`: request-reply traffic must never be stored.
# BS_EVENTS holds what the booking service's relay publishes, and nothing else: the relay
# chains its publishes (Nats-Expected-Last-Msg-Id) and resumes from the stream's last message,
# so no other publisher may write there. Notifications' own `sms.*` events go to BS_SMS.
RELAYED_AGGREGATES = ("municipality", "schedule", "booking", "guarantee", "citizen")
EVENT_AGGREGATES = (*RELAYED_AGGREGATES, "sms")

# Deduplication on Nats-Msg-Id. The relay also resumes from the last event on the stream, so a
# restart after a longer outage does not republish either; consumers are idempotent regardless.
DUPLICATE_WINDOW = timedelta(minutes=15)


def deadletter_subject(consumer: str) -> str:
    return f"deadletter.{consumer}"


def command_subject(municipality: str, verb: str) -> str:
    """`bs.<municipality>.cmd.<verb>`: a request-reply command, never stored on a stream."""
    return f"bs.{municipality}.cmd.{verb}"


STREAMS = (
    StreamConfig(
        name=EVENTS_STREAM,
        description="Every booking event, immutable; the replayable history for consumers",
        subjects=[f"bs.*.{aggregate}.*" for aggregate in RELAYED_AGGREGATES],
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
        name=SMS_STREAM,
        description="Notifications' own events (sent, failed, delivered), without phone or text",
        subjects=["bs.*.sms.*"],
        retention=RetentionPolicy.LIMITS,
        max_age=0,
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


async def ensure_streams(js: JetStreamContext, replicas: int | None = None) -> None:
    """Creates the streams, or brings an existing one's settings to these; idempotent.

    `replicas` is how many servers of a cluster keep each stream (see infra/cluster.py);
    None keeps an existing stream's count, so a service starting never scales a replicated
    stream back down, and gives a new stream one."""
    for config in STREAMS:
        assert config.name is not None
        try:
            info = await js.stream_info(config.name)
        except NotFoundError:
            await js.add_stream(replace(config, num_replicas=replicas or 1))
        else:
            kept = replicas or info.config.num_replicas or 1
            wanted = replace(config, num_replicas=kept)
            if not _holds(wanted, info.config):
                await js.update_stream(wanted)


def _holds(declared: StreamConfig, current: StreamConfig) -> bool:
    """Every setting declared here is already the stream's (the server fills in the rest), so
    a service whose user may not change streams (infra/nats_accounts.py) starts on a declared
    bus without asking to."""
    have = current.as_dict()
    return all(
        have.get(key) == value for key, value in declared.as_dict().items() if value is not None
    )
