"""``Bundle``: several columns selected as one named value (``select(Bundle("u", User.id, ...))``).

A bundle is a FROM-like element whose columns the SELECT lists in place; its own FROM objects
are those of its columns, so it never appears in the FROM clause itself.  Each result row
holds one value for it, a Row keyed by the column names (``row.u.id``); subclasses shape that
value by overriding :meth:`Bundle.create_row_processor`.  A bundle may hold bundles: its value
then holds theirs (``row.outer.inner.x``), and its ``c`` lists them by name
(``outer.c.inner.c.x``) while a SELECT lists their columns in place.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import Any, cast

from athanor.engine.result import ResultMetaData
from athanor.sql.elements import ColumnElement, KeyContext, coerce_column, coerce_operand
from athanor.sql.selectable import ColumnCollection, FromClause, describe_column

RowProcessor = Callable[[Sequence[Any]], Any]


class Bundle(FromClause):
    """A group of columns returned as one value per row, under ``name``."""

    __visit_name__ = "bundle"
    single_entity = False
    is_bundle = True

    def __init__(self, name: str, *exprs: Any, single_entity: bool = False) -> None:
        self.name = name
        # (an inheriting class's column attribute as select() takes it: marked with its class)
        self.exprs: tuple[ColumnElement | Bundle, ...] = tuple(
            e if isinstance(e, Bundle) else coerce_column(coerce_operand(e)) for e in exprs
        )
        if not self.exprs:
            raise ValueError(f"Bundle({name!r}) needs at least one column")
        self.single_entity = single_entity

    def _populate_columns(self) -> ColumnCollection:
        cols = ColumnCollection()
        for expr in self.exprs:
            if isinstance(expr, Bundle):
                # (held as a column is: the collection serves lookups by key, not SQL)
                cols.append(cast("ColumnElement", expr), str(expr.name))
            else:
                cols.append(expr, expr._proxy_name or f"col_{len(cols)}")
        return cols

    @property
    def _columns_in_place(self) -> list[ColumnElement]:
        return [
            c for e in self.exprs for c in (e._columns_in_place if isinstance(e, Bundle) else [e])
        ]

    @property
    def _from_objects(self) -> list[FromClause]:
        return [f for e in self.exprs for f in e._from_objects]

    @property
    def _compile_plugin(self) -> Any:
        """The compile plugin its columns ask for (those of an inheriting class, which keep
        the statement to that class's rows), as a select of the columns themselves would."""
        for from_ in self._from_objects:
            plugin = from_._compile_plugin
            if plugin is not None:
                return plugin
        return None

    def _ck(self, ctx: KeyContext) -> Hashable:
        return ("BUNDLE", type(self), self.name, tuple(e._ck(ctx) for e in self.exprs))

    def _describe(self) -> dict[str, Any]:
        """This bundle's entry in ``select(...).column_descriptions``: one for all its
        columns, of the entity its first column belongs to."""
        first = self._columns_in_place[0]
        return {
            "name": self.name,
            "type": type(self),
            "aliased": False,
            "expr": self,
            "entity": describe_column(str(self.name), first, None)["entity"],
        }

    def label(self, name: str) -> Bundle:
        """The same bundle under another name."""
        new = self._generate()
        new.name = name
        return new

    def _row_processor(self, query: Any, getters: Sequence[RowProcessor]) -> RowProcessor:
        """:meth:`create_row_processor` over one function per element of this bundle, from
        ``getters`` (one per column it selects): a bundle inside it gives its value."""
        procs: list[RowProcessor] = []
        labels: list[str] = []
        at = 0
        for expr in self.exprs:
            if isinstance(expr, Bundle):
                width = len(expr._columns_in_place)
                procs.append(expr._row_processor(query, getters[at : at + width]))
                labels.append(str(expr.name))
            else:
                width = 1
                procs.append(getters[at])
                labels.append(expr._proxy_name or f"col_{at}")
            at += width
        return self.create_row_processor(query, procs, labels)

    def create_row_processor(
        self, query: Any, procs: Sequence[RowProcessor], labels: Sequence[str]
    ) -> RowProcessor:
        """A function turning a result row into this bundle's value (a Row by default)."""
        make_row = ResultMetaData(labels).make_row

        def proc(row: Sequence[Any]) -> Any:
            return make_row([p(row) for p in procs])

        return proc

    def __repr__(self) -> str:
        return f"Bundle({self.name!r}, {', '.join(map(str, self.exprs))})"

    def __str__(self) -> str:
        return repr(self)


__all__ = ["Bundle"]
