"""The greenlet bridge: synchronous athanor code driving asyncio drivers.

The engine, pool and ORM are written once, synchronously.  ``greenlet_spawn(fn)`` runs ``fn``
in a child greenlet from inside a coroutine; whenever the synchronous code needs the result of
an awaitable (a driver call) it calls ``await_only(awaitable)``, which hands the awaitable to the
coroutine, lets the event loop await it, and resumes the synchronous code with its result or
exception.  No thread is involved, so contextvars and cancellation behave as in plain asyncio.
"""

from __future__ import annotations

import asyncio
import sys
import threading
from collections import deque
from collections.abc import Awaitable, Callable
from contextvars import Context, copy_context
from types import TracebackType
from typing import Any, Protocol, TypeVar

from athanor.exc import MissingGreenlet
from athanor.util.install import pip_install

try:
    import greenlet as _greenlet_module
except ImportError:  # pragma: no cover - exercised by monkeypatching in tests
    _greenlet_module = None

_T = TypeVar("_T")

GREENLET_MISSING_MESSAGE = (
    "athanor's asyncio support needs the 'greenlet' package, which is not installed; "
    f"install it with: {pip_install('asyncio')}"
)

MISSING_GREENLET_MESSAGE = (
    "a database call that must be awaited was made from plain synchronous code, outside "
    "athanor's async bridge (for example the sync API of an async engine used directly, or an "
    "attribute lazy-loading outside an await). What to do: use the awaitable API "
    "(await conn.execute(...)); run synchronous code with await conn.run_sync(fn) or "
    "await session.run_sync(fn); load relationships up front with selectinload(...) or "
    "await obj.awaitable_attrs.<name>; and make sure the 'asyncio' extra is installed "
    f"({pip_install('asyncio')})"
)


_DONE = object()
"""What a bridge greenlet switches to its parent when its call is over."""


if _greenlet_module is not None:
    getcurrent = _greenlet_module.getcurrent
    _GreenletExit = _greenlet_module.GreenletExit

    class _BridgeGreenlet(_greenlet_module.greenlet):  # type: ignore[misc]
        """A greenlet running synchronous code on behalf of a coroutine (its parent).

        It is reused: after each call it leaves the call's value (or error) in ``value`` /
        ``error``, switches :data:`_DONE` to its parent and waits for the next call (making a
        greenlet costs more than a whole switch round).  Nothing of a finished call stays
        referenced from its frame while it waits, so results can be garbage-collected.
        """

        value: Any = None
        error: BaseException | None = None

        def __init__(self) -> None:
            super().__init__(self._serve)

        def _serve(
            self, context: Context, fn: Callable[..., Any], args: tuple[Any, ...], kw: Any
        ) -> None:
            while True:
                try:
                    self.value = context.run(_call, fn, args, kw)
                except _GreenletExit:
                    raise  # the greenlet itself is being discarded
                except BaseException as error:
                    self.error = error
                    del error
                del context, fn, args, kw
                context, fn, args, kw = self.parent.switch(_DONE)

else:  # pragma: no cover - greenlet missing

    class _BridgeGreenlet:  # type: ignore[no-redef]
        """Placeholder so ``isinstance`` checks work when greenlet is not installed."""

    def getcurrent() -> Any:
        """Without greenlet there is no bridge to be inside of."""
        return None


def greenlet_available() -> bool:
    """Whether the greenlet package is importable (the ``asyncio`` extra is installed)."""
    return _greenlet_module is not None


def require_greenlet() -> None:
    """Raise an error naming the extra to install when greenlet is missing."""
    if _greenlet_module is None:
        raise ImportError(GREENLET_MISSING_MESSAGE)


def in_greenlet() -> bool:
    """True when running inside ``greenlet_spawn`` (``await_only`` will work here)."""
    return isinstance(getcurrent(), _BridgeGreenlet)


def await_only(awaitable: Awaitable[_T]) -> _T:
    """Wait for ``awaitable`` from synchronous code running under ``greenlet_spawn``.

    Outside the bridge this raises :class:`athanor.exc.MissingGreenlet` explaining what to do;
    the awaitable is closed so no "never awaited" warning follows.
    """
    current = getcurrent()
    if not isinstance(current, _BridgeGreenlet):
        close = getattr(awaitable, "close", None)
        if close is not None:
            close()
        raise MissingGreenlet(MISSING_GREENLET_MESSAGE)
    result: _T = current.parent.switch(awaitable)
    return result


