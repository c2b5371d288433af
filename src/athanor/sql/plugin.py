"""Compile plugins: statements that become Core SQL only when compiled (the ORM's hook).

A statement such as ``select(User)`` keeps ``User`` until it is compiled.  When the compiler
meets a statement with a plugin, it asks the plugin to *translate* it into a Core statement
plus a *plan* (for the ORM: which columns feed which mapper, which loaders run after), compiles
the Core statement and stores the plan on the compiled object (``compiled.plan``).  The
compiled object is cached under the original statement's cache key, so the translation runs
once per statement shape; later executions reach the plan as ``result.context.compiled.plan``.

How a statement gets a plugin:

- an element of a ``select()``'s columns clause, or the table of an insert/update/delete, has a
  ``_compile_plugin`` attribute (an ORM entity's ``__clause_element__()`` returns such an
  element), or
- ``statement._with_compile_plugin(plugin)`` sets one explicitly (it becomes part of the
  statement's cache key).

Rules for a plugin's :meth:`CompilePlugin.translate`: reuse the original statement's
``BindParameter`` objects (its WHERE criteria and so on) in the Core statement, so the cached
SQL reads each new statement's values; bound parameters the translation creates itself must be
constants of the shape.  Everything in the original statement that changes the SQL or the plan
must be part of its cache key (the elements' ``_ck``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple


class Translation(NamedTuple):
    """What a plugin turns a statement into: the Core statement to compile, its plan, and
    optionally what to do to each SELECT nested inside it (subqueries, EXISTS, CTEs), after
    that SELECT's own plugin (the ORM adds criteria its options ask for everywhere).  That
    function gets the SELECT and the FROM objects of the enclosing query it correlates to."""

    statement: Any
    plan: Any = None
    nested: Callable[[Any, Sequence[Any]], Any] | None = None


class CompilePlugin:
    """Base class of compile plugins; subclasses implement :meth:`translate`."""

    def translate(self, statement: Any, dialect: Any) -> Translation:
        """The Core statement (and the plan) ``statement`` stands for, for ``dialect``."""
        raise NotImplementedError

    def translate_nested(self, statement: Any, dialect: Any) -> Any:
        """The Core statement ``statement`` stands for inside another statement (a subquery,
        EXISTS or scalar select), where nothing is loaded from its rows."""
        return statement


def plugin_of(statement: Any) -> CompilePlugin | None:
    """The compile plugin a statement asks for, or None for a plain Core statement."""
    finder = getattr(statement, "_get_compile_plugin", None)
    if finder is None:
        return None
    found: CompilePlugin | None = finder()
    return found


__all__ = ["CompilePlugin", "Translation", "plugin_of"]
