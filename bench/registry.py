"""Scenarios, implementations and the context a scenario body runs in.

A scenario is one row of the result table: the same work done by every implementation. It has
a raw body (DBAPI driver directly) and one *library body* written once against the
SQLAlchemy 2.x API and run twice, with ``ctx.lib`` bound to athanor and to SQLAlchemy. ORM
scenarios are added the same way (a library body using ``ctx.lib.orm``), in the same suites.

A body is called untimed to prepare (connect, build data) and returns the callable the
runner times; that callable may return extra metrics (e.g. wait percentiles) as a dict.
Async scenarios use ``async def`` bodies returning an ``async def`` callable.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from types import ModuleType
from typing import Any

from bench.databases import Database

Metrics = dict[str, float] | None
Run = Callable[[], Metrics]
AsyncRun = Callable[[], Awaitable[Metrics]]
Body = Callable[["Ctx"], Run]
AsyncBody = Callable[["Ctx"], Awaitable[AsyncRun]]
AnyBody = Callable[["Ctx"], Any]  # a Body, or an AsyncBody in an is_async scenario

# What the customer table must hold before each timed run.
EMPTY = "empty"  # emptied before every run of every implementation
LOADED = "loaded"  # scale.load_rows rows with ids 1..n, shared by the runs
ANY = "any"  # the scenario does not touch the table


@dataclass(frozen=True)
class Scale:
    """How much work each scenario does."""

    name: str
    rows: int  # bulk insert
    load_rows: int  # rows in the table for the load and select scenarios
    selects: int
    single_inserts: int
    pool_cycles: int
    thread_cycles: int  # per thread in the contended pool scenario
    threads: int = 16
    pool_size: int = 4
    yield_per: int = 1000


QUICK = Scale("quick", 10_000, 10_000, 1_000, 1_000, 10_000, 100)
FULL = Scale("full", 100_000, 100_000, 10_000, 10_000, 100_000, 1_000)


def larger(scale: Scale) -> Scale:
    """``scale`` with the load and select scenarios on a 500,000-row table."""
    return replace(scale, name=f"{scale.name}+large", load_rows=500_000)


class Library:
    """athanor or SQLAlchemy, seen through the module names both share.

    ``sa`` is the top-level package (``create_engine``, ``select``, ``Table``...); the
    submodules load on first use so a missing one fails only the scenarios that need it.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.sa: ModuleType = importlib.import_module(name)

    def _sub(self, path: str) -> ModuleType:
        return importlib.import_module(f"{self.name}.{path}")

    @cached_property
    def pool(self) -> ModuleType:
        return self._sub("pool")

    @cached_property
    def asyncio(self) -> ModuleType:
        return self._sub("ext.asyncio")

    @cached_property
    def orm(self) -> ModuleType:
        return self._sub("orm")

    @property
    def version(self) -> str:
        return str(getattr(self.sa, "__version__", "?"))


@dataclass
class Implementation:
    """One column of the table: ``raw`` or a library."""

    name: str
    lib: Library | None = None
    error: str | None = None  # why the library could not even be imported

    @classmethod
    def load(cls, name: str) -> Implementation:
        if name == "raw":
            return cls(name)
        try:
            return cls(name, Library(name))
        except Exception as error:
            return cls(name, error=describe_error(error))


def describe_error(error: BaseException) -> str:
    """A one-line ``Type: message`` for the report."""
    text = str(error).strip().splitlines()
    first = text[0] if text else ""
    if len(first) > 160:
        first = first[:157] + "..."
    return f"{type(error).__name__}: {first}" if first else type(error).__name__


