"""``hybrid_property`` and ``hybrid_method``: one definition for Python and SQL.

On an instance the function runs on the object's values; on the class it runs on the
class-level attributes and so builds a SQL expression (or the ``.expression`` variant is used
where Python and SQL need different code).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

from athanor.sql.elements import ColumnElement, ColumnOperators

_T = TypeVar("_T")

HYBRID_PROPERTY = "HYBRID_PROPERTY"
HYBRID_METHOD = "HYBRID_METHOD"


class hybrid_method(Generic[_T]):  # noqa: N801 - SQLAlchemy's name
    """A method usable on instances (Python) and on the class (SQL expression)."""

    is_attribute = True
    extension_type = HYBRID_METHOD

    def __init__(self, func: Callable[..., Any], expr: Callable[..., Any] | None = None) -> None:
        self.func = func
        self.expr = expr or func
        self.__doc__ = func.__doc__

    def __get__(self, instance: Any, owner: Any) -> Any:
        if instance is None:
            return self.expr.__get__(owner, owner.__class__)
        return self.func.__get__(instance, owner)

    def expression(self, expr: Callable[..., Any]) -> hybrid_method[_T]:
        """Use ``expr`` on the class instead of the instance-level function."""
        self.expr = _plain(expr)
        return self

    @property
    def inplace(self) -> hybrid_method[_T]:
        return self


class hybrid_property(Generic[_T]):  # noqa: N801 - SQLAlchemy's name
    """A property usable on instances (Python value) and on the class (SQL expression)."""

    is_attribute = True
    extension_type = HYBRID_PROPERTY

    def __init__(
        self,
        fget: Callable[[Any], Any],
        fset: Callable[[Any, Any], None] | None = None,
        fdel: Callable[[Any], None] | None = None,
        expr: Callable[[Any], Any] | None = None,
        custom_comparator: Any = None,
        update_expr: Callable[[Any, Any], Any] | None = None,
    ) -> None:
        self.fget = fget
        self.fset = fset
        self.fdel = fdel
        self.expr = expr
        self.custom_comparator = custom_comparator
        self.update_expr = update_expr
        self.__doc__ = fget.__doc__
        self.__name__ = getattr(fget, "__name__", "hybrid")

    def __set_name__(self, owner: Any, name: str) -> None:
        # The first name: ``.inplace`` decorators bind the same hybrid to other names after.
        if not self.__dict__.get("_named"):
            self.__name__ = name
            self._named = True

    def __get__(self, instance: Any, owner: Any) -> Any:
        if instance is None:
            if self.custom_comparator is not None:
                found = self.custom_comparator(owner)
            elif self.expr is not None:
                found = self.expr(owner)
            else:
                found = self.fget(owner)
            if self.custom_comparator is not None:
                return _HybridComparison(found, self, owner)
            return _HybridExpression(found, self, owner)
        return self.fget(instance)

    def __set__(self, instance: Any, value: Any) -> None:
        if self.fset is None:
            raise AttributeError(f"can't set attribute {self.__name__!r}")
        self.fset(instance, value)

    def __delete__(self, instance: Any) -> None:
        if self.fdel is None:
            raise AttributeError(f"can't delete attribute {self.__name__!r}")
        self.fdel(instance)

    def _copy(self, **kw: Any) -> hybrid_property[_T]:
        values = {
            "fget": self.fget,
            "fset": self.fset,
            "fdel": self.fdel,
            "expr": self.expr,
            "custom_comparator": self.custom_comparator,
            "update_expr": self.update_expr,
        }
        values.update({key: _plain(value) for key, value in kw.items()})
        new = hybrid_property[_T](**values)
        new.__name__ = self.__name__
        return new

    def getter(self, fget: Callable[[Any], Any]) -> hybrid_property[_T]:
        return self._copy(fget=fget)

    def setter(self, fset: Callable[[Any, Any], None]) -> hybrid_property[_T]:
        """Add a setter (``@name.setter``)."""
        return self._copy(fset=fset)

    def deleter(self, fdel: Callable[[Any], None]) -> hybrid_property[_T]:
        return self._copy(fdel=fdel)

    def expression(self, expr: Callable[[Any], Any]) -> hybrid_property[_T]:
        """Use ``expr(cls)`` for the class-level (SQL) form (``@name.expression``)."""
        return self._copy(expr=expr)

    def comparator(self, comparator: Any) -> hybrid_property[_T]:
        return self._copy(custom_comparator=comparator)

    def update_expression(self, meth: Callable[[Any, Any], Any]) -> hybrid_property[_T]:
        return self._copy(update_expr=meth)

    @property
    def overrides(self) -> hybrid_property[_T]:
        """This hybrid, for a subclass to redefine a part of it (``@Base.attr.overrides
        .expression`` makes a copy with the subclass's expression)."""
        return self

    @property
    def inplace(self) -> _InPlace[_T]:
        """Modify this hybrid in place (``@name.inplace.setter``), for typing tools."""
        return _InPlace(self)


class _InPlace(Generic[_T]):
    def __init__(self, attr: hybrid_property[_T]) -> None:
        self.attr = attr

    def _set(self, **kw: Any) -> hybrid_property[_T]:
        for key, value in kw.items():
            setattr(self.attr, key, _plain(value))
        return self.attr

    def getter(self, fget: Callable[[Any], Any]) -> hybrid_property[_T]:
        return self._set(fget=fget)

    def setter(self, fset: Callable[[Any, Any], None]) -> hybrid_property[_T]:
        return self._set(fset=fset)

    def deleter(self, fdel: Callable[[Any], None]) -> hybrid_property[_T]:
        return self._set(fdel=fdel)

    def expression(self, expr: Callable[[Any], Any]) -> hybrid_property[_T]:
        return self._set(expr=expr)

    def comparator(self, comparator: Any) -> hybrid_property[_T]:
        return self._set(custom_comparator=comparator)

    def update_expression(self, meth: Callable[[Any, Any], Any]) -> hybrid_property[_T]:
        return self._set(update_expr=meth)


class Comparator(ColumnOperators, Generic[_T]):
    """Base for custom hybrid comparators (``@name.comparator``): the operators a subclass
    does not redefine (or all of them, through its own ``operate()``) apply to
    ``expression``."""

    __hash__ = object.__hash__

    def __init__(self, expression: Any) -> None:
        self.expression = expression

    def __clause_element__(self) -> Any:
        expression = self.expression
        inner = getattr(expression, "__clause_element__", None)
        return expression if inner is None else inner()

    def operate(self, op: Any, *other: Any, **kwargs: Any) -> ColumnElement:
        result: ColumnElement = op(self.__clause_element__(), *other, **kwargs)
        return result

    def reverse_operate(self, op: Any, other: Any, **kwargs: Any) -> ColumnElement:
        result: ColumnElement = op(other, self.__clause_element__(), **kwargs)
        return result


class _HybridAccess:
    """What every class-level form of a hybrid has: selected under the hybrid's name, and
    turned by ``update(...).values({Cls.hybrid: value})`` into the column values its
    ``update_expression`` gives."""

    __hash__ = object.__hash__

    def __init__(self, expression: Any, hybrid: hybrid_property[Any], owner: Any) -> None:
        self._expression = expression
        self._selected_name = hybrid.__name__
        self._update_expr = hybrid.update_expr
        self._owner = owner
        self.overrides = hybrid
        """The hybrid itself, for a subclass to redefine a part of it
        (``@Base.attr.overrides.expression``)."""

    def __clause_element__(self) -> Any:
        inner = getattr(self._expression, "__clause_element__", None)
        return self._expression if inner is None else inner()

    def _bulk_update_tuples(self, value: Any) -> list[tuple[Any, Any]]:
        if self._update_expr is None:
            # Without an update expression, the hybrid's expression must be the column.
            return [(self.__clause_element__(), value)]
        return list(self._update_expr(self._owner, value))


class _HybridExpression(_HybridAccess, ColumnOperators):
    """The class-level form of a hybrid: its SQL expression."""

    __hash__ = object.__hash__

    def operate(self, op: Any, *other: Any, **kwargs: Any) -> ColumnElement:
        result: ColumnElement = op(self.__clause_element__(), *other, **kwargs)
        return result

    def reverse_operate(self, op: Any, other: Any, **kwargs: Any) -> ColumnElement:
        result: ColumnElement = op(other, self.__clause_element__(), **kwargs)
        return result

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.__clause_element__(), name)


class _HybridComparison(_HybridAccess):
    """The class-level form of a hybrid with a custom comparator: Python operators and
    methods are the comparator's own (a redefined ``__eq__`` applies), while the form stays
    hashable, as ``update().values()`` keys need."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self._expression, name)


def _forward_operator(name: str) -> Callable[..., Any]:
    def forward(self: _HybridComparison, *args: Any) -> Any:
        return getattr(self._expression, name)(*args)

    forward.__name__ = name
    return forward


# The Python operators ColumnOperators gives SQL meaning to.
for _name in (
    *("__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__"),
    *("__neg__", "__invert__", "__and__", "__or__", "__getitem__"),
    *(f"__{op}__" for op in ("add", "sub", "mul", "truediv", "floordiv", "mod")),
    *(f"__r{op}__" for op in ("add", "sub", "mul", "truediv", "floordiv", "mod")),
):
    setattr(_HybridComparison, _name, _forward_operator(_name))


def _plain(fn: Any) -> Any:
    """The function of ``fn``, which may be given as a ``@classmethod`` (the documented
    spelling of ``.inplace.expression`` and friends, for typing tools)."""
    return fn.__func__ if isinstance(fn, classmethod | staticmethod) else fn
