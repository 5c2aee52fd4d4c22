"""The bench report lists what was missed last, so a run that misses a target says so."""

from __future__ import annotations

from bench.report import ScenarioResult, missed, render


def _result(value: float) -> ScenarioResult:
    result = ScenarioResult("lag")
    result.add("lag p99", value, "ms")
    result.target("lag p99", "<", 100.0)
    result.checks["every event relayed once"] = True
    return result


def test_a_missed_target_is_listed_last_with_its_value() -> None:
    results = [_result(250.0)]
    assert missed(results) == ["lag: target lag p99 < 100 NOT met (250)"]
    report = render(results, "test machine").splitlines()
    assert report[-2:] == ["missed (1):", "  lag: target lag p99 < 100 NOT met (250)"]


def test_a_failed_check_is_missed_too() -> None:
    result = _result(5.0)
    result.checks["every event relayed once"] = False
    assert missed([result]) == ["lag: check every event relayed once FAILED"]


def test_nothing_missed_says_so() -> None:
    results = [_result(5.0)]
    assert missed(results) == []
    assert render(results, "test machine").splitlines()[-1] == "every target met, every check ok"
