"""The context of one ORM load, handed to the ``load`` and ``refresh`` instance events."""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from athanor.orm.session import Session
    from athanor.orm.state import InstanceState


class QueryContext:
    """What a listener of the ``load`` / ``refresh`` events may want to know about the query
    that is loading the object: its session, statement, execution options and parameters.

    One is made per execution that has such listeners; ``attributes`` is a dictionary the
    listeners may share state through for the duration of that load.
    """

    __slots__ = (
        "attributes",
        "execution_options",
        "identity_token",
        "params",
        "populate_existing",
        "query",
        "refresh_state",
        "session",
    )

    def __init__(
        self,
        session: Session,
        query: Any,
        execution_options: Mapping[str, Any] | None,
        params: Mapping[str, Any] | None,
        *,
        refresh_state: InstanceState | None = None,
    ) -> None:
        options = execution_options or {}
        self.session = session
        self.query = query
        """The statement being run (a ``select()``)."""
        self.execution_options: Mapping[str, Any] = options
        self.params: Mapping[str, Any] = params or {}
        self.populate_existing: bool = bool(options.get("populate_existing"))
        self.identity_token: Hashable = options.get("identity_token")
        self.refresh_state = refresh_state
        """The object being refreshed (by :meth:`Session.refresh` or an expired attribute
        loading), or None for a query that loads whatever rows it finds."""
        self.attributes: dict[Any, Any] = {}

    def __repr__(self) -> str:
        return f"<QueryContext for {type(self.query).__name__}>"
