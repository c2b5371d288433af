"""The :class:`Inspector` and the machinery the dialects' reflection queries share.

``athanor.inspect(engine)`` returns an :class:`Inspector`, a database-neutral view of the
schema: table names, columns with their types mapped back to athanor types, keys, indexes and
constraints, all as plain dictionaries.  The per-database queries live in
``dialects/<db>/reflection.py`` as mixins of the dialect; they derive from
:class:`DialectReflection` here, which gives them parameter binding and type-name parsing.
:meth:`Inspector.reflect_table` turns the dictionaries into ``Table`` contents, which is what
``Table(..., autoload_with=)`` and ``MetaData.reflect()`` use.
"""

from __future__ import annotations

import graphlib
import itertools
import re
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from enum import Flag, auto
from typing import Any, ClassVar

from athanor import exc, inspection
from athanor.engine.connection import Connection
from athanor.engine.engine import Engine
from athanor.sql import elements
from athanor.sql import schema as sa_schema
from athanor.sql import types as sqltypes
from athanor.sql.elements import text

ReflectedDict = dict[str, Any]

_MEMO_KEY = "athanor.reflection_memo"
"""``connection.info`` key of the catalog reads shared by one reflection batch."""

_TYPE_NAME = re.compile(r"^\s*(?P<name>[^(]+?)\s*(?:\((?P<args>.*)\)(?P<rest>[^()]*))?$", re.S)
_QUOTED_LABEL = re.compile(r"'((?:[^']|'')*)'")


def parse_type_string(spec: str) -> tuple[str, list[str], str]:
    """Split a database type spelling into (lower-case name, arguments, trailing words).

    ``"character varying(50)"`` -> ``("character varying", ["50"], "")``;
    ``"timestamp(3) without time zone"`` -> ``("timestamp", ["3"], "without time zone")``.
    """
    match = _TYPE_NAME.match(spec)
    if match is None:
        return spec.strip().lower(), [], ""
    raw_args = match.group("args")
    args = [arg.strip() for arg in raw_args.split(",")] if raw_args else []
    return match.group("name").lower(), args, (match.group("rest") or "").strip().lower()


def parse_quoted_labels(args: str) -> list[str]:
    """The labels of a SQL list of quoted strings, ``'a','b''c'`` -> ``["a", "b'c"]``."""
    return [label.replace("''", "'") for label in _QUOTED_LABEL.findall(args)]


def build_type(type_class: Any, args: Sequence[str] = (), **kw: Any) -> Any:
    """An instance of athanor type ``type_class`` from reflected numeric arguments.

    Lengths go to string and binary types, precision and scale to numeric types; arguments a
    type cannot take (an ``INT(11)`` display width) are dropped.
    """
    numbers = [int(arg) for arg in args if arg.lstrip("-").isdigit()]
    if issubclass(type_class, sqltypes.Enum):
        return type_class(*args, **kw)
    if issubclass(type_class, sqltypes.Float):
        return type_class(**kw)
    if issubclass(type_class, sqltypes.Numeric):
        return type_class(*numbers[:2], **kw)
    if issubclass(type_class, (sqltypes.String, sqltypes.LargeBinary)) and numbers:
        return type_class(numbers[0], **kw)
    return type_class(**kw)


