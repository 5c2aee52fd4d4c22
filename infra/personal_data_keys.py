"""The citizens' keys: found or created from a phone number, looked up by pseudonym, deleted
to erase. Synchronous, for the booking application: in PostgreSQL through the event store's
own connection pool, or in memory beside the in-memory event store of unit tests.

A booking by a citizen this process has not seen does not ask first: `candidate` makes a new
key, and the booking's save inserts its row in the same transaction as the booking's events
(`NewKey`, `BookingRecorder.insert_events`). If the phone number turns out to have a key
already, the unique lookup refuses the insert, the save fails as a whole, and the booking is
decided again with `subject_for`, which finds the existing key. The database decides; the set
of lookups known to have a key (bounded) only keeps returning citizens off the guess.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.persistence import InterfaceError, OperationalError
from eventsourcing.postgres import PostgresDatastore
from eventsourcing.utils import retry

from infra.database import schema_sql
from infra.personal_data import MasterKey, Subject
from infra.transient import ConfigurationError

SCHEMA_LOCK = 7356001  # the lock `infra.database.apply_schema` takes for DDL
MASTER_KEY_ENV = "PERSONAL_DATA_KEY"
KNOWN_LOOKUPS_KEPT = 50_000  # about 6 MB; a lookup forgotten costs one refused guess
LOOKUP_CONSTRAINT = "personal_data_key_lookup_key"  # UNIQUE (lookup), as PostgreSQL names it


@dataclass(frozen=True)
class NewKey:
    """A new citizen's key row, inserted with the first booking that uses it."""

    subject_id: UUID
    municipality: str
    lookup: bytes
    wrapped_key: bytes
    last_appointment_at: datetime


@dataclass(frozen=True)
class DueErasure:
    subject_id: UUID
    municipality: str
    requested_by: str | None  # the staff account that asked; None: the retention is over


class PersonalDataKeys(Protocol):
    def subject_for(self, municipality: str, phone: str, appointment_at: datetime) -> Subject:
        """The citizen's pseudonym and key, created on first use (`Subject.new`); retention is
        counted from their latest appointment, so `appointment_at` moves it later, never
        earlier."""
        ...

    def candidate(
        self, municipality: str, phone: str, appointment_at: datetime
    ) -> tuple[Subject, NewKey] | None:
        """A new key for a citizen not known to have one, its row to be inserted with the
        booking (None: known, or no such insert here; ask `subject_for`)."""
        ...

    def known(self, lookup: bytes) -> None:
        """The citizen of this lookup (`NewKey.lookup`) has a key: their next booking asks
        `subject_for`."""
        ...

    def find(self, municipality: str, phone: str) -> UUID | None: ...

    def subject(self, subject_id: UUID) -> Subject | None:
        """None once the citizen is erased."""
        ...

    def extend(self, subject_id: UUID, appointment_at: datetime) -> None: ...

    def request_erasure(self, subject_id: UUID, by: str | None, at: datetime) -> None:
        """Marks the citizen to be erased at `by`'s request (None: unmarks), so the erasure is
        finished even if the process stops half-way."""
        ...

    def due(self, retained_until: datetime, limit: int = 100) -> list[DueErasure]:
        """Citizens marked for erasure, and those whose latest appointment is before
        `retained_until`."""
        ...

    def erase(self, subject_id: UUID, reason: str, at: datetime) -> None:
        """Deletes the key for good; erasing an erased citizen changes nothing."""
        ...

    def erased_at(self, subject_id: UUID) -> datetime | None: ...


def personal_data_keys(env: Any, recorder: object) -> PersonalDataKeys:
    """The key store beside the application's event store; `env` is the eventsourcing
    environment, where the booking settings put `PERSONAL_DATA_KEY`. Stored keys need it;
    keys held in memory die with the process, so they are wrapped with a random one."""
    given = env.get(MASTER_KEY_ENV)
    datastore = getattr(recorder, "datastore", None)
    if isinstance(datastore, PostgresDatastore):
        if not given:
            raise ConfigurationError("PERSONAL_DATA_KEY is not set")
        return PostgresKeys(datastore, MasterKey(given))
    return MemoryKeys(MasterKey(given or MasterKey.generate()))


