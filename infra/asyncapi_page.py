"""The AsyncAPI document as a page a person reads: plain HTML rendered on the server, no script
and no inline style (the pages' Content-Security-Policy allows only 'self')."""

from __future__ import annotations

from html import escape
from typing import Any

from infra.asyncapi import SCHEMAS


def asyncapi_html(document: dict[str, Any]) -> str:
    info = document["info"]
    schemas = document["components"]["schemas"]
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{escape(info['title'])}: AsyncAPI</title></head><body>",
        f"<h1>{escape(info['title'])}</h1>",
        f"<p>{escape(info['description'])}</p>",
        '<p>The machine-readable document: <a href="asyncapi.json">asyncapi.json</a> '
        f"(AsyncAPI {escape(document['asyncapi'])}).</p>",
        "<h2>Streams</h2>",
        _table(
            ["Stream", "Subjects", "Kept", "What it holds"],
            [
                [s["name"], ", ".join(s["subjects"]), _kept(s), s["description"]]
                for s in document["x-streams"]
            ],
        ),
        "<h2>Operations</h2>",
    ]
    for operation_id, operation in document["operations"].items():
        channel = _resolve(document, operation["channel"])
        parts.append(f'<section id="{escape(operation_id)}">')
        parts.append(f"<h3><code>{escape(channel['address'])}</code> ({operation['action']})</h3>")
        if "x-stream" in channel:
            parts.append(f"<p>Stored on {escape(channel['x-stream'])}.</p>")
        for reference in operation["messages"]:
            parts.append(_message(_resolve(document, reference), schemas))
        replies = operation.get("reply", {}).get("messages", [])
        if replies:
            parts.append("<p>The reply, to the request's inbox, is one of:</p>")
        parts.extend(_message(_resolve(document, reference), schemas) for reference in replies)
        parts.append("</section>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _message(message: dict[str, Any], schemas: dict[str, Any]) -> str:
    title = message.get("title", message["name"])
    version = message.get("x-schema-version")
    heading = f"<h4>{escape(title)}</h4><p>{escape(message.get('summary', ''))}"
    if version is not None:
        older = ", ".join(map(str, message.get("x-upcast-from", []))) or "none"
        heading += f" Schema version {version}; older versions upcast: {older}."
    schema = _payload_schema(message["payload"], schemas)
    if schema is None:
        return heading + " Its payload: any bytes.</p>"
    return heading + "</p>" + _fields(schema, schemas)


def _payload_schema(payload: dict[str, Any], schemas: dict[str, Any]) -> dict[str, Any] | None:
    """The schema whose fields a reader wants: an event's `data`, or a command's body."""
    reference = payload.get("$ref") or next(
        (part["$ref"] for part in payload.get("allOf", []) if "$ref" in part), None
    )
    if reference is None:
        return None
    schema: dict[str, Any] = schemas[reference.removeprefix(SCHEMAS)]
    data = schema.get("properties", {}).get("data", {})
    if "$ref" in data and schema.get("title", "").startswith("Envelope"):
        return dict(schemas[data["$ref"].removeprefix(SCHEMAS)])
    return schema


def _fields(schema: dict[str, Any], schemas: dict[str, Any]) -> str:
    required = set(schema.get("required", []))
    rows = [
        [name, _type(field), "yes" if name in required else "", field.get("description", "")]
        for name, field in schema.get("properties", {}).items()
    ]
    return _table(["Field", "Type", "Required", "Meaning"], rows) if rows else "<p>No fields.</p>"


def _type(schema: dict[str, Any]) -> str:
    if "$ref" in schema:
        return str(schema["$ref"]).removeprefix(SCHEMAS)
    if "anyOf" in schema:
        return " | ".join(_type(part) for part in schema["anyOf"])
    if "enum" in schema:
        return " | ".join(map(repr, schema["enum"]))
    if "const" in schema:
        return repr(schema["const"])
    if schema.get("type") == "array":
        return f"{_type(schema.get('items', {}))}[]"
    kind = str(schema.get("type", "any"))
    return f"{kind} ({schema['format']})" if "format" in schema else kind


def _kept(stream: dict[str, Any]) -> str:
    age = stream["max_age_seconds"]
    return "forever" if age is None else f"{age / 86400:g} days"


def _table(headings: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headings)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(str(cell))}</td>" for cell in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _resolve(document: dict[str, Any], reference: dict[str, Any]) -> dict[str, Any]:
    """What a reference points at, following references to references."""
    found: Any = reference
    while "$ref" in found:
        found = document
        for part in reference["$ref"].removeprefix("#/").split("/"):
            found = found[part.replace("~1", "/").replace("~0", "~")]
        reference = found
    return dict(found)