class DialectReflection:
    """Base of the per-database reflection mixins: running bound queries and mapping types."""

    ischema_names: ClassVar[dict[str, Any]] = {}
    """Lower-case database type name -> athanor type class."""

    default_schema_name: str | None = None
    server_version_info: tuple[int, ...] | None = None

    def _fetch(self, connection: Any, sql: str, **params: Any) -> list[Any]:
        """Rows of catalog query ``sql``; ``:name`` placeholders are bound from ``params``."""
        return list(connection.execute(text(sql), params))

    def _fetch_once(self, connection: Any, sql: str, **params: Any) -> list[Any]:
        """:meth:`_fetch`, read once per reflection batch (``reflect_table`` asks several
        questions answered by the same catalog row)."""
        memo: dict[Any, list[Any]] | None = connection.info.get(_MEMO_KEY)
        if memo is None:
            return self._fetch(connection, sql, **params)
        key = (sql, tuple(sorted(params.items())))
        rows = memo.get(key)
        if rows is None:
            rows = memo[key] = self._fetch(connection, sql, **params)
        return rows

    def _resolve_type(self, name: str, args: Sequence[str] = (), **kw: Any) -> Any:
        """The athanor type for database type ``name`` (``NullType`` with a warning if unknown)."""
        type_class = self.ischema_names.get(name.lower())
        if type_class is None:
            return sqltypes.NullType()
        return build_type(type_class, args, **kw)

    def _schema_or_default(self, connection: Any, schema: str | None) -> str:
        if schema is not None:
            return schema
        if self.default_schema_name is None:
            self.default_schema_name = self.get_default_schema_name(connection)
        assert self.default_schema_name is not None
        return self.default_schema_name

    def _referred_schema(self, connection: Any, schema: str | None, referred: str) -> str | None:
        """``referred`` as a foreign key's schema: None when the default one was meant."""
        if schema is None and referred == self._schema_or_default(connection, None):
            return None
        return referred

    def get_default_schema_name(self, connection: Any) -> str:
        """The schema unqualified names resolve to on this connection."""
        raise NotImplementedError

    def get_table_options(
        self, connection: Any, table_name: str, schema: str | None = None
    ) -> ReflectedDict:
        """Dialect keyword options of the table (``mysql_engine``, ``sqlite_autoincrement``)."""
        return {}

    def has_table(self, connection: Any, table_name: str, schema: str | None = None) -> bool:
        """Whether a table or view of that name exists."""
        raise NotImplementedError

    def get_indexes(
        self, connection: Any, table_name: str, schema: str | None = None
    ) -> list[ReflectedDict]:
        """The table's indexes other than the primary key."""
        raise NotImplementedError

    def has_index(
        self, connection: Any, table_name: str, index_name: str, schema: str | None = None
    ) -> bool:
        """Whether table ``table_name`` exists and has an index named ``index_name``."""
        if not self.has_table(connection, table_name, schema):
            return False
        indexes = self.get_indexes(connection, table_name, schema)
        return any(index["name"] == index_name for index in indexes)

    def get_sequence_names(self, connection: Any, schema: str | None = None) -> list[str]:
        """Names of the sequences in ``schema`` (none where the database has no sequences)."""
        return []

    def get_materialized_view_names(self, connection: Any, schema: str | None = None) -> list[str]:
        """Names of the materialized views in ``schema`` (none where the database has none)."""
        return []

    def get_temp_table_names(self, connection: Any) -> list[str]:
        """Names of the temporary tables this connection created."""
        raise NotImplementedError(
            f"{getattr(self, 'name', 'this database')} does not list temporary tables; "
            "get_temp_table_names() works on SQLite and PostgreSQL"
        )

    def get_temp_view_names(self, connection: Any) -> list[str]:
        """Names of the temporary views this connection created."""
        raise NotImplementedError(
            f"{getattr(self, 'name', 'this database')} does not list temporary views; "
            "get_temp_view_names() works on SQLite and PostgreSQL"
        )

    def has_sequence(self, connection: Any, sequence_name: str, schema: str | None = None) -> bool:
        """Whether a sequence of that name exists in ``schema``."""
        return sequence_name in self.get_sequence_names(connection, schema)


class ObjectKind(Flag):
    """Which relations the ``Inspector.get_multi_*`` methods cover."""

    TABLE = auto()
    VIEW = auto()
    MATERIALIZED_VIEW = auto()
    ANY_VIEW = VIEW | MATERIALIZED_VIEW
    ANY = TABLE | VIEW | MATERIALIZED_VIEW


class ObjectScope(Flag):
    """Whether the ``Inspector.get_multi_*`` methods cover regular or temporary relations."""

    DEFAULT = auto()
    TEMPORARY = auto()
    ANY = DEFAULT | TEMPORARY