class PostgresKeys:
    def __init__(self, datastore: PostgresDatastore, master: MasterKey) -> None:
        self.datastore = datastore
        self.master = master
        self._known: OrderedDict[bytes, None] = OrderedDict()
        self._known_lock = threading.Lock()
        with datastore.transaction(commit=True) as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
            cursor.execute(schema_sql("personal_data"))

    # A pooled connection the database has ended fails once and is replaced, as in the event
    # store; every statement here may run twice (upserts, and updates to a fixed value).
    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def _fetch(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        """One statement, its own transaction (the pool's connections autocommit): one round
        trip."""
        with self.datastore.get_connection() as connection:
            cursor = connection.execute(sql, args)
            return list(cursor.fetchall()) if cursor.description else []

    def subject_for(self, municipality: str, phone: str, appointment_at: datetime) -> Subject:
        # Not flushed to disk on its own commit (`synchronous_commit` off for this statement):
        # the booking that uses the key is saved after it, and flushing the booking's commit
        # flushes the write-ahead log up to it, this row included. A crash before that loses
        # the row only together with the booking it was for.
        candidate, wrapped = self.master.new_subject()
        lookup = self.master.lookup(municipality, phone)
        (row,) = self._fetch(
            "WITH unflushed AS (SELECT set_config('synchronous_commit', 'off', true)) "
            "INSERT INTO personal_data_key (subject_id, municipality, lookup, wrapped_key, "
            "last_appointment_at) SELECT %s, %s, %s, %s, %s FROM unflushed "
            "ON CONFLICT (lookup) DO UPDATE SET last_appointment_at = greatest("
            "personal_data_key.last_appointment_at, EXCLUDED.last_appointment_at) "
            "RETURNING subject_id, wrapped_key",
            candidate.id, municipality, lookup, wrapped, appointment_at,
        )  # fmt: skip
        self.known(lookup)
        if row["subject_id"] == candidate.id:
            return replace(candidate, new=True)
        return self.master.unwrap(row["subject_id"], row["wrapped_key"])

    def candidate(
        self, municipality: str, phone: str, appointment_at: datetime
    ) -> tuple[Subject, NewKey] | None:
        lookup = self.master.lookup(municipality, phone)
        with self._known_lock:
            if lookup in self._known:
                self._known.move_to_end(lookup)
                return None
        subject, wrapped = self.master.new_subject()
        row = NewKey(subject.id, municipality, lookup, wrapped, appointment_at)
        return replace(subject, new=True), row

    def known(self, lookup: bytes) -> None:
        with self._known_lock:
            self._known[lookup] = None
            self._known.move_to_end(lookup)
            if len(self._known) > KNOWN_LOOKUPS_KEPT:
                self._known.popitem(last=False)

    def find(self, municipality: str, phone: str) -> UUID | None:
        rows = self._fetch(
            "SELECT subject_id FROM personal_data_key WHERE lookup = %s",
            self.master.lookup(municipality, phone),
        )
        return rows[0]["subject_id"] if rows else None

    def subject(self, subject_id: UUID) -> Subject | None:
        rows = self._fetch(
            "SELECT wrapped_key FROM personal_data_key WHERE subject_id = %s", subject_id
        )
        return self.master.unwrap(subject_id, rows[0]["wrapped_key"]) if rows else None

    def extend(self, subject_id: UUID, appointment_at: datetime) -> None:
        self._fetch(
            "UPDATE personal_data_key SET last_appointment_at = greatest(last_appointment_at, "
            "%s) WHERE subject_id = %s",
            appointment_at, subject_id,
        )  # fmt: skip

    def request_erasure(self, subject_id: UUID, by: str | None, at: datetime) -> None:
        self._fetch(
            "UPDATE personal_data_key SET erase_requested_by = %s, erase_requested_at = "
            "CASE WHEN %s::text IS NULL THEN NULL ELSE %s::timestamptz END WHERE subject_id = %s",
            by, by, at, subject_id,
        )  # fmt: skip

    def due(self, retained_until: datetime, limit: int = 100) -> list[DueErasure]:
        rows = self._fetch(
            "SELECT subject_id, municipality, erase_requested_by AS requested_by "
            "FROM personal_data_key WHERE erase_requested_at IS NOT NULL "
            "OR last_appointment_at < %s ORDER BY last_appointment_at LIMIT %s",
            retained_until, limit,
        )  # fmt: skip
        return [DueErasure(**row) for row in rows]

    def erase(self, subject_id: UUID, reason: str, at: datetime) -> None:
        self._fetch(
            "WITH gone AS (DELETE FROM personal_data_key WHERE subject_id = %s "
            "RETURNING subject_id, municipality) "
            "INSERT INTO personal_data_erased (subject_id, municipality, reason, erased_at) "
            "SELECT subject_id, municipality, %s, %s FROM gone ON CONFLICT DO NOTHING",
            subject_id, reason, at,
        )  # fmt: skip

    def erased_at(self, subject_id: UUID) -> datetime | None:
        rows = self._fetch(
            "SELECT erased_at FROM personal_data_erased WHERE subject_id = %s", subject_id
        )
        return rows[0]["erased_at"] if rows else None


@dataclass
class _Row:
    subject: Subject
    municipality: str
    lookup: bytes
    last_appointment_at: datetime
    erase_requested_by: str | None = None


class MemoryKeys:
    """The same rules as `PostgresKeys`, for the in-memory event store."""

    def __init__(self, master: MasterKey) -> None:
        self.master = master
        self._rows: dict[UUID, _Row] = {}
        self._erased: dict[UUID, datetime] = {}
        self._lock = threading.Lock()

    def _by_lookup(self, lookup: bytes) -> _Row | None:
        return next((row for row in self._rows.values() if row.lookup == lookup), None)

    def subject_for(self, municipality: str, phone: str, appointment_at: datetime) -> Subject:
        lookup = self.master.lookup(municipality, phone)
        with self._lock:
            row = self._by_lookup(lookup)
            if row is None:
                subject, _ = self.master.new_subject()
                row = self._rows[subject.id] = _Row(subject, municipality, lookup, appointment_at)
                return replace(subject, new=True)
            row.last_appointment_at = max(row.last_appointment_at, appointment_at)
            return row.subject

    def candidate(
        self, municipality: str, phone: str, appointment_at: datetime
    ) -> tuple[Subject, NewKey] | None:
        return None  # the in-memory event store inserts no key rows

    def known(self, lookup: bytes) -> None:
        pass

    def find(self, municipality: str, phone: str) -> UUID | None:
        with self._lock:
            row = self._by_lookup(self.master.lookup(municipality, phone))
            return None if row is None else row.subject.id

    def subject(self, subject_id: UUID) -> Subject | None:
        row = self._rows.get(subject_id)
        return None if row is None else row.subject

    def extend(self, subject_id: UUID, appointment_at: datetime) -> None:
        with self._lock:
            if (row := self._rows.get(subject_id)) is not None:
                row.last_appointment_at = max(row.last_appointment_at, appointment_at)

    def request_erasure(self, subject_id: UUID, by: str | None, at: datetime) -> None:
        with self._lock:
            if (row := self._rows.get(subject_id)) is not None:
                row.erase_requested_by = by

    def due(self, retained_until: datetime, limit: int = 100) -> list[DueErasure]:
        with self._lock:
            rows = sorted(self._rows.values(), key=lambda row: row.last_appointment_at)
        return [
            DueErasure(row.subject.id, row.municipality, row.erase_requested_by)
            for row in rows
            if row.erase_requested_by is not None or row.last_appointment_at < retained_until
        ][:limit]

    def erase(self, subject_id: UUID, reason: str, at: datetime) -> None:
        with self._lock:
            if self._rows.pop(subject_id, None) is not None:
                self._erased.setdefault(subject_id, at)

    def erased_at(self, subject_id: UUID) -> datetime | None:
        return self._erased.get(subject_id)
