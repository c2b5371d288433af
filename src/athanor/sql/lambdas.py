"""``lambda_stmt()``: a statement built by a lambda, extended with ``stmt += lambda s: ...``.

``lambda_stmt(lambda: select(t).where(t.c.id == x))`` runs like the statement the lambda
returns; each ``+=`` adds a step ``lambda s: s.where(...)`` applied to it in order.  The
statement is built once per lambda statement object (values captured by the lambdas, such as
``x`` above, are bound parameters of it), and its SQL is cached by the statement's shape, so
lambdas of one code build one compiled form.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from typing import Any

from athanor import exc
from athanor.sql.elements import BindParameter, ClauseElement, Executable


class StatementLambdaElement(Executable):
    """A statement made by calling a lambda and then each added step on its result; it
    executes, compiles and prints as that statement."""

    __visit_name__ = "lambda_element"

    def __init__(self, fn: Callable[[], Any], steps: tuple[Callable[[Any], Any], ...] = ()):
        if not callable(fn):
            raise exc.ArgumentError(
                f"lambda_stmt() takes a callable returning a statement, not {fn!r}"
            )
        self._fn = fn
        self._steps = steps

    def _resolved(self) -> ClauseElement:
        """The statement the lambdas build (built on first use)."""
        built: ClauseElement | None = self.__dict__.get("_statement")
        if built is None:
            built = self._fn()
            for step in self._steps:
                built = step(built)
            if not isinstance(built, ClauseElement):
                raise exc.ArgumentError(
                    f"lambda_stmt(): the lambdas returned {built!r}, not a statement"
                )
            self.__dict__["_statement"] = built
        return built

    def __add__(self, other: Callable[[Any], Any]) -> StatementLambdaElement:
        """This statement with one more step ``lambda stmt: stmt.where(...)``."""
        if not callable(other):
            return NotImplemented
        return StatementLambdaElement(self._fn, (*self._steps, other))

    def add_criteria(self, other: Callable[[Any], Any], **kw: Any) -> StatementLambdaElement:
        """Same as ``self + other``."""
        return self + other

    def _generate_cache_key(self) -> tuple[Hashable, list[BindParameter]]:
        return self._resolved()._generate_cache_key()

    def _get_compile_plugin(self) -> Any:
        return self._resolved()._get_compile_plugin()

    @property
    def _execution_options(self) -> Mapping[str, Any]:  # type: ignore[override]
        return self._resolved()._execution_options

    @property
    def _bind_overrides(self) -> Mapping[str, Any]:  # type: ignore[override]
        return self._resolved()._bind_overrides

    @property
    def is_dml(self) -> bool:  # type: ignore[override]
        return self._resolved().is_dml

    @property
    def is_select(self) -> bool:  # type: ignore[override]
        return self._resolved().is_select

    @property
    def _from_objects(self) -> list[Any]:
        return self._resolved()._from_objects

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name in ("_fn", "_steps"):
            raise AttributeError(name)
        return getattr(self._resolved(), name)


def lambda_stmt(fn: Callable[[], Any], **kw: Any) -> StatementLambdaElement:
    """A statement built by ``fn()`` (``lambda: select(t).where(t.c.x == value)``), to which
    ``stmt += lambda s: s.where(...)`` adds criteria."""
    return StatementLambdaElement(fn)
