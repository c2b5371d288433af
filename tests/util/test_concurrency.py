"""The greenlet bridge: sync code awaiting through greenlet_spawn / await_only."""

from __future__ import annotations

import asyncio
import contextvars
import gc
import pickle
import warnings
import weakref
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from athanor import exc
from athanor.util import concurrency
from athanor.util.concurrency import await_only, greenlet_spawn, in_greenlet

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="none")


async def _echo(value: Any, delay: float = 0) -> Any:
    await asyncio.sleep(delay)
    return value


async def _fail(message: str) -> None:
    await asyncio.sleep(0)
    raise ValueError(message)


def test_spawn_passes_arguments_and_returns_result() -> None:
    def add(a: int, b: int, *, scale: int) -> int:
        return (a + b) * scale

    assert asyncio.run(greenlet_spawn(add, 2, 3, scale=10)) == 50


def test_await_only_returns_awaited_values_in_order() -> None:
    def collect() -> list[Any]:
        return [await_only(_echo(i, 0.001)) for i in range(5)]

    assert asyncio.run(greenlet_spawn(collect)) == [0, 1, 2, 3, 4]


@given(st.lists(st.integers(), max_size=30))
def test_any_sequence_of_awaits_round_trips(values: list[int]) -> None:
    def collect() -> list[int]:
        return [await_only(_echo(v)) for v in values]

    assert asyncio.run(greenlet_spawn(collect)) == values


def test_awaitable_errors_raise_inside_sync_code() -> None:
    seen: list[str] = []

    def sync_code() -> str:
        try:
            await_only(_fail("boom"))
        except ValueError as error:
            seen.append(str(error))
        return "recovered"

    assert asyncio.run(greenlet_spawn(sync_code)) == "recovered"
    assert seen == ["boom"]


def test_sync_errors_propagate_to_the_awaiting_coroutine() -> None:
    def sync_code() -> None:
        await_only(_echo(1))
        raise KeyError("from sync")

    with pytest.raises(KeyError, match="from sync"):
        asyncio.run(greenlet_spawn(sync_code))


def test_in_greenlet() -> None:
    assert not in_greenlet()

    async def main() -> tuple[bool, bool]:
        return in_greenlet(), await greenlet_spawn(in_greenlet)

    assert asyncio.run(main()) == (False, True)


