"""Personal data sealed with a key per citizen, and erased by deleting that key (issue 6).

A citizen is a phone number in one municipality. When they first book they get a random
subject id (their pseudonym in events) and their own AES-256-GCM key, kept in the table
`personal_data_key` wrapped by the master key (`PERSONAL_DATA_KEY`). Their name, phone number
and the free texts written about them are stored and published only sealed with that key
(`events.personal.Sealed`).

Erasing the citizen deletes the row. From then on whatever was sealed for them, in the event
store, on the stream or in a backup, cannot be read by anyone, and their phone number no
longer leads to the pseudonym: the lookup is an HMAC under the master key, deleted with the row.
Services that cached plaintext forget it on `citizen.erased`. Nothing else changes, so the
statistics built from the events stay the same.

The key rows themselves are in `infra/personal_data_keys.py`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from uuid import UUID, uuid4

import asyncpg
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from events.personal import Sealed
from infra.transient import ConfigurationError

# Public (it was the default once), so it protects nothing: refused by `serve` and `up`; kept
# for sealing throw-away data in tests and benchmarks.
DEMO_PERSONAL_DATA_KEY = "Ym9yZ2Vyc2VydmljZSBkZW1vIGtleTogcHVibGljISE="
NONCE_BYTES = 12

PersonalFields = Mapping[str, str | None]


class UnreadableKey(RuntimeError):
    """A wrapped key the master key cannot open: `PERSONAL_DATA_KEY` is not the one it was
    wrapped with, or the row was tampered with."""


@dataclass(frozen=True)
class Subject:
    """One citizen's pseudonym and key: what seals and opens their personal fields."""

    id: UUID
    key: bytes = field(repr=False)
    # Created by the call that returned it: nothing stored can name this pseudonym yet.
    new: bool = field(default=False, compare=False)

    def seal(self, fields: PersonalFields) -> Sealed:
        plaintext = json.dumps(dict(fields), sort_keys=True, ensure_ascii=False).encode()
        nonce = os.urandom(NONCE_BYTES)
        ciphertext = AESGCM(self.key).encrypt(nonce, plaintext, self.id.bytes)
        encoded = base64.urlsafe_b64encode(nonce + ciphertext).decode().rstrip("=")
        return Sealed(subject_id=self.id, ciphertext=encoded)

    def open(self, sealed: Sealed) -> dict[str, str | None]:
        """The fields `seal` was given; raises ValueError for another subject's ciphertext."""
        if sealed.subject_id != self.id:
            raise ValueError(f"sealed for {sealed.subject_id}, not for {self.id}")
        raw = base64.urlsafe_b64decode(sealed.ciphertext + "=" * (-len(sealed.ciphertext) % 4))
        try:
            plaintext = AESGCM(self.key).decrypt(
                raw[:NONCE_BYTES], raw[NONCE_BYTES:], self.id.bytes
            )
        except InvalidTag as error:
            raise ValueError(f"the ciphertext sealed for {self.id} is damaged") from error
        opened: dict[str, str | None] = json.loads(plaintext)
        return opened


class MasterKey:
    """Wraps the citizens' keys and keys the phone-number lookup. Two keys are derived from
    the one secret, so neither use can stand in for the other."""

    def __init__(self, encoded: str) -> None:
        try:
            secret = base64.b64decode(encoded, validate=True)
        except ValueError as error:
            raise ValueError("PERSONAL_DATA_KEY is not base64") from error
        if len(secret) != 32:
            raise ValueError("PERSONAL_DATA_KEY must be 32 random bytes, base64-encoded")
        self._wrapping = AESGCM(_derive(secret, b"borgerservice:personal-data:wrap"))
        self._lookup = _derive(secret, b"borgerservice:personal-data:lookup")

    @staticmethod
    def generate() -> str:
        """A new master key, as `PERSONAL_DATA_KEY` takes it."""
        return base64.b64encode(os.urandom(32)).decode()

    def new_subject(self) -> tuple[Subject, bytes]:
        """A new citizen's pseudonym and key, and the key wrapped for storing."""
        subject = Subject(uuid4(), AESGCM.generate_key(bit_length=256))
        nonce = os.urandom(NONCE_BYTES)
        wrapped = nonce + self._wrapping.encrypt(nonce, subject.key, subject.id.bytes)
        return subject, wrapped

    def unwrap(self, subject_id: UUID, wrapped: bytes) -> Subject:
        try:
            key = self._wrapping.decrypt(
                wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], subject_id.bytes
            )
        except InvalidTag:
            raise UnreadableKey(
                f"the key of {subject_id} does not open with this PERSONAL_DATA_KEY"
            ) from None
        return Subject(subject_id, key)

    def lookup(self, municipality: str, phone: str) -> bytes:
        """What finds a citizen's row from their phone number; useless without the master key
        (a plain hash of a phone number is found by trying them all)."""
        message = f"{municipality}\x00{phone}".encode()
        return hmac.new(self._lookup, message, hashlib.sha256).digest()


def _derive(secret: bytes, purpose: bytes) -> bytes:
    return hmac.new(secret, purpose, hashlib.sha256).digest()


class PersonalDataSettings(BaseSettings):
    """What every service that seals or opens personal data reads: the master key."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", hide_input_in_errors=True)

    personal_data_key: SecretStr | None = Field(
        default=None,
        description="32 random bytes, base64; wraps every citizen's key. No default: "
        "`borgerservice secret PERSONAL_DATA_KEY` makes one",
    )

    @field_validator("personal_data_key")
    @classmethod
    def _is_a_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            MasterKey(value.get_secret_value())  # refused at start, not at the first booking
        return value

    def personal_data_master_key(self) -> MasterKey:
        if self.personal_data_key is None:
            raise ConfigurationError("PERSONAL_DATA_KEY is not set")
        return MasterKey(self.personal_data_key.get_secret_value())


async def open_sealed(
    connection: asyncpg.Connection, master: MasterKey, sealed: Sealed
) -> dict[str, str | None] | None:
    """The plaintext fields of `sealed`, or None when its citizen is erased (for a consumer
    reading the key table with asyncpg; the booking service has `PersonalDataKeys`)."""
    wrapped = await connection.fetchval(
        "SELECT wrapped_key FROM personal_data_key WHERE subject_id = $1", sealed.subject_id
    )
    if wrapped is None:
        return None
    return master.unwrap(sealed.subject_id, wrapped).open(sealed)
