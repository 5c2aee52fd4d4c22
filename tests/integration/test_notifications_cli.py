"""`borgerservice sms outbox`: the local SMS outbox printed for staff, per municipality."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import asyncpg
import pytest
from typer.testing import CliRunner

from services.notifications.entrypoints.cli import sms_app


def march_3_at(hour: int) -> datetime:
    return datetime(2025, 3, 3, hour, tzinfo=UTC)


@pytest.fixture
async def outbox_url(pool: asyncpg.Pool, database_url: str) -> str:
    await pool.executemany(
        "INSERT INTO sms_outbox (idempotency_key, municipality, phone, body, sent_at) "
        "VALUES ($1, $2, $3, $4, $5)",
        [
            ("a:confirmation:1", "slagelse", "+4520000001", "Hej Mette.", march_3_at(8)),
            ("b:confirmation:1", "herning", "+4520000002", "Hej Jens.", march_3_at(9)),
        ],
    )
    return database_url


def test_outbox_prints_every_message_oldest_first(
    outbox_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", outbox_url)

    result = CliRunner().invoke(sms_app, ["outbox"])

    assert result.exit_code == 0, result.output
    assert "2025-03-03 09:00:00  slagelse  +4520000001" in result.output  # Danish time
    assert result.output.index("Hej Mette") < result.output.index("Hej Jens")


def test_outbox_as_json_for_one_municipality(
    outbox_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", outbox_url)

    result = CliRunner().invoke(sms_app, ["outbox", "--municipality", "herning", "--json"])

    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == [
        {
            "idempotency_key": "b:confirmation:1",
            "municipality": "herning",
            "phone": "+4520000002",
            "body": "Hej Jens.",
            "sent_at": "2025-03-03T09:00:00+00:00",
        }
    ]
