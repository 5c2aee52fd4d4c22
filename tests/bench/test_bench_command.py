"""`borgerservice bench` runs every scenario end to end and prints a JSON summary that parses.
At tiny sizes, and asserting no speed (the machine is shared): only that it works, that
its correctness checks hold (the peer's too), that it carries ours beside the peer's figures
with their ratios, and that it exits 1 exactly when it lists a missed target."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping

from bench.runner import SCENARIOS
from tests.conftest import BASE_DATABASE_URL, TEST_SECRETS


def test_quick_bench_of_every_scenario_prints_a_json_summary() -> None:
    finished = subprocess.run(
        [
            *(sys.executable, "-c", "from borgerservice.cli import app; app()"),
            *("bench", "--quick", "--json", "--scale", "0.02"),
        ],
        # as a user runs it from a clean shell: no secret set (the bench makes its own)
        env={**without_secrets(os.environ), "DATABASE_URL": BASE_DATABASE_URL},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert finished.returncode in (0, 1), finished.stderr[-3000:]
    summary = json.loads(finished.stdout)
    missed_targets = [t for s in summary["scenarios"] for t in s["targets"] if not t["met"]]
    failed_checks = [c for s in summary["scenarios"] for c, ok in s["checks"].items() if not ok]
    assert len(summary["missed"]) == len(missed_targets) + len(failed_checks), summary["missed"]
    assert finished.returncode == (1 if summary["missed"] else 0), summary["missed"]
    assert summary["quick"] is True
    assert [s["scenario"] for s in summary["scenarios"]] == list(SCENARIOS)
    for scenario in summary["scenarios"]:
        assert scenario["figures"], scenario
        assert all(scenario["checks"].values()), scenario
        for figure in scenario["figures"]:
            assert isinstance(figure["value"], int | float), figure
    ratios = {r["figure"] for s in summary["scenarios"] for r in s["ratios"]}
    assert any(name.startswith("app: commands relayed") for name in ratios)
    assert "replay reporting" in ratios
    # ours beside the peer in every scenario that compares with it, its targets checked
    for scenario in summary["scenarios"]:
        if scenario["scenario"] in ("book", "bus", "stampede", "availability"):
            figures = {f["name"] for f in scenario["figures"]}
            against_peer = [r for r in scenario["ratios"] if r["baseline"].startswith("peer: ")]
            assert against_peer, scenario["scenario"]
            for ratio in against_peer:
                assert ratio["baseline"] in figures and ratio["figure"] in figures, ratio
                assert ratio["figure"] == "ours: " + ratio["baseline"].removeprefix("peer: ")
            assert any(t["figure"].startswith("ours: ") for t in scenario["targets"]), scenario


def without_secrets(environment: Mapping[str, str]) -> dict[str, str]:
    return {
        name: value
        for name, value in environment.items()
        if name not in TEST_SECRETS and name != "STAFF_TOKENS"
    }
