"""Writes the JSON Schema of every event envelope: the published wire contract."""

from __future__ import annotations

import json
from pathlib import Path

from events.envelope import Envelope
from events.registry import EVENT_TYPES


def json_schemas() -> dict[str, dict[str, object]]:
    return {
        event_type: Envelope[model].model_json_schema()  # type: ignore[valid-type]
        for event_type, model in sorted(EVENT_TYPES.items())
    }


def write_json_schemas(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for event_type, schema in json_schemas().items():
        path = directory / f"{event_type}.v{EVENT_TYPES[event_type].VERSION}.schema.json"
        path.write_text(json.dumps(schema, indent=2, ensure_ascii=False) + "\n")
        written.append(path)
    return written
