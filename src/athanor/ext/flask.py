"""Flask glue: one session per application context, removed when the context ends.

``db = FlaskSession(app, SessionLocal)`` sets up the ``scoped_session`` +
``teardown_appcontext`` pattern: ``db.session`` is the current request's session, rolled back
and closed at teardown (or committed first with ``commit_on_success=True``), and the app's
JSON provider turns mapped objects returned from views into their loaded column values.
Flask is imported only when an app is set up.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from athanor.orm.base import MAPPER_KEY, instance_state
from athanor.orm.scoping import scoped_session


def _app_context_scope() -> int:
    from flask.globals import app_ctx

    return id(cast(Any, app_ctx)._get_current_object())


def mapped_to_dict(obj: Any) -> dict[str, Any]:
    """The loaded column attributes of a mapped object (what a JSON response should hold);
    unloaded and expired attributes are left out rather than loaded."""
    state = instance_state(obj)
    loaded = obj.__dict__
    return {key: loaded[key] for key in state.mapper._column_keys if key in loaded}


class FlaskSession:
    """A Flask extension giving each application context (each request) its own Session."""

    def __init__(
        self,
        app: Any = None,
        session_factory: Callable[[], Any] | None = None,
        *,
        commit_on_success: bool = False,
    ) -> None:
        self.session_factory = session_factory
        self.commit_on_success = commit_on_success
        self.session: scoped_session | None = None
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Any, session_factory: Callable[[], Any] | None = None) -> None:
        """Register the teardown on ``app`` and make its JSON provider accept mapped objects."""
        factory = session_factory or self.session_factory
        if factory is None:
            raise TypeError(
                "FlaskSession needs a session factory: FlaskSession(app, SessionLocal) or "
                "init_app(app, SessionLocal) with SessionLocal = sessionmaker(bind=engine)"
            )
        self.session = scoped_session(factory, scopefunc=_app_context_scope)
        app.extensions["athanor"] = self
        app.teardown_appcontext(self._teardown)
        fallback = app.json.default

        def default(o: Any) -> Any:
            if getattr(type(o), MAPPER_KEY, None) is not None:
                return mapped_to_dict(o)
            return fallback(o)

        app.json.default = default

    def _teardown(self, error: BaseException | None) -> None:
        registry = self.session
        if registry is None or not registry.has():
            return
        try:
            if error is None and self.commit_on_success:
                registry().commit()
        finally:
            registry.remove()