def _call(fn: Callable[..., _T], args: tuple[Any, ...], kw: dict[str, Any]) -> _T:
    # A frame of our own near the base of the greenlet: code that inspects its callers with
    # sys._getframe(n) (the pool records checkout sites) finds frames there, not a dead end.
    return fn(*args, **kw)


_IDLE_LIMIT = 32
"""Idle bridge greenlets kept per thread for reuse."""

_idle = threading.local()


async def greenlet_spawn(fn: Callable[..., _T], *args: Any, **kw: Any) -> _T:
    """Run synchronous ``fn(*args, **kw)`` so that its ``await_only`` calls await here.

    Exceptions (including ``asyncio.CancelledError`` delivered to this task while a driver
    call is pending) are thrown into the synchronous code at the ``await_only`` that was
    waiting, so its ``try/finally`` and error handling run as they would in sync code.
    """
    if _greenlet_module is None:
        raise ImportError(GREENLET_MISSING_MESSAGE)
    try:
        idle: list[_BridgeGreenlet] = _idle.greenlets
    except AttributeError:
        idle = _idle.greenlets = []
    child = idle.pop() if idle else _BridgeGreenlet()
    child.parent = getcurrent()
    result: Any = child.switch(copy_context(), fn, args, kw)
    while result is not _DONE:
        if child.dead:  # killed by GreenletExit rather than finished: not reusable
            return result  # type: ignore[no-any-return]
        try:
            value = await result
        except BaseException:
            result = child.throw(*sys.exc_info())
        else:
            result = child.switch(value)
    value, error = child.value, child.error
    child.value = child.error = None
    if len(idle) < _IDLE_LIMIT:
        idle.append(child)
    if error is not None:
        try:
            raise error
        finally:
            del error
    return value  # type: ignore[no-any-return]


class _Waiter(Protocol):
    def wait(self) -> None: ...

    def wake(self) -> bool: ...


class _ThreadWaiter:
    """A thread parked on a lock of its own until the holder hands over."""

    __slots__ = ("_lock",)

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._lock.acquire()

    def wait(self) -> None:
        self._lock.acquire()

    def wake(self) -> bool:
        self._lock.release()
        return True


class _TaskWaiter:
    """A bridged task awaiting a future (from any thread, the hand-over resolves it)."""

    __slots__ = ("_future", "_loop")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._future: asyncio.Future[None] = loop.create_future()

    def wait(self) -> None:
        await_only(self._future)

    def wake(self) -> bool:
        try:
            self._loop.call_soon_threadsafe(self._resolve)
        except RuntimeError:  # the waiter's loop is closed: nobody is left to wake
            return False
        return True

    def _resolve(self) -> None:
        if not self._future.done():
            self._future.set_result(None)


class BridgeAwareLock:
    """A mutex for code that runs both in threads and in asyncio tasks through the bridge.

    A ``threading.Lock`` held across an ``await_only`` blocks the event loop's thread as soon
    as a second task of that loop asks for it, and then nothing can resume the holder.  Here
    a task waits by awaiting (so timeouts and cancellation work) and a thread by blocking;
    ``release`` hands the lock to the longest waiter directly.  Not re-entrant.
    """

    __slots__ = ("_locked", "_mutex", "_waiters")

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._locked = False
        self._waiters: deque[_Waiter] = deque()

    def acquire(self) -> None:
        """Take the lock, waiting in line (awaiting inside the bridge) while it is held."""
        with self._mutex:
            if not self._locked:
                self._locked = True
                return
            waiter = self._new_waiter()
            self._waiters.append(waiter)
        try:
            waiter.wait()
        except BaseException:
            with self._mutex:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)
                    raise
            self.release()  # interrupted just after the lock was handed over: pass it on
            raise

    @staticmethod
    def _new_waiter() -> _Waiter:
        if in_greenlet():
            try:
                return _TaskWaiter(asyncio.get_running_loop())
            except RuntimeError:  # a bridge driven by something other than asyncio
                pass
        return _ThreadWaiter()

    def release(self) -> None:
        """Hand the lock to the first waiter still reachable, or free it."""
        with self._mutex:
            while self._waiters:
                if self._waiters.popleft().wake():
                    return
            self._locked = False

    def locked(self) -> bool:
        """Whether someone holds the lock."""
        return self._locked

    def __enter__(self) -> None:
        self.acquire()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.release()
