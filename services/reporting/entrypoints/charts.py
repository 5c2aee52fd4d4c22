"""Charts for printed reports, drawn by matplotlib (Agg, no display) as inline SVG."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import matplotlib

matplotlib.use("Agg")

from matplotlib.figure import Figure

# Text stays text (smaller, searchable, prints crisply); ids are stable between renderings.
SVG_STYLE: Any = {"svg.fonttype": "none", "svg.hashsalt": "borgerservice", "font.size": 9}
SIZE = (7.0, 2.8)  # inches: the width of an A4 page's text


def _svg(figure: Figure) -> str:
    out = io.StringIO()
    with matplotlib.rc_context(SVG_STYLE):
        figure.savefig(out, format="svg", bbox_inches="tight", metadata={"Date": None})
    text = out.getvalue()
    return text[text.index("<svg") :]  # inline: no XML prologue


def grouped_bars(
    title: str, labels: Sequence[str], series: Mapping[str, Sequence[float]], ylabel: str
) -> str:
    """Bars per label, one colour per series (e.g. this period and a year earlier)."""
    with matplotlib.rc_context(SVG_STYLE):
        figure = Figure(figsize=SIZE)
        axes = figure.subplots()
        width = 0.8 / max(len(series), 1)
        for index, (name, values) in enumerate(series.items()):
            axes.bar(
                [x + index * width for x in range(len(labels))], values, width=width, label=name
            )
        axes.set_xticks([x + width * (len(series) - 1) / 2 for x in range(len(labels))])
        axes.set_xticklabels(labels, rotation=20, ha="right")
        axes.set_title(title)
        axes.set_ylabel(ylabel)
        if len(series) > 1:
            axes.legend()
        return _svg(figure)


def shares_against_goals(
    title: str, labels: Sequence[str], shares: Sequence[float], goals: Sequence[float]
) -> str:
    """Shares as bars (0-100 %), each goal as a line across its bar."""
    with matplotlib.rc_context(SVG_STYLE):
        figure = Figure(figsize=SIZE)
        axes = figure.subplots()
        axes.bar(range(len(labels)), [s * 100 for s in shares], color="#4a7ab5")
        for x, goal in enumerate(goals):
            axes.hlines(goal * 100, x - 0.4, x + 0.4, colors="#c0392b", linestyles="dashed")
        axes.set_xticks(range(len(labels)))
        axes.set_xticklabels(labels)
        axes.set_ylim(0, 100)
        axes.set_ylabel("%")
        axes.set_title(title)
        return _svg(figure)


def lines_over_time(
    title: str, series: Mapping[str, tuple[Sequence[date], Sequence[float | None]]], target: float
) -> str:
    """One step line per series over the days, the target as a dashed line."""
    with matplotlib.rc_context(SVG_STYLE):
        figure = Figure(figsize=SIZE)
        axes = figure.subplots()
        for name, (days, values) in series.items():
            axes.step(
                list[Any](days),
                [float("nan") if v is None else v for v in values],
                where="post",
                label=name,
            )
        axes.axhline(target, color="#c0392b", linestyle="dashed", label="target")
        axes.set_title(title)
        axes.set_ylabel("working days")
        axes.legend(fontsize=7)
        figure.autofmt_xdate()
        return _svg(figure)
