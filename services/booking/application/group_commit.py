"""Group commit: the saves of concurrent commands written in one transaction.

The event store serialises its transactions (a table lock, then a commit), so many small
transactions are what limits throughput. A command's save joins the saves queued while the
previous transaction was being written; the first of them writes them all in one transaction.

Guarantees:
- a save returns only once its events are committed, or raises as if it had been alone: if
  the shared transaction fails (one command lost an optimistic-concurrency race), each save
  of the group is written again in its own transaction, so only the loser fails;
- a save waits for at most one transaction besides its own: nothing waits to fill a group.

A save's keyword arguments for the recorder (`save(..., new_keys=[...])`) are lists: the
group's are joined, each key's lists in the order of the saves.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from uuid import UUID

from eventsourcing.application import ProcessingEvent
from eventsourcing.persistence import Recording

Record = Callable[[ProcessingEvent[UUID]], list[Recording[UUID]]]


@dataclass
class _Save:
    processing: ProcessingEvent[UUID]
    recordings: list[Recording[UUID]] = field(default_factory=list)
    error: BaseException | None = None
    finished: bool = False

    def outcome(self) -> list[Recording[UUID]]:
        if self.error is not None:
            raise self.error
        return self.recordings


class GroupCommit:
    def __init__(self, record: Record) -> None:
        self._record = record  # writes one processing event in one transaction
        self._changed = threading.Condition()
        self._queue: list[_Save] = []
        self._writing = False

    def record(self, processing: ProcessingEvent[UUID]) -> list[Recording[UUID]]:
        save = _Save(processing)
        with self._changed:
            self._queue.append(save)
            while self._writing and not save.finished:
                self._changed.wait()
            if save.finished:
                return save.outcome()
            self._writing = True
            group, self._queue = self._queue, []
        try:
            self._write(group)
        finally:
            with self._changed:
                self._writing = False
                self._changed.notify_all()
        return save.outcome()

    def _write(self, group: list[_Save]) -> None:
        if len(group) > 1:
            together: ProcessingEvent[UUID] = ProcessingEvent()
            for save in group:
                together.events.extend(save.processing.events)
                together.aggregates.update(save.processing.aggregates)
                for name, rows in save.processing.saved_kwargs.items():
                    together.saved_kwargs.setdefault(name, []).extend(rows)
            try:
                recordings = self._record(together)
            except Exception:  # each save is written again alone, to find its own fate
                pass
            else:
                for save in group:
                    save.recordings = recordings[: len(save.processing.events)]
                    recordings = recordings[len(save.processing.events) :]
                    save.finished = True
                return
        for save in group:
            try:
                save.recordings = self._record(save.processing)
            except BaseException as error:
                save.error = error
            save.finished = True
