"""INSERT, UPDATE and DELETE statements, and the ON CONFLICT clause they share with upserts."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import Any, ClassVar, TypeVar

from athanor import exc
from athanor.sql.elements import (
    BindParameter,
    CacheAttrs,
    ClauseElement,
    ColumnClause,
    ColumnElement,
    Executable,
    KeyContext,
    _is_literal_value,
    coerce_column,
    coerce_where,
)
from athanor.sql.selectable import (
    CTE,
    ColumnCollection,
    FromClause,
    HasCTE,
    HasPrefixes,
    TableClause,
    _coerce_from,
)

_D = TypeVar("_D", bound="DMLStatement")


_SHARED_DML_ATTRS: CacheAttrs = (
    ("_prefixes", "plain"),
    ("_returning", "elements"),
    ("_returning_raw", "elements"),
    ("_return_defaults", "plain"),
    ("_return_defaults_columns", "elements"),
    ("_supplemental_returning", "elements"),
    ("_sort_by_parameter_order", "plain"),
    ("_independent_ctes", "elements"),
)


class DMLStatement(HasPrefixes, HasCTE, Executable):
    """What INSERT, UPDATE and DELETE share: the target table and RETURNING."""

    is_dml = True
    _returning: tuple[ColumnElement, ...] = ()
    _return_defaults: bool = False
    _return_defaults_columns: tuple[ColumnElement, ...] = ()
    _supplemental_returning: tuple[ColumnElement, ...] = ()
    _sort_by_parameter_order: bool = False
    _entity: FromClause | None = None
    """The mapped entity the statement was made for (``insert(User)``), for ORM execution."""
    _returning_raw: tuple[ClauseElement, ...] = ()
    """What ``returning()`` was given (entities unexpanded), for ORM results."""
    _returning_origins: tuple[Any, ...] = ()
    """What ``returning()`` was given, as given (mapped classes and attributes), for
    :attr:`returning_column_descriptions`."""

    def __init__(self, table: Any) -> None:
        from_ = _coerce_from(table)
        self.table: TableClause = _coerce_table(from_)
        if from_ is not self.table:
            self._entity = from_

    def _get_compile_plugin(self) -> Any:
        return self._compile_plugin or self.table._compile_plugin

    def returning(self: _D, *cols: Any, sort_by_parameter_order: bool = False) -> _D:
        """``RETURNING cols`` (tables expand to all their columns).

        With ``sort_by_parameter_order=True`` an executemany returns its rows in the order of
        the parameter sets, also when the rows are inserted in multi-row batches.
        """
        if self._return_defaults:
            raise exc.InvalidRequestError(
                "return_defaults() is already configured on this statement; use "
                "return_defaults(supplemental_cols=...) to fetch more columns with it"
            )
        new = self._generate()
        new._returning = self._returning + _expand_columns(cols)
        new._returning_raw = self._returning_raw + tuple(_returning_element(c) for c in cols)
        new._returning_origins = self._returning_origins + cols
        new._sort_by_parameter_order = self._sort_by_parameter_order or sort_by_parameter_order
        return new

    def cte(self, name: str | None = None, recursive: bool = False, nesting: bool = False) -> CTE:
        """This statement as a common table expression: ``WITH name AS (INSERT ...
        RETURNING ...) SELECT ... FROM name`` (PostgreSQL).  Its columns are those of
        ``returning()``."""
        if not self._returning:
            raise exc.ArgumentError(
                f"A {type(self).__name__.upper()} used as a CTE needs returning(...): its "
                "columns are the ones RETURNING gives"
            )
        return CTE(self, name, recursive=recursive)

    def return_defaults(
        self: _D,
        *cols: Any,
        supplemental_cols: Iterable[Any] | None = None,
        sort_by_parameter_order: bool = False,
    ) -> _D:
        """Fetch server-generated values (primary key, server and SQL defaults) with RETURNING.

        They are read with ``result.returned_defaults`` / ``returned_defaults_rows`` and
        ``inserted_primary_key(_rows)``; the result itself has no rows unless
        ``supplemental_cols`` are given.  ``cols`` limits the fetched defaults to those columns.
        On a database without RETURNING for this statement, only the primary key of a single-row
        INSERT is known (from the driver's last row id).
        """
        if self._returning:
            raise exc.InvalidRequestError(
                "RETURNING is already configured on this statement; return_defaults() cannot "
                "be combined with returning()"
            )
        new = self._generate()
        new._return_defaults = True
        new._return_defaults_columns = self._return_defaults_columns + _expand_columns(cols)
        if supplemental_cols is not None:
            new._supplemental_returning = self._supplemental_returning + _expand_columns(
                tuple(supplemental_cols)
            )
        new._sort_by_parameter_order = self._sort_by_parameter_order or sort_by_parameter_order
        return new

    @property
    def exported_columns(self) -> ColumnCollection:
        return ColumnCollection((c.key or str(i), c) for i, c in enumerate(self._returning))

    @property
    def entity_description(self) -> dict[str, Any]:
        """The statement's target: its table, and for ``insert(User)`` and the like the mapped
        class as well (``name``, ``type``, ``expr``, ``entity``)."""
        describe = getattr(self._entity, "_describe", None)
        if describe is None:
            return {"name": self.table.name, "table": self.table}
        described = describe()
        return {
            **{key: described[key] for key in ("name", "type", "expr", "entity")},
            "table": self.table,
        }

    @property
    def returning_column_descriptions(self) -> list[dict[str, Any]]:
        """Per RETURNING entity or column, its entry as ``select(...).column_descriptions``
        gives it (``name``, ``type`` and ``expr`` only for a statement on a table)."""
        from athanor.sql.selectable import select

        if not self._returning_origins:
            return []
        found = select(*self._returning_origins).column_descriptions
        if self._entity is None:
            return [{key: d[key] for key in ("name", "type", "expr")} for d in found]
        return found


def _returning_element(col: Any) -> ClauseElement:
    element = col.__clause_element__() if hasattr(col, "__clause_element__") else col
    if isinstance(element, FromClause):
        return element
    # An ORM attribute whose column has another name is returned under the attribute's.
    name = getattr(col, "_selected_name", None)
    return coerce_column(element) if name is None else coerce_column(element).label(name)


def _expand_columns(cols: tuple[Any, ...]) -> tuple[ColumnElement, ...]:
    expanded: list[ColumnElement] = []
    for col in cols:
        element = _returning_element(col)
        if isinstance(element, FromClause):
            expanded.extend(element.c)
        else:
            assert isinstance(element, ColumnElement)
            expanded.append(element)
    return tuple(expanded)


def named_elements_key(pairs: Sequence[tuple[str, ColumnElement]], ctx: KeyContext) -> Hashable:
    """The key of ``(column key, value)`` pairs in their order (SET lists of upserts)."""
    return tuple((name, value._ck(ctx)) for name, value in pairs)


def _coerce_table(table: Any) -> TableClause:
    from_ = _coerce_from(table)
    # A mapped class coerces to an entity clause that names its table for DML.
    from_ = getattr(from_, "_dml_table", from_)
    if not isinstance(from_, TableClause):
        raise exc.ArgumentError(f"INSERT/UPDATE/DELETE need a table, got {table!r}")
    return from_


def _column_key(table: TableClause, key: Any) -> str:
    if isinstance(key, str):
        if key in table.c:
            return key
        for col in table.c:
            if col.name == key:
                return col.key  # type: ignore[no-any-return]
        raise exc.ArgumentError(f"Table {table.name!r} has no column {key!r}")
    element = key.__clause_element__() if hasattr(key, "__clause_element__") else key
    if isinstance(element, ColumnClause) and element.table is table:
        return element.key  # type: ignore[return-value]
    raise exc.ArgumentError(f"{key!r} is not a column of table {table.name!r}")


def _table_of(key: Any, own: Any, others: Sequence[Any]) -> Any:
    """Which of ``own`` and ``others`` has the column ``key`` names (``own`` first)."""
    if isinstance(key, str):
        for table in (own, *others):
            if key in table.c or any(col.name == key for col in table.c):
                return table
        return own
    element = key.__clause_element__() if hasattr(key, "__clause_element__") else key
    found = getattr(element, "table", None)
    return found if any(found is t for t in others) else own


def _value_element(table: TableClause, key: str, value: Any, unique: bool) -> ColumnElement:
    if _is_literal_value(value):
        col = table.c[key]
        return BindParameter(key, value, col.type, unique=unique)
    element = value.__clause_element__() if hasattr(value, "__clause_element__") else value
    from athanor.sql.selectable import ScalarSelect, Select

    if isinstance(element, Select):
        return ScalarSelect(element)
    if isinstance(element, BindParameter):
        return element._typed_as(table.c[key].type)
    return coerce_column(element)


def _expand_attributes(
    table: TableClause, entity: Any, values: Mapping[Any, Any]
) -> dict[Any, Any]:
    """``values`` with each key that names an ORM attribute rather than a column replaced by
    that attribute (its column may be named otherwise: ``mapped_column("db_name")``), and each
    key standing for several columns (a composite attribute) replaced by one key per column."""
    namespace = getattr(entity, "entity_namespace", None)
    expanded: dict[Any, Any] | None = None
    for key, value in values.items():
        attr = key
        if isinstance(key, str):
            attr = None if namespace is None or key in table.c else getattr(namespace, key, None)
        split = getattr(type(attr), "_bulk_update_tuples", None)
        renamed = split is None and attr is not key and hasattr(attr, "__clause_element__")
        if (split is not None or renamed) and expanded is None:
            expanded = {}
            for done, done_value in values.items():
                if done is key:
                    break
                expanded[done] = done_value
        if expanded is not None:
            if split is not None:
                expanded.update(split(attr, value))
            else:
                expanded[attr if renamed else key] = value
    if expanded is not None:
        return expanded
    return values if isinstance(values, dict) else dict(values)


def _normalize_values(
    table: TableClause, values: Mapping[Any, Any], unique: bool
) -> dict[str, ColumnElement]:
    return {
        (k := _column_key(table, key)): _value_element(table, k, value, unique)
        for key, value in values.items()
    }


class ValuesBase(DMLStatement):
    """INSERT and UPDATE: statements with column values."""

    _values: dict[str, ColumnElement] | None = None
    _multi_values: tuple[dict[str, ColumnElement], ...] = ()


class Insert(ValuesBase):
    """``INSERT INTO table (...) VALUES (...)`` — one row, many rows, or from a SELECT."""

    __visit_name__ = "insert"
    _select: Any = None
    _select_names: tuple[str, ...] = ()
    _include_defaults: bool = True
    _post_values_clause: ClauseElement | None = None
    _inline: bool = False
    _is_upsert: ClassVar[bool] = False

    def values(self, *args: Any, **kwargs: Any) -> Insert:
        """Values to insert: keyword arguments, a dict, or a list of dicts (multi-row)."""
        if self._select is not None:
            raise exc.InvalidRequestError("This insert() already uses from_select()")
        new = self._generate()
        if args:
            if len(args) > 1 or kwargs:
                raise exc.ArgumentError("values() takes one dict / list of dicts, or keywords")
            arg = args[0]
            if isinstance(arg, list | tuple) and (not arg or isinstance(arg[0], Mapping)):
                if self._values:
                    raise exc.InvalidRequestError("Can't add multi-row values to single-row values")
                new._multi_values = self._multi_values + tuple(
                    _normalize_values(
                        self.table, _expand_attributes(self.table, self._entity, row), unique=True
                    )
                    for row in arg
                )
                return new
            if isinstance(arg, list | tuple):
                arg = dict(zip([c.key for c in self.table.c], arg, strict=False))
            kwargs = dict(arg)
        if self._multi_values:
            raise exc.InvalidRequestError("Can't add single-row values to multi-row values")
        kwargs = _expand_attributes(self.table, self._entity, kwargs)
        new._values = {
            **(self._values or {}),
            **_normalize_values(self.table, kwargs, unique=False),
        }
        return new

    def from_select(
        self, names: Iterable[Any], select: Any, include_defaults: bool = True
    ) -> Insert:
        """``INSERT INTO table (names) SELECT ...``; with ``include_defaults`` the Python-side
        defaults of the other columns are added to the SELECT."""
        if self._values or self._multi_values:
            raise exc.InvalidRequestError("This insert() already has values()")
        new = self._generate()
        new._select_names = tuple(_column_key(self.table, n) for n in names)
        new._select = select
        new._include_defaults = include_defaults
        return new

    def inline(self) -> Insert:
        """Do not fetch server-generated primary keys."""
        new = self._generate()
        new._inline = True
        return new

    _cache_attrs: ClassVar[CacheAttrs] = (
        ("table", "element"),
        ("_values", "element_map"),
        ("_multi_values", "element_maps"),
        ("_select", "element"),
        ("_select_names", "plain"),
        ("_include_defaults", "plain"),
        ("_post_values_clause", "element"),
        ("_inline", "plain"),
        *_SHARED_DML_ATTRS,
    )


class _WhereMixin:
    _where: tuple[ColumnElement, ...] = ()

    def where(self: Any, *criteria: Any) -> Any:
        """Add WHERE criteria (AND-ed)."""
        new = self._generate()
        new._where = self._where + tuple(coerce_where(c) for c in criteria)
        return new

    filter = where

    def filter_by(self: Any, **kwargs: Any) -> Any:
        """WHERE ``column == value`` by column key, or by attribute name for a statement
        on a mapped class (``update(User).filter_by(name=...)``)."""
        lookup = getattr(self._entity, "_namespace_attribute", None)
        crit = []
        for key, value in kwargs.items():
            col = None if lookup is None else lookup(key)
            if col is None:
                col = self.table.c.get(key)
            if col is None:
                raise exc.InvalidRequestError(f"Table {self.table.name!r} has no column {key!r}")
            crit.append(col == value)
        return self.where(*crit)

    @property
    def whereclause(self) -> ColumnElement | None:
        from athanor.sql.elements import and_

        return and_(*self._where) if self._where else None


class Update(_WhereMixin, ValuesBase):
    """``UPDATE table SET ... WHERE ...``."""

    __visit_name__ = "update"
    _ordered: bool = False
    _other_values: dict[str, ColumnElement] | None = None
    """Values for columns of the other tables the statement's entity stands for (the parent
    tables of a joined-table subclass), keyed ``"<table>.<column key>"``: the ORM writes them
    with an UPDATE per table."""

    def values(self, *args: Any, **kwargs: Any) -> Update:
        """New column values: keywords or a dict (values may be SQL expressions)."""
        new = self._generate()
        if args:
            if len(args) > 1 or kwargs:
                raise exc.ArgumentError("values() takes one dict or keywords")
            kwargs = dict(args[0])
        kwargs = _expand_attributes(self.table, self._entity, kwargs)
        others = self._other_tables()
        if others:
            own: dict[Any, Any] = {}
            other: dict[str, ColumnElement] = {}
            for key, value in kwargs.items():
                table = _table_of(key, self.table, others)
                if table is self.table:
                    own[key] = value
                else:
                    k = _column_key(table, key)
                    other[f"{table.name}.{k}"] = _value_element(table, k, value, False)
            if other:
                new._other_values = {**(self._other_values or {}), **other}
            kwargs = own
        new._values = {
            **(self._values or {}),
            **_normalize_values(self.table, kwargs, unique=False),
        }
        return new

    def _other_tables(self) -> list[Any]:
        """The tables besides its own that the statement's entity stands for."""
        entity = self._entity
        if entity is None:
            return []
        return [t for t in entity._hide_froms if t is not self.table and hasattr(t, "c")]

    def ordered_values(self, *pairs: tuple[Any, Any]) -> Update:
        """Column values in the given SET order."""
        new = self.values(dict(pairs))
        new._ordered = True
        return new

    _cache_attrs: ClassVar[CacheAttrs] = (
        ("table", "element"),
        ("_values", "element_map"),
        ("_other_values", "element_map"),
        ("_ordered", "plain"),
        ("_where", "elements"),
        *_SHARED_DML_ATTRS,
    )


