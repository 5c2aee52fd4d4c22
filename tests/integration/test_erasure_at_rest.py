"""Optional encryption of the whole event store at rest (EVENT_STORE_CIPHER_KEY): every
stored event's state is AES-GCM ciphertext; the application reads it back as before."""

from __future__ import annotations

import asyncio
from uuid import UUID

import asyncpg
import pytest
from eventsourcing.cryptography import AESCipher

from services.booking.application import BookingApplication
from services.booking.commands import BookTime
from services.booking.settings import BookingSettings
from tests.booking_world import FIRST_TIME, MUNICIPALITY, SITE, seed_world

# What any stored event of this world would show in plaintext.
PLAIN = (b"slagelse", b"korsoer", b"Kors", b"pas", b"Caspar Brands", b"2030-03-04")


def book_once(settings: BookingSettings) -> str:
    app = BookingApplication(settings.eventsourcing_env())
    try:
        seed_world(app)
        command = BookTime(
            municipality=MUNICIPALITY, site=SITE, service="pas", starts_at=FIRST_TIME,
            citizen_name="Karen Jensen", phone="+4520304050",
        )  # fmt: skip
        return str(app.book(command).id)
    finally:
        app.close()


def read_back(settings: BookingSettings, booking_id: str) -> str:
    app = BookingApplication(settings.eventsourcing_env())
    try:
        booking = app.get_booking(UUID(booking_id))
        details = app.details_of(booking)
        assert details is not None
        return details.citizen_name
    finally:
        app.close()


async def test_the_stored_state_of_every_event_is_ciphertext(database_url: str) -> None:
    settings = BookingSettings(
        database_url=database_url,
        event_store_cipher_key=AESCipher.create_key(32),  # type: ignore[arg-type]
    )
    booking_id = await asyncio.to_thread(book_once, settings)
    connection = await asyncpg.connect(database_url)
    try:
        states = [
            row["state"] for row in await connection.fetch("SELECT state FROM booking_events")
        ]
    finally:
        await connection.close()
    assert len(states) >= 4  # municipality, day, booking, citizen
    assert not [state for state in states if any(plain in state for plain in PLAIN)]
    assert await asyncio.to_thread(read_back, settings, booking_id) == "Karen Jensen"
    without = settings.model_copy(update={"event_store_cipher_key": None})
    with pytest.raises(ValueError):
        await asyncio.to_thread(read_back, without, booking_id)
