"""What a scenario measured: its figures, their ratios to same-run baselines, its targets."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Figure:
    name: str
    value: float
    unit: str


@dataclass(frozen=True)
class Ratio:
    """`figure` divided by `baseline`, both measured in this run."""

    figure: str
    baseline: str
    value: float


@dataclass(frozen=True)
class Target:
    """A goal from the issue: `figure` compared with `limit` (`<`, `<=` or `>=`)."""

    figure: str
    comparison: str
    limit: float
    met: bool


@dataclass
class ScenarioResult:
    scenario: str
    figures: list[Figure] = field(default_factory=list)
    ratios: list[Ratio] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    checks: dict[str, bool] = field(default_factory=dict)  # correctness, not speed
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def add(self, name: str, value: float, unit: str) -> None:
        self.figures.append(Figure(name, value, unit))

    def value(self, name: str) -> float:
        return next(f.value for f in self.figures if f.name == name)

    def ratio(self, figure: str, baseline: str) -> None:
        base = self.value(baseline)
        self.ratios.append(Ratio(figure, baseline, self.value(figure) / base if base else 0.0))

    def compare(self, name: str, ours: float, peer: float, unit: str) -> None:
        """Ours beside the peer's (`bench.peer`), measured in the same rounds, and the ratio."""
        self.add(f"ours: {name}", ours, unit)
        self.add(f"peer: {name}", peer, unit)
        self.ratio(f"ours: {name}", f"peer: {name}")

    def target(self, figure: str, comparison: str, limit: float) -> None:
        value = self.value(figure)
        met = {"<": value < limit, "<=": value <= limit, ">=": value >= limit}[comparison]
        self.targets.append(Target(figure, comparison, limit, met))

    def target_against_peer(self, name: str, comparison: str, times: float = 1.0) -> None:
        """Ours' `name` against `times` the peer's figure of the same run."""
        self.target(f"ours: {name}", comparison, times * self.value(f"peer: {name}"))

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def percentile(values: Sequence[float], share: float) -> float:
    """Nearest-rank percentile (`share` in 0..1); 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


def add_latencies(result: ScenarioResult, prefix: str, seconds: Sequence[float]) -> None:
    """p50 and p99 of `seconds`, in milliseconds."""
    result.add(f"{prefix} p50", percentile(seconds, 0.50) * 1000, "ms")
    result.add(f"{prefix} p99", percentile(seconds, 0.99) * 1000, "ms")


def _number(value: float) -> str:
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:,.2f}" if abs(value) < 10 else f"{value:,.1f}"


def missed(results: Sequence[ScenarioResult]) -> list[str]:
    """Every target not met and every correctness check that failed, one line each."""
    lines = []
    for result in results:
        for target in result.targets:
            if not target.met:
                value = _number(result.value(target.figure))
                lines.append(
                    f"{result.scenario}: target {target.figure} {target.comparison} "
                    f"{_number(target.limit)} NOT met ({value})"
                )
        lines += [
            f"{result.scenario}: check {check} FAILED"
            for check, ok in result.checks.items()
            if not ok
        ]
    return lines


def render(results: Sequence[ScenarioResult], machine: str) -> str:
    """The human-readable report: one block per scenario, what was missed last."""
    lines = [f"borgerservice bench on {machine}"]
    for result in results:
        lines.append("")
        lines.extend(render_block(result))
    misses = missed(results)
    lines.append("")
    if misses:
        lines.append(f"missed ({len(misses)}):")
        lines.extend(f"  {line}" for line in misses)
    else:
        lines.append("every target met, every check ok")
    return "\n".join(lines)


def _against_peer(ratio: Ratio) -> str | None:
    """The compared figure's name when `ratio` is ours over the peer's, else None."""
    name = ratio.figure.removeprefix("ours: ")
    return name if ratio.figure != name and ratio.baseline == f"peer: {name}" else None


def render_block(result: ScenarioResult) -> list[str]:
    lines = [f"{result.scenario}  ({result.seconds:.1f} s)"]
    compared = {name: r for r in result.ratios if (name := _against_peer(r)) is not None}
    paired = {f"{side}: {name}" for name in compared for side in ("ours", "peer")}
    alone = [f for f in result.figures if f.name not in paired]
    width = max((len(f.name) for f in alone), default=0)
    for figure in alone:
        lines.append(f"  {figure.name:<{width}}  {_number(figure.value):>10} {figure.unit}")
    if compared:
        units = {f.name: f.unit for f in result.figures}
        labels = {
            name: f"{name} ({units[r.figure]})" if units[r.figure] else name
            for name, r in compared.items()
        }
        width = max(len(label) for label in labels.values())
        lines.append(f"  {'against the peer':<{width}}  {'ours':>10}  {'peer':>10}  ours/peer")
        for name, ratio in compared.items():
            ours, peer = result.value(ratio.figure), result.value(ratio.baseline)
            lines.append(
                f"  {labels[name]:<{width}}  {_number(ours):>10}  {_number(peer):>10}"
                f"  {ratio.value:>8.2f}x"
            )
    for ratio in result.ratios:
        if ratio.figure not in paired:
            lines.append(f"  ratio {ratio.figure} / {ratio.baseline}: {ratio.value:.2f}x")
    for target in result.targets:
        verdict = "met" if target.met else "NOT met"
        lines.append(
            f"  target {target.figure} {target.comparison} {_number(target.limit)}: {verdict}"
        )
    for check, ok in result.checks.items():
        lines.append(f"  check {check}: {'ok' if ok else 'FAILED'}")
    lines.extend(f"  note: {note}" for note in result.notes)
    return lines