class Inspector:
    """Reads tables, columns and constraints of the database behind an Engine or Connection.

    Results are cached for the life of the inspector, as in SQLAlchemy: make a new one
    (``inspect(engine)``) to see schema changes made afterwards.
    """

    def __init__(self, bind: Any) -> None:
        self.bind = bind
        self.dialect: Any = bind.dialect
        self._cache: dict[tuple[Any, ...], Any] = {}
        self._held: Any = None
        """The connection of the batch in progress (see :meth:`_batch`)."""

    @contextmanager
    def _connection(self) -> Iterator[Any]:
        if self._held is not None:
            yield self._held
        elif isinstance(self.bind, Engine):
            with self.bind.connect() as connection:
                yield connection
        else:
            yield self.bind

    @contextmanager
    def _batch(self) -> Iterator[None]:
        """Answer every question of one operation (``reflect_table``, ``reflect_metadata``)
        on one connection, reading each catalog row once, instead of a connection per call.
        """
        if self._held is not None:
            yield
            return
        with self._connection() as connection:
            info = connection.info
            owner = _MEMO_KEY not in info
            if owner:
                info[_MEMO_KEY] = {}
            self._held = connection
            try:
                yield
            finally:
                self._held = None
                if owner:
                    info.pop(_MEMO_KEY, None)

    def _call(self, method: str, *args: Any) -> Any:
        key = (method, *args)
        if key not in self._cache:
            with self._connection() as connection:
                self._cache[key] = getattr(self.dialect, method)(connection, *args)
        return self._cache[key]

    def _of_table(self, method: str, table_name: str, schema: str | None) -> Any:
        """The dialect's ``method`` about one table or view; an empty answer about one that
        does not exist raises NoSuchTableError rather than passing for an empty table."""
        result = self._call(method, table_name, schema)
        empty = not result or (isinstance(result, dict) and not any(result.values()))
        if empty and not self._call("has_table", table_name, schema):
            raise exc.NoSuchTableError(table_name if schema is None else f"{schema}.{table_name}")
        return result

    @property
    def default_schema_name(self) -> str:
        """The schema that unqualified table names resolve to."""
        result: str = self._call("get_default_schema_name")
        return result

    def clear_cache(self) -> None:
        """Forget cached results so that schema changes become visible."""
        self._cache.clear()

    def get_schema_names(self) -> list[str]:
        """Names of the schemas (PostgreSQL schemas, MySQL databases, SQLite attached files)."""
        result: list[str] = self._call("get_schema_names")
        return result

    def get_table_names(self, schema: str | None = None) -> list[str]:
        """Names of the tables (not views) in ``schema``, sorted."""
        result: list[str] = self._call("get_table_names", schema)
        return result

    def get_view_names(self, schema: str | None = None) -> list[str]:
        """Names of the views in ``schema``, sorted."""
        result: list[str] = self._call("get_view_names", schema)
        return result

    def get_materialized_view_names(self, schema: str | None = None) -> list[str]:
        """Names of the materialized views in ``schema``, sorted (PostgreSQL; none elsewhere)."""
        result: list[str] = self._call("get_materialized_view_names", schema)
        return result

    def get_temp_table_names(self) -> list[str]:
        """Names of the temporary tables of the inspected connection, sorted (SQLite and
        PostgreSQL; inspect the connection that made them: ``inspect(conn)``)."""
        result: list[str] = self._call("get_temp_table_names")
        return result

    def get_temp_view_names(self) -> list[str]:
        """Names of the temporary views of the inspected connection, sorted (SQLite and
        PostgreSQL)."""
        result: list[str] = self._call("get_temp_view_names")
        return result

    def get_enums(self, schema: str | None = None) -> list[ReflectedDict]:
        """PostgreSQL's native enum types of ``schema`` (``"*"`` for all): dicts with name,
        schema, visible and labels."""
        if not hasattr(self.dialect, "get_enums"):
            raise NotImplementedError(
                f"{self.dialect.name} has no named enum types; get_enums() is for PostgreSQL"
            )
        result: list[ReflectedDict] = self._call("get_enums", schema)
        return result

    def get_sorted_table_and_fkc_names(
        self, schema: str | None = None
    ) -> list[tuple[str | None, list[tuple[str, str | None]]]]:
        """The tables of ``schema`` in foreign-key dependency order (referred tables first),
        each with its ``(table, foreign key name)`` pairs; the foreign keys that close a
        cycle come last under ``None``, to be created separately (``ALTER TABLE``)."""
        names = self.get_table_names(schema)
        foreign_keys = {name: self.get_foreign_keys(name, schema) for name in names}
        depends = {
            name: {
                fk["referred_table"]
                for fk in foreign_keys[name]
                if fk["referred_table"] in foreign_keys and fk["referred_table"] != name
            }
            for name in names
        }
        in_cycles: set[str] = set()
        """Tables that refer to another one around a cycle: all their foreign keys wait."""
        while True:
            try:
                order = list(graphlib.TopologicalSorter(depends).static_order())
                break
            except graphlib.CycleError as cycle:
                # each name in the reported cycle is referred to by the next one
                path: list[str] = cycle.args[1]
                for earlier, later in itertools.pairwise(path):
                    depends[later].discard(earlier)
                    in_cycles.add(later)
        sorted_names: list[tuple[str | None, list[tuple[str, str | None]]]] = [
            (name, [] if name in in_cycles else [(name, fk["name"]) for fk in foreign_keys[name]])
            for name in order
        ]
        remaining = [
            (name, fk["name"]) for name in names if name in in_cycles for fk in foreign_keys[name]
        ]
        return [*sorted_names, (None, remaining)]

    # --- many tables at once: {(schema, table name): what the single-table method returns} --

    def get_multi_columns(
        self,
        schema: str | None = None,
        filter_names: Collection[str] | None = None,
        kind: ObjectKind = ObjectKind.TABLE,
        scope: ObjectScope = ObjectScope.DEFAULT,
    ) -> dict[tuple[str | None, str], list[ReflectedDict]]:
        """:meth:`get_columns` of every table (of ``kind``, named in ``filter_names``)."""
        return self._multi("get_columns", schema, filter_names, kind, scope)

    def get_multi_pk_constraint(
        self,
        schema: str | None = None,
        filter_names: Collection[str] | None = None,
        kind: ObjectKind = ObjectKind.TABLE,
        scope: ObjectScope = ObjectScope.DEFAULT,
    ) -> dict[tuple[str | None, str], ReflectedDict]:
        """:meth:`get_pk_constraint` of every table."""
        return self._multi("get_pk_constraint", schema, filter_names, kind, scope)

    def get_multi_foreign_keys(
        self,
        schema: str | None = None,
        filter_names: Collection[str] | None = None,
        kind: ObjectKind = ObjectKind.TABLE,
        scope: ObjectScope = ObjectScope.DEFAULT,
    ) -> dict[tuple[str | None, str], list[ReflectedDict]]:
        """:meth:`get_foreign_keys` of every table."""
        return self._multi("get_foreign_keys", schema, filter_names, kind, scope)

    def get_multi_indexes(
        self,
        schema: str | None = None,
        filter_names: Collection[str] | None = None,
        kind: ObjectKind = ObjectKind.TABLE,
        scope: ObjectScope = ObjectScope.DEFAULT,
    ) -> dict[tuple[str | None, str], list[ReflectedDict]]:
        """:meth:`get_indexes` of every table."""
        return self._multi("get_indexes", schema, filter_names, kind, scope)

    def get_multi_unique_constraints(
        self,
        schema: str | None = None,
        filter_names: Collection[str] | None = None,
        kind: ObjectKind = ObjectKind.TABLE,
        scope: ObjectScope = ObjectScope.DEFAULT,
    ) -> dict[tuple[str | None, str], list[ReflectedDict]]:
        """:meth:`get_unique_constraints` of every table."""
        return self._multi("get_unique_constraints", schema, filter_names, kind, scope)

    def get_multi_check_constraints(
        self,
        schema: str | None = None,
        filter_names: Collection[str] | None = None,
        kind: ObjectKind = ObjectKind.TABLE,
        scope: ObjectScope = ObjectScope.DEFAULT,
    ) -> dict[tuple[str | None, str], list[ReflectedDict]]:
        """:meth:`get_check_constraints` of every table."""
        return self._multi("get_check_constraints", schema, filter_names, kind, scope)

    def get_multi_table_comment(
        self,
        schema: str | None = None,
        filter_names: Collection[str] | None = None,
        kind: ObjectKind = ObjectKind.TABLE,
        scope: ObjectScope = ObjectScope.DEFAULT,
    ) -> dict[tuple[str | None, str], ReflectedDict]:
        """:meth:`get_table_comment` of every table."""
        return self._multi("get_table_comment", schema, filter_names, kind, scope)

    def get_multi_table_options(
        self,
        schema: str | None = None,
        filter_names: Collection[str] | None = None,
        kind: ObjectKind = ObjectKind.TABLE,
        scope: ObjectScope = ObjectScope.DEFAULT,
    ) -> dict[tuple[str | None, str], ReflectedDict]:
        """:meth:`get_table_options` of every table."""
        return self._multi("get_table_options", schema, filter_names, kind, scope)

    def _multi(
        self,
        method: str,
        schema: str | None,
        filter_names: Collection[str] | None,
        kind: ObjectKind,
        scope: ObjectScope,
    ) -> dict[tuple[str | None, str], Any]:
        """The dialect's ``method`` for each relation of ``kind`` in ``schema``, keyed by
        (schema, name);
        temporary relations are not listed (``scope`` without DEFAULT finds nothing)."""
        if ObjectScope.DEFAULT not in scope:
            return {}
        names: list[str] = []
        if ObjectKind.TABLE in kind:
            names += self.get_table_names(schema)
        if ObjectKind.VIEW in kind:
            names += self.get_view_names(schema)
        if ObjectKind.MATERIALIZED_VIEW in kind:
            names += self.get_materialized_view_names(schema)
        if filter_names is not None:
            names = [name for name in names if name in filter_names]
        with self._batch():
            return {(schema, name): self._call(method, name, schema) for name in names}

    def has_schema(self, schema: str) -> bool:
        """Whether a schema of that name exists."""
        return schema in self.get_schema_names()

    def get_sequence_names(self, schema: str | None = None) -> list[str]:
        """Names of the sequences in ``schema`` (empty where the database has none)."""
        result: list[str] = self._call("get_sequence_names", schema)
        return result

    def has_sequence(self, sequence_name: str, schema: str | None = None) -> bool:
        """Whether a sequence of that name exists (never cached)."""
        with self._connection() as connection:
            return bool(self.dialect.has_sequence(connection, sequence_name, schema))

    def has_index(self, table_name: str, index_name: str, schema: str | None = None) -> bool:
        """Whether the table has an index of that name (never cached)."""
        with self._connection() as connection:
            return bool(self.dialect.has_index(connection, table_name, index_name, schema))

    def get_view_definition(self, view_name: str, schema: str | None = None) -> str:
        """The SELECT behind a view (SQLite and MySQL: the whole CREATE VIEW statement)."""
        result: str | None = self._call("get_view_definition", view_name, schema)
        if result is None:
            raise exc.NoSuchTableError(view_name if schema is None else f"{schema}.{view_name}")
        return result

    def has_table(self, table_name: str, schema: str | None = None) -> bool:
        """Whether a table or view of that name exists (never cached)."""
        with self._connection() as connection:
            return bool(self.dialect.has_table(connection, table_name, schema))

    def get_columns(self, table_name: str, schema: str | None = None) -> list[ReflectedDict]:
        """Columns: dicts with name, type, nullable, default, autoincrement, comment and,
        where they apply, computed (sqltext, persisted) and identity."""
        result: list[ReflectedDict] = self._of_table("get_columns", table_name, schema)
        return result

    def get_pk_constraint(self, table_name: str, schema: str | None = None) -> ReflectedDict:
        """The primary key: ``{"name": ..., "constrained_columns": [...]}``."""
        result: ReflectedDict = self._of_table("get_pk_constraint", table_name, schema)
        return result

    def get_foreign_keys(self, table_name: str, schema: str | None = None) -> list[ReflectedDict]:
        """Foreign keys: name, constrained_columns, referred_schema, referred_table,
        referred_columns, options (ondelete, onupdate, deferrable, initially)."""
        result: list[ReflectedDict] = self._of_table("get_foreign_keys", table_name, schema)
        return result

    def get_indexes(self, table_name: str, schema: str | None = None) -> list[ReflectedDict]:
        """Indexes other than the primary key: name, column_names (None for an expression),
        expressions, unique, and duplicates_constraint for those backing a unique constraint."""
        result: list[ReflectedDict] = self._of_table("get_indexes", table_name, schema)
        return result

    def get_unique_constraints(
        self, table_name: str, schema: str | None = None
    ) -> list[ReflectedDict]:
        """Unique constraints: name, column_names."""
        result: list[ReflectedDict] = self._of_table("get_unique_constraints", table_name, schema)
        return result

    def get_check_constraints(
        self, table_name: str, schema: str | None = None
    ) -> list[ReflectedDict]:
        """Check constraints: name, sqltext (the condition without ``CHECK (...)``)."""
        result: list[ReflectedDict] = self._of_table("get_check_constraints", table_name, schema)
        return result

    def get_table_options(self, table_name: str, schema: str | None = None) -> ReflectedDict:
        """Dialect keyword options of the table, as ``Table(..., mysql_engine="InnoDB")``."""
        result: ReflectedDict = self._of_table("get_table_options", table_name, schema)
        return result

    def get_table_comment(self, table_name: str, schema: str | None = None) -> ReflectedDict:
        """The table's comment: ``{"text": str | None}``."""
        result: ReflectedDict = self._of_table("get_table_comment", table_name, schema)
        return result

    # --- into schema objects ---------------------------------------------------------------

    def reflect_table(
        self,
        table: Any,
        include_columns: Collection[str] | None = None,
        exclude_columns: Collection[str] = (),
        resolve_fks: bool = True,
    ) -> None:
        """Fill ``table`` (a ``Table`` with a name) from the database.

        Columns already on the table are kept as given; referred tables of foreign keys are
        reflected into the same MetaData when ``resolve_fks`` is true.
        """
        with self._batch():
            self._reflect_table(table, include_columns, exclude_columns, resolve_fks)

    def _reflect_table(
        self,
        table: Any,
        include_columns: Collection[str] | None,
        exclude_columns: Collection[str],
        resolve_fks: bool,
    ) -> None:
        name, schema = table.name, table.schema
        if not self._call("has_table", name, schema):
            raise exc.NoSuchTableError(name if schema is None else f"{schema}.{name}")
        wanted: Callable[[str], bool] = lambda column: (  # noqa: E731
            (include_columns is None or column in include_columns) and column not in exclude_columns
        )
        # A column declared before reflection keeps its own attribute key; match it by name.
        present = {column.name for column in table.columns}
        for info in self.get_columns(name, schema):
            if wanted(info["name"]) and info["name"] not in present:
                table.append_column(self._column(info))
                present.add(info["name"])
        pk = self.get_pk_constraint(name, schema)
        pk_columns = [c for c in pk["constrained_columns"] if c in present]
        if pk_columns:
            table.append_constraint(
                sa_schema.PrimaryKeyConstraint(*pk_columns, name=pk.get("name"))
            )
        for fk in self.get_foreign_keys(name, schema):
            if all(c in present for c in fk["constrained_columns"]):
                _append_if_new(table, self._foreign_key(table, fk, resolve_fks))
        self._reflect_indexes_and_constraints(table, name, schema, present)
        comment = self.get_table_comment(name, schema).get("text")
        if comment is not None:
            table.comment = comment
        for option, value in self.get_table_options(name, schema).items():
            table.dialect_kwargs.setdefault(option, value)

    def _reflect_indexes_and_constraints(
        self, table: Any, name: str, schema: str | None, present: set[str]
    ) -> None:
        for unique in self.get_unique_constraints(name, schema):
            if all(c in present for c in unique["column_names"]):
                _append_if_new(
                    table, sa_schema.UniqueConstraint(*unique["column_names"], name=unique["name"])
                )
        for check in self.get_check_constraints(name, schema):
            _append_if_new(
                table, sa_schema.CheckConstraint(_sql(check["sqltext"]), name=check["name"])
            )
        for index in self.get_indexes(name, schema):
            if index.get("duplicates_constraint"):
                continue
            expressions = index.get("expressions") or index["column_names"]
            columns = index["column_names"]
            if any(column is not None and column not in present for column in columns):
                continue
            if any(existing.name == index["name"] for existing in table.indexes):
                continue
            sorting = index.get("column_sorting", {})
            indexed = [
                _sorted(column, expression, sorting.get(expression, ()), table)
                for column, expression in zip(columns, expressions, strict=True)
            ]
            options = index.get("dialect_options", {})
            _append_if_new(
                table, sa_schema.Index(index["name"], *indexed, unique=index["unique"], **options)
            )

    def _column(self, info: ReflectedDict) -> Any:
        kw: dict[str, Any] = {
            "nullable": info["nullable"],
            "comment": info.get("comment"),
        }
        if info.get("autoincrement") is not None:
            kw["autoincrement"] = info["autoincrement"]
        if info.get("computed"):
            computed = info["computed"]
            args: list[Any] = [
                sa_schema.Computed(_sql(computed["sqltext"]), persisted=computed.get("persisted"))
            ]
        elif info.get("identity"):
            args = [sa_schema.Identity(**info["identity"])]
        else:
            args = []
            if info.get("default") is not None:
                kw["server_default"] = _sql(info["default"])
        return sa_schema.Column(info["name"], info["type"], *args, **kw)

    def _foreign_key(self, table: Any, fk: ReflectedDict, resolve: bool) -> Any:
        referred_schema = fk["referred_schema"]
        if referred_schema is None and table.schema is not None:
            referred_schema = table.schema
        referred = fk["referred_table"]
        prefix = f"{referred_schema}.{referred}" if referred_schema else referred
        if resolve and prefix not in table.metadata.tables:
            sa_schema.Table(referred, table.metadata, schema=referred_schema, autoload_with=self)
        options = fk.get("options", {})
        return sa_schema.ForeignKeyConstraint(
            fk["constrained_columns"],
            [f"{prefix}.{column}" for column in fk["referred_columns"]],
            name=fk["name"],
            ondelete=options.get("ondelete"),
            onupdate=options.get("onupdate"),
        )

    def reflect_metadata(
        self,
        metadata: Any,
        schema: str | None = None,
        only: Collection[str] | Callable[[str, Any], bool] | None = None,
        views: bool = False,
        extend_existing: bool = False,
        resolve_fks: bool = True,
    ) -> None:
        """Reflect every table (and view, if ``views``) of ``schema`` into ``metadata``.

        ``only`` limits it to the named tables (all must exist) or to those a predicate
        ``only(name, metadata)`` accepts; with ``resolve_fks`` the tables their foreign keys
        refer to come along.  Tables already in ``metadata`` are left alone unless
        ``extend_existing``.
        """
        with self._batch():
            self._reflect_metadata(metadata, schema, only, views, extend_existing, resolve_fks)

    def _reflect_metadata(
        self,
        metadata: Any,
        schema: str | None,
        only: Collection[str] | Callable[[str, Any], bool] | None,
        views: bool,
        extend_existing: bool,
        resolve_fks: bool,
    ) -> None:
        available = list(self.get_table_names(schema))
        if views:
            available += self.get_view_names(schema)
            available += self.get_materialized_view_names(schema)
        if only is None:
            chosen = available
        elif callable(only):
            chosen = [name for name in available if only(name, metadata)]
        else:
            missing = [name for name in only if name not in available]
            if missing:
                where = f" in schema {schema!r}" if schema else ""
                raise exc.InvalidRequestError(
                    f"Could not reflect: requested table(s) not available in the "
                    f"database{where}: ({', '.join(missing)})"
                )
            chosen = [name for name in available if name in only]
        for name in chosen:
            key = f"{schema}.{name}" if schema else name
            if key in metadata.tables and not extend_existing:
                continue
            sa_schema.Table(
                name,
                metadata,
                schema=schema,
                autoload_with=self,
                extend_existing=extend_existing,
                resolve_fks=resolve_fks,
            )


