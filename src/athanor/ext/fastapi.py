"""FastAPI glue: a per-request session dependency made from a session factory.

``get_db = session_dependency(SessionLocal)`` gives what the per-request pattern spells out by
hand: a session opened for the request, committed when the route returns, rolled back when it
raises, and always closed so its connection goes back to the pool.  An ``async_sessionmaker``
gives an async dependency.  Nothing here imports FastAPI; use it with ``Depends(get_db)``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

from athanor.ext.asyncio.session import AsyncSession, async_sessionmaker


def session_dependency(
    factory: Callable[[], Any], *, commit: bool = True
) -> Callable[[], Iterator[Any]] | Callable[[], AsyncIterator[Any]]:
    """A FastAPI dependency yielding a session from ``factory`` for one request.

    With ``commit=True`` the session commits after the route returns without error; any error
    rolls it back.  Works with ``sessionmaker`` (a generator dependency, run in FastAPI's
    thread pool alongside sync routes) and ``async_sessionmaker`` (an async generator).
    """
    if isinstance(factory, async_sessionmaker) or (
        isinstance(factory, type) and issubclass(factory, AsyncSession)
    ):

        async def get_async_session() -> AsyncIterator[AsyncSession]:
            async with factory() as session:
                try:
                    yield session
                    if commit:
                        await session.commit()
                except BaseException:
                    await session.rollback()
                    raise

        return get_async_session

    def get_session() -> Iterator[Any]:
        session: Any = factory()
        try:
            yield session
            if commit:
                session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    return get_session
