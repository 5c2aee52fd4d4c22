"""The booking service's PostgreSQL event store: the library's recorder, with every statement
composed once instead of on every call, and events inserted in one round trip.

The library builds its statements with `psycopg.sql` (`SQL(...).format(...)`, `+=`), which
psycopg renders again on each execution: a fifth of a booking command's time. Here each is
rendered once, per shape of query, to a plain statement whose parsing psycopg caches. The
statements themselves, their parameters and their results are the library's.

The library inserts events in a pipelined transaction: two round trips (the statements, then
the commit), each a wait for the writing thread to get the GIL back from the command threads,
and the group commit (`application/group_commit.py`) queues behind that thread. Here one
prepared call of a function does the same in the statement's own transaction: the table locked
(so notification ids commit in order), listeners notified, the events inserted, their ids
returned in order.

A booking by a new citizen also inserts the citizen's key row (`infra.personal_data_keys.NewKey`)
in that call, before the events: the key exists exactly when the booking sealed with it does,
and a phone number that already has a key fails the whole save (`is_known_citizen`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, LiteralString, cast
from uuid import UUID

from eventsourcing.persistence import Notification, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Composable, Composed, Identifier, Literal

from infra.leadership import SCHEMA_LOCK
from infra.personal_data_keys import LOOKUP_CONSTRAINT, NewKey
from infra.transient import retry_dead_connections

NEW_KEYS = "new_keys"  # the save's keyword for the citizens' key rows it inserts


class BookingRecorder(PostgresApplicationRecorder):
    def __init__(
        self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events"
    ) -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        self._table = SQL("{0}.{1}").format(
            Identifier(datastore.schema), Identifier(events_table_name)
        )
        self.max_notification_id_statement = self._composed(self.max_notification_id_statement)
        self._statements: dict[tuple[Any, ...], Composed] = {}
        function = SQL("{0}.{1}").format(
            Identifier(datastore.schema), Identifier(f"bs_insert_{events_table_name}")
        )
        self._create_insert_function = SQL(
            "CREATE OR REPLACE FUNCTION {function}("
            "ids {id_type}[], versions bigint[], topics text[], states bytea[]) "
            "RETURNS SETOF bigint LANGUAGE plpgsql AS $$ BEGIN "
            "PERFORM set_config('lock_timeout', {lock_timeout}, true); "
            "LOCK TABLE {table} IN EXCLUSIVE MODE; "
            "PERFORM pg_notify({channel}, ''); "
            "RETURN QUERY INSERT INTO {table} (originator_id, originator_version, topic, state) "
            "SELECT * FROM unnest(ids, versions, topics, states) RETURNING notification_id; "
            "END $$"
        ).format(
            function=function,
            id_type=Identifier(datastore.originator_id_type),
            lock_timeout=Literal(f"{datastore.lock_timeout}s"),
            table=self._table,
            channel=Literal(self.channel_name),
        )
        self._call_insert = self._composed(
            SQL("SELECT * FROM {0}(%s, %s, %s, %s) AS inserted(notification_id)").format(function)
        )
        with_keys = SQL("{0}.{1}").format(
            Identifier(datastore.schema), Identifier(f"bs_insert_{events_table_name}_with_keys")
        )
        self._create_insert_with_keys_function = SQL(
            "CREATE OR REPLACE FUNCTION {with_keys}("
            "ids {id_type}[], versions bigint[], topics text[], states bytea[], "
            "subject_ids uuid[], municipalities text[], lookups bytea[], wrapped_keys bytea[], "
            "appointments timestamptz[]) "
            "RETURNS SETOF bigint LANGUAGE plpgsql AS $$ BEGIN "
            "INSERT INTO personal_data_key (subject_id, municipality, lookup, wrapped_key, "
            "last_appointment_at) SELECT * FROM "
            "unnest(subject_ids, municipalities, lookups, wrapped_keys, appointments); "
            "RETURN QUERY SELECT * FROM {function}(ids, versions, topics, states); "
            "END $$"
        ).format(
            with_keys=with_keys,
            id_type=Identifier(datastore.originator_id_type),
            function=function,
        )
        self._call_insert_with_keys = self._composed(
            SQL(
                "SELECT * FROM {0}(%s, %s, %s, %s, %s, %s, %s, %s, %s) AS inserted(notification_id)"
            ).format(with_keys)
        )

    def _create_table(self, curs: Cursor[DictRow]) -> None:
        # Under the schema lock: concurrent CREATE OR REPLACE FUNCTION fails ("tuple
        # concurrently updated") when two instances start together.
        curs.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
        super()._create_table(curs)
        curs.execute(self._create_insert_function)
        curs.execute(self._create_insert_with_keys_function)

    @retry_dead_connections
    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        """One call, committed on its own (the pool's connections are in autocommit), with the
        key rows of `new_keys` if given."""
        if not stored_events:
            return []
        events = (
            [e.originator_id for e in stored_events],
            [e.originator_version for e in stored_events],
            [e.topic for e in stored_events],
            [e.state for e in stored_events],
        )
        keys: Sequence[NewKey] = kwargs.get(NEW_KEYS) or ()
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            if keys:
                curs.execute(
                    self._call_insert_with_keys,
                    (
                        *events,
                        [k.subject_id for k in keys],
                        [k.municipality for k in keys],
                        [k.lookup for k in keys],
                        [k.wrapped_key for k in keys],
                        [k.last_appointment_at for k in keys],
                    ),
                    prepare=True,
                )
            else:
                curs.execute(self._call_insert, events, prepare=True)
            return [row["notification_id"] for row in curs.fetchall()]

    def _composed(self, statement: Composable) -> Composed:
        """`statement` rendered once: a single literal part, which psycopg passes as it is."""
        with self.datastore.get_connection() as connection:
            return Composed([SQL(cast(LiteralString, statement.as_string(connection)))])

    def _statement(self, shape: tuple[Any, ...], *parts: LiteralString) -> Composed:
        """The statement of this shape: `SELECT * FROM <table>` and `parts`, composed once."""
        found = self._statements.get(shape)
        if found is None:
            text = SQL("SELECT * FROM {0}").format(self._table) + SQL("".join(parts))
            found = self._statements[shape] = self._composed(text)
        return found

    @retry_dead_connections
    def select_events(
        self,
        originator_id: UUID | str,
        *,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> Sequence[StoredEvent]:
        params: list[Any] = [originator_id]
        params.extend(p for p in (gt, lte, limit) if p is not None)
        statement = self._statement(
            ("events", gt is not None, lte is not None, desc, limit is not None),
            " WHERE originator_id = %s",
            " AND originator_version > %s" if gt is not None else "",
            " AND originator_version <= %s" if lte is not None else "",
            " ORDER BY originator_version",
            " DESC" if desc else " ASC",
            " LIMIT %s" if limit is not None else "",
        )
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(statement, params, prepare=True)
            return [stored_event_of(row) for row in curs.fetchall()]

    @retry_dead_connections
    def select_notifications(
        self,
        start: int | None,
        limit: int,
        stop: int | None = None,
        topics: Sequence[str] = (),
        *,
        inclusive_of_start: bool = True,
    ) -> Sequence[Notification]:
        conditions: list[LiteralString] = []
        params: list[Any] = []
        if start is not None:
            conditions.append("notification_id>=%s" if inclusive_of_start else "notification_id>%s")
            params.append(start)
        if stop is not None:
            conditions.append("notification_id <= %s")
            params.append(stop)
        if topics:
            conditions.append("topic = ANY(%s)")
            params.append(list(topics))
        params.append(limit)
        statement = self._statement(
            ("notifications", *conditions),
            " WHERE " + " AND ".join(conditions) if conditions else "",
            " ORDER BY notification_id LIMIT %s",
        )
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(statement, params, prepare=True)
            return [
                Notification(
                    id=row["notification_id"],
                    originator_id=row["originator_id"],
                    originator_version=row["originator_version"],
                    topic=row["topic"],
                    state=bytes(row["state"]),
                )
                for row in curs.fetchall()
            ]


def is_known_citizen(error: BaseException) -> bool:
    """Whether a save failed because a new key's phone number has a key already."""
    cause = error.__cause__
    diag = getattr(cause, "diag", None)
    return diag is not None and diag.constraint_name == LOOKUP_CONSTRAINT


def stored_event_of(row: DictRow) -> StoredEvent:
    """A row of the events table as the library's stored event."""
    return StoredEvent(
        originator_id=row["originator_id"],
        originator_version=row["originator_version"],
        topic=row["topic"],
        state=bytes(row["state"]),
    )