_SORT_MODIFIERS: dict[str, Callable[[Any], Any]] = {
    "desc": elements.desc,
    "asc": elements.asc,
    "nulls_first": elements.nulls_first,
    "nulls_last": elements.nulls_last,
}


def _sorted(column: str | None, expression: str, flags: Sequence[str], table: Any) -> Any:
    """A reflected index's element: its column's name, or its expression, wrapped in the
    orderings the database reports for it."""
    if not flags:
        return column if column is not None else _sql(expression)
    element = table.c[column] if column is not None else _sql(expression)
    for flag in flags:
        element = _SORT_MODIFIERS[flag](element)
    return element


def _sql(sql: str) -> Any:
    """Reflected SQL as a ``text()`` whose colons are not taken for bound parameters."""
    return text(sql.replace(":", "\\:"))


inspection.register(Engine, Inspector)
inspection.register(Connection, Inspector)
inspection.register(Inspector, lambda inspector: inspector)


def _identity(item: Any) -> tuple[Any, ...]:
    """What makes a reflected constraint or index the same as one the table already has."""
    if isinstance(item, sa_schema.CheckConstraint):
        return (sa_schema.CheckConstraint, str(item.sqltext))
    if isinstance(item, sa_schema.Index):
        return (sa_schema.Index, tuple(str(e) for e in item.expressions), bool(item.unique))
    shape = tuple(c.name for c in item.columns)
    if isinstance(item, sa_schema.ForeignKeyConstraint):
        shape += tuple(fk._colspec for fk in item.elements)
    return (type(item), shape)


def _append_if_new(table: Any, item: Any) -> None:
    """Add a reflected constraint or index unless the table already has it (by name or shape).

    Reflecting into a table that already exists in the MetaData (``autoload_with`` twice, or
    ``extend_existing=True``) must not add the same index or constraint a second time.
    """
    present = table.indexes if isinstance(item, sa_schema.Index) else table.constraints
    name = item.name
    for existing in present:
        if (name is not None and existing.name == name and type(existing) is type(item)) or (
            _identity(existing) == _identity(item)
        ):
            return
    table.append_constraint(item)
