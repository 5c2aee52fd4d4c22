"""Runs the named scenarios one after another, each in its own database and emptied streams."""

from __future__ import annotations

import asyncio
import importlib
import os
import platform
import signal
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from bench.environment import BenchEnvironment, Space, bench_environment
from bench.report import ScenarioResult, render_block

Scenario = Callable[[BenchEnvironment, Space, ScenarioResult], Awaitable[None]]

# One module of bench each, imported only when it runs (the CLI stays quick to start).
SCENARIOS = ("book", "bus", "lag", "availability", "replay", "stampede", "memory")


def scenario(name: str) -> Scenario:
    run: Scenario = importlib.import_module(f"bench.{name}").run
    return run


def machine() -> str:
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return f"{platform.node()}: {os.cpu_count()} cores, Python {platform.python_version()}, " + (
        f"load average {load} at start"
    )


async def run_scenarios(
    names: list[str],
    database_url: str,
    *,
    quick: bool,
    scale: float = 1.0,
    echo: Callable[[str], None] = print,
) -> list[ScenarioResult]:
    results = []
    # SIGTERM (a CI timeout) cancels the run, so the nats-server, the services and the
    # databases are still stopped and dropped on the way out.
    current = asyncio.current_task()
    assert current is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, current.cancel)
    with tempfile.TemporaryDirectory(prefix="bs-bench-") as workdir:
        async with bench_environment(
            database_url, Path(workdir), quick=quick, scale=scale
        ) as environment:
            for name in names:
                echo(f"bench: {name} ...")
                started = time.monotonic()
                result = ScenarioResult(name)
                try:
                    async with environment.space(name) as space:
                        await scenario(name)(environment, space, result)
                except Exception as error:  # one scenario failing does not stop the others
                    result.checks["ran to the end"] = False
                    result.notes.append(f"failed: {type(error).__name__}: {error}")
                result.seconds = time.monotonic() - started
                results.append(result)
                # Each scenario's figures as soon as it has them: a long run stopped half-way
                # still leaves what it measured.
                echo("\n".join(render_block(result)))
    return results