class Delete(_WhereMixin, DMLStatement):
    """``DELETE FROM table WHERE ...``."""

    __visit_name__ = "delete"

    _cache_attrs: ClassVar[CacheAttrs] = (
        ("table", "element"),
        ("_where", "elements"),
        *_SHARED_DML_ATTRS,
    )


def insert(table: Any) -> Insert:
    """``INSERT INTO table``."""
    return Insert(table)


def update(table: Any) -> Update:
    """``UPDATE table``."""
    return Update(table)


def delete(table: Any) -> Delete:
    """``DELETE FROM table``."""
    return Delete(table)


# --------------------------------------------------------------------------------------
# upserts shared by PostgreSQL and SQLite: INSERT ... ON CONFLICT


class _ValuesReference(TableClause):
    """The pseudo-table naming the row proposed for insertion (``excluded`` / MySQL ``VALUES()``).

    One per real table, so its columns key the statement cache by identity.
    """

    _is_values_ref: ClassVar[bool] = False

    def __init__(self, name: str, source: TableClause) -> None:
        super().__init__(name, *[ColumnClause(c.name, c.type) for c in source.c])
        for col, src in zip(self.c, source.c, strict=True):
            col.key = src.key
        self.__dict__["_columns"] = ColumnCollection(
            (src.key, col) for col, src in zip(self.c, source.c, strict=True)
        )


