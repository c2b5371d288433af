"""Cold starts: a burst of tasks on an async engine that has never connected, or was just
disposed, on every async driver; and a burst of threads on a fresh sync engine.

The first physical connection runs the dialect's initialisation (server version, default
isolation level), which awaits the server; every other connection of the burst must wait for
it without blocking the event loop, and must not see a half-initialised dialect.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from typing import Any

import pytest

import athanor
from athanor import event, text
from athanor.ext.asyncio import AsyncEngine, create_async_engine
from athanor.util.concurrency import await_only
from backends import Backend

BURST_DEADLINE = 120.0
"""Seconds a whole burst test may take (generous: the machine is shared)."""


def run_or_fail(main: Callable[[], Coroutine[Any, Any, Any]]) -> Any:
    """Run ``main()`` on a fresh loop in a daemon thread and fail if it does not finish.

    ``asyncio.timeout`` inside ``main`` catches a burst that waits forever; the thread join
    catches an event loop blocked outright (a thread lock taken on the loop's thread), which
    no asyncio timeout can interrupt.
    """
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = asyncio.run(main())
        except BaseException as error:
            outcome["error"] = error

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(BURST_DEADLINE + 30)
    if thread.is_alive():
        pytest.fail(f"the event loop was blocked for over {BURST_DEADLINE + 30:.0f} s")
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


def _watch_initialisation(engine: AsyncEngine) -> list[str]:
    """Record first_connect and connect events; first_connect awaits, holding its place.

    The pause inside ``first_connect`` gives every other task of the burst the chance to open
    its connection meanwhile: those must wait until initialisation is over.
    """
    log: list[str] = []

    @event.listens_for(engine.sync_engine, "first_connect")
    def first_connect(dbapi_connection: Any, record: Any) -> None:
        log.append("first_connect started")
        await_only(asyncio.sleep(0.05))
        log.append("first_connect done")

    @event.listens_for(engine.sync_engine, "connect")
    def connect(dbapi_connection: Any, record: Any) -> None:
        log.append("connect")

    return log


async def _burst(engine: AsyncEngine, tasks: int) -> list[Any]:
    async def one(i: int) -> Any:
        async with engine.connect() as conn:
            return await conn.scalar(text("SELECT :i + 0"), {"i": i})

    return await asyncio.gather(*(one(i) for i in range(tasks)))


@pytest.mark.usefixtures("async_driver")
@pytest.mark.parametrize("tasks", [2, 10, 100])
def test_burst_of_tasks_on_a_fresh_and_on_a_disposed_engine(backend: Backend, tasks: int) -> None:
    async def main() -> list[list[str]]:
        engine = create_async_engine(backend.async_url(), pool_timeout=BURST_DEADLINE)
        log = _watch_initialisation(engine)
        rounds: list[list[str]] = []
        try:
            async with asyncio.timeout(BURST_DEADLINE):
                for _ in ("fresh", "just disposed"):
                    del log[:]
                    assert await _burst(engine, tasks) == list(range(tasks))
                    rounds.append(list(log))
                    await engine.dispose()
            assert engine.dialect.server_version_info is not None or backend.is_sqlite
            assert engine.dialect.default_isolation_level is not None
        finally:
            await engine.dispose()
        return rounds

    rounds = run_or_fail(main)
    for log in rounds:
        # initialisation ran once, to completion, before any connection of the burst was
        # handed out (each connect event follows it)
        assert log[:2] == ["first_connect started", "first_connect done"]
        assert log.count("first_connect started") == 1
        assert set(log[2:]) == {"connect"}
        connects = len(log) - 2  # at least one, never more than the pool's 5 + 10 slots
        assert 0 < connects <= min(tasks, 15)


@pytest.mark.usefixtures("async_driver")
def test_cold_start_waiters_honour_timeouts_and_cancellation(backend: Backend) -> None:
    """Tasks queued behind a slow first connect can time out or be cancelled; the rest of the
    burst still completes and the engine stays usable."""

    async def main() -> tuple[int, list[Any]]:
        engine = create_async_engine(backend.async_url())
        started = asyncio.Event()
        release = asyncio.Event()

        @event.listens_for(engine.sync_engine, "first_connect")
        def slow(dbapi_connection: Any, record: Any) -> None:
            # initialisation lasts until the impatient tasks are done, however slow the
            # machine: their timeouts cannot race it
            started.set()
            await_only(asyncio.wait_for(release.wait(), BURST_DEADLINE))

        async def impatient() -> None:
            async with asyncio.timeout(0.1), engine.connect() as conn:
                await conn.scalar(text("SELECT 1"))

        try:
            async with asyncio.timeout(BURST_DEADLINE):
                patient = asyncio.ensure_future(_burst(engine, 5))
                await started.wait()
                outcomes = await asyncio.gather(
                    *(impatient() for _ in range(5)), return_exceptions=True
                )
                release.set()
                timed_out = sum(isinstance(o, TimeoutError) for o in outcomes)
                return timed_out, await patient
        finally:
            release.set()
            await engine.dispose()

    timed_out, results = run_or_fail(main)
    assert timed_out == 5
    assert results == list(range(5))


def test_burst_of_threads_on_a_fresh_sync_engine(backend: Backend) -> None:
    threads = 32
    engine = athanor.create_engine(backend.url, pool_size=4, max_overflow=4, pool_timeout=60)
    log: list[str] = []
    guard = threading.Lock()
    initialised = threading.Event()

    @event.listens_for(engine, "first_connect")
    def first_connect(dbapi_connection: Any, record: Any) -> None:
        with guard:
            log.append("first_connect started")
        initialised.wait(0.2)  # let the other threads reach their own connect meanwhile
        with guard:
            log.append("first_connect done")

    @event.listens_for(engine, "connect")
    def connect(dbapi_connection: Any, record: Any) -> None:
        with guard:
            log.append("connect")

    start = threading.Barrier(threads)
    results: list[Any] = [None] * threads
    errors: list[BaseException] = []

    def worker(index: int) -> None:
        start.wait()
        try:
            with engine.connect() as conn:
                results[index] = conn.scalar(text("SELECT :i + 0"), {"i": index})
        except BaseException as error:
            errors.append(error)

    workers = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(threads)]
    try:
        for thread in workers:
            thread.start()
        for thread in workers:
            thread.join(BURST_DEADLINE)
        assert not any(thread.is_alive() for thread in workers), "threads hung"
        assert errors == []
        assert results == list(range(threads))
        assert log[:2] == ["first_connect started", "first_connect done"]
        assert log.count("first_connect started") == 1
        assert set(log[2:]) == {"connect"}
        assert engine.dialect.default_isolation_level is not None
    finally:
        engine.dispose()
