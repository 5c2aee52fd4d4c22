"""Personal data on the wire: sealed with the citizen's own key, never in plaintext.

A citizen's name, phone number and the free texts written about them travel only as `Sealed`:
AES-GCM ciphertext under a key that belongs to that citizen alone (infra/personal_data.py).
Erasing the citizen deletes the key; every copy of the ciphertext, on the stream and in the
event store, is unreadable from then on, while the rest of the event stays as it was."""

from __future__ import annotations

from uuid import UUID

from pydantic import Field

from events.envelope import WireModel

E164 = r"^\+[1-9]\d{6,14}$"


class Sealed(WireModel):
    """Fields about one citizen, encrypted with the key of `subject_id`."""

    subject_id: UUID = Field(
        description="The citizen's pseudonym: random, the same for all their bookings in one "
        "municipality, and meaningless once they are erased"
    )
    ciphertext: str = Field(
        pattern=r"^[A-Za-z0-9_-]+$",
        description="base64url of nonce and AES-GCM ciphertext of the fields as a JSON object",
    )