def values_reference(
    table: TableClause, name: str, cls: type[_ValuesReference] = _ValuesReference
) -> ColumnCollection:
    """The columns of the proposed row under pseudo-table ``name``, cached on ``table``."""
    attr = f"_values_ref_{name}"
    ref: _ValuesReference | None = table.__dict__.get(attr)
    if ref is None:
        ref = cls(name, table)
        table.__dict__[attr] = ref
    return ref.c


def _conflict_target(
    table: TableClause, constraint: Any, index_elements: Any, index_where: Any
) -> tuple[Any, tuple[ColumnElement, ...], ColumnElement | None]:
    if constraint is not None and index_elements is not None:
        raise exc.ArgumentError("Give either constraint= or index_elements=, not both")
    target_name = (
        constraint
        if isinstance(constraint, str) or constraint is None
        else getattr(constraint, "name", None)
    )
    if constraint is not None and not isinstance(constraint, str):
        cols = getattr(constraint, "columns", None)
        if target_name is None and cols is not None:
            index_elements = list(cols)
            target_name = None
    elements = tuple(
        table.c[e] if isinstance(e, str) else coerce_column(e) for e in (index_elements or ())
    )
    where = coerce_where(index_where) if index_where is not None else None
    return target_name, elements, where


class OnConflictClause(ClauseElement):
    """The ``ON CONFLICT (target)`` part of an upsert."""

    def __init__(
        self, table: TableClause, constraint: Any, index_elements: Any, index_where: Any
    ) -> None:
        self.constraint_target, self.inferred_target_elements, self.inferred_target_whereclause = (
            _conflict_target(table, constraint, index_elements, index_where)
        )

    _cache_attrs: ClassVar[CacheAttrs] = (
        ("constraint_target", "plain"),
        ("inferred_target_elements", "elements"),
        ("inferred_target_whereclause", "element"),
    )