def test_await_only_outside_bridge_says_what_to_do() -> None:
    coroutine = _echo(1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(exc.MissingGreenlet) as raised:
            await_only(coroutine)
    message = str(raised.value)
    for hint in ("run_sync", "selectinload", "awaitable_attrs", "athanor-db[asyncio]"):
        assert hint in message
    assert coroutine.cr_frame is None, "the coroutine must be closed, not left unawaited"


def test_missing_greenlet_is_also_a_statement_error_and_pickles() -> None:
    """SQLAlchemy raises it bare or wrapped in a StatementError (driver-dependent); it is
    both, with its own ``orig`` and SQLAlchemy's code for it, and survives pickling."""
    with pytest.raises(exc.StatementError) as raised:
        await_only(_echo(1))
    error = raised.value
    assert isinstance(error, exc.MissingGreenlet)
    assert error.orig is error
    assert (error.code, error.statement, error.params) == ("xd2s", None, None)
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is exc.MissingGreenlet
    assert (str(copy), copy.orig, copy.code) == (str(error), copy, "xd2s")
    assert exc.AthanorError("plain").code is None
    assert exc.InvalidRequestError("coded", code="abc").code == "abc"


def test_await_only_from_plain_coroutine_is_refused() -> None:
    async def main() -> None:
        await_only(_echo(1))

    with pytest.raises(exc.MissingGreenlet):
        asyncio.run(main())


def test_cancellation_is_raised_at_the_pending_await_and_finally_runs() -> None:
    events: list[str] = []

    def sync_code() -> None:
        try:
            await_only(asyncio.sleep(10))
        except asyncio.CancelledError:
            events.append("cancelled inside")
            raise
        finally:
            events.append("finally")

    async def main() -> None:
        task = asyncio.ensure_future(greenlet_spawn(sync_code))
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert events == ["cancelled inside", "finally"]


def test_wait_for_timeout_reaches_sync_code() -> None:
    cleaned: list[bool] = []

    def slow() -> None:
        try:
            await_only(asyncio.sleep(5))
        finally:
            cleaned.append(True)

    async def main() -> None:
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(greenlet_spawn(slow), 0.02)

    asyncio.run(main())
    assert cleaned == [True]


def test_context_variables_are_visible_in_sync_code() -> None:
    async def main() -> str:
        request_id.set("abc")
        return await greenlet_spawn(request_id.get)

    assert asyncio.run(main()) == "abc"


def test_nested_spawn_through_await_only() -> None:
    def inner() -> int:
        return int(await_only(_echo(20)))

    def outer() -> int:
        return int(await_only(greenlet_spawn(inner))) + 1

    assert asyncio.run(greenlet_spawn(outer)) == 21


def test_many_tasks_interleave() -> None:
    def worker(n: int) -> int:
        total = 0
        for i in range(10):
            total += await_only(_echo(i, 0.0005 * (n % 3)))
        return total + n

    async def main() -> list[int]:
        return await asyncio.gather(*(greenlet_spawn(worker, n) for n in range(50)))

    assert asyncio.run(main()) == [45 + n for n in range(50)]


def test_missing_greenlet_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(concurrency, "_greenlet_module", None)
    assert not concurrency.greenlet_available()
    with pytest.raises(ImportError, match=r"athanor-db\[asyncio\]"):
        concurrency.require_greenlet()

    async def main() -> None:
        await greenlet_spawn(int)

    with pytest.raises(ImportError, match="greenlet"):
        asyncio.run(main())


def test_create_async_engine_without_greenlet_names_the_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from athanor.ext.asyncio import create_async_engine

    monkeypatch.setattr(concurrency, "_greenlet_module", None)
    with pytest.raises(ImportError, match=r"pip install 'athanor-db\[asyncio\]'"):
        create_async_engine("sqlite+aiosqlite://")


def test_bridge_aware_lock_serialises_tasks_without_blocking_the_loop() -> None:
    lock = concurrency.BridgeAwareLock()
    inside: list[int] = []
    overlaps: list[int] = []
    ticks: list[int] = []

    def critical(i: int) -> None:
        with lock:
            if inside:
                overlaps.append(i)
            inside.append(i)
            await_only(asyncio.sleep(0.01))
            inside.remove(i)

    async def ticker() -> None:
        for n in range(5):
            ticks.append(n)
            await asyncio.sleep(0.005)

    async def main() -> None:
        async with asyncio.timeout(30):
            await asyncio.gather(ticker(), *(greenlet_spawn(critical, i) for i in range(10)))

    asyncio.run(main())
    assert overlaps == []
    assert ticks == [0, 1, 2, 3, 4]  # the loop kept running while tasks queued for the lock
    assert not lock.locked()


def test_bridge_aware_lock_is_shared_by_threads_and_tasks() -> None:
    import threading

    lock = concurrency.BridgeAwareLock()
    order: list[str] = []
    lock.acquire()  # held by this thread while a task and another thread queue up

    def in_task() -> None:
        with lock:
            order.append("task")

    def in_thread() -> None:
        with lock:
            order.append("thread")

    loop_thread = threading.Thread(target=lambda: asyncio.run(greenlet_spawn(in_task)))
    loop_thread.start()
    while not lock._waiters:
        threading.Event().wait(0.001)
    other = threading.Thread(target=in_thread)
    other.start()
    while len(lock._waiters) < 2:
        threading.Event().wait(0.001)
    lock.release()
    loop_thread.join(30)
    other.join(30)
    assert order == ["task", "thread"]  # handed over in arrival order
    assert not lock.locked()


def test_bridge_aware_lock_waiter_cancelled_after_hand_over_passes_it_on() -> None:
    lock = concurrency.BridgeAwareLock()
    got: list[str] = []

    def take(name: str) -> None:
        with lock:
            got.append(name)

    async def main() -> None:
        lock.acquire()
        first = asyncio.ensure_future(greenlet_spawn(take, "cancelled"))
        second = asyncio.ensure_future(greenlet_spawn(take, "second"))
        await asyncio.sleep(0.01)
        lock.release()  # hands the lock to the first waiter, then it is cancelled
        first.cancel()
        async with asyncio.timeout(30):
            await asyncio.gather(first, second, return_exceptions=True)
        assert first.cancelled()

    asyncio.run(main())
    assert got == ["second"]
    assert not lock.locked()


def test_bridge_greenlets_are_reused_and_keep_nothing_of_a_finished_call() -> None:
    class Payload:
        pass

    def make() -> tuple[Any, Payload]:
        request_id.set("set inside")
        return concurrency.getcurrent(), Payload()

    async def main() -> None:
        first, payload = await greenlet_spawn(make)
        alive = weakref.ref(payload)
        del payload
        gc.collect()
        assert alive() is None  # neither the parked greenlet nor its frame holds the result
        with pytest.raises(ValueError, match="boom"):
            await greenlet_spawn(_raise_boom)
        second, _ = await greenlet_spawn(make)
        assert second is first  # parked after each call, then reused
        assert request_id.get() == "none"  # each call ran in a copy of the caller's context

    asyncio.run(main())


def _raise_boom() -> None:
    raise ValueError("boom")
