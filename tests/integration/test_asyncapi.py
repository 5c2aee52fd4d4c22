"""The bus's AsyncAPI 3 document: valid by the official schema, complete (every event type with
its schema and version, every command the booking service answers), true to what really
travels on a real nats-server, and served over real HTTP as it is generated.

tests/data/asyncapi-3.0.0.schema.json is the official JSON Schema of AsyncAPI 3.0.0, unchanged:
`schemas/3.0.0-without-$id.json` of github.com/asyncapi/spec-json-schemas at commit
7dd3990d9fff9df76e81c8d2ab544e0000f29aff (Apache License 2.0)."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import jsonschema_rs
import pytest
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from events.envelope import Envelope, subject_for
from events.registry import EVENT_TYPES
from infra.asyncapi import SCHEMAS
from infra.http import build_api, http_server
from infra.streams import EVENTS_STREAM, command_subject
from services.booking.entrypoints.asyncapi_http import bus_asyncapi, write_asyncapi
from services.booking.entrypoints.nats_commands import COMMANDS
from services.booking.service import ERROR_STATUSES, BookingService
from tests.booking_world import MUNICIPALITY, booking_body, seed_world
from tests.support import eventually

ASYNCAPI_SCHEMA = Path(__file__).parents[1] / "data" / "asyncapi-3.0.0.schema.json"


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return bus_asyncapi()


def resolve(document: dict[str, Any], reference: str) -> Any:
    found: Any = document
    for part in reference.removeprefix("#/").split("/"):
        found = found[part.replace("~1", "/").replace("~0", "~")]
    return found


def references(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [r for value in node.values() for r in references(value)]
    if isinstance(node, list):
        return [r for value in node for r in references(value)]
    return []


def payload_validator(document: dict[str, Any], message: str) -> Any:
    """A validator of the payload `message` documents, its references within the document."""
    payload = document["components"]["messages"][message]["payload"]
    schema = {"allOf": [payload], "components": {"schemas": document["components"]["schemas"]}}
    return jsonschema_rs.validator_for(schema)


def test_the_document_is_valid_asyncapi_3(document: dict[str, Any]) -> None:
    validator = jsonschema_rs.Draft7Validator(json.loads(ASYNCAPI_SCHEMA.read_text()))
    problems = [
        f"{list(e.instance_path)}: {e.message[:200]}" for e in validator.iter_errors(document)
    ]
    assert problems == []
    # What the schema cannot say and the spec does: references resolve, an operation's messages
    # are its channel's, and every parameter of an address is declared.
    for reference in references(document):
        assert reference.startswith("#/") and resolve(document, reference) is not None, reference
    for operation_id, operation in document["operations"].items():
        channel = operation["channel"]["$ref"]
        for message in operation["messages"]:
            assert message["$ref"].startswith(f"{channel}/messages/"), operation_id
        reply = operation.get("reply")
        for message in reply["messages"] if reply else []:
            assert message["$ref"].startswith(f"{reply['channel']['$ref']}/messages/")
    for name, channel in document["channels"].items():
        named = [t[1:-1] for t in (channel["address"] or "").split(".") if t.startswith("{")]
        assert sorted(channel.get("parameters", {})) == sorted(named), name


def test_every_event_type_is_documented_with_its_schema_and_version(
    document: dict[str, Any],
) -> None:
    messages, schemas = document["components"]["messages"], document["components"]["schemas"]
    for event_type, model in EVENT_TYPES.items():
        message = messages[event_type]
        assert message["x-schema-version"] == model.VERSION, event_type
        channel = document["channels"][event_type]
        assert channel["address"] == subject_for("{municipality}", event_type)
        assert document["operations"][f"{event_type}.publish"]["action"] == "send"
        envelope = schemas[message["payload"]["allOf"][0]["$ref"].removeprefix(SCHEMAS)]
        own = Envelope[model].model_json_schema(ref_template=SCHEMAS + "{model}")  # type: ignore[valid-type]
        own.pop("$defs", None)
        assert envelope == own, event_type
        data = schemas[envelope["properties"]["data"]["$ref"].removeprefix(SCHEMAS)]
        assert data == {
            k: v
            for k, v in model.model_json_schema(ref_template=SCHEMAS + "{model}").items()
            if k != "$defs"
        }


def test_events_are_kept_on_their_stream_and_commands_on_none(document: dict[str, Any]) -> None:
    streams = {stream["name"] for stream in document["x-streams"]}
    for event_type in EVENT_TYPES:
        assert document["channels"][event_type]["x-stream"] in streams, event_type
    for command in COMMANDS:
        assert "x-stream" not in document["channels"][f"cmd.{command.verb}"]


async def test_every_command_the_service_answers_is_documented(
    document: dict[str, Any], booking_service: BookingService
) -> None:
    answered = {(s.subject.broker_address, s.queue) for s in booking_service.broker.subscribers}
    documented = {
        (
            resolve(document, operation["channel"]["$ref"])["address"].replace(
                "{municipality}", "*"
            ),
            operation["bindings"]["nats"]["queue"],
        )
        for operation in document["operations"].values()
        if operation["action"] == "receive"
    }
    assert answered == documented
    for operation in document["operations"].values():
        if operation["action"] == "receive":
            assert {m["$ref"].rsplit("/", 1)[1] for m in operation["reply"]["messages"]} == {
                "CommandDone",
                "CommandRefused",
            }


async def test_what_travels_on_the_bus_is_what_the_document_says(
    document: dict[str, Any], running_booking: BookingService, nc: NatsClient, js: JetStreamContext
) -> None:
    await asyncio.to_thread(seed_world, running_booking.app)
    subject = command_subject(MUNICIPALITY, "book")
    booked = json.loads((await nc.request(subject, json.dumps(booking_body()).encode())).data)
    assert payload_validator(document, "CommandDone").is_valid(booked), booked
    refused = json.loads((await nc.request(subject, b'{"site": "korsoer"}')).data)
    assert payload_validator(document, "CommandRefused").is_valid(refused), refused
    assert not payload_validator(document, "CommandDone").is_valid(refused)
    cancel = {"booking_id": booked["booking"]["booking_id"]}
    assert payload_validator(document, "cmd.cancel").is_valid(cancel)
    await nc.request(command_subject(MUNICIPALITY, "cancel"), json.dumps(cancel).encode())

    async def relayed() -> bool:
        try:
            await js.get_last_msg(EVENTS_STREAM, f"bs.{MUNICIPALITY}.booking.cancelled")
        except NotFoundError:
            return False
        return True

    await eventually(relayed)
    info = await js.stream_info(EVENTS_STREAM)
    seen = set()
    for sequence in range(info.state.first_seq, info.state.last_seq + 1):
        message = await js.get_msg(EVENTS_STREAM, sequence)
        event_type = json.loads(message.data)["type"]
        seen.add(event_type)
        assert message.subject.endswith(f".{event_type}")
        assert document["channels"][event_type]["x-stream"] == EVENTS_STREAM
        errors = [
            e.message[:200]
            for e in payload_validator(document, event_type).iter_errors(json.loads(message.data))
        ]
        assert errors == [], event_type
    assert {"booking.booked", "booking.cancelled", "schedule.seat_taken"} <= seen


@pytest.fixture
async def booking_url(booking_service: BookingService) -> AsyncIterator[str]:
    """The booking API served by uvicorn on a free port, as the `serve` command serves it."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    api = build_api("booking", [booking_service.router()], ERROR_STATUSES)
    server = http_server(api, "127.0.0.1", port)
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn has no started event
        await asyncio.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await asyncio.wait_for(task, timeout=10)


async def test_the_served_document_is_the_generated_one(
    document: dict[str, Any], booking_url: str, tmp_path: Path
) -> None:
    async with httpx.AsyncClient(base_url=booking_url) as client:
        served = await client.get("/asyncapi.json")
        page = await client.get("/asyncapi")
    assert served.status_code == 200
    assert served.headers["content-type"] == "application/json"
    assert served.json() == document
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "<script" not in page.text and "<style" not in page.text and " style=" not in page.text
    for event_type in EVENT_TYPES:
        assert f"bs.{{municipality}}.{event_type}</code>" in page.text, event_type
    for command in COMMANDS:
        assert f"{command_subject('{municipality}', command.verb)}</code>" in page.text
    written = write_asyncapi(tmp_path / "asyncapi.json")
    assert json.loads(written.read_text()) == document


def test_the_asyncapi_command_writes_the_served_document(
    tmp_path: Path, document: dict[str, Any]
) -> None:
    from typer.testing import CliRunner

    from borgerservice.cli import app

    out = tmp_path / "docs" / "asyncapi.json"
    result = CliRunner().invoke(app, ["asyncapi", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text()) == document
