"""The confirmation SMS a citizen gets on booking: its Danish text and its idempotency key."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest

from events import Envelope
from events.booking import BookingBooked, Channel
from services.notifications.domain.danish import danish_list, danish_when
from services.notifications.domain.messages import MessageKind, confirmation, message_key
from tests.unit.notifications.support import links

BOOKING_ID = uuid.UUID("0b7c2f4e-0000-4000-8000-000000000001")


def booked(
    starts_at: datetime,
    documents: list[str] | None = None,
    version: int = 1,
) -> Envelope[BookingBooked]:
    return Envelope[BookingBooked](
        event_id=uuid.uuid4(),
        type=BookingBooked.TYPE,
        schema_version=BookingBooked.VERSION,
        municipality="slagelse",
        site="skaelskoer",
        aggregate_id=BOOKING_ID,
        aggregate_version=version,
        occurred_at=datetime(2025, 2, 20, 10, 0, tzinfo=UTC),
        data=BookingBooked(
            service="pas",
            service_name="Pas",
            site_name="Borgerservice Skælskør",
            documents=["gammelt pas", "pasfoto"] if documents is None else documents,
            starts_at=starts_at,
            ends_at=starts_at + timedelta(minutes=15),
            citizen_name="Mette Hansen",
            phone="+4520123456",
            channel=Channel.web,
            booked_at=datetime(2025, 2, 20, 10, 0, tzinfo=UTC),
            acute_reason=None,
        ),
    )


def test_confirmation_says_when_where_what_and_what_to_bring_in_danish() -> None:
    starts_at = datetime(2025, 3, 3, 8, 30, tzinfo=UTC)
    sms = confirmation(booked(starts_at), links("https://book.example.dk/"))
    token = links().tokens.issue(BOOKING_ID, appointment_at=starts_at)

    assert sms.body == (
        "Hej Mette Hansen. Din tid til Pas hos Borgerservice Skælskør er bekræftet: "
        "mandag den 3. marts 2025 kl. 09.30. Husk at medbringe: gammelt pas og pasfoto. "
        f"Se eller ændr din tid: https://book.example.dk/manage/{BOOKING_ID}?token={token}"
    )
    assert sms.phone == "+4520123456"
    assert sms.municipality == "slagelse"
    assert sms.booking_id == BOOKING_ID
    assert sms.kind is MessageKind.confirmation


def test_confirmation_without_documents_asks_for_nothing() -> None:
    sms = confirmation(booked(datetime(2025, 3, 3, 8, 30, tzinfo=UTC), documents=[]), links())

    assert "medbringe" not in sms.body
    assert "kl. 09.30. Se eller ændr din tid" in sms.body


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        # winter: UTC+1
        (datetime(2025, 1, 6, 7, 0, tzinfo=UTC), "mandag den 6. januar 2025 kl. 08.00"),
        # summer: UTC+2
        (datetime(2025, 6, 13, 7, 0, tzinfo=UTC), "fredag den 13. juni 2025 kl. 09.00"),
        # late evening UTC is already the next day in Denmark
        (datetime(2025, 12, 31, 23, 30, tzinfo=UTC), "torsdag den 1. januar 2026 kl. 00.30"),
        # an offset other than UTC
        (
            datetime(2025, 10, 26, 12, 5, tzinfo=timezone(timedelta(hours=-5))),
            "søndag den 26. oktober 2025 kl. 18.05",
        ),
    ],
)
def test_times_are_written_in_danish_local_time(moment: datetime, expected: str) -> None:
    assert danish_when(moment) == expected


def test_a_naive_time_is_refused() -> None:
    with pytest.raises(ValueError):
        danish_when(datetime(2025, 1, 6, 8, 0))


@pytest.mark.parametrize(
    ("items", "expected"),
    [([], ""), (["pas"], "pas"), (["pas", "foto"], "pas og foto"), (["a", "b", "c"], "a, b og c")],
)
def test_documents_are_listed_the_danish_way(items: list[str], expected: str) -> None:
    assert danish_list(items) == expected


def test_idempotency_key_is_booking_kind_and_version() -> None:
    assert message_key(BOOKING_ID, MessageKind.confirmation, 1) == f"{BOOKING_ID}:confirmation:1"


def test_the_same_booking_version_always_gets_the_same_key() -> None:
    starts = datetime(2025, 3, 3, 8, 30, tzinfo=UTC)
    first, again = (
        confirmation(booked(starts), links()),
        confirmation(booked(starts), links()),
    )

    assert first.idempotency_key == again.idempotency_key == f"{BOOKING_ID}:confirmation:1"


def test_another_booking_version_gets_another_key() -> None:
    starts = datetime(2025, 3, 3, 8, 30, tzinfo=UTC)

    assert (
        confirmation(booked(starts, version=1), links()).idempotency_key
        != confirmation(booked(starts, version=2), links()).idempotency_key
    )
