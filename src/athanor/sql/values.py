"""``values()``: rows of values as a FROM object, ``(VALUES (1, 'a'), (2, 'b')) AS name``.

``values(column("id", Integer), column("name", String), name="v").data([(1, "a"), (2, "b")])``
is selected from like a table (``select(v.c.id)``), joined, or compared against with
``scalar_values()`` (``x IN (VALUES (1), (2))``).  Each database gets the form it accepts: a
VALUES list with named columns on PostgreSQL, the VALUES columns renamed by a SELECT on SQLite,
a UNION ALL of one-row SELECTs on MySQL and MariaDB (see the compilers' ``values_from``).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any, ClassVar

from athanor import exc
from athanor.sql.elements import (
    BindParameter,
    CacheAttrs,
    ColumnClause,
    ColumnElement,
    KeyContext,
)
from athanor.sql.selectable import Alias, ColumnCollection, _named_types_key

Rows = tuple[tuple[BindParameter, ...], ...]


def _rows_key(rows: Rows, ctx: KeyContext) -> Hashable:
    return tuple(tuple(b._ck(ctx) for b in row) for row in rows)


def _literal_rows_key(rows: Rows, ctx: KeyContext) -> Hashable:
    # Values rendered inline are part of the SQL, so of its key (an unhashable value makes
    # the statement uncached rather than wrong).
    return tuple(tuple(b.value for b in row) for row in rows)


class Values(Alias):
    """Rows of values usable as a FROM object; built by :func:`values`."""

    __visit_name__ = "values"

    def __init__(
        self, *columns: ColumnClause, name: str | None = None, literal_binds: bool = False
    ) -> None:
        super().__init__(None, name)
        for col in columns:
            if not isinstance(col, ColumnClause):
                raise exc.ArgumentError(f"values() takes column('name', Type) objects, not {col!r}")
        self._column_args = tuple(columns)
        self.literal_binds = literal_binds
        self._rows: Rows = ()

    @property
    def _key_rows(self) -> Rows:
        return () if self.literal_binds else self._rows

    @property
    def _literal_rows(self) -> Rows:
        return self._rows if self.literal_binds else ()

    _cache_attrs: ClassVar[CacheAttrs] = (
        ("name", "plain"),
        ("_column_args", _named_types_key),
        ("literal_binds", "plain"),
        ("_key_rows", _rows_key),
        ("_literal_rows", _literal_rows_key),
    )

    def get_children(self) -> list[Any]:
        return [b for row in self._rows for b in row]

    def _populate_columns(self) -> ColumnCollection:
        cols = ColumnCollection()
        for arg in self._column_args:
            cols.add(ColumnClause(arg.name, arg.type, _selectable=self), arg.name)
        return cols

    def data(self, rows: Sequence[Sequence[Any]]) -> Values:
        """A copy with ``rows`` (tuples, one value per column) added to its rows."""
        width = len(self._column_args)
        added = []
        for row in rows:
            if isinstance(row, str | bytes) or len(row) != width:
                raise exc.ArgumentError(
                    f"values() row {row!r} does not have one value for each of the "
                    f"{width} columns ({', '.join(c.name for c in self._column_args)})"
                )
            added.append(
                tuple(
                    BindParameter(col.name, value, col.type, unique=True)
                    for col, value in zip(self._column_args, row, strict=True)
                )
            )
        new = self._generate()
        new.__dict__.pop("_columns", None)
        new._root = new
        new._rows = self._rows + tuple(added)
        return new

    def alias(self, name: str | None = None, flat: bool = False) -> Values:
        """A copy named ``name`` (anonymous when None)."""
        new = self._generate()
        new.__dict__.pop("_columns", None)
        new._root = new
        new.name = name
        return new

    def scalar_values(self) -> ScalarValues:
        """These rows as an expression: ``x IN (VALUES (1), (2))``."""
        return ScalarValues(self)


class ScalarValues(ColumnElement):
    """``(VALUES (...), ...)`` used as an expression, the right side of ``IN``."""

    __visit_name__ = "scalar_values"

    def __init__(self, values: Values) -> None:
        self.values = values
        self.type = values._column_args[0].type if len(values._column_args) == 1 else self.type

    _cache_attrs: ClassVar[CacheAttrs] = (("values", "element"),)


def values(*columns: ColumnClause, name: str | None = None, literal_binds: bool = False) -> Values:
    """A VALUES list with these columns (``column("id", Integer)``); add rows with
    :meth:`Values.data`.  ``literal_binds=True`` renders the values inline in the SQL."""
    return Values(*columns, name=name, literal_binds=literal_binds)