class Ctx:
    """What a body gets: the database, the implementation, the scale, and managed resources.

    Everything opened through the context is closed after the timed run, so bodies only say
    what they need.
    """

    def __init__(self, db: Database, impl: Implementation, scale: Scale) -> None:
        self.db = db
        self.impl = impl
        self.scale = scale
        self._cleanups: list[Callable[[], Any]] = []

    @property
    def lib(self) -> Library:
        if self.impl.lib is None:
            raise RuntimeError(f"{self.impl.name} has no library")
        return self.impl.lib

    def on_cleanup(self, fn: Callable[[], Any]) -> None:
        """Run ``fn`` (sync, or async returning an awaitable) after the timed run."""
        self._cleanups.append(fn)

    def raw_connection(self, *, threadsafe: bool = False) -> Any:
        conn = self.db.raw_connect(threadsafe=threadsafe)
        self.on_cleanup(conn.close)
        return conn

    async def async_raw_connection(self) -> Any:
        conn = await self.db.async_raw_connect()  # type: ignore[attr-defined]
        self.on_cleanup(conn.close)
        return conn

    def engine(self, **kwargs: Any) -> Any:
        """A library engine on this database, already connected once (dialect initialised)."""
        engine = self.lib.sa.create_engine(self.db.url, **kwargs)
        self.on_cleanup(engine.dispose)
        with engine.connect():
            pass
        return engine

    async def async_engine(self, **kwargs: Any) -> Any:
        engine = self.lib.asyncio.create_async_engine(self.db.async_url, **kwargs)
        self.on_cleanup(engine.dispose)
        async with engine.connect():
            pass
        return engine

    @cached_property
    def customer(self) -> Any:
        """The library's ``Table`` for ``customer(id, name, description)``."""
        sa = self.lib.sa
        return sa.Table(
            "customer",
            sa.MetaData(),
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("name", sa.String(255)),
            sa.Column("description", sa.String(255)),
        )

    def cleanup(self) -> None:
        while self._cleanups:
            result = self._cleanups.pop()()
            if inspect.isawaitable(result):
                raise RuntimeError("async cleanup in a sync scenario")

    async def acleanup(self) -> None:
        while self._cleanups:
            result = self._cleanups.pop()()
            if inspect.isawaitable(result):
                await result


@dataclass(frozen=True)
class Scenario:
    """One row of the result table.

    ``raw`` and ``lib`` are the bodies (see the module docstring); ``overrides`` replaces the
    body for one implementation by name when its API must differ. ``ops`` says how many
    operations one run does, for per-operation figures.
    """

    name: str
    suite: str
    doc: str
    ops: Callable[[Scale], int]
    data: str
    raw: AnyBody | None = None
    lib: AnyBody | None = None
    overrides: Mapping[str, AnyBody] = field(default_factory=dict)
    databases: tuple[str, ...] = ("sqlite", "postgresql", "mysql")
    is_async: bool = False
    memory: bool = False  # also measure peak memory, one subprocess per implementation
    # Upper bounds on ratios ("athanor/raw", "athanor/sqlalchemy"), one number or one per
    # database; DEFAULT_TARGETS apply to every scenario.
    targets: Mapping[str, float | Mapping[str, float]] = field(default_factory=dict)
    # Metrics (e.g. "p99_wait_us") where athanor's median must be below SQLAlchemy's.
    lower_metrics: tuple[str, ...] = ()
    # Upper bounds on athanor's median of a metric (e.g. "us_per_call": 1.0).
    metric_bounds: Mapping[str, float] = field(default_factory=dict)

    def body_for(self, impl: Implementation) -> AnyBody | None:
        if impl.name in self.overrides:
            return self.overrides[impl.name]
        return self.raw if impl.name == "raw" else self.lib

    def targets_for(self, database: str) -> dict[str, float]:
        """The ratio bounds that apply on ``database``."""
        bounds = dict(DEFAULT_TARGETS)
        for ratio, bound in self.targets.items():
            if isinstance(bound, Mapping):
                if database in bound:
                    bounds[ratio] = bound[database]
            else:
                bounds[ratio] = bound
        return bounds


DEFAULT_TARGETS = {"athanor/sqlalchemy": 1.0}  # issue 6: every athanor/SQLAlchemy below 1.0


SCENARIOS: dict[str, Scenario] = {}
SUITES = ("insert", "load", "select", "transaction", "pool", "async")


def register(scenario: Scenario) -> Scenario:
    if scenario.name in SCENARIOS:
        raise ValueError(f"scenario {scenario.name} registered twice")
    if scenario.suite not in SUITES:
        raise ValueError(f"unknown suite {scenario.suite}")
    SCENARIOS[scenario.name] = scenario
    return scenario


def all_scenarios() -> list[Scenario]:
    """Every registered scenario, in suite order then registration order."""
    import bench.scenarios  # noqa: F401  (registers the scenarios)

    order = {suite: i for i, suite in enumerate(SUITES)}
    return sorted(SCENARIOS.values(), key=lambda s: order[s.suite])
