"""Ours beside the peer: the report prints both and the ratio side by side, and a target set
against the peer's figure of the same run is missed when ours is worse."""

from __future__ import annotations

from bench.report import ScenarioResult, missed, render_block


def _booking(ours: float, peer: float) -> ScenarioResult:
    result = ScenarioResult("book")
    result.compare("answered 201", ours, peer, "per s")
    result.compare("CPU per 201", 2.0, 2.0, "ms")
    result.target_against_peer("answered 201", ">=", 1.5)
    result.target_against_peer("CPU per 201", "<=")
    return result


def test_ours_the_peer_and_the_ratio_are_printed_on_one_line() -> None:
    lines = render_block(_booking(300.0, 600.0))
    assert any(
        line.split() == ["answered", "201", "(per", "s)", "300", "600", "0.50x"] for line in lines
    ), lines
    assert not any(line.strip().startswith("peer: ") for line in lines), lines


def test_a_target_against_the_peer_is_missed_when_ours_falls_short_and_met_when_equal() -> None:
    assert missed([_booking(300.0, 600.0)]) == [
        "book: target ours: answered 201 >= 900 NOT met (300)"
    ]
    assert missed([_booking(900.0, 600.0)]) == []  # CPU equal to the peer's meets "<="
