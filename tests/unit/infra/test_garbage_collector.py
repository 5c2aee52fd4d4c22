"""The collector setting every long-running command starts with."""

from __future__ import annotations

import gc

from infra.garbage_collector import YOUNG_THRESHOLD, tune_for_batches


def test_young_collections_are_rarer_and_start_up_objects_are_frozen() -> None:
    before = gc.get_threshold()
    try:
        tune_for_batches()
        assert gc.get_threshold() == (YOUNG_THRESHOLD, before[1], before[2])
        assert gc.get_freeze_count() > 0
        assert gc.isenabled()  # cycles are still collected
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
