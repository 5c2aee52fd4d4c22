"""The booking service's PostgreSQL event store: the library's recorder, with every statement
composed once instead of on every call.

The library builds its statements with `psycopg.sql` (`SQL(...).format(...)`, `+=`), which
psycopg renders again on each execution: a fifth of a booking command's time. Here each is
rendered once, per shape of query, to a plain statement whose parsing psycopg caches. The
statements themselves, their parameters and their results are the library's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, LiteralString, cast
from uuid import UUID

from eventsourcing.persistence import InterfaceError, Notification, OperationalError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from eventsourcing.utils import retry
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Composable, Composed, Identifier


class BookingRecorder(PostgresApplicationRecorder):
    def __init__(
        self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events"
    ) -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        self._table = SQL("{0}.{1}").format(
            Identifier(datastore.schema), Identifier(events_table_name)
        )
        self.insert_events_statement = self._composed(self.insert_events_statement)
        self.lock_table_statements = [
            self._composed(cast(Composable, s)) for s in self.lock_table_statements
        ]
        self.max_notification_id_statement = self._composed(self.max_notification_id_statement)
        self._notify = self._composed(SQL("NOTIFY {0}").format(Identifier(self.channel_name)))
        # Columns as arrays of plain types: psycopg dumps an array of composites in Python.
        self._insert_columns = self._composed(
            SQL(
                "INSERT INTO {0} (originator_id, originator_version, topic, state) "
                "SELECT * FROM unnest(%s::{1}[], %s::bigint[], %s::text[], %s::bytea[]) "
                "RETURNING notification_id"
            ).format(self._table, Identifier(datastore.originator_id_type))
        )
        self._statements: dict[tuple[Any, ...], Composed] = {}

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

    def _notify_channel(self, curs: Cursor[DictRow]) -> None:
        curs.execute(self._notify)

    def _insert_stored_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **_: Any
    ) -> None:
        """As the library's: the table locked, listeners notified, the events inserted in
        order (their notification ids returned in that order)."""
        self._lock_table(curs)
        self._notify_channel(curs)
        curs.execute(
            self._insert_columns,
            (
                [e.originator_id for e in stored_events],
                [e.originator_version for e in stored_events],
                [e.topic for e in stored_events],
                [e.state for e in stored_events],
            ),
        )

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
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
            return [
                StoredEvent(
                    originator_id=row["originator_id"],
                    originator_version=row["originator_version"],
                    topic=row["topic"],
                    state=bytes(row["state"]),
                )
                for row in curs.fetchall()
            ]

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
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
