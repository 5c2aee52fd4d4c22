"""The booking service's one configuration object."""

from __future__ import annotations

from pydantic import Field, SecretStr

from infra.manage_token import ManageTokenSettings
from infra.personal_data import PersonalDataSettings
from infra.settings import ConnectionSettings
from infra.staff_tokens import StaffTokenSettings


class BookingSettings(
    ConnectionSettings, PersonalDataSettings, ManageTokenSettings, StaffTokenSettings
):
    """Secrets (MANAGE_TOKEN_SECRET, PERSONAL_DATA_KEY, STAFF_TOKENS) have no default;
    `borgerservice serve booking` refuses to start without them (infra/secrets.py)."""

    http_host: str = "127.0.0.1"
    http_port: int = 8000
    # the availability reads and four workers share it: more than the other services'
    database_pool_size: int = Field(default=6, ge=2)
    relay_batch: int = 200
    availability_horizon_days: int = 60
    aggregate_cache_size: int = 10_000
    hold_minutes: int = Field(default=5, gt=0, description="A citizen's hold on a chosen time")
    waitlist_offer_minutes: int = Field(
        default=120, gt=0, description="How long an earlier time is held for a waiting citizen"
    )
    # Personal data (infra/personal_data.py; the master key is PERSONAL_DATA_KEY): a citizen
    # is erased this many days after their latest appointment; 0 turns automatic erasure off.
    erase_after_days: int = Field(default=90, ge=0)
    erasure_interval_seconds: float = Field(default=60.0, gt=0)
    # Encrypts every stored event's state at rest (AES-GCM, the library's own cipher): 16, 24
    # or 32 random bytes, base64. Only for a new event store: events stored without it cannot
    # be read with it, and the reverse.
    event_store_cipher_key: SecretStr | None = None

    def eventsourcing_env(self) -> dict[str, str]:
        """Hot aggregates (today's site days) are served from memory and fast-forwarded from
        the store, instead of being rebuilt from all their events on every command. No ping
        before each use of a pooled connection: the library retries a statement that failed
        on a dead connection on a fresh one."""
        return {
            **super().eventsourcing_env(),
            "AGGREGATE_CACHE_MAXSIZE": str(self.aggregate_cache_size),
            "AGGREGATE_CACHE_FASTFORWARD": "y",
            "POSTGRES_PRE_PING": "n",
            **self._personal_data_env(),
            **self._cipher_env(),
        }

    def _personal_data_env(self) -> dict[str, str]:
        if self.personal_data_key is None:
            return {}  # the stored citizens' keys refuse to open without it
        return {"PERSONAL_DATA_KEY": self.personal_data_key.get_secret_value()}

    def _cipher_env(self) -> dict[str, str]:
        if self.event_store_cipher_key is None:
            return {}
        return {
            "CIPHER_TOPIC": "eventsourcing.cryptography:AESCipher",
            "CIPHER_KEY": self.event_store_cipher_key.get_secret_value(),
        }
