"""CPython's cyclic garbage collector, set for processes that decode and write events in
batches: every long-running `borgerservice` command calls `tune_for_batches` once at start."""

from __future__ import annotations

import gc

# Young collections after this many net allocations instead of CPython's 700. A fetched batch
# of decoded events (a thousand envelopes, each a few dozen objects) is alive while it is
# written, so at 700 it is traversed by several young collections, promoted and traversed
# again; reference counting frees almost all of it anyway. Measured on a replay of 50,000
# events (2 cores): 35-38 -> 25-32 us of CPU per event, 0.61-0.67x -> 0.68-0.81x the
# baseline fetch.
YOUNG_THRESHOLD = 50_000


def tune_for_batches() -> None:
    """Collects once, freezes what start-up made (modules, settings, the app: never garbage)
    out of every later collection, and raises the young threshold; the older generations keep
    CPython's defaults, so garbage in reference cycles is still collected regularly."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
