"""SQL criteria evaluated in Python against loaded objects (``synchronize_session="evaluate"``).

``update(User).where(User.age > 30).values(age=User.age + 1)`` must also change the ``User``
objects already in the session.  :func:`evaluator` turns the WHERE clause (or a SET value)
into a function of an object's ``__dict__``, following SQL's three-valued logic (None for
NULL / unknown).  Constructs that can't be evaluated faithfully in Python raise
:class:`UnevaluatableError`; a criterion that needs an unloaded attribute raises
:class:`UnloadedAttribute` when called, so the caller can expire that object instead.
"""

from __future__ import annotations

import operator as py_op
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from athanor import exc as sa_exc
from athanor.sql import operators
from athanor.sql.elements import (
    BinaryExpression,
    BindParameter,
    BooleanClauseList,
    ClauseElement,
    ClauseList,
    ColumnClause,
    False_,
    Grouping,
    Null,
    True_,
    UnaryExpression,
)

if TYPE_CHECKING:
    from athanor.orm.mapper import Mapper

Evaluator = Callable[[Mapping[str, Any]], Any]


class UnevaluatableError(sa_exc.InvalidRequestError):
    """A SQL construct has no Python equivalent here."""


class UnloadedAttribute(Exception):
    """The object lacks the loaded value of an attribute the expression needs."""


_COMPARISONS: dict[Any, Callable[[Any, Any], Any]] = {
    operators.eq: py_op.eq,
    operators.ne: py_op.ne,
    operators.lt: py_op.lt,
    operators.le: py_op.le,
    operators.gt: py_op.gt,
    operators.ge: py_op.ge,
    operators.add: py_op.add,
    operators.sub: py_op.sub,
    operators.mul: py_op.mul,
    operators.truediv: py_op.truediv,
    operators.mod: py_op.mod,
    operators.concat_op: py_op.add,
}


_IDENTITY_OPS = (
    operators.is_,
    operators.is_not,
    operators.is_distinct_from,
    operators.is_not_distinct_from,
)


def evaluator(mapper: Mapper, element: ClauseElement, params: Mapping[str, Any]) -> Evaluator:
    """A Python function of an object's ``__dict__`` computing ``element`` as SQL would."""
    if isinstance(element, Grouping):
        return evaluator(mapper, element.element, params)
    if isinstance(element, ColumnClause):
        return _attribute(mapper, element)
    column = getattr(element, "marked_column", None)
    if column is not None:  # Manager.name in Manager.name == "x" (see SubclassColumn)
        return evaluator(mapper, column, params)
    if isinstance(element, BindParameter):
        value = element.effective_value
        if not element.unique and element.key in params:
            value = params[element.key]
        return lambda d: value
    if isinstance(element, Null):
        return lambda d: None
    if isinstance(element, True_ | False_):
        constant = isinstance(element, True_)
        return lambda d: constant
    if isinstance(element, BooleanClauseList):
        return _boolean(mapper, element, params)
    if isinstance(element, UnaryExpression) and element.modifier is None:
        return _unary(mapper, element, params)
    if isinstance(element, BinaryExpression) and not element.modifiers:
        return _binary(mapper, element, params)
    raise UnevaluatableError(f"Cannot evaluate {type(element).__name__} ({element}) in Python")


def _attribute(mapper: Mapper, column: ColumnClause) -> Evaluator:
    key = mapper._col_to_key.get(column)
    if key is None:
        raise UnevaluatableError(
            f"Cannot evaluate column {column} in Python: it is not a column of "
            f"{mapper.class_.__name__}"
        )

    def get(d: Mapping[str, Any]) -> Any:
        try:
            return d[key]
        except KeyError:
            raise UnloadedAttribute(key) from None

    return get


def _boolean(mapper: Mapper, element: BooleanClauseList, params: Mapping[str, Any]) -> Evaluator:
    parts = [evaluator(mapper, c, params) for c in element.clauses]
    decisive = element.operator is operators.or_

    def combine(d: Mapping[str, Any]) -> Any:
        unknown = False
        for part in parts:
            value = part(d)
            if value is None:
                unknown = True
            elif bool(value) is decisive:
                return decisive
        return None if unknown else not decisive

    return combine


def _unary(mapper: Mapper, element: UnaryExpression, params: Mapping[str, Any]) -> Evaluator:
    inner = evaluator(mapper, element.element, params)
    if element.operator is operators.inv:
        return lambda d: None if (v := inner(d)) is None else not v
    if element.operator is operators.neg:
        return lambda d: None if (v := inner(d)) is None else -v
    raise UnevaluatableError(f"Cannot evaluate operator {element.operator} in Python")


def _values(mapper: Mapper, element: Any, params: Mapping[str, Any]) -> Evaluator:
    """The evaluator of the right side of IN / BETWEEN: a list of values."""
    if isinstance(element, Grouping):
        element = element.element
    if isinstance(element, BindParameter) and element.expanding:
        values = evaluator(mapper, element, params)
        return lambda d: list(values(d) or ())
    if isinstance(element, ClauseList):
        items = [evaluator(mapper, c, params) for c in element.clauses]
        return lambda d: [item(d) for item in items]
    raise UnevaluatableError(f"Cannot evaluate {element} as a list of values in Python")


def _binary(mapper: Mapper, element: BinaryExpression, params: Mapping[str, Any]) -> Evaluator:
    op = element.operator
    left = evaluator(mapper, element.left, params)
    if op is operators.in_op or op is operators.not_in_op:
        choices = _values(mapper, element.right, params)
        wanted = op is operators.in_op

        def in_(d: Mapping[str, Any]) -> Any:
            value = left(d)
            if value is None:
                return None
            return (value in choices(d)) is wanted

        return in_
    if op is operators.between_op or op is operators.not_between_op:
        bounds = _values(mapper, element.right, params)
        inside = op is operators.between_op

        def between(d: Mapping[str, Any]) -> Any:
            value = left(d)
            low, high = bounds(d)
            if value is None or low is None or high is None:
                return None
            return (low <= value <= high) is inside

        return between
    right = evaluator(mapper, element.right, params)
    if op in _IDENTITY_OPS:
        negate = op is operators.is_not or op is operators.is_distinct_from

        def same(d: Mapping[str, Any]) -> bool:
            a = left(d)
            b = right(d)
            equal = a is b if a is None or b is None else bool(a == b)
            return equal != negate

        return same
    function = _COMPARISONS.get(op)
    if function is None:
        raise UnevaluatableError(f"Cannot evaluate operator {op} in Python")

    def apply(d: Mapping[str, Any]) -> Any:
        a = left(d)
        b = right(d)
        if a is None or b is None:
            return None
        return function(a, b)

    return apply


__all__ = ["UnevaluatableError", "UnloadedAttribute", "evaluator"]
