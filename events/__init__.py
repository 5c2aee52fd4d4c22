"""The wire contract: every event on the bus, its envelope and its subject. Nothing else."""

from events.envelope import Envelope, EventData, subject_for
from events.registry import EVENT_TYPES, UndecodableEvent, decode, encode

__all__ = [
    "EVENT_TYPES",
    "Envelope",
    "EventData",
    "UndecodableEvent",
    "decode",
    "encode",
    "subject_for",
]
