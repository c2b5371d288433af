"""``scoped_session``: one Session per thread (or per scope), reached through a proxy."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from athanor import exc as sa_exc
from athanor.orm.session import Session, sessionmaker


class scoped_session:  # noqa: N801 - SQLAlchemy's name
    """A registry of sessions keyed by thread (or ``scopefunc()``), used like a Session."""

    def __init__(
        self,
        session_factory: sessionmaker | Callable[[], Session],
        scopefunc: Callable[[], Any] | None = None,
    ) -> None:
        self.session_factory = session_factory
        self._scopefunc = scopefunc
        self._local = threading.local()
        self._by_scope: dict[Any, Session] = {}

    def __call__(self, **kw: Any) -> Session:
        """The current scope's session (created on first use)."""
        if self._scopefunc is not None:
            scope = self._scopefunc()
            found = self._by_scope.get(scope)
            if found is None:
                found = self._by_scope[scope] = self.session_factory(**kw)
            elif kw:
                raise sa_exc.InvalidRequestError(
                    "Scoped session is already present; no new arguments may be specified"
                )
            return found
        found = getattr(self._local, "session", None)
        if found is None:
            found = self._local.session = self.session_factory(**kw)
        elif kw:
            raise sa_exc.InvalidRequestError(
                "Scoped session is already present; no new arguments may be specified"
            )
        return found

    @property
    def registry(self) -> scoped_session:
        return self

    def has(self) -> bool:
        """Whether the current scope has a session."""
        if self._scopefunc is not None:
            return self._scopefunc() in self._by_scope
        return getattr(self._local, "session", None) is not None

    def set(self, session: Session) -> None:
        if self._scopefunc is not None:
            self._by_scope[self._scopefunc()] = session
        else:
            self._local.session = session

    def remove(self) -> None:
        """Close the current scope's session and forget it."""
        if self._scopefunc is not None:
            found = self._by_scope.pop(self._scopefunc(), None)
        else:
            found = getattr(self._local, "session", None)
            self._local.session = None
        if found is not None:
            found.close()

    def configure(self, **kwargs: Any) -> None:
        if self.has():
            raise sa_exc.InvalidRequestError(
                "Scoped session is already present; configure() the factory before first use"
            )
        if isinstance(self.session_factory, sessionmaker):
            self.session_factory.configure(**kwargs)

    def query_property(self, query_cls: Any = None) -> Any:
        registry = self

        class _QueryProperty:
            def __get__(self, instance: Any, owner: type) -> Any:
                return registry().query(owner)

        return _QueryProperty()

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self(), name)
