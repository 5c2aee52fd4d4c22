"""`borgerservice bench [SCENARIO...] [--quick] [--json]`."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Annotated

import structlog
import typer

from bench.report import missed, render
from bench.runner import SCENARIOS, machine, run_scenarios
from infra.garbage_collector import tune_for_batches
from infra.settings import ConnectionSettings


def bench(
    scenarios: Annotated[
        list[str] | None, typer.Argument(help=f"Any of: {', '.join(SCENARIOS)} (default: all)")
    ] = None,
    quick: Annotated[bool, typer.Option(help="Small sizes: a few minutes, for CI")] = False,
    json_output: Annotated[bool, typer.Option("--json", help="Print a JSON summary")] = False,
    scale: Annotated[float, typer.Option(hidden=True, help="Multiplies every size")] = 1.0,
) -> None:
    """Measures booking, bus, lag, availability, replay, stampede and memory against a real
    nats-server (its own, on a free port) and PostgreSQL (a fresh database per scenario,
    dropped afterwards), each figure beside a baseline measured in the same run: for book,
    bus, availability and stampede the peer, a conventional booking service (bench/peer/),
    in alternating rounds. Exits 1 when a target is missed or a check fails, listing those
    last."""
    names = scenarios or list(SCENARIOS)
    unknown = [name for name in names if name not in SCENARIOS]
    if unknown:
        raise typer.BadParameter(f"unknown scenario {unknown[0]!r}; choose from {list(SCENARIOS)}")
    # Services' logs go to stderr, so that stdout is the report (or the JSON) alone.
    structlog.configure(logger_factory=structlog.PrintLoggerFactory(file=sys.stderr))
    host = machine()
    tune_for_batches()  # as every service process the bench starts (and its baselines too)

    def progress(line: str) -> None:
        """Progress, and each scenario's figures as it finishes: stderr (the report: stdout)."""
        typer.echo(line, err=True)

    results = asyncio.run(
        run_scenarios(
            names, ConnectionSettings().database_url, quick=quick, scale=scale, echo=progress
        )
    )
    misses = missed(results)
    if json_output:
        summary = {
            "machine": host,
            "quick": quick,
            "scenarios": [r.to_json() for r in results],
            "missed": misses,
        }
        typer.echo(json.dumps(summary, indent=2))
    else:
        typer.echo(render(results, host))
    if misses:
        raise typer.Exit(1)