class OnConflictDoNothing(OnConflictClause):
    """``ON CONFLICT ... DO NOTHING``."""

    __visit_name__ = "on_conflict_do_nothing"


class OnConflictDoUpdate(OnConflictClause):
    """``ON CONFLICT (target) DO UPDATE SET ... [WHERE ...]``."""

    __visit_name__ = "on_conflict_do_update"

    def __init__(
        self,
        table: TableClause,
        constraint: Any = None,
        index_elements: Any = None,
        index_where: Any = None,
        set_: Any = None,
        where: Any = None,
    ) -> None:
        super().__init__(table, constraint, index_elements, index_where)
        if self.constraint_target is None and not self.inferred_target_elements:
            raise exc.ArgumentError(
                "on_conflict_do_update() needs constraint= or index_elements= to name the "
                "conflict target"
            )
        if not set_:
            raise exc.ArgumentError("on_conflict_do_update() needs set_= with the new values")
        items = set_.items() if isinstance(set_, Mapping) else set_
        self.update_values_to_set: list[tuple[str, ColumnElement]] = [
            (k := _column_key(table, key), _value_element(table, k, value, unique=True))
            for key, value in items
        ]
        self.update_whereclause = coerce_where(where) if where is not None else None

    _cache_attrs: ClassVar[CacheAttrs] = (
        *OnConflictClause._cache_attrs,
        ("update_values_to_set", named_elements_key),
        ("update_whereclause", "element"),
    )


