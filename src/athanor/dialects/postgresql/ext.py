"""PostgreSQL expressions: ``array[...]`` literals, ``array_agg()``, ``aggregate_order_by``,
``hstore()`` and the ``Any``/``All`` comparisons."""

from __future__ import annotations

import typing
from collections.abc import Iterable
from typing import ClassVar

from athanor import exc
from athanor.dialects.postgresql.types import HSTORE, REGCONFIG, TSQUERY, TSVECTOR
from athanor.sql import operators
from athanor.sql import types as sqltypes
from athanor.sql.elements import (
    CacheAttrs,
    ColumnElement,
    _column_list,
    all_,
    any_,
    cast,
    coerce_bind,
    coerce_column,
    literal,
)
from athanor.sql.functions import Function, GenericFunction
from athanor.sql.schema import Constraint


class array(ColumnElement[list[typing.Any]]):  # noqa: N801 - SQLAlchemy's name
    """An array literal, ``ARRAY[a, b, c]`` (PostgreSQL); an empty one needs ``type_``
    (the element type) and renders ``ARRAY[]::type[]``."""

    __visit_name__ = "array"

    def __init__(self, clauses: Iterable[typing.Any], type_: typing.Any = None) -> None:
        items = list(clauses)
        item_type = sqltypes.to_instance(type_) if type_ is not None else None
        self.clauses = tuple(coerce_bind(c, None) for c in items)
        if item_type is None:
            if not self.clauses:
                raise exc.ArgumentError(
                    "An empty array() needs the element type: array([], type_=Integer)"
                )
            item_type = self.clauses[0].type
        else:
            self.clauses = tuple(
                c._typed_as(item_type) if hasattr(c, "_typed_as") else c for c in self.clauses
            )
        self.type = sqltypes.ARRAY(item_type)

    _cache_attrs: ClassVar[CacheAttrs] = (("clauses", "elements"), ("type", "type"))

    @property
    def _from_objects(self) -> list[typing.Any]:
        return [f for c in self.clauses for f in c._from_objects]


class aggregate_order_by(ColumnElement[typing.Any]):  # noqa: N801 - SQLAlchemy's name
    """``target ORDER BY order_by`` inside an aggregate's parentheses (PostgreSQL):
    ``func.array_agg(aggregate_order_by(t.c.a, t.c.b.desc()))``."""

    __visit_name__ = "aggregate_order_by"

    def __init__(self, target: typing.Any, *order_by: typing.Any) -> None:
        if not order_by:
            raise exc.ArgumentError("aggregate_order_by() needs at least one ORDER BY expression")
        self.target = coerce_column(target)
        self.order_by = _column_list(list(order_by))
        self.type = self.target.type

    _cache_attrs: ClassVar[CacheAttrs] = (("target", "element"), ("order_by", "elements"))

    @property
    def _from_objects(self) -> list[typing.Any]:
        return [*self.target._from_objects, *(f for c in self.order_by for f in c._from_objects)]


def array_agg(*args: typing.Any, type_: typing.Any = None) -> Function:
    """``array_agg(expr)`` typed as an ARRAY of ``expr``'s type (PostgreSQL)."""
    if type_ is None and args:
        type_ = sqltypes.ARRAY(coerce_column(args[0]).type)
    return Function("array_agg", *args, type_=type_)


def hstore(keys: typing.Any, values: typing.Any = None) -> Function:
    """``hstore(keys, values)`` (or ``hstore(text)``): build an HSTORE value in SQL."""
    args = (keys,) if values is None else (keys, values)
    return Function("hstore", *args, type_=HSTORE())


def _compare(other: typing.Any, aggregate: ColumnElement, operator: typing.Any) -> ColumnElement:
    left = coerce_bind(other, None)
    if isinstance(operator, operators.Operator):
        return left.operate(operator, aggregate)
    result: ColumnElement = operator(left, aggregate)
    return result


def any_of(
    other: typing.Any, arrexpr: typing.Any, operator: typing.Any = operators.eq
) -> ColumnElement:
    """``other <operator> ANY (arrexpr)`` (default ``=``); exported as ``Any``."""
    return _compare(other, any_(arrexpr), operator)


