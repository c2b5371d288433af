"""FROM-clause objects and SELECT statements.

Tables, joins, aliases, subqueries and CTEs are :class:`FromClause` objects with a ``.c``
collection of columns; :class:`Select` and :class:`CompoundSelect` build queries from them.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from typing import Any, ClassVar, Final, Generic, NamedTuple, Self, TypeVar, overload
from weakref import WeakValueDictionary

from athanor import exc
from athanor.sql import elements, operators
from athanor.sql import types as sqltypes
from athanor.sql.elements import (
    BinaryExpression,
    BindParameter,
    CacheAttrs,
    ClauseElement,
    ColumnClause,
    ColumnElement,
    Executable,
    KeyContext,
    Label,
    TextClause,
    TextColumn,
    UnaryExpression,
    and_,
    coerce_column,
    coerce_element,
    coerce_where,
    literal_column,
    new_key_epoch,
)
from athanor.sql.operators import Operator
from athanor.util.typevars import TP

identity_memos: WeakValueDictionary[int, Any] = WeakValueDictionary()
"""Compiled-statement caches (by ``id()``) that also find statements by identity (with a
``by_statement`` dict, the engine's): a table gaining a column empties those dicts, so a
statement run before recompiles under its new cache key instead of reusing SQL that lacks
the column, at no cost to the lookups themselves."""


def columns_changed(table: FromClause) -> None:
    """Record that ``table`` gained or replaced a column, so that statements built or run
    before compile again with it (under a new cache key) instead of reusing SQL without it."""
    table._column_version += 1
    if table._being_built:
        return  # no statement can have used it yet
    new_key_epoch()
    for memo in list(identity_memos.values()):
        memo.by_statement.clear()


_S = TypeVar("_S", bound="ClauseElement")
T0 = TypeVar("T0")
T1 = TypeVar("T1")
T2 = TypeVar("T2")
T3 = TypeVar("T3")
T4 = TypeVar("T4")
T5 = TypeVar("T5")


class TypedReturnsRows(ClauseElement, Generic[TP]):
    """A statement whose rows have the tuple type ``TP`` for type checkers: executing it
    gives a ``CursorResult[TP]``."""


class ForUpdate(NamedTuple):
    """The options of ``with_for_update()``."""

    nowait: bool
    read: bool
    skip_locked: bool
    key_share: bool
    of_cols: tuple[ColumnElement, ...]
    of_tables: tuple[FromClause, ...]


LABEL_STYLE_NONE = 0
LABEL_STYLE_TABLENAME_PLUS_COL = 1
LABEL_STYLE_DISAMBIGUATE_ONLY = 2
LABEL_STYLE_DEFAULT = LABEL_STYLE_DISAMBIGUATE_ONLY


def describe_column(name: str, col: ColumnElement, origin: Any) -> dict[str, Any]:
    """The ``column_descriptions`` entry of result column ``col`` (selected as ``origin``)."""
    from_ = next(iter(col._from_objects), None)
    # The columns of an ORM alias belong to the alias's entity, which describes what it hands
    # out; expressions over a mapped table's columns to its class's (a column of the table
    # selected as itself is a Core column of no entity).
    owner = getattr(from_, "_aliased_entity", None)
    if owner is None and not (origin is col and getattr(col, "table", None) is from_):
        owner = getattr(from_, "_mapped_entity", from_)
    describe_owned = getattr(owner, "_describe_column", None)
    if describe_owned is not None:
        return describe_owned(name, col)  # type: ignore[no-any-return]
    entity = getattr(from_, "entity_namespace", None)
    return {
        "name": name,
        "type": col.type,
        "aliased": isinstance(entity, type) and isinstance(from_, Alias),
        "expr": col,
        "entity": entity if isinstance(entity, type) else None,
    }


class ColumnCollection:
    """An ordered collection of columns, reachable by key (``t.c.name``, ``t.c["name"]``).

    Columns whose key is a plain identifier are also stored as instance attributes, so
    ``t.c.name`` is an ordinary attribute lookup.
    """

    def __init__(self, items: Iterable[tuple[str, ColumnElement]] = ()) -> None:
        self._list: list[tuple[str, ColumnElement]] = []
        self._index: dict[str, ColumnElement] = {}
        for key, col in items:
            self.add(col, key)

    def add(self, column: ColumnElement, key: str | None = None) -> None:
        """Append ``column`` under ``key`` (its ``.key`` by default); a key appears once."""
        key = key if key is not None else column.key
        if key is None:
            raise exc.ArgumentError(f"Column {column!r} has no key")
        if key in self._index:
            self._list = [(k, column if k == key else c) for k, c in self._list]
        else:
            self._list.append((key, column))
        self._index[key] = column
        self._publish(key, column)

    def append(self, column: ColumnElement, key: str) -> None:
        """Append ``column`` under ``key`` even when the key is taken (a result may repeat a
        name); the key then finds the first column under it."""
        if key in self._index:
            self._list.append((key, column))
        else:
            self.add(column, key)

    def _publish(self, key: str, column: ColumnElement) -> None:
        if key.isidentifier() and not hasattr(type(self), key) and not key.startswith("_"):
            self.__dict__[key] = column

    def remove(self, column: ColumnElement) -> None:
        """Remove ``column``."""
        for key, col in self._list:
            if col is column:
                self.__dict__.pop(key, None)
        self._list = [(k, c) for k, c in self._list if c is not column]
        self._index = dict(self._list)

    def __getattr__(self, key: str) -> ColumnElement:
        if key.startswith("__") or key in ("_index", "_list"):
            raise AttributeError(key)
        try:
            return self._index[key]
        except KeyError:
            raise AttributeError(key) from None

    def __getitem__(self, key: str | int | slice | tuple[Any, ...]) -> Any:
        if isinstance(key, str):
            return self._index[key]
        if isinstance(key, int):
            return self._list[key][1]
        if isinstance(key, slice):
            return ColumnCollection(self._list[key])
        return ColumnCollection((k, self[k]) for k in key)

    def get(self, key: str, default: Any = None) -> Any:
        """The column under ``key``, or ``default``."""
        return self._index.get(key, default)

    def __contains__(self, item: object) -> bool:
        if isinstance(item, str):
            return item in self._index
        return any(c is item for _, c in self._list)

    def contains_column(self, column: ColumnElement) -> bool:
        """Whether ``column`` itself is in the collection."""
        return any(c is column for _, c in self._list)

    def __iter__(self) -> Iterator[Any]:
        return iter([c for _, c in self._list])

    def __len__(self) -> int:
        return len(self._list)

    def __bool__(self) -> bool:
        return bool(self._list)

    def keys(self) -> list[str]:
        """Column keys in order."""
        return [k for k, _ in self._list]

    def values(self) -> list[Any]:
        """Columns in order."""
        return [c for _, c in self._list]

    def items(self) -> list[tuple[str, Any]]:
        """``(key, column)`` pairs in order."""
        return list(self._list)

    def as_readonly(self) -> ColumnCollection:
        return self

    def __repr__(self) -> str:
        return f"ColumnCollection({', '.join(self.keys())})"


def _base_column(col: ColumnElement) -> ColumnElement:
    while isinstance(col, ColumnClause) and col._proxied is not None:
        col = col._proxied
    return col


def _named_types_key(columns: Sequence[ColumnClause], ctx: KeyContext) -> Hashable:
    return tuple((c.name, c.type._ck) for c in columns)


class FromClause(ClauseElement):
    """Something that can appear in FROM: a table, join, alias, subquery or CTE."""

    __visit_name__ = "fromclause"
    is_selectable = True
    _stable_identity: ClassVar[bool] = False
    _column_version = 0
    """Bumped by each column added to a table, so compiled statements of its earlier
    column list are not reused for the new one."""
    _being_built = False
    """True while the constructor adds the first columns (see :func:`columns_changed`)."""
    named_with_column: ClassVar[bool] = False
    name: str | None = None
    schema: str | None = None

    @property
    def c(self) -> ColumnCollection:
        """The columns of this FROM object."""
        cols: ColumnCollection | None = self.__dict__.get("_columns")
        if cols is None:
            cols = self.__dict__["_columns"] = self._populate_columns()
        return cols

    @property
    def columns(self) -> ColumnCollection:
        return self.c

    @property
    def _columns_in_place(self) -> list[ColumnElement]:
        """The columns a SELECT lists for this element: those of ``c`` (an ORM bundle, whose
        ``c`` holds the bundles inside it, lists their columns instead)."""
        return list(self.c)

    def _populate_columns(self) -> ColumnCollection:
        return ColumnCollection()

    @property
    def primary_key(self) -> list[ColumnElement]:
        """The primary key columns."""
        return [c for c in self.c if c.primary_key]

    @property
    def foreign_keys(self) -> list[Any]:
        """Foreign keys of the columns."""
        return [fk for c in self.c for fk in _base_column(c).foreign_keys]

    @property
    def _from_objects(self) -> list[FromClause]:
        return [self]

    @property
    def _hide_froms(self) -> list[FromClause]:
        """FROM objects this one replaces (a join hides its two sides)."""
        return []

    @property
    def _tables(self) -> list[FromClause]:
        """The individual tables/aliases/subqueries making up this FROM object."""
        return [self]

    def _ck_ref(self, ctx: KeyContext) -> Hashable:
        if self._stable_identity:
            return (self, self._column_version)
        return ctx.ref(self, self._ck_def)

    def _ck_def(self, ctx: KeyContext) -> Hashable:
        raise NotImplementedError

    def _ck(self, ctx: KeyContext) -> Hashable:
        return self._ck_ref(ctx)

    def corresponding_column(self, column: ColumnElement) -> ColumnElement | None:
        """The column of this FROM that is, or derives from, ``column``."""
        target = _base_column(column)
        for col in self.c:
            if col is column:
                return col
        for col in self.c:
            if _base_column(col) is target:
                found: ColumnElement = col
                return found
        return None

    def join(
        self, right: Any, onclause: Any = None, isouter: bool = False, full: bool = False
    ) -> Join:
        """``self JOIN right ON onclause`` (ON inferred from foreign keys when omitted)."""
        return Join(self, right, onclause, isouter=isouter, full=full)

    def outerjoin(self, right: Any, onclause: Any = None, full: bool = False) -> Join:
        """``self LEFT OUTER JOIN right``."""
        return Join(self, right, onclause, isouter=True, full=full)

    def alias(self, name: str | None = None, flat: bool = False) -> Alias:
        """This FROM object under another name (``AS name``)."""
        return Alias(self, name)

    def select(self) -> Select:
        """``SELECT * FROM self``."""
        return Select(self)

    def subquery(self, name: str | None = None) -> Alias:
        return self.alias(name)

    def tablesample(self, sampling: Any, name: str | None = None, seed: Any = None) -> Alias:
        """This table sampled: see :func:`tablesample`."""
        return TableSample(self, sampling, name, seed)

    def self_group(self, against: Operator | None = None) -> ClauseElement:
        return self


class TableClause(FromClause):
    """A table known by name and columns only (``table("t", column("a"))``)."""

    __visit_name__ = "table"
    _stable_identity = True
    named_with_column = True

    name: str

    def __init__(self, name: str, *columns: ColumnClause, schema: str | None = None) -> None:
        self.name = name
        self.schema = schema
        self.__dict__["_columns"] = ColumnCollection()
        self._being_built = True
        for col in columns:
            self.append_column(col)
        del self._being_built

    def append_column(self, column: ColumnClause) -> None:
        """Add ``column`` to this table."""
        column.table = self
        self.c.add(column)
        columns_changed(self)

    @property
    def fullname(self) -> str:
        return f"{self.schema}.{self.name}" if self.schema else self.name

    @property
    def description(self) -> str:
        return self.name

    def insert(self) -> Any:
        """``INSERT INTO self``."""
        from athanor.sql.dml import Insert

        return Insert(self)

    def update(self) -> Any:
        """``UPDATE self``."""
        from athanor.sql.dml import Update

        return Update(self)

    def delete(self) -> Any:
        """``DELETE FROM self``."""
        from athanor.sql.dml import Delete

        return Delete(self)

    def __repr__(self) -> str:
        return f"table({self.fullname!r})"


def table(name: str, *columns: ColumnClause, schema: str | None = None) -> TableClause:
    """A lightweight table for statements, without MetaData."""
    return TableClause(name, *columns, schema=schema)


class Join(FromClause):
    """``left [LEFT OUTER | FULL OUTER] JOIN right ON onclause``."""

    __visit_name__ = "join"

    def __init__(
        self,
        left: Any,
        right: Any,
        onclause: Any = None,
        isouter: bool = False,
        full: bool = False,
    ) -> None:
        self.left = _coerce_from(left)
        self.right = _coerce_from(right)
        self.onclause = (
            coerce_where(onclause)
            if onclause is not None
            else join_condition(self.left, self.right)
        )
        self.isouter = isouter
        self.full = full

    _cache_attrs: ClassVar[CacheAttrs] = (
        ("left", "element"),
        ("right", "element"),
        ("onclause", "element"),
        ("isouter", "plain"),
        ("full", "plain"),
    )

    def _ck(self, ctx: KeyContext) -> Hashable:
        return self._ck_def(ctx)

    def _populate_columns(self) -> ColumnCollection:
        cols = ColumnCollection()
        for side in (self.left, self.right):
            for col in side.c:
                prefix = getattr(getattr(col, "table", None), "name", None)
                cols.add(col, f"{prefix}_{col.key}" if prefix else col.key)
        return cols

    @property
    def _hide_froms(self) -> list[FromClause]:
        found: list[FromClause] = []
        for side in (self.left, self.right):
            found.append(side)
            found.extend(side._hide_froms)
        return found

    @property
    def _tables(self) -> list[FromClause]:
        return self.left._tables + self.right._tables

    def __repr__(self) -> str:
        return f"<Join {self.left!r} {self.right!r}>"


def join(
    left: Any, right: Any, onclause: Any = None, isouter: bool = False, full: bool = False
) -> Join:
    """``left JOIN right``."""
    return Join(left, right, onclause, isouter=isouter, full=full)


def outerjoin(left: Any, right: Any, onclause: Any = None, full: bool = False) -> Join:
    """``left LEFT OUTER JOIN right``."""
    return Join(left, right, onclause, isouter=True, full=full)


def _coerce_from(value: Any) -> FromClause:
    element = coerce_element(value)
    if isinstance(element, FromClause):
        return element
    if isinstance(element, Select):
        raise exc.ArgumentError(
            "A select() cannot be used directly as a FROM object; call .subquery() on it first"
        )
    raise exc.ArgumentError(f"Expected a table, alias, subquery or join; got {value!r}")


def _fk_pairs(
    referencing: FromClause, referenced: FromClause
) -> dict[Any, list[tuple[ColumnElement, ColumnElement]]]:
    """Foreign keys of ``referencing`` pointing into ``referenced``, grouped by constraint."""
    pairs: dict[Any, list[tuple[ColumnElement, ColumnElement]]] = {}
    for col in referencing.c:
        for fk in _base_column(col).foreign_keys:
            try:
                target = fk.column
            except exc.NoReferenceError:
                continue
            found = referenced.corresponding_column(target)
            if found is not None:
                pairs.setdefault(fk.constraint or fk, []).append((found, col))
    return pairs


def _describe(from_: FromClause) -> str:
    return repr(getattr(from_, "name", None) or from_)


def join_condition(left: FromClause, right: FromClause) -> ColumnElement:
    """The ON clause joining ``left`` and ``right`` through their foreign keys."""
    candidates = list(reversed(left._tables)) if isinstance(left, Join) else [left]
    for part in candidates:
        pairs = _fk_pairs(right, part) or _fk_pairs(part, right)
        if not pairs:
            continue
        if len(pairs) > 1:
            raise exc.AmbiguousForeignKeysError(
                f"Can't determine the join between {_describe(part)} and {_describe(right)}: "
                f"there are {len(pairs)} foreign key paths between them; "
                "pass the ON clause explicitly, e.g. a.join(b, a.c.x == b.c.y)"
            )
        (columns,) = pairs.values()
        return and_(*[a == b for a, b in columns])
    names = " / ".join(_describe(p) for p in candidates)
    raise exc.NoForeignKeysError(
        f"Can't find any foreign key relationship between {names} and {_describe(right)}; "
        "add a ForeignKey to one of the tables or pass the ON clause explicitly, "
        "e.g. a.join(b, a.c.x == b.c.y)"
    )


class Alias(FromClause):
    """A FROM object under another name: ``element AS name``."""

    __visit_name__ = "alias"
    named_with_column = True

    def __init__(self, element: Any, name: str | None = None) -> None:
        self.element = element
        self.name = name
        self._root: Alias = self

    @property
    def original(self) -> Any:
        return self.element

    _cache_attrs: ClassVar[CacheAttrs] = (("name", "plain"), ("element", "element"))

    def _populate_columns(self) -> ColumnCollection:
        cols = ColumnCollection()
        element = self.element
        if isinstance(element, FromClause):
            for col in element.c:
                assert isinstance(col, ColumnClause)
                cols.add(col._make_proxy(self), col.key)
        else:
            for key, _, outer, col in _selected_names(element):
                proxy = ColumnClause(outer, col.type, _selectable=self)
                proxy.key = key
                proxy._proxied = col
                proxy.primary_key = getattr(col, "primary_key", False)
                cols.add(proxy, key)
        return cols

    @property
    def _tables(self) -> list[FromClause]:
        return [self]

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name or '(anonymous)'}>"


class Subquery(Alias):
    """A SELECT in FROM: ``(SELECT ...) AS name``."""

    __visit_name__ = "subquery"

    def alias(self, name: str | None = None, flat: bool = False) -> Subquery:
        """The same SELECT in FROM once more, under another name (not an alias of an alias,
        which SQL has no syntax for)."""
        return type(self)(self.element, name)


class Lateral(Subquery):
    """``LATERAL (SELECT ...) AS name``: its SELECT correlates to the FROM objects beside it."""

    __visit_name__ = "lateral"


class TableValuedAlias(Alias):
    """A table-valued function in FROM: ``json_each(x) AS anon_1`` with named columns.

    ``render_derived()`` names the columns after the alias (``AS anon_1(value, ordinality)``),
    which PostgreSQL needs for functions returning scalars, such as ``generate_series``.
    """

    __visit_name__ = "table_valued_alias"

    def __init__(
        self,
        element: Any,
        columns: Sequence[ColumnClause],
        name: str | None = None,
        with_ordinality: str | None = None,
        render_derived: bool = False,
        with_types: bool = False,
        is_lateral: bool = False,
    ) -> None:
        super().__init__(element, name)
        self._column_args = tuple(columns)
        self.with_ordinality = with_ordinality
        self.render_derived_columns = render_derived
        self.with_types = with_types
        self.is_lateral = is_lateral

    def _populate_columns(self) -> ColumnCollection:
        cols = ColumnCollection()
        for arg in self._column_args:
            col = ColumnClause(arg.name, arg.type, _selectable=self)
            cols.add(col, arg.name)
        if self.with_ordinality:
            cols.add(
                ColumnClause(self.with_ordinality, sqltypes.INTEGERTYPE, _selectable=self),
                self.with_ordinality,
            )
        if not self._column_args:
            # No columns named: the function's value itself, as ``.column`` selects it.
            value = self.column
            cols.add(value, value._proxy_name)
        return cols

    _cache_attrs: ClassVar[CacheAttrs] = (
        ("name", "plain"),
        ("element", "element"),
        ("_column_args", _named_types_key),
        ("with_ordinality", "plain"),
        ("render_derived_columns", "plain"),
        ("with_types", "plain"),
        ("is_lateral", "plain"),
    )

    def _copy(self, name: str | None, **changes: Any) -> TableValuedAlias:
        options = {
            "with_ordinality": self.with_ordinality,
            "render_derived": self.render_derived_columns,
            "with_types": self.with_types,
            "is_lateral": self.is_lateral,
            **changes,
        }
        return TableValuedAlias(self.element, self._column_args, name, **options)

    def render_derived(self, name: str | None = None, with_types: bool = False) -> Any:
        """A copy that names its columns after the alias: ``AS name(col, ...)``."""
        name = name if name is not None else self.name
        return self._copy(name, render_derived=True, with_types=with_types)

    def alias(self, name: str | None = None, flat: bool = False) -> Any:
        """A copy under the name ``name``."""
        return self._copy(name)

    def lateral(self, name: str | None = None) -> TableValuedAlias:
        """A copy written ``LATERAL fn(...) AS name``, whose arguments may refer to the FROM
        objects before it (PostgreSQL, MySQL 8; SQLite's table-valued functions do so
        without the keyword)."""
        return self._copy(name if name is not None else self.name, is_lateral=True)

    @property
    def column(self) -> ColumnElement:
        """The alias itself as a column (a function returning scalars: ``SELECT anon_1``)."""
        return TableValuedColumn(self)


class TableValuedColumn(ColumnElement):
    """A table-valued function's single result, selected by the alias name (``column_valued``)."""

    __visit_name__ = "table_valued_column"

    def __init__(self, scalar_alias: TableValuedAlias) -> None:
        self.scalar_alias = scalar_alias
        self.type = scalar_alias.element.type

    @property
    def _proxy_name(self) -> str | None:
        return self.scalar_alias.name or self.scalar_alias.element.name

    _cache_attrs: ClassVar[CacheAttrs] = (("scalar_alias", "element"),)

    @property
    def _from_objects(self) -> list[FromClause]:
        return [self.scalar_alias]


class CTE(Alias):
    """A common table expression: ``WITH name AS (SELECT ...)``."""

    __visit_name__ = "cte"

    def __init__(
        self,
        element: Any,
        name: str | None = None,
        recursive: bool = False,
        nesting: bool = False,
    ) -> None:
        super().__init__(element, name)
        self.recursive = recursive

    _cache_attrs: ClassVar[CacheAttrs] = (
        ("name", "plain"),
        ("element", "element"),
        ("recursive", "plain"),
    )

    def _compound(self, keyword: str, other: Any) -> CTE:
        new = CTE(CompoundSelect(keyword, self.element, other), self.name, recursive=self.recursive)
        new._root = self._root
        new.__dict__["_columns"] = self.c
        for col in self.c:
            col.table = new
        return new

    def union(self, other: Any) -> CTE:
        """The CTE body ``UNION`` ``other`` (for recursive CTEs)."""
        return self._compound("UNION", other)

    def union_all(self, other: Any) -> CTE:
        """The CTE body ``UNION ALL`` ``other`` (for recursive CTEs)."""
        return self._compound("UNION ALL", other)


class ColumnNames(NamedTuple):
    """The names of one result column of a SELECT."""

    key: str
    """Its key in ``selected_columns`` and a subquery's ``.c`` (unique)."""
    label: str
    """The name the SELECT gives it (``count(x) AS count_1``): its result key."""
    outer: str
    """The name a subquery's column refers to it by: ``label``, or for a column selected
    again, the label of its first occurrence."""
    column: ColumnElement


def _name_columns(columns: list[ColumnElement], label_style: int) -> list[ColumnNames]:
    """Name the result columns of a SELECT as SQLAlchemy does: a column by its own name (a
    repeat of it ``a__1``, another column of that name ``a_1``), a function ``count_1``, an
    anonymous label ``x_1`` or ``anon_1``, an explicit label as given."""
    counters: dict[str, int] = {}

    def generated(base: str) -> str:
        count = counters[base] = counters.get(base, 0) + 1
        return f"{base}_{count}"

    found: list[ColumnNames] = []
    taken: set[str] = set()  # the names of columns and explicit labels so far
    first_labels: dict[int, str] = {}
    repeats: dict[str, int] = {}
    keys: set[str] = set()
    for col in columns:
        proxy_name = col._proxy_name
        outer = None
        if isinstance(col, Label) and col.name is None:
            natural = label = generated(col.element._proxy_name or "anon")
        elif proxy_name is None:
            natural = label = generated("anon")
        elif col._generated_label:
            natural, label = proxy_name, generated(proxy_name)
        elif isinstance(col, Label):
            natural = label = proxy_name
            taken.add(label)
        else:
            natural = label = proxy_name
            if (
                label_style == LABEL_STYLE_TABLENAME_PLUS_COL
                and isinstance(col, ColumnClause)
                and col.table is not None
                and getattr(col.table, "name", None)
            ):
                natural = label = f"{col.table.name}_{natural}"
            if _never_renamed(col):
                pass
            elif label in taken and label_style != LABEL_STYLE_NONE:
                outer = first_labels.get(id(col))
                if outer is not None or not isinstance(col, ColumnClause):
                    # the same column again (or an expression of a taken name): x__1
                    count = repeats[natural] = repeats.get(natural, 0) + 1
                    label = f"{natural}__{count}"
                else:
                    label = generated(label)
            else:
                taken.add(label)
        first_labels.setdefault(id(col), label)
        found.append(ColumnNames(_unique_key(natural, keys), label, outer or label, col))
    return found


def _never_renamed(col: ColumnElement) -> bool:
    """Whether a selected column keeps its own name even when an earlier one has it (and
    does not make later ones give way): literal SQL, a table-less column, an operator."""
    if isinstance(col, ColumnClause):
        return col.is_literal or col.table is None
    return isinstance(col, UnaryExpression)


def _unique_key(name: str, taken: set[str]) -> str:
    """``name``, or ``name_<n>`` when taken; recorded in ``taken``."""
    key = name
    counter = 1
    while key in taken:
        key = f"{name}_{counter}"
        counter += 1
    taken.add(key)
    return key


def _selected_names(element: Any) -> list[ColumnNames]:
    """The names of the result columns of a SELECT-like element."""
    if isinstance(element, _SelectBase):
        return element._result_names()
    if getattr(element, "is_dml", False):
        return _name_columns(list(element._returning), LABEL_STYLE_DEFAULT)
    if hasattr(element, "column_args"):
        columns = [(c.key or f"anon_{i + 1}", c) for i, c in enumerate(element.column_args)]
        return [ColumnNames(name, name, name, col) for name, col in columns]
    raise exc.ArgumentError(f"{element!r} has no result columns")


def _for_update_key(fu: ForUpdate, ctx: KeyContext) -> Hashable:
    return (fu[:4], tuple(c._ck(ctx) for c in fu[4]), tuple(t._ck(ctx) for t in fu[5]))


class HasPrefixes:
    """Words right after a statement's keyword (``SELECT SQL_NO_CACHE``,
    ``INSERT OR IGNORE``), each kept for one dialect or for all."""

    _prefixes: tuple[tuple[str, str], ...] = ()

    def prefix_with(self, *prefixes: Any, dialect: str = "*") -> Self:
        """Add ``prefixes`` after the keyword; with ``dialect="mysql"`` (a dialect name) only
        when compiled for that database."""
        new = self._generate()  # type: ignore[attr-defined]
        new._prefixes = self._prefixes + tuple((str(p), dialect) for p in prefixes)
        return new  # type: ignore[no-any-return]


class HasSuffixes:
    """Words at the end of a statement (``... FOR SHARE`` written by hand), each kept for one
    dialect or for all."""

    _suffixes: tuple[tuple[str, str], ...] = ()

    def suffix_with(self, *suffixes: Any, dialect: str = "*") -> Self:
        """Add ``suffixes`` at the end; with ``dialect=`` only when compiled for it."""
        new = self._generate()  # type: ignore[attr-defined]
        new._suffixes = self._suffixes + tuple((str(p), dialect) for p in suffixes)
        return new  # type: ignore[no-any-return]


class HasCTE:
    """Statements that may carry CTEs of their own, rendered in their WITH clause whether or
    not the statement refers to them (``add_cte()``)."""

    _independent_ctes: tuple[CTE, ...] = ()

    def add_cte(self, *ctes: CTE, nest_here: bool = False) -> Self:
        """Render ``ctes`` in this statement's WITH clause even where nothing selects from
        them: a data-modifying CTE (``insert(...).returning(...).cte()``) runs all the same."""
        for cte in ctes:
            if not isinstance(cte, CTE):
                raise exc.ArgumentError(f"add_cte() takes CTE objects (.cte()), got {cte!r}")
        new = self._generate()  # type: ignore[attr-defined]
        new._independent_ctes = self._independent_ctes + ctes
        return new  # type: ignore[no-any-return]


class HasHints:
    """Optimizer hints: per table (``USE INDEX`` on MySQL) or for the whole statement."""

    _hints: tuple[tuple[Any, str, str], ...] = ()

    def with_hint(self, selectable: Any, text: str, dialect_name: str = "*") -> Self:
        """Write ``text`` after ``selectable`` in FROM (``t USE INDEX (ix)``) when compiled
        for ``dialect_name`` (every dialect with ``"*"``); ``%(name)s`` in ``text`` becomes
        the table's name.  Only databases with table hints (MySQL/MariaDB) take them."""
        new = self._generate()  # type: ignore[attr-defined]
        new._hints = (*self._hints, (_coerce_from(selectable), text, dialect_name))
        return new  # type: ignore[no-any-return]

    def with_statement_hint(self, text: str, dialect_name: str = "*") -> Self:
        """Write ``text`` at the end of the statement when compiled for ``dialect_name``."""
        return self.suffix_with(text, dialect=dialect_name)  # type: ignore[attr-defined,no-any-return]


def _hints_key(hints: tuple[tuple[Any, str, str], ...], ctx: KeyContext) -> Hashable:
    return tuple((target._ck(ctx), text, dialect) for target, text, dialect in hints)


class _SelectBase(Executable):
    """What SELECT and compound SELECT share: ORDER BY, LIMIT, subqueries, CTEs."""

    is_select = True
    is_selectable = True
    _order_by: tuple[ColumnElement, ...] = ()
    _limit: ColumnElement | None = None
    _offset: ColumnElement | None = None
    _fetch: tuple[bool, bool] | None = None
    """Set by :meth:`fetch` (whose count is ``_limit``): its ``(with_ties, percent)``."""
    _for_update: ForUpdate | None = None

    def _result_names(self) -> list[ColumnNames]:
        raise NotImplementedError

    def _named_columns(self) -> list[tuple[str, ColumnElement]]:
        """``(label, column)`` per result column: the name the statement gives it, which is
        also its result key."""
        return [(names.label, names.column) for names in self._result_names()]

    @property
    def selected_columns(self) -> ColumnCollection:
        """The result columns, keyed by name (a function by its own name: ``count``)."""
        return ColumnCollection((names.key, names.column) for names in self._result_names())

    exported_columns = selected_columns

    def order_by(self: _S, *clauses: Any) -> _S:
        """Add ORDER BY criteria; ``order_by(None)`` removes them."""
        new = self._generate()
        if len(clauses) == 1 and clauses[0] is None:
            new._order_by = ()  # type: ignore[attr-defined]
        else:
            new._order_by = self._order_by + tuple(new._resolve_named(c) for c in clauses)  # type: ignore[attr-defined]
        return new

    def _resolve_named(self, clause: Any) -> ColumnElement:
        if isinstance(clause, str):
            # the name the statement gives a column (count_1), or its key (count)
            for names in self._result_names():
                if clause in (names.label, names.key):
                    return _LabelReference(names.label, names.column)
            raise exc.CompileError(
                f"Can't resolve label reference {clause!r} for ORDER BY / GROUP BY; "
                "use a column object or literal_column()"
            )
        return coerce_column(clause)

    def limit(self: _S, limit: Any) -> _S:
        """``LIMIT n`` (None removes it); replaces a :meth:`fetch`."""
        new = self._generate()
        new._limit = _limit_value(limit, "limit")  # type: ignore[attr-defined]
        new._fetch = None  # type: ignore[attr-defined]
        return new

    def fetch(self: _S, count: Any, with_ties: bool = False, percent: bool = False) -> _S:
        """``FETCH FIRST count [PERCENT] ROWS ONLY | WITH TIES`` (None removes it); replaces
        a :meth:`limit`.  Databases without the clause get LIMIT for a plain count, and a
        CompileError for ``with_ties`` or ``percent`` when they cannot express them."""
        new = self._generate()
        new._limit = _limit_value(count, "fetch")  # type: ignore[attr-defined]
        new._fetch = None if count is None else (bool(with_ties), bool(percent))  # type: ignore[attr-defined]
        return new

    def offset(self: _S, offset: Any) -> _S:
        """``OFFSET n`` (None removes it)."""
        new = self._generate()
        new._offset = _limit_value(offset, "offset")  # type: ignore[attr-defined]
        return new

    def slice(self: _S, start: int, stop: int) -> _S:
        """LIMIT/OFFSET for the Python slice ``[start:stop]``."""
        new: _S = self.offset(start or None)  # type: ignore[attr-defined]
        return new.limit(max(stop - start, 0))  # type: ignore[attr-defined,no-any-return]

    def with_for_update(
        self: _S,
        *,
        nowait: bool = False,
        read: bool = False,
        of: Any = None,
        skip_locked: bool = False,
        key_share: bool = False,
    ) -> _S:
        """``FOR UPDATE`` (``FOR SHARE`` with ``read=True``) locking."""
        new = self._generate()
        of_cols: list[ColumnElement] = []
        of_tables: list[FromClause] = []
        for item in of if isinstance(of, list | tuple) else () if of is None else (of,):
            hook = getattr(item, "__clause_element__", None)
            clause = hook() if hook is not None else item
            if isinstance(clause, FromClause):
                of_tables.append(clause)
            else:
                of_cols.append(coerce_column(clause))
        new._for_update = ForUpdate(  # type: ignore[attr-defined]
            nowait, read, skip_locked, key_share, tuple(of_cols), tuple(of_tables)
        )
        return new

    def subquery(self, name: str | None = None) -> Subquery:
        """This SELECT as a FROM object: ``(SELECT ...) AS name``."""
        return Subquery(self, name)

    def alias(self, name: str | None = None, flat: bool = False) -> Subquery:
        return self.subquery(name)

    def lateral(self, name: str | None = None) -> Lateral:
        """This SELECT as ``LATERAL (SELECT ...) AS name`` in FROM: it may refer to the FROM
        objects listed before it (PostgreSQL, MySQL 8)."""
        return Lateral(self, name)

    def cte(self, name: str | None = None, recursive: bool = False, nesting: bool = False) -> CTE:
        """This SELECT as a common table expression (``WITH name AS (...)``)."""
        return CTE(self, name, recursive=recursive)

    def scalar_subquery(self) -> ScalarSelect:
        """This one-column SELECT as a value: ``(SELECT ...)``."""
        return ScalarSelect(self)

    as_scalar = scalar_subquery

    def label(self, name: str | None) -> Label:
        """The scalar subquery labelled ``name``."""
        return self.scalar_subquery().label(name)

    def exists(self) -> Exists:
        """``EXISTS (SELECT ...)``."""
        return Exists(self)

    def union(self, *others: Any) -> CompoundSelect:
        """``self UNION other ...``."""
        return CompoundSelect("UNION", self, *others)

    def union_all(self, *others: Any) -> CompoundSelect:
        """``self UNION ALL other ...``."""
        return CompoundSelect("UNION ALL", self, *others)

    def intersect(self, *others: Any) -> CompoundSelect:
        """``self INTERSECT other ...``."""
        return CompoundSelect("INTERSECT", self, *others)

    def intersect_all(self, *others: Any) -> CompoundSelect:
        """``self INTERSECT ALL other ...``."""
        return CompoundSelect("INTERSECT ALL", self, *others)

    def except_(self, *others: Any) -> CompoundSelect:
        """``self EXCEPT other ...``."""
        return CompoundSelect("EXCEPT", self, *others)

    def except_all(self, *others: Any) -> CompoundSelect:
        """``self EXCEPT ALL other ...``."""
        return CompoundSelect("EXCEPT ALL", self, *others)

    def self_group(self, against: Operator | None = None) -> ClauseElement:
        return self


class _LabelReference(ColumnElement):
    """A reference by name to a labelled result column (``order_by("total")``)."""

    __visit_name__ = "label_reference"

    def __init__(self, name: str, element: ColumnElement) -> None:
        self.name = name
        self.element = element
        self.type = element.type

    _cache_attrs: ClassVar[CacheAttrs] = (("name", "plain"),)


def _limit_value(value: Any, name: str) -> ColumnElement | None:
    if value is None:
        return None
    if isinstance(value, ColumnElement):
        return value
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise exc.ArgumentError(f"{name}() needs an integer, got {value!r}") from None
    return BindParameter(name, number, sqltypes.INTEGERTYPE, unique=True)


class Select(HasPrefixes, HasSuffixes, HasCTE, HasHints, _SelectBase, TypedReturnsRows[TP]):
    """A SELECT statement, built generatively: ``select(t).where(...).order_by(...)``."""

    __visit_name__ = "select"
    _where: tuple[ColumnElement, ...] = ()
    _having: tuple[ColumnElement, ...] = ()
    _group_by: tuple[ColumnElement, ...] = ()
    _from_obj: tuple[FromClause, ...] = ()
    _distinct: bool = False
    _distinct_on: tuple[ColumnElement, ...] = ()
    _correlate: tuple[FromClause, ...] | None = None
    _correlate_except: tuple[FromClause, ...] | None = None
    _label_style: int = LABEL_STYLE_DEFAULT
    _with_options: tuple[Any, ...] = ()
    _memo_keys = ("_ck_memo", "_named_memo")
    _raw_origins: tuple[Any, ...] = ()
    """What the caller passed for each of ``_raw_columns`` (``User.name`` for its column),
    for :attr:`column_descriptions`."""

    def __init__(self, *entities: Any) -> None:
        if len(entities) == 1 and isinstance(entities[0], _SEQUENCES):
            entities = tuple(entities[0])
        self._raw_columns: tuple[ClauseElement, ...]
        self._raw_columns, self._raw_origins = _coerce_entities(entities)

    def _get_compile_plugin(self) -> Any:
        if self._compile_plugin is not None:
            return self._compile_plugin
        for element in self._raw_columns:
            plugin = element._compile_plugin
            if plugin is not None:
                return plugin
            if not isinstance(element, FromClause):
                # An expression over a column that asks for one (count(Manager.id)).
                for from_ in element._from_objects:
                    plugin = from_._compile_plugin
                    if plugin is not None:
                        return plugin
        for criterion in self._where:
            # A criterion on such a column (Manager.name == "x") restricts the rows as well.
            for from_ in criterion._from_objects:
                plugin = from_._compile_plugin
                if plugin is not None:
                    return plugin
        for from_ in self._from_obj:
            # A class joined into a select of plain columns (its rows may need criteria).
            for part in (from_, *from_._hide_froms):
                plugin = part._compile_plugin
                if plugin is not None:
                    return plugin
        for option in self._with_options:
            plugin = getattr(option, "_compile_plugin", None)
            if plugin is not None:
                return plugin
        return None

    _cache_attrs: ClassVar[CacheAttrs] = (
        ("_raw_columns", "elements"),
        ("_where", "elements"),
        ("_from_obj", "elements"),
        ("_order_by", "elements"),
        ("_limit", "element"),
        ("_offset", "element"),
        ("_fetch", "plain"),
        ("_group_by", "elements"),
        ("_having", "elements"),
        ("_distinct", "plain"),
        ("_distinct_on", "elements"),
        ("_for_update", _for_update_key),
        ("_correlate", "optional_elements"),
        ("_correlate_except", "optional_elements"),
        ("_prefixes", "plain"),
        ("_suffixes", "plain"),
        ("_label_style", "plain"),
        ("_with_options", "options"),
        ("_independent_ctes", "elements"),
        ("_hints", _hints_key),
    )
    _cache_usual = ("_raw_columns", "_where")

    def reduce_columns(self, only_synonyms: bool = True) -> Select:
        """The same statement without the result columns that repeat an earlier one: equal to
        it by the WHERE clause (``a.id = b.id``) or by a foreign key.  With
        ``only_synonyms`` (the default) a column goes only when it also has the same name."""
        columns = [col for _, col in self._named_columns()]
        group = {id(c): id(c) for c in columns}

        def root(key: int) -> int:
            while group.get(key, key) != key:
                key = group[key]
            return key

        def join(a: Any, b: Any) -> None:
            if id(a) in group and id(b) in group:
                group[root(id(b))] = root(id(a))

        for criterion in self._where:
            for clause in getattr(criterion, "clauses", (criterion,)):
                if isinstance(clause, BinaryExpression) and clause.operator is operators.eq:
                    join(clause.left, clause.right)
        for col in columns:
            for fk in getattr(col, "foreign_keys", ()):
                join(fk.column, col)
        kept: list[Any] = []
        for col in columns:
            repeats = any(
                root(id(other)) == root(id(col))
                and (not only_synonyms or getattr(other, "name", None) == getattr(col, "name", 0))
                for other in kept
            )
            if not repeats:
                kept.append(col)
        new = self._generate()
        new._raw_columns = tuple(kept)
        new._raw_origins = tuple(kept)
        return new

    def options(self, *options: Any) -> Self:
        """Loader options the ORM applies when it runs this select (``selectinload(...)``)."""
        new = self._generate()
        new._with_options = self._with_options + options
        return new

    def from_statement(self, statement: Any) -> FromStatement:
        """This select's entities read from the rows of ``statement`` instead (a ``text()``
        with ``.columns()``, or another select); the ORM matches columns by name."""
        if not (getattr(statement, "is_select", False) or isinstance(statement, TextClause)):
            raise exc.ArgumentError(
                f"from_statement() takes a SELECT (select(...) or text(...).columns(...)), "
                f"got {statement!r}"
            )
        return FromStatement(self._raw_columns, statement, self._with_options)

    # --- columns -----------------------------------------------------------------------

    def _all_columns(self) -> list[ColumnElement]:
        cols: list[ColumnElement] = []
        for raw in self._raw_columns:
            if isinstance(raw, FromClause):
                # a table's insert sentinel stays out of select(table) unless named
                cols.extend(
                    c
                    for c in raw._columns_in_place
                    if not getattr(c, "_omit_from_statements", False)
                )
            else:
                assert isinstance(raw, ColumnElement)
                cols.append(raw)
        return cols

    def _result_names(self) -> list[ColumnNames]:
        found: tuple[object, list[ColumnNames]] | None = self.__dict__.get("_named_memo")
        if found is not None and found[0] is elements.key_epoch:
            return found[1]
        names = _name_columns(self._all_columns(), self._label_style)
        self.__dict__["_named_memo"] = (elements.key_epoch, names)
        return names

    @property
    def column_descriptions(self) -> list[dict[str, Any]]:
        """Per result entity or column: ``name``, ``type``, ``aliased``, ``expr`` (what was
        selected: the mapped class, attribute or alias itself) and ``entity`` (the class or
        alias it belongs to, else None).  Objects that describe themselves (the ORM's) provide
        the entry through ``_column_description()``."""
        named = iter(self._result_names())
        origins = self._raw_origins
        if len(origins) != len(self._raw_columns):
            origins = self._raw_columns
        found: list[dict[str, Any]] = []
        for raw, origin in zip(self._raw_columns, origins, strict=True):
            columns = raw._columns_in_place if isinstance(raw, FromClause) else [raw]
            pairs = [next(named) for _ in columns]
            describe = None if isinstance(origin, type) else getattr(origin, "_describe", None)
            if describe is None:
                describe = getattr(raw, "_describe", None)
            if describe is not None:
                found.append(describe())
                continue
            for names in pairs:
                found.append(describe_column(names.key, names.column, origin))
        return found

    def add_columns(self, *entities: Any) -> Select:
        """More result columns."""
        new = self._generate()
        columns, origins = _coerce_entities(entities)
        new._raw_columns = self._raw_columns + columns
        new._raw_origins = self._raw_origins + origins
        return new

    def column(self, column: Any) -> Select:
        return self.add_columns(column)

    def with_only_columns(self, *entities: Any, maintain_column_froms: bool = False) -> Select:
        """The same statement with other result columns."""
        new = self._generate()
        if maintain_column_froms:
            new._from_obj = self._from_obj + tuple(
                f for f in self.columns_clause_froms if f not in self._from_obj
            )
        new._raw_columns, new._raw_origins = _coerce_entities(entities)
        return new

    def set_label_style(self, style: int) -> Self:
        """How result columns are named (``LABEL_STYLE_TABLENAME_PLUS_COL`` -> ``table_col``)."""
        new = self._generate()
        new._label_style = style
        return new

    def get_label_style(self) -> int:
        return self._label_style

    # --- FROM ----------------------------------------------------------------------------

    @property
    def columns_clause_froms(self) -> list[FromClause]:
        """FROM objects implied by the result columns."""
        return _unique([f for c in self._raw_columns for f in c._from_objects])

    def _froms(self, enclosing: Sequence[FromClause] | None = None) -> list[FromClause]:
        froms = list(self._from_obj)
        for element in self._raw_columns:
            froms.extend(element._from_objects)
        for crit in self._where:
            froms.extend(crit._from_objects)
        froms = _unique(froms)
        hidden = {id(h) for f in froms for h in f._hide_froms}
        froms = [f for f in froms if id(f) not in hidden]
        if len(froms) > 1:
            froms = _without_covered(froms)
        if enclosing:
            # A FROM object also stands for what it hides (a mapped class for its table).
            if self._correlate is not None:
                drop = {id(f) for f in self._correlate}
                drop |= {id(h) for f in self._correlate for h in f._hide_froms}
            else:
                keep: set[int] = set()
                for f in self._correlate_except or ():
                    keep |= {id(f), *(id(h) for h in f._hide_froms)}
                drop = {id(f) for f in enclosing if id(f) not in keep}
                drop |= {id(h) for f in enclosing for h in f._hide_froms if id(h) not in keep}
            remaining = [f for f in froms if id(f) not in drop]
            if remaining or self._correlate is not None or self._correlate_except is not None:
                froms = remaining
            elif froms:
                raise exc.InvalidRequestError(
                    "A subquery returned no FROM clauses after auto-correlating all of them "
                    "to the enclosing query; use correlate() / correlate_except() to say which "
                    "tables the subquery reads itself"
                )
        return froms

    def get_final_froms(self) -> list[FromClause]:
        """The FROM objects this SELECT renders."""
        return self._froms()

    @property
    def froms(self) -> list[FromClause]:
        return self._froms()

    def select_from(self, *froms: Any) -> Self:
        """Add FROM objects explicitly."""
        new = self._generate()
        new._from_obj = self._from_obj + tuple(_coerce_from(f) for f in froms)
        return new

    def _join_left(self, source: FromClause | None = None) -> FromClause:
        if source is not None:
            # A join along a relationship starts from the FROM object holding its parent.
            wanted = {id(source), *(id(h) for h in source._hide_froms)}
            for f in self._from_obj or self._froms():
                if id(f) in wanted or any(id(h) in wanted for h in f._hide_froms):
                    return f
        if self._from_obj:
            return self._from_obj[-1]
        inferred = self._froms()
        if not inferred:
            raise exc.InvalidRequestError(
                "This select() has no FROM object to join from; use select_from() or join_from()"
            )
        return inferred[0]

    def join(
        self, target: Any, onclause: Any = None, *, isouter: bool = False, full: bool = False
    ) -> Self:
        """JOIN ``target`` to the last FROM object (ON inferred from foreign keys if omitted)."""
        new = self
        hook = getattr(target if onclause is None else onclause, "_orm_join_source", None)
        source = hook() if hook is not None else None
        for step_target, step_on in _along(target, onclause):
            left = new._join_left(source)
            source = None
            new = new._replace_from(
                left, Join(left, step_target, step_on, isouter=isouter, full=full)
            )
        return new

    def outerjoin(self, target: Any, onclause: Any = None, *, full: bool = False) -> Self:
        """LEFT OUTER JOIN ``target``."""
        return self.join(target, onclause, isouter=True, full=full)

    def join_from(
        self,
        from_: Any,
        target: Any,
        onclause: Any = None,
        *,
        isouter: bool = False,
        full: bool = False,
    ) -> Self:
        """``from_ JOIN target`` added to FROM; when ``from_`` is already part of a join in
        FROM, that join is extended rather than listed a second time."""
        (target, onclause), *more = _along(target, onclause)
        left = _coerce_from(from_)
        if onclause is None:
            onclause = join_condition(left, _coerce_from(target))
        holder = next(
            (f for f in self._from_obj if f is left or any(h is left for h in f._hide_froms)),
            left,
        )
        new = self._replace_from(holder, Join(holder, target, onclause, isouter=isouter, full=full))
        return new.join(*more[0], isouter=isouter, full=full) if more else new

    def outerjoin_from(
        self, from_: Any, target: Any, onclause: Any = None, *, full: bool = False
    ) -> Self:
        """``from_ LEFT OUTER JOIN target`` added to FROM."""
        return self.join_from(from_, target, onclause, isouter=True, full=full)

    def _replace_from(self, old: FromClause, new_from: FromClause) -> Self:
        new = self._generate()
        if any(f is old for f in self._from_obj):
            new._from_obj = tuple(new_from if f is old else f for f in self._from_obj)
        else:
            new._from_obj = (*self._from_obj, new_from)
        return new

    def correlate(self, *froms: Any) -> Self:
        """Take these FROM objects from the enclosing query (``correlate(None)``: none)."""
        new = self._generate()
        if froms == (None,):
            new._correlate = ()
        else:
            new._correlate = (self._correlate or ()) + tuple(_coerce_from(f) for f in froms)
        return new

    def correlate_except(self, *froms: Any) -> Self:
        """Correlate every enclosing FROM except these."""
        new = self._generate()
        new._correlate_except = tuple(_coerce_from(f) for f in froms if f is not None)
        return new

    # --- criteria ------------------------------------------------------------------------

    def where(self, *criteria: Any) -> Self:
        """Add WHERE criteria, joined with AND."""
        new = self._generate()
        if len(criteria) == 1 and isinstance(criteria[0], ColumnElement):
            new._where = (*self._where, criteria[0])
        else:
            new._where = self._where + tuple([coerce_where(c) for c in criteria])
        return new

    filter = where

    def filter_by(self, **kwargs: Any) -> Self:
        """WHERE ``column == value`` for columns of the last FROM object, by key."""
        source = self._join_left()
        if isinstance(source, Join):
            source = source.right
        crit = []
        for key, value in kwargs.items():
            col = source.c.get(key)
            if col is None:
                # A mapped class's other attributes (a hybrid, a relationship) by name.
                entity = getattr(source, "_mapped_entity", None)
                lookup = getattr(source if entity is None else entity, "_namespace_attribute", None)
                col = None if lookup is None else lookup(key)
            if col is None:
                raise exc.InvalidRequestError(f"{_describe(source)} has no column {key!r}")
            crit.append(col == value)
        return self.where(*crit)

    @property
    def whereclause(self) -> ColumnElement | None:
        """The WHERE criteria as one expression, or None."""
        return and_(*self._where) if self._where else None

    def having(self, *criteria: Any) -> Self:
        """Add HAVING criteria."""
        new = self._generate()
        new._having = self._having + tuple(coerce_where(c) for c in criteria)
        return new

    def group_by(self, *clauses: Any) -> Self:
        """Add GROUP BY expressions; ``group_by(None)`` removes them."""
        new = self._generate()
        if len(clauses) == 1 and clauses[0] is None:
            new._group_by = ()
        else:
            new._group_by = self._group_by + tuple(
                col for c in clauses for col in self._grouping_terms(c)
            )
        return new

    def _grouping_terms(self, clause: Any) -> list[ColumnElement]:
        """What GROUP BY ``clause`` groups by: a table, or a mapped class (aliased or not),
        stands for its columns."""
        element = clause.__clause_element__() if hasattr(clause, "__clause_element__") else clause
        if isinstance(element, FromClause):
            columns = getattr(element, "_grouping_columns", None)
            return list(columns() if columns is not None else element.c)
        return [self._resolve_named(clause)]

    def distinct(self, *on: Any) -> Self:
        """``SELECT DISTINCT`` (``DISTINCT ON (...)`` on PostgreSQL when columns are given)."""
        new = self._generate()
        new._distinct = True
        new._distinct_on = self._distinct_on + tuple(coerce_column(c) for c in on)
        return new


def _along(target: Any, onclause: Any) -> list[tuple[Any, Any]]:
    """``join(User.posts)``, ``join(alias, User.posts)``: an ORM relationship attribute gives
    the joins (target, ON clause) to make."""
    found: list[tuple[Any, Any]] | None = None
    if onclause is not None:
        hook = getattr(onclause, "_orm_join_target", None)
        if hook is not None:
            found = hook(target)
    else:
        hook = getattr(target, "_orm_join_target", None)
        if hook is not None:
            found = hook()
    return [(target, onclause)] if found is None else found


def _unique(froms: Iterable[FromClause]) -> list[FromClause]:
    seen: set[int] = set()
    result = []
    for f in froms:
        if id(f) not in seen:
            seen.add(id(f))
            result.append(f)
    return result


# Class tuples made once: ``isinstance(x, A | B)`` builds the union on every call.
_SEQUENCES: Final = (list, tuple)
_SELECTABLE_AS_IS: Final = (ColumnElement, FromClause)


class _ColumnSetGiven(Exception):
    """A column collection (``table.c["a", "b"]``) among select() entities, to be spread."""


def _coerce_entities(
    entities: tuple[Any, ...],
) -> tuple[tuple[ClauseElement, ...], tuple[Any, ...]]:
    """The selectable elements for ``entities`` and the entities they came from; a column
    collection stands for each of its columns."""
    try:
        return tuple(map(_coerce_entity, entities)), entities
    except _ColumnSetGiven:
        spread = tuple(
            item
            for entity in entities
            for item in (entity if isinstance(entity, ColumnCollection) else (entity,))
        )
        return tuple(map(_coerce_entity, spread)), spread


def _coerce_entity(entity: Any) -> ClauseElement:
    if isinstance(entity, _SELECTABLE_AS_IS):
        return entity
    if isinstance(entity, TextClause):
        return TextColumn(entity)
    if isinstance(entity, type):
        # A mapped class (select(User)): only its hook to ask (a failed attribute lookup on a
        # class costs more than the rest of this function), and its entity selected as it is.
        clause = getattr(entity, "__clause_element__", None)
        if clause is not None:
            entity_clause: ClauseElement = clause()
            return entity_clause
    else:
        # An object may select as something richer than its expression (an ORM attribute of
        # a subclass selects its column marked with the subclass, whose rows the query keeps
        # to).
        clause = getattr(entity, "_select_column_element", None) or getattr(
            entity, "__clause_element__", None
        )
    if clause is not None:
        element: ClauseElement = clause()
        # An ORM attribute standing for an expression (a column_property, a hybrid) is
        # selected under its attribute name, as rows name it.
        name = getattr(entity, "_selected_name", None)
        named = isinstance(element, Label) and element.name == name
        if name is not None and isinstance(element, ColumnElement) and not named:
            return element.label(name)
        return element
    if isinstance(entity, str):
        raise exc.ArgumentError(
            f"Plain string {entity!r} given as a select() column; use "
            f"literal_column({entity!r}) for SQL or column({entity!r}) for a column name"
        )
    if isinstance(entity, Select):
        return ScalarSelect(entity)
    if isinstance(entity, ColumnCollection):
        raise _ColumnSetGiven
    raise exc.ArgumentError(f"Cannot select {entity!r}: expected a column, table or expression")


@overload
def select(entity0: ColumnElement[T0], /) -> Select[tuple[T0]]: ...
@overload
def select(entity0: ColumnElement[T0], entity1: ColumnElement[T1], /) -> Select[tuple[T0, T1]]: ...
@overload
def select(
    entity0: ColumnElement[T0], entity1: ColumnElement[T1], entity2: ColumnElement[T2], /
) -> Select[tuple[T0, T1, T2]]: ...
@overload
def select(
    entity0: ColumnElement[T0],
    entity1: ColumnElement[T1],
    entity2: ColumnElement[T2],
    entity3: ColumnElement[T3],
    /,
) -> Select[tuple[T0, T1, T2, T3]]: ...
@overload
def select(
    entity0: ColumnElement[T0],
    entity1: ColumnElement[T1],
    entity2: ColumnElement[T2],
    entity3: ColumnElement[T3],
    entity4: ColumnElement[T4],
    /,
) -> Select[tuple[T0, T1, T2, T3, T4]]: ...
@overload
def select(
    entity0: ColumnElement[T0],
    entity1: ColumnElement[T1],
    entity2: ColumnElement[T2],
    entity3: ColumnElement[T3],
    entity4: ColumnElement[T4],
    entity5: ColumnElement[T5],
    /,
) -> Select[tuple[T0, T1, T2, T3, T4, T5]]: ...
@overload
def select(*entities: Any) -> Select[Any]: ...
def select(*entities: Any) -> Select[Any]:
    """``SELECT`` the given columns, tables or expressions.

    For type checkers, selecting up to six typed column expressions gives a typed
    ``Select[tuple[...]]`` (and typed rows when executed); anything else is ``Select[Any]``.
    """
    return Select(*entities)


def _without_covered(froms: list[FromClause]) -> list[FromClause]:
    """``froms`` less each one standing for tables (an ORM entity) all of which another of
    them stands for too, with more (a joined-table subclass's entity covers its base's), or
    exactly as an earlier one does (two entities read from one subquery)."""
    parts = [{id(h) for h in f._hide_froms} for f in froms]
    return [
        f
        for i, (f, own) in enumerate(zip(froms, parts, strict=True))
        if not own or (not any(own < o for o in parts) and own not in parts[:i])
    ]


class FromStatement(Executable):
    """``select(User).from_statement(stmt)``: entities whose rows come from ``stmt``.

    It runs ``stmt`` unchanged; the ORM builds its entities from the result columns named
    like their mapped columns.
    """

    __visit_name__ = "from_statement"
    is_select = True

    def __init__(
        self, entities: Sequence[ClauseElement], element: Any, options: Sequence[Any] = ()
    ) -> None:
        self._raw_columns = tuple(entities)
        self.element = element
        self._with_options = tuple(options)

    _cache_attrs: ClassVar[CacheAttrs] = (
        ("_raw_columns", "elements"),
        ("element", "element"),
        ("_with_options", "options"),
    )

    def options(self, *options: Any) -> Self:
        """Loader options for the entities (``selectinload(...)`` runs after the rows)."""
        new = self._generate()
        new._with_options = self._with_options + options
        return new


class CompoundSelect(_SelectBase):
    """``a UNION b``, ``a INTERSECT b``, ``a EXCEPT b`` (and the ``ALL`` forms)."""

    __visit_name__ = "compound_select"

    def __init__(self, keyword: str, *selects: Any) -> None:
        self.keyword = keyword
        self.selects: tuple[_SelectBase, ...] = tuple(selects)
        for s in self.selects:
            if not isinstance(s, _SelectBase):
                raise exc.ArgumentError(f"{keyword} takes select() statements, got {s!r}")

    def _result_names(self) -> list[ColumnNames]:
        return self.selects[0]._result_names()

    _cache_attrs: ClassVar[CacheAttrs] = (
        ("keyword", "plain"),
        ("selects", "elements"),
        ("_order_by", "elements"),
        ("_limit", "element"),
        ("_offset", "element"),
        ("_fetch", "plain"),
        ("_for_update", _for_update_key),
    )


def union(*selects: Any) -> CompoundSelect:
    """``s1 UNION s2 ...``."""
    return CompoundSelect("UNION", *selects)


def union_all(*selects: Any) -> CompoundSelect:
    """``s1 UNION ALL s2 ...``."""
    return CompoundSelect("UNION ALL", *selects)


def intersect(*selects: Any) -> CompoundSelect:
    """``s1 INTERSECT s2 ...``."""
    return CompoundSelect("INTERSECT", *selects)


def intersect_all(*selects: Any) -> CompoundSelect:
    """``s1 INTERSECT ALL s2 ...``."""
    return CompoundSelect("INTERSECT ALL", *selects)


def except_(*selects: Any) -> CompoundSelect:
    """``s1 EXCEPT s2 ...``."""
    return CompoundSelect("EXCEPT", *selects)


def except_all(*selects: Any) -> CompoundSelect:
    """``s1 EXCEPT ALL s2 ...``."""
    return CompoundSelect("EXCEPT ALL", *selects)


class ScalarSelect(ColumnElement):
    """A one-column SELECT used as a value: ``(SELECT ...)``."""

    __visit_name__ = "scalar_select"

    def __init__(self, element: _SelectBase) -> None:
        self.element = element
        named = element._named_columns()
        self.type = named[0][1].type if len(named) == 1 else sqltypes.NULLTYPE

    _cache_attrs: ClassVar[CacheAttrs] = (("element", "element"),)

    def where(self, *criteria: Any) -> ScalarSelect:
        """Add WHERE criteria to the inner SELECT."""
        assert isinstance(self.element, Select)
        return ScalarSelect(self.element.where(*criteria))

    def correlate(self, *froms: Any) -> ScalarSelect:
        assert isinstance(self.element, Select)
        return ScalarSelect(self.element.correlate(*froms))

    def self_group(self, against: Operator | None = None) -> ColumnElement:
        return self


class Exists(ColumnElement):
    """``EXISTS (SELECT ...)``."""

    __visit_name__ = "exists"
    type = sqltypes.BOOLEANTYPE

    def __init__(self, element: Any = None) -> None:
        if element is None:
            element = Select(literal_column("*"))
        elif not isinstance(element, _SelectBase):
            element = Select(element)
        self.element: _SelectBase = element

    _cache_attrs: ClassVar[CacheAttrs] = (("element", "element"),)

    def _select(self) -> Select:
        assert isinstance(self.element, Select)
        return self.element

    def where(self, *criteria: Any) -> Exists:
        """Add WHERE criteria to the inner SELECT."""
        return Exists(self._select().where(*criteria))

    def select_from(self, *froms: Any) -> Exists:
        return Exists(self._select().select_from(*froms))

    def correlate(self, *froms: Any) -> Exists:
        return Exists(self._select().correlate(*froms))

    def correlate_except(self, *froms: Any) -> Exists:
        return Exists(self._select().correlate_except(*froms))

    def select(self) -> Select:
        """``SELECT EXISTS (...)``."""
        return Select(self)


def exists(*args: Any) -> Exists:
    """``EXISTS (SELECT ...)``: ``exists().where(...)`` or ``exists(select(...))``."""
    if len(args) == 1 and isinstance(args[0], _SelectBase):
        return Exists(args[0])
    return Exists(Select(*args) if args else None)


def lateral(selectable: Any, name: str | None = None) -> Lateral:
    """``LATERAL (SELECT ...) AS name``: a subquery that may refer to the FROM objects before
    it (PostgreSQL, MySQL 8)."""
    if isinstance(selectable, _SelectBase):
        return selectable.lateral(name)
    raise exc.ArgumentError(f"lateral() takes a select(), got {selectable!r}")


class TableSample(Alias):
    """``table AS name TABLESAMPLE method(argument) [REPEATABLE (seed)]`` (PostgreSQL): a
    random sample of a table's rows."""

    __visit_name__ = "tablesample"

    def __init__(
        self, element: Any, sampling: Any, name: str | None = None, seed: Any = None
    ) -> None:
        from athanor.sql.functions import func

        super().__init__(element, name)
        if not isinstance(sampling, ClauseElement):
            sampling = func.system(BindParameter("sampling", sampling, unique=True))
        self.sampling = sampling
        if seed is not None and not isinstance(seed, ClauseElement):
            seed = BindParameter("seed", seed, unique=True)
        self.seed = seed

    _cache_attrs: ClassVar[CacheAttrs] = (
        ("name", "plain"),
        ("element", "element"),
        ("sampling", "element"),
        ("seed", "element"),
    )


def tablesample(
    selectable: Any, sampling: Any, name: str | None = None, seed: Any = None
) -> TableSample:
    """``selectable TABLESAMPLE ...``: ``sampling`` is a percentage (``SYSTEM``) or a function
    such as ``func.bernoulli(10)``; ``seed`` makes the sample repeatable (PostgreSQL)."""
    return TableSample(selectable, sampling, name, seed)


def cte(
    selectable: Any, name: str | None = None, recursive: bool = False, nesting: bool = False
) -> CTE:
    """``selectable`` as a common table expression (``WITH name AS (...)``)."""
    if not isinstance(selectable, _SelectBase):
        raise exc.ArgumentError(f"cte() takes a select(), got {selectable!r}")
    return selectable.cte(name, recursive=recursive, nesting=nesting)


def alias(selectable: Any, name: str | None = None) -> Alias:
    """``selectable AS name``."""
    return selectable.alias(name)  # type: ignore[no-any-return]


__all__ = [
    "CTE",
    "LABEL_STYLE_DEFAULT",
    "LABEL_STYLE_DISAMBIGUATE_ONLY",
    "LABEL_STYLE_NONE",
    "LABEL_STYLE_TABLENAME_PLUS_COL",
    "Alias",
    "ColumnCollection",
    "CompoundSelect",
    "Exists",
    "FromClause",
    "HasPrefixes",
    "HasSuffixes",
    "Join",
    "Lateral",
    "ScalarSelect",
    "Select",
    "Subquery",
    "TableClause",
    "TableValuedAlias",
    "TableValuedColumn",
    "alias",
    "except_",
    "except_all",
    "exists",
    "intersect",
    "intersect_all",
    "join",
    "join_condition",
    "lateral",
    "operators",
    "outerjoin",
    "select",
    "table",
    "union",
    "union_all",
]


def copy_with_children(expr: ClauseElement, convert: Callable[[ClauseElement], Any]) -> Any:
    """``expr`` (a function, CASE, label, subquery ...) copied with ``convert`` applied to the
    children its declared attributes name; FROM objects (tables, joins) stay as they are."""
    if isinstance(expr, FromClause):
        return expr
    changed: dict[str, Any] = {}
    for name, kind in expr._cache_attrs or ():
        value = getattr(expr, name, None)
        if kind == "element" and isinstance(value, ClauseElement):
            new = convert(value)
            if new is not value:
                changed[name] = new
        elif isinstance(value, tuple | list) and value:
            # a list of elements, or of pairs of them (a CASE's WHEN ... THEN ...)
            items = [_converted_item(v, convert) for v in value]
            if any(a is not b for a, b in zip(items, value, strict=True)):
                changed[name] = type(value)(items)
    if not changed:
        return expr
    copied = expr._generate()
    for name, value in changed.items():
        setattr(copied, name, value)
    return copied


def _converted_item(value: Any, convert: Callable[[ClauseElement], Any]) -> Any:
    if isinstance(value, ClauseElement):
        return convert(value)
    if isinstance(value, tuple) and any(isinstance(v, ClauseElement) for v in value):
        pair = tuple(convert(v) if isinstance(v, ClauseElement) else v for v in value)
        return value if all(a is b for a, b in zip(pair, value, strict=True)) else pair
    return value