class OnConflictInsert(Insert):
    """An INSERT that can take ``ON CONFLICT`` (PostgreSQL and SQLite ``insert()``)."""

    _is_upsert = True

    @property
    def excluded(self) -> ColumnCollection:
        """The row proposed for insertion (``excluded.<column>``), for use in ``set_``."""
        return values_reference(self.table, "excluded")

    def on_conflict_do_nothing(
        self, constraint: Any = None, index_elements: Any = None, index_where: Any = None
    ) -> OnConflictInsert:
        """Skip rows that conflict with an existing row."""
        new = self._generate()
        new._post_values_clause = OnConflictDoNothing(
            self.table, constraint, index_elements, index_where
        )
        return new

    def on_conflict_do_update(
        self,
        constraint: Any = None,
        index_elements: Any = None,
        index_where: Any = None,
        set_: Any = None,
        where: Any = None,
    ) -> OnConflictInsert:
        """Update the existing row instead when the insert conflicts on the target."""
        new = self._generate()
        new._post_values_clause = OnConflictDoUpdate(
            self.table, constraint, index_elements, index_where, set_, where
        )
        return new


__all__ = [
    "Delete",
    "Insert",
    "OnConflictDoNothing",
    "OnConflictDoUpdate",
    "OnConflictInsert",
    "Update",
    "delete",
    "insert",
    "update",
]


def dml_extra_froms(stmt: Any) -> list[Any]:
    """The tables an UPDATE / DELETE reads besides its own, through its WHERE criteria
    (``UPDATE ... FROM`` / ``DELETE ... USING`` on the databases that have them)."""
    froms: list[Any] = []
    for crit in stmt._where:
        froms.extend(crit._from_objects)
    table = stmt.table
    seen = {id(table)}
    result = []
    for f in froms:
        hidden = f._hide_froms
        if any(h is table for h in hidden):
            # Something standing for the target table (an ORM entity): only the other
            # tables it stands for are extra.
            froms.extend(h for h in hidden if h is not table)
            continue
        if id(f) not in seen:
            seen.add(id(f))
            result.append(f)
    return result
