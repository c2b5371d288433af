"""``async_scoped_session``: one AsyncSession per scope (typically per asyncio task)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from athanor import exc
from athanor.ext.asyncio.session import AsyncSession, async_sessionmaker


class async_scoped_session:  # noqa: N801 - SQLAlchemy's name
    """A registry of AsyncSessions keyed by ``scopefunc()`` (e.g. ``asyncio.current_task``),
    used like an AsyncSession; ``await registry.remove()`` closes the current scope's one."""

    def __init__(
        self,
        session_factory: async_sessionmaker | Callable[..., AsyncSession],
        scopefunc: Callable[[], Any],
    ) -> None:
        self.session_factory = session_factory
        self.scopefunc = scopefunc
        self._by_scope: dict[Any, AsyncSession] = {}

    def __call__(self, **kw: Any) -> AsyncSession:
        """The current scope's session (created on first use)."""
        scope = self.scopefunc()
        found = self._by_scope.get(scope)
        if found is None:
            found = self._by_scope[scope] = self.session_factory(**kw)
        elif kw:
            raise exc.InvalidRequestError(
                "Scoped session is already present; no new arguments may be specified"
            )
        return found

    def has(self) -> bool:
        """Whether the current scope has a session."""
        return self.scopefunc() in self._by_scope

    def set(self, session: AsyncSession) -> None:
        """Make ``session`` the current scope's session."""
        self._by_scope[self.scopefunc()] = session

    async def remove(self) -> None:
        """Close the current scope's session and forget it."""
        found = self._by_scope.pop(self.scopefunc(), None)
        if found is not None:
            await found.close()

    def configure(self, **kwargs: Any) -> None:
        """Change the factory's arguments (only before any scope has a session)."""
        if self.has():
            raise exc.InvalidRequestError(
                "Scoped session is already present; configure() the factory before first use"
            )
        if isinstance(self.session_factory, async_sessionmaker):
            self.session_factory.configure(**kwargs)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self(), name)
