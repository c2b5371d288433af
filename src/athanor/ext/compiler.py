"""Custom SQL constructs and compilation rules: ``@compiles(Element, "dialect")``.

A rule is a function ``fn(element, compiler, **kw) -> str`` registered for a class, for one or
more dialect names or (with none given) for every dialect.  It renders the class and its
subclasses: new ``ClauseElement``/``ColumnElement``/``FunctionElement``/``DDLElement``
subclasses, built-in constructs (``Select``, ``CreateTable``, ...) and types.  The
``compiler`` passed in renders sub-elements with ``compiler.process(child, **kw)``; a rule for
a built-in construct can call the original with ``compiler.visit_<name>(element, **kw)``.  A
dialect without a rule of its own uses the default rule, and without one, the construct's
usual compilation (if it has one).

A construct subclassing a built-in one is cached like its parent when it sets
``inherit_cache = True`` (its key then includes its class); otherwise statements containing
it are compiled on every execution, since its own attributes may change the SQL.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from athanor import exc
from athanor.sql import ddl
from athanor.sql.compiler import Compiled
from athanor.sql.dialect_names import dialect_names
from athanor.sql.elements import ClauseElement, KeyContext
from athanor.sql.types import TypeEngine

__all__ = ["compiles", "deregister"]

_F = TypeVar("_F", bound=Callable[..., str])

_counter = itertools.count(1)


class _Rules:
    """The rules registered for one construct class, and what it compiled as before."""

    def __init__(self, cls: type) -> None:
        self.cls = cls
        self.by_dialect: dict[str, Callable[..., str]] = {}
        self.own_visit_name: str | None = cls.__dict__.get("__visit_name__")
        self.replaced_key = "_ck" not in cls.__dict__ and not cls.__module__.startswith("athanor.")
        word = re.sub(r"\W", "_", cls.__name__)
        self.visit_name = f"compiles_{word}_{next(_counter)}"

    def dispatch(self, compiler: Any, element: Any, **kw: Any) -> str:
        by_dialect = self.by_dialect
        rule = next(
            (
                by_dialect[name]
                for name in (*dialect_names(compiler.dialect), "default")
                if name in by_dialect
            ),
            None,
        )
        if rule is not None:
            return rule(element, compiler, **kw)
        original = self.own_visit_name or _inherited_visit_name(self.cls)
        visit = getattr(compiler, f"visit_{original}", None) if original else None
        if visit is None:
            raise exc.UnsupportedCompilationError(
                f"{self.cls.__name__} has no compilation rule for the {compiler.dialect.name} "
                f"dialect: register one with @compiles({self.cls.__name__}, "
                f"{compiler.dialect.name!r}) or a default one with @compiles({self.cls.__name__})"
            )
        result: str = visit(element, **kw)
        return result


def _inherited_visit_name(cls: type) -> str | None:
    """The visit name ``cls`` inherits (its parent's, which may be a rule's own)."""
    for base in cls.__mro__[1:]:
        name: str | None = base.__dict__.get("__visit_name__")
        if name is not None:
            return name
    return None


_element_rules: dict[type, _Rules] = {}


def compiles(class_: type, *dialects: str) -> Callable[[_F], _F]:
    """Register the decorated ``fn(element, compiler, **kw)`` as the compilation of
    ``class_`` (a clause element, DDL element or type class) for ``dialects`` (names such as
    ``"postgresql"``), or for every dialect without a rule of its own when none are given."""
    if not isinstance(class_, type) or not issubclass(class_, (ClauseElement, TypeEngine)):
        raise exc.ArgumentError(
            f"@compiles() takes a ClauseElement or TypeEngine subclass, not {class_!r}"
        )
    names = dialects or ("default",)

    def decorate(fn: _F) -> _F:
        if issubclass(class_, TypeEngine):
            rules = ddl.type_rules.setdefault(class_, {})
            for name in names:
                rules[name] = fn
            return fn
        registered = _element_rules.get(class_)
        if registered is None:
            registered = _element_rules[class_] = _hook(class_)
        for name in names:
            registered.by_dialect[name] = fn
        return fn

    return decorate


def _hook(cls: type) -> _Rules:
    """Route compilation of ``cls`` through its rules: a visit name of its own, whose visit
    method every compiler inherits from :class:`Compiled`."""
    rules = _Rules(cls)

    def visit(compiler: Any, element: Any, **kw: Any) -> str:
        return rules.dispatch(compiler, element, **kw)

    setattr(Compiled, f"visit_{rules.visit_name}", visit)
    setattr(cls, "__visit_name__", rules.visit_name)  # noqa: B010
    if rules.replaced_key:
        setattr(cls, "_ck", _class_key(cls, getattr(cls, "_ck")))  # noqa: B009, B010
    return rules


def _class_key(cls: type, parent: Callable[[Any, KeyContext], Hashable]) -> Any:
    """The cache key of a user subclass of a built-in construct: its parent's key with the
    class added when it declares ``inherit_cache = True``; none (never cached) otherwise."""
    if not cls.__dict__.get("inherit_cache"):

        def uncached(self: Any, ctx: KeyContext) -> Hashable:
            raise NotImplementedError(
                f"{type(self).__name__} does not set inherit_cache = True; not cached"
            )

        return uncached
    if parent is ClauseElement._ck:

        def class_only(self: Any, ctx: KeyContext) -> Hashable:
            return (type(self),)

        return class_only

    def with_class(self: Any, ctx: KeyContext) -> Hashable:
        return (type(self), parent(self, ctx))

    return with_class


def deregister(class_: type) -> None:
    """Remove every ``@compiles`` rule of ``class_``: it compiles as it did before."""
    ddl.type_rules.pop(class_, None)
    rules = _element_rules.pop(class_, None)
    if rules is None:
        return
    delattr(Compiled, f"visit_{rules.visit_name}")
    if rules.own_visit_name is None:
        delattr(class_, "__visit_name__")
    else:
        setattr(class_, "__visit_name__", rules.own_visit_name)  # noqa: B010
    if rules.replaced_key:
        delattr(class_, "_ck")