def all_of(
    other: typing.Any, arrexpr: typing.Any, operator: typing.Any = operators.eq
) -> ColumnElement:
    """``other <operator> ALL (arrexpr)`` (default ``=``); exported as ``All``."""
    return _compare(other, all_(arrexpr), operator)


Any = any_of
All = all_of


class ExcludeConstraint(Constraint):
    """``EXCLUDE USING gist (col WITH &&, ...)``: no two rows may have all these
    comparisons true (PostgreSQL); ``elements`` are ``(column or name, operator)`` pairs.

    ``using`` is the index method (``gist`` by default), ``where`` limits the rows checked;
    equality (``=``) on plain columns inside a gist constraint needs the ``btree_gist``
    extension."""

    __visit_name__ = "exclude_constraint"
    _convention_key = "excl"

    def __init__(
        self,
        *elements: tuple[typing.Any, str],
        name: str | None = None,
        deferrable: bool | None = None,
        initially: str | None = None,
        using: str = "gist",
        where: typing.Any = None,
        **kw: typing.Any,
    ) -> None:
        super().__init__(name=name, deferrable=deferrable, initially=initially, **kw)
        if not elements:
            raise exc.ArgumentError("ExcludeConstraint() needs (column, operator) pairs")
        for element in elements:
            if not (isinstance(element, tuple) and len(element) == 2):
                raise exc.ArgumentError(
                    f"ExcludeConstraint() takes (column, operator) pairs such as "
                    f"(table.c.during, '&&'), not {element!r}"
                )
        self.elements = elements
        self.using = using
        self.where = where

    def _resolved(self, table: typing.Any) -> list[tuple[typing.Any, str]]:
        """The pairs with column names looked up in ``table``."""
        resolved = []
        for target, operator in self.elements:
            if isinstance(target, str) and target not in table.c:
                raise exc.ArgumentError(
                    f"ExcludeConstraint names column {target!r}, which table "
                    f"{table.name!r} does not have"
                )
            resolved.append((table.c[target] if isinstance(target, str) else target, operator))
        return resolved


class _TextSearchFunction(GenericFunction):
    """A full-text search function whose optional first argument is the text search
    configuration (``'english'``), sent as ``REGCONFIG`` when it is given as a string."""

    def __init__(self, *args: typing.Any, type_: typing.Any = None) -> None:
        if self._config_given(args) and isinstance(args[0], str):
            args = (cast(literal(args[0]), REGCONFIG), *args[1:])
        super().__init__(*args, type_=type_)

    @staticmethod
    def _config_given(args: tuple[typing.Any, ...]) -> bool:
        """Whether the first of ``args`` is the configuration."""
        return len(args) > 1


class to_tsvector(_TextSearchFunction):  # noqa: N801 - SQLAlchemy's name
    """``to_tsvector([config,] document)``: a ``TSVECTOR``."""

    type = TSVECTOR()


class to_tsquery(_TextSearchFunction):  # noqa: N801 - SQLAlchemy's name
    """``to_tsquery([config,] query)``: a ``TSQUERY``."""

    type = TSQUERY()


class plainto_tsquery(_TextSearchFunction):  # noqa: N801 - SQLAlchemy's name
    """``plainto_tsquery([config,] text)``: a ``TSQUERY`` of the words, ANDed."""

    type = TSQUERY()


class phraseto_tsquery(_TextSearchFunction):  # noqa: N801 - SQLAlchemy's name
    """``phraseto_tsquery([config,] text)``: a ``TSQUERY`` of the words as a phrase."""

    type = TSQUERY()


class websearch_to_tsquery(_TextSearchFunction):  # noqa: N801 - SQLAlchemy's name
    """``websearch_to_tsquery([config,] text)``: a ``TSQUERY`` from web search syntax."""

    type = TSQUERY()


class ts_headline(_TextSearchFunction):  # noqa: N801 - SQLAlchemy's name
    """``ts_headline([config,] document, query [, options])``: the document with the
    matches marked, as text."""

    type = sqltypes.Text()

    @staticmethod
    def _config_given(args: tuple[typing.Any, ...]) -> bool:
        """Four arguments, or three of which the last is the query (not the options)."""
        return len(args) == 4 or (
            len(args) == 3 and isinstance(getattr(args[2], "type", None), TSQUERY)
        )
