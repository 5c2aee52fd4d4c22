"""The AsyncAPI 3 document of the bus, generated from the code: every event type of
`events.registry` on its subject with its envelope's JSON Schema and version, the JetStream
streams of `infra.streams` (as `x-streams`, and `x-stream` on each channel they store), the
dead-letter subjects, and the request-reply commands the services pass in."""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from events.envelope import Envelope, EventData, subject_for
from events.registry import EVENT_TYPES, UPCASTERS
from infra.settings import DEFAULT_NATS_PORT
from infra.streams import STREAMS, command_subject, deadletter_subject

ASYNCAPI_VERSION = "3.0.0"
SCHEMAS = "#/components/schemas/"
NATS_BINDING_VERSION = "0.1.0"

EVENT_HEADERS = {
    "type": "object",
    "properties": {
        "Nats-Msg-Id": {
            "type": "string",
            "format": "uuid",
            "description": "The event_id: JetStream drops a second publish within the window",
        },
        "Bs-Notification-Id": {
            "type": "string",
            "description": "The booking relay's position in the event store (relayed events)",
        },
    },
}
DEADLETTER_HEADERS = {
    "type": "object",
    "properties": {
        "Bs-Reason": {"type": "string", "description": "Why the consumer could not handle it"},
        "Bs-Subject": {"type": "string", "description": "The subject it was received on"},
        "Bs-Stream-Seq": {"type": "string", "description": "Its sequence on the stream"},
    },
}
PARAMETERS = {
    "municipality": {
        "description": "The municipality's slug, as registered (`^[a-z0-9][a-z0-9-]*$`)",
        "examples": ["slagelse"],
    },
    "consumer": {
        "description": "The durable consumer that gave the message up",
        "examples": ["reporting"],
    },
}


@dataclass(frozen=True)
class RequestReply:
    """A command answered over NATS request-reply on `bs.<municipality>.cmd.<verb>`."""

    verb: str
    summary: str
    request: type[BaseModel]
    replies: tuple[type[BaseModel], ...]
    queue: str
    from_subject: tuple[str, ...] = ()  # fields of `request` the subject gives, not the body


def asyncapi_document(
    commands: Sequence[RequestReply] = (), title: str = "Borgerservice bus"
) -> dict[str, Any]:
    models: list[tuple[type[BaseModel], JsonSchemaMode]] = [
        (Envelope[model], "validation")  # type: ignore[valid-type]
        for model in EVENT_TYPES.values()
    ]
    for command in commands:
        models.append((command.request, "validation"))
        models.extend((reply, "serialization") for reply in command.replies)
    refs, definitions = models_json_schema(
        list(dict.fromkeys(models)), ref_template=SCHEMAS + "{model}"
    )
    schemas: dict[str, Any] = definitions.get("$defs", {})
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for event_type, model in EVENT_TYPES.items():
        payload = refs[(Envelope[model], "validation")]  # type: ignore[valid-type]
        messages[event_type] = _event_message(event_type, model, payload)
        channels[event_type] = _channel(subject_for("{municipality}", event_type), [event_type])
        operations[f"{event_type}.publish"] = _operation("send", event_type, [event_type])
    for command in commands:
        _add_command(command, refs, schemas, channels, operations, messages)
    channels["deadletter"] = _channel(deadletter_subject("{consumer}"), ["deadletter"])
    messages["deadletter"] = {
        "name": "deadletter",
        "title": "Dead letter",
        "summary": "A message a consumer could not handle, byte for byte as it was received.",
        "headers": DEADLETTER_HEADERS,
        "payload": {},
    }
    operations["deadletter.publish"] = _operation("send", "deadletter", ["deadletter"])
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {
            "title": title,
            "version": "1",
            "description": "Every subject of the NATS bus: the events (in one envelope, on "
            "`bs.<municipality>.<aggregate>.<event>`), the JetStream streams that keep them, "
            "and the request-reply commands on `bs.<municipality>.cmd.<verb>`.",
        },
        "servers": {
            "nats": {
                "host": f"localhost:{DEFAULT_NATS_PORT}",
                "protocol": "nats",
                "description": "The nats-server `borgerservice up` starts; elsewhere NATS_URL",
            }
        },
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {"schemas": schemas, "messages": messages, "parameters": PARAMETERS},
        "x-streams": [_stream(config) for config in STREAMS],
    }


