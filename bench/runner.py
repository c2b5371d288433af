"""Runs scenarios: implementations interleaved per repetition, medians, failures contained.

Per scenario: one warm-up round (not counted; its cost picks the repetition count within the
time budget), then rounds of raw, athanor, SQLAlchemy, raw, athanor, SQLAlchemy... so that
background load on the machine hits every implementation alike. Each run gets a fresh
context (engine, connections), prepared untimed; only the returned callable is timed. An
implementation that fails is reported with its error and skipped for the rest of the scenario.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import os
import signal
import statistics
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from time import perf_counter
from typing import Any, TextIO

from bench.databases import Database
from bench.registry import (
    EMPTY,
    LOADED,
    AnyBody,
    Ctx,
    Implementation,
    Scale,
    Scenario,
    describe_error,
)

REPO = Path(__file__).resolve().parent.parent


class BenchTimeout(Exception):
    """A timed run took longer than the runner allows."""


@contextlib.contextmanager
def alarm(seconds: float) -> Iterator[None]:
    """Raise :class:`BenchTimeout` in the main thread if the block runs over ``seconds``."""

    def fire(signum: int, frame: Any) -> None:
        raise BenchTimeout(f"run exceeded {seconds:.0f} s")

    previous = signal.signal(signal.SIGALRM, fire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@dataclass
class ImplResult:
    """What one implementation did in one scenario."""

    times: list[float] = field(default_factory=list)
    metrics: list[dict[str, float]] = field(default_factory=list)
    error: str | None = None
    absent: bool = False  # the scenario has no body for this implementation
    memory: dict[str, Any] | None = None

    @property
    def median(self) -> float | None:
        return statistics.median(self.times) if self.times and self.error is None else None

    @property
    def spread(self) -> float | None:
        """Median absolute deviation relative to the median."""
        median = self.median
        if median is None or len(self.times) < 2:
            return None
        return statistics.median(abs(t - median) for t in self.times) / median

    def median_metrics(self) -> dict[str, float]:
        if self.error is not None or not self.metrics:
            return {}
        keys = self.metrics[0].keys()
        return {key: statistics.median(m[key] for m in self.metrics) for key in keys}


@dataclass
class ScenarioResult:
    database: str
    scenario: Scenario
    ops: int
    impls: dict[str, ImplResult]
    reps: int = 0

    def ratio(self, top: str, bottom: str) -> float | None:
        if top not in self.impls or bottom not in self.impls:
            return None
        a, b = self.impls[top].median, self.impls[bottom].median
        return a / b if a is not None and b is not None and b > 0 else None

    def as_json(self) -> dict[str, Any]:
        impls = {}
        for name, r in self.impls.items():
            median = r.median
            impls[name] = {
                "median_s": median,
                "per_op_us": None if median is None else median / self.ops * 1e6,
                "spread": r.spread,
                "times_s": r.times,
                "metrics": r.median_metrics(),
                "memory": r.memory,
                "error": r.error,
                "absent": r.absent,
            }
        return {
            "database": self.database,
            "scenario": self.scenario.name,
            "suite": self.scenario.suite,
            "description": self.scenario.doc,
            "ops": self.ops,
            "reps": self.reps,
            "implementations": impls,
            "ratios": {
                "athanor/raw": self.ratio("athanor", "raw"),
                "athanor/sqlalchemy": self.ratio("athanor", "sqlalchemy"),
                "sqlalchemy/raw": self.ratio("sqlalchemy", "raw"),
            },
        }


@dataclass
class Plan:
    """How hard to run: repetitions, per-scenario time budget, timeouts."""

    scale: Scale
    reps: int | None = None  # fixed repetitions; otherwise chosen from the budget
    min_reps: int = 3
    max_reps: int = 7
    budget_s: float = 8.0
    timeout_s: float = 120.0
    memory: bool = True


DATA_ORDER = {LOADED: 0, EMPTY: 1}


class Runner:
    def __init__(self, impls: list[Implementation], plan: Plan, log: TextIO = sys.stderr):
        self.impls = impls
        self.plan = plan
        self.log = log
        self._loop: asyncio.AbstractEventLoop | None = None
        self._reported: set[tuple[str, str]] = set()
        self._previous = ""  # the implementation that ran last, blamed for leftover locks

    def say(self, text: str) -> None:
        print(text, file=self.log, flush=True)

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            self._loop = asyncio.new_event_loop()
        return self._loop

    def close(self) -> None:
        if self._loop is not None:
            self._loop.close()
            self._loop = None

    def run_database(self, db: Database, scenarios: list[Scenario]) -> list[ScenarioResult]:
        """Every scenario on ``db``, ordered to fill the table as rarely as possible."""
        done: dict[str, ScenarioResult] = {}
        for scenario in sorted(scenarios, key=lambda s: DATA_ORDER.get(s.data, 2)):
            done[scenario.name] = self.run_scenario(db, scenario)
        return [done[s.name] for s in scenarios]

    def run_scenario(self, db: Database, scenario: Scenario) -> ScenarioResult:
        scale = self.plan.scale
        result = ScenarioResult(db.name, scenario, scenario.ops(scale), {})
        active: list[Implementation] = []
        for impl in self.impls:
            r = result.impls[impl.name] = ImplResult()
            if scenario.body_for(impl) is None:
                r.absent = True
            elif impl.error is not None:
                r.error = impl.error
            else:
                active.append(impl)
        reps = self.plan.reps
        round_no = 0
        while reps is None or round_no <= reps:
            began = perf_counter()
            for impl in active:
                r = result.impls[impl.name]
                if r.error is not None:
                    continue
                try:
                    seconds, metrics = self._once(db, scenario, impl)
                except Exception as error:
                    r.error = describe_error(error)
                    if (impl.name, r.error) not in self._reported:
                        self._reported.add((impl.name, r.error))
                        self.say(f"  {scenario.name} {impl.name}: {r.error}")
                    self._recover(db)
                    continue
                if round_no > 0:  # round 0 warms up
                    r.times.append(seconds)
                    if metrics:
                        r.metrics.append(metrics)
            if reps is None:
                cost = max(perf_counter() - began, 1e-3)
                reps = max(
                    self.plan.min_reps, min(self.plan.max_reps, int(self.plan.budget_s / cost))
                )
            round_no += 1
        result.reps = reps or 0
        if self.plan.memory and scenario.memory:
            self._measure_memory(db, scenario, active, result)
        self.say(f"  {db.name} {scenario.name}: " + self._summary(result))
        return result

    def _recover(self, db: Database) -> None:
        """Clean up after a failed run; if even that fails, the next data reset will say so."""
        try:
            db.recover()
        except Exception as error:
            self.say(f"  {db.name}: recovery failed ({describe_error(error)})")

    def _summary(self, result: ScenarioResult) -> str:
        parts = []
        for name, r in result.impls.items():
            median = r.median
            parts.append(f"{name} {'-' if median is None else f'{median * 1e3:.1f} ms'}")
        return ", ".join(parts) + f" ({result.reps} reps)"

    def _prepare_data(self, db: Database, scenario: Scenario) -> None:
        """Put the table in the state ``scenario`` needs; recover once if something blocks it.

        A failure here is the previous run's fault (e.g. a leaked lock), not the next one's.
        """
        for attempt in (1, 2):
            try:
                if scenario.data == EMPTY:
                    db.make_empty()
                elif scenario.data == LOADED:
                    db.make_loaded(self.plan.scale.load_rows)
                return
            except Exception as error:
                if attempt == 2:
                    raise
                self.say(
                    f"  {db.name}: recovering the database after the {self._previous} run "
                    f"({describe_error(error)})"
                )
                self._recover(db)

    def _once(
        self, db: Database, scenario: Scenario, impl: Implementation
    ) -> tuple[float, dict[str, float] | None]:
        """Prepare, time and clean up one run (all under the timeout); check the work done."""
        self._prepare_data(db, scenario)
        self._previous = impl.name
        ctx = Ctx(db, impl, self.plan.scale)
        body = scenario.body_for(impl)
        assert body is not None
        if scenario.is_async:
            seconds, metrics = self.loop.run_until_complete(
                asyncio.wait_for(self._async_once(ctx, body), self.plan.timeout_s)
            )
        else:
            with alarm(self.plan.timeout_s):
                try:
                    run = body(ctx)
                    gc.collect()
                    began = perf_counter()
                    metrics = run()
                    seconds = perf_counter() - began
                finally:
                    ctx.cleanup()
        if scenario.data == EMPTY:
            db.state = None
            wanted = scenario.ops(self.plan.scale)
            got = db.count()
            if got != wanted:
                raise AssertionError(f"table holds {got} rows after the run, expected {wanted}")
        return seconds, metrics

    async def _async_once(self, ctx: Ctx, body: AnyBody) -> tuple[float, dict[str, float] | None]:
        try:
            run = await body(ctx)
            gc.collect()
            began = perf_counter()
            metrics = await run()
            return perf_counter() - began, metrics
        finally:
            await ctx.acleanup()

    def profile(self, db: Database, scenario: Scenario, impl: Implementation, top: int) -> str:
        """One run of ``scenario`` by ``impl`` under cProfile: the ``top`` functions by own time."""
        import cProfile
        import io
        import pstats

        self._prepare_data(db, scenario)
        ctx = Ctx(db, impl, self.plan.scale)
        body = scenario.body_for(impl)
        if body is None:
            return "(no body for this implementation)"
        profiler = cProfile.Profile()
        if scenario.is_async:

            async def profiled() -> None:
                try:
                    run = await body(ctx)
                    profiler.enable()
                    await run()
                    profiler.disable()
                finally:
                    await ctx.acleanup()

            self.loop.run_until_complete(profiled())
        else:
            try:
                run = body(ctx)
                profiler.runcall(run)
            finally:
                ctx.cleanup()
        if scenario.data == EMPTY:
            db.state = None
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.strip_dirs().sort_stats("tottime").print_stats(top)
        return out.getvalue()

    def _measure_memory(
        self,
        db: Database,
        scenario: Scenario,
        active: list[Implementation],
        result: ScenarioResult,
    ) -> None:
        """Peak RSS growth of one run, each implementation alone in a fresh subprocess."""
        self._prepare_data(db, scenario)
        for impl in active:
            r = result.impls[impl.name]
            if r.error is not None:
                continue
            command = [
                sys.executable,
                "-m",
                "bench.memory",
                "--db",
                db.name,
                "--scenario",
                scenario.name,
                "--impl",
                impl.name,
                "--scale",
                json.dumps(asdict(self.plan.scale)),
            ]
            env = dict(os.environ)
            env["PYTHONPATH"] = os.pathsep.join(
                p for p in (str(REPO), env.get("PYTHONPATH", "")) if p
            )
            try:
                done = subprocess.run(
                    command,
                    cwd=REPO,
                    env=env,
                    capture_output=True,
                    text=True,
                    timeout=self.plan.timeout_s,
                    check=False,
                )
            except subprocess.TimeoutExpired:
                r.memory = {"error": "timed out"}
                continue
            lines = done.stdout.strip().splitlines()
            if done.returncode == 0 and lines:
                r.memory = json.loads(lines[-1])
            else:
                tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
                r.memory = {"error": tail[:160]}


def filter_scenarios(
    scenarios: list[Scenario], patterns: list[str] | None, database: str | None = None
) -> list[Scenario]:
    """Scenarios matching any pattern (exact name, suite, or glob) and runnable on ``database``."""
    from fnmatch import fnmatchcase

    def wanted(s: Scenario) -> bool:
        if patterns is None:
            return True
        return any(p in (s.name, s.suite) or fnmatchcase(s.name, p) for p in patterns)

    return [s for s in scenarios if wanted(s) and (database is None or database in s.databases)]
