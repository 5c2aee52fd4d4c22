"""Site days as stored, read without their lock: for refusing a full time in a rush, when
every attempt would otherwise queue on one day's lock.

A copy of a contended day is kept, taken from a day read from the store and never changed
after. Guarantees:
- `now(day)` is the day as the store holds it at a moment after the call began: the kept copy
  once the store confirms it holds no newer event of the day, otherwise a new copy with the
  newer events applied (and kept);
- the kept copy only moves forward: it is replaced only by a newer version;
- concurrent questions to the store share one query (`GroupRead`), begun after each of them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from copy import deepcopy
from dataclasses import dataclass, field
from uuid import UUID

from eventsourcing.application import LRUCache, project_aggregate
from eventsourcing.persistence import (
    AggregateRecorder,
    Mapper,
    StoredEvent,
)
from eventsourcing.postgres import PostgresAggregateRecorder
from psycopg.sql import SQL, Identifier

from infra.transient import retry_dead_connections
from services.booking.adapters.event_store import stored_event_of
from services.booking.domain.schedule import SiteDay

# Per aggregate: its stored events after the version given.
Select = Callable[[dict[UUID, int]], dict[UUID, list[StoredEvent]]]


class StoredDays:
    def __init__(self, newer: GroupRead, mapper: Mapper[UUID], size: int) -> None:
        self._mapper = mapper
        self._newer = newer
        self._kept: LRUCache[UUID, SiteDay] = LRUCache(size)
        self._changing = threading.Lock()  # a kept copy is compared and replaced at once

    def kept(self, day_id: UUID) -> SiteDay | None:
        """The kept copy, without asking the store. To read only."""
        try:
            return self._kept.get(day_id)
        except KeyError:
            return None

    def now(self, day_id: UUID) -> SiteDay | None:
        """The day as stored now, or None if no copy of it is kept. To read only."""
        kept = self.kept(day_id)
        if kept is None:
            return None
        newer = self._newer.newer(day_id, kept.version)
        if not newer:
            return kept
        day = project_aggregate(deepcopy(kept), map(self._mapper.to_domain_event, newer))
        assert isinstance(day, SiteDay)
        return self._replace(day)

    def keep(self, day: SiteDay) -> SiteDay:
        """Keeps a copy of `day`, which is as stored and not changing meanwhile (a cached day
        under its stripe), unless a copy as new is kept. Returns the copy kept."""
        kept = self.kept(day.id)
        if kept is not None and kept.version >= day.version:
            return kept
        return self._replace(deepcopy(day))

    def _replace(self, day: SiteDay) -> SiteDay:
        with self._changing:
            kept = self.kept(day.id)
            if kept is not None and kept.version >= day.version:
                return kept
            self._kept.put(day.id, day)
            return day


@dataclass
class _Batch:
    after: dict[UUID, int] = field(default_factory=dict)
    found: dict[UUID, list[StoredEvent]] = field(default_factory=dict)
    error: BaseException | None = None
    finished: bool = False


class GroupRead:
    """Concurrent questions "what did the store record of this aggregate after version v?"
    answered by one query, which begins after each of its questions was asked."""

    def __init__(self, select: Select) -> None:
        self._select = select
        self._changed = threading.Condition()
        self._queued = _Batch()
        self._reading = False

    def newer(self, aggregate_id: UUID, version: int) -> list[StoredEvent]:
        return self.newer_of({aggregate_id: version})[aggregate_id]

    def newer_of(self, versions: dict[UUID, int]) -> dict[UUID, list[StoredEvent]]:
        """Per aggregate, its stored events after the version given."""
        with self._changed:
            batch = self._queued
            for aggregate_id, version in versions.items():
                batch.after[aggregate_id] = min(version, batch.after.get(aggregate_id, version))
            while self._reading and not batch.finished:
                self._changed.wait()
            leading = not batch.finished
            if leading:  # this batch's query begins now, after each of its questions
                self._reading = True
                self._queued = _Batch()
        if leading:
            try:
                batch.found = self._select(batch.after)
            except BaseException as error:
                batch.error = error
            finally:
                with self._changed:
                    batch.finished = True
                    self._reading = False
                    self._changed.notify_all()
        if batch.error is not None:
            raise batch.error
        return {
            aggregate_id: [
                e for e in batch.found.get(aggregate_id, []) if e.originator_version > version
            ]
            for aggregate_id, version in versions.items()
        }


def select_newer(recorder: AggregateRecorder) -> Select:
    """One statement for a whole batch on PostgreSQL (composed once, prepared); one
    `select_events` per aggregate on other stores."""
    if not isinstance(recorder, PostgresAggregateRecorder):
        return lambda after: {
            aggregate_id: list(recorder.select_events(aggregate_id, gt=version))
            for aggregate_id, version in after.items()
        }
    datastore = recorder.datastore
    with datastore.get_connection() as connection:
        statement = (
            SQL(
                "SELECT e.originator_id, e.originator_version, e.topic, e.state "
                "FROM unnest(%s::uuid[], %s::bigint[]) AS asked(id, version) "
                "JOIN {schema}.{table} e ON e.originator_id = asked.id "
                "AND e.originator_version > asked.version "
                "ORDER BY e.originator_id, e.originator_version"
            )
            .format(
                schema=Identifier(datastore.schema), table=Identifier(recorder.events_table_name)
            )
            .as_string(connection)
        )

    @retry_dead_connections
    def select(after: dict[UUID, int]) -> dict[UUID, list[StoredEvent]]:
        found: dict[UUID, list[StoredEvent]] = {}
        with datastore.get_connection() as connection, connection.cursor() as cursor:
            cursor.execute(statement, (list(after), list(after.values())), prepare=True)
            for row in cursor.fetchall():
                found.setdefault(row["originator_id"], []).append(stored_event_of(row))
        return found

    return select