def _event_message(event_type: str, model: type[EventData], payload: dict[str, Any]) -> Any:
    older = sorted(version for kind, version in UPCASTERS if kind == event_type)
    return {
        "name": event_type,
        "title": f"{model.__name__} v{model.VERSION}",
        "summary": _summary(model),
        "headers": EVENT_HEADERS,
        # The envelope, with `data` of this type's current schema version.
        "payload": {"allOf": [payload, {"properties": {"type": {"const": event_type}}}]},
        "x-schema-version": model.VERSION,
        # Versions kept in history that consumers read through `events.registry.UPCASTERS`.
        "x-upcast-from": older,
    }


def _add_command(
    command: RequestReply,
    refs: Mapping[tuple[Any, JsonSchemaMode], dict[str, Any]],
    schemas: dict[str, Any],
    channels: dict[str, Any],
    operations: dict[str, Any],
    messages: dict[str, Any],
) -> None:
    name = f"cmd.{command.verb}"
    request = refs[(command.request, "validation")]
    _without(schemas[request["$ref"].removeprefix(SCHEMAS)], command.from_subject)
    messages[name] = {
        "name": name,
        "title": command.request.__name__,
        "summary": command.summary,
        "payload": request,
    }
    replies = []
    for reply in command.replies:
        replies.append(reply.__name__)
        messages[reply.__name__] = {
            "name": reply.__name__,
            "summary": _summary(reply),
            "payload": refs[(reply, "serialization")],
        }
    channels[name] = _channel(command_subject("{municipality}", command.verb), [name])
    reply_channel = f"{name}.reply"
    channels[reply_channel] = {
        **_channel(None, replies),
        "description": "The requester's inbox: the reply subject NATS gives the request",
    }
    operations[name] = {
        **_operation("receive", name, [name]),
        "summary": command.summary,
        "reply": {
            "channel": {"$ref": f"#/channels/{reply_channel}"},
            "messages": [{"$ref": f"#/channels/{reply_channel}/messages/{r}"} for r in replies],
        },
        "bindings": {"nats": {"queue": command.queue, "bindingVersion": NATS_BINDING_VERSION}},
    }


def _channel(address: str | None, message_names: list[str]) -> dict[str, Any]:
    channel: dict[str, Any] = {
        "address": address,
        "messages": {n: {"$ref": f"#/components/messages/{n}"} for n in message_names},
    }
    if address is not None:
        tokens = address.split(".")
        named = [t[1:-1] for t in tokens if t.startswith("{")]
        if named:
            channel["parameters"] = {p: {"$ref": f"#/components/parameters/{p}"} for p in named}
        stream = stream_of(address)
        if stream is not None:
            channel["x-stream"] = stream
    return channel


def _operation(action: str, channel: str, message_names: list[str]) -> dict[str, Any]:
    return {
        "action": action,
        "channel": {"$ref": f"#/channels/{channel}"},
        "messages": [{"$ref": f"#/channels/{channel}/messages/{n}"} for n in message_names],
    }


def stream_of(address: str) -> str | None:
    """The stream that stores a channel's messages, a `{parameter}` standing for any token."""
    tokens = ["*" if t.startswith("{") else t for t in address.split(".")]
    for config in STREAMS:
        if any(_covers(pattern.split("."), tokens) for pattern in config.subjects or ()):
            return config.name
    return None


def _covers(pattern: list[str], tokens: list[str]) -> bool:
    """NATS subject matching of a pattern over subjects with wildcards: `*` in `tokens` is
    covered only by `*` (or `>`), since it stands for every token."""
    for index, part in enumerate(pattern):
        if part == ">":
            return len(tokens) > index
        if index >= len(tokens) or (part != "*" and part != tokens[index]):
            return False
    return len(pattern) == len(tokens)


def _stream(config: Any) -> dict[str, Any]:
    return {
        "name": config.name,
        "description": config.description,
        "subjects": list(config.subjects or ()),
        "retention": config.retention.value,
        "storage": config.storage.value,
        "max_age_seconds": config.max_age or None,  # None: kept forever
        "duplicate_window_seconds": config.duplicate_window,
    }


def _without(schema: dict[str, Any], fields: tuple[str, ...]) -> None:
    for field in fields:
        schema.get("properties", {}).pop(field, None)
        if field in schema.get("required", []):
            schema["required"].remove(field)


def _summary(model: type) -> str:
    """The first paragraph of the model's own docstring (not one it inherits)."""
    doc = inspect.cleandoc(model.__dict__.get("__doc__") or "")
    return " ".join(doc.split("\n\n")[0].split()) or model.__name__
