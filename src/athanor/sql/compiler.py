"""The SQL compiler: statement objects to SQL strings and driver parameters.

One generic :class:`SQLCompiler` renders every construct; dialects subclass it to change small
things (LIMIT syntax, functions, upsert clauses).  Bound parameters are first rendered as
internal markers, so that the final pass can number them in textual order for any paramstyle
(``?``, ``%s``, ``:name``, ``%(name)s``, ``$1``), double ``%`` for format-style drivers, expand
``IN`` lists at execution time and repeat the VALUES group for batched executemany.

:func:`compile_cached` is what the engine calls: it computes the statement's structural cache
key, reuses a compiled form for identically shaped statements and returns the statement's
bound parameters so :meth:`Compiled.prepare` can read the new values.
"""

from __future__ import annotations

import copy
import re
import warnings
from collections.abc import Callable, Hashable, Iterator, Mapping, MutableMapping, Sequence
from itertools import chain
from operator import attrgetter, itemgetter
from typing import Any, ClassVar, overload

from athanor import exc
from athanor.sql import elements as el
from athanor.sql import functions as fn
from athanor.sql import operators
from athanor.sql import selectable as sel
from athanor.sql import types as sqltypes
from athanor.sql.dialect_names import dialect_names
from athanor.sql.dml import dml_extra_froms
from athanor.sql.plugin import plugin_of

_MARK = "\x00"
_ROW_START = "["
_ROW_END = "]"

Step = tuple[str, Any, bool, "list[tuple[Any, ...]] | None"]
"""One execution of an executemany: SQL, driver parameters, whether to use the driver's
executemany, and the primary key (as bound) of each parameter set the step covers, when the
parameters supply it (None otherwise)."""


_TYPE_ARGUMENTS = re.compile(r"\([^)]*\)")

_bind_value = attrgetter("value")
"""A bound parameter's value (for a statement whose values need no callable or processor)."""


_POSITIONAL_STYLES = frozenset({"qmark", "format", "numeric", "numeric_dollar"})


class Compiled:
    """A compiled statement: SQL for one dialect plus what is needed to bind values.

    Subclasses (the SQL and DDL compilers) render ``statement`` into :attr:`string` from
    their ``visit_<name>`` methods.
    """

    string: str = ""
    isinsert: bool = False
    isupdate: bool = False
    isdelete: bool = False
    isddl: bool = False
    returns_rows: bool = False
    implicit_returning_pk: bool = False
    returned_pk_positions: tuple[int, ...] | None = None
    """Where the primary key sits in each RETURNING row (DML with hidden RETURNING columns)."""
    returned_defaults_positions: tuple[int, ...] = ()
    returned_defaults_keys: tuple[str, ...] = ()
    returned_width: int = 0
    """How many columns the RETURNING clause renders (visible ones first, then hidden ones)."""
    returned_processors: list[Callable[[Any], Any] | None] | None = None
    returns_hidden: bool = False
    """True when RETURNING carries columns the engine reads itself (primary key, defaults)."""
    sort_by_parameter_order: bool = False
    plan: Any = None
    """What a compile plugin attached (an ORM loading plan); None for Core statements."""
    result_keys: list[str] = []
    result_key_objects: list[tuple[object, ...]] = []
    result_processors: list[Callable[[Any], Any] | None] | None = None
    keys_by_statement: bool = False
    """True when result columns of an equally shaped statement cannot be told apart by shape
    (a self-join of two anonymous aliases): each execution then keys rows by its own
    statement's column objects."""
    positiontup: list[str] | None = None

    def __init__(
        self,
        dialect: Any,
        statement: Any,
        *,
        compile_kwargs: Mapping[str, Any] | None = None,
        **kw: Any,
    ) -> None:
        self.dialect = dialect
        self.statement = statement
        self.preparer: IdentifierPreparer = dialect.identifier_preparer
        self.compile_kwargs = dict(compile_kwargs or {})
        if statement is not None:
            self.string = self.process(statement, **self.compile_kwargs)

    def process(self, element: Any, **kw: Any) -> str:
        """Render ``element`` through its ``visit_<__visit_name__>`` method."""
        try:
            visit = getattr(self, "visit_" + element.__visit_name__)
        except AttributeError:
            raise exc.UnsupportedCompilationError(
                f"The {self.dialect.name} compiler cannot render {type(element).__name__} "
                f"({getattr(element, '__visit_name__', '?')})"
            ) from None
        result: str = visit(element, **kw)
        return result

    @property
    def params(self) -> dict[str, Any]:
        """The statement's own bound values by parameter name."""
        return {}

    def construct_params(
        self, params: Mapping[str, Any] | None = None, **kw: Any
    ) -> dict[str, Any]:
        """The bound values by parameter name, those named in ``params`` replacing the
        statement's own (names the statement does not bind are left out)."""
        values = self.params
        if params:
            values = {name: params.get(name, value) for name, value in values.items()}
        return values

    @property
    def positional(self) -> bool:
        """Whether the driver takes parameters by position (``?``, ``%s``) rather than name."""
        return getattr(self.dialect, "paramstyle", "named") in _POSITIONAL_STYLES

    def prepare(
        self, extracted: Sequence[Any], params: Mapping[str, Any] | None
    ) -> tuple[str, Any]:
        """SQL and driver parameters for one execution."""
        return self.string, _empty_params(self.dialect)

    def prepare_many(
        self, extracted: Sequence[Any], params_list: Sequence[Mapping[str, Any]]
    ) -> list[Step]:
        """Execution steps ``(sql, params, is_executemany)`` for a list of parameter sets."""
        return [(self.string, _empty_params(self.dialect), False, None)]

    def route_for(self, params: Mapping[str, Any]) -> ParamRoute | None:
        """What :meth:`prepare` does with a parameter dict with the names of ``params`` (in
        their order) once it knows them, as a function of the dict alone; None when there
        is no such shortcut for them."""
        return None

    def key_is_lastrowid(self, params_used: Any) -> bool:
        """Whether the primary key of a one-row INSERT run with ``params_used`` (what
        :meth:`prepare` gave) is the cursor's lastrowid alone, without RETURNING."""
        return False

    def inserted_primary_key(
        self, params_used: Any, lastrowid: Any, returned_row: Any
    ) -> tuple[Any, ...] | None:
        """The primary key of the row an INSERT created, or None."""
        return None

    def defaulted_values(self, params_used: Any) -> dict[str, Any]:
        """The values Python-side column defaults had in a run with ``params_used``."""
        return {}

    def defaulted_rows(
        self, params_list: Sequence[Mapping[str, Any]], steps: Sequence[Step]
    ) -> list[dict[str, Any]]:
        """:meth:`defaulted_values` for each parameter set of an executemany run as ``steps``."""
        return [{} for _ in params_list]

    def sql_for(self, params: Mapping[str, Any] | None, many: bool = False) -> str:
        """The SQL run for parameter set ``params`` (shown in errors about those values)."""
        return self.string

    def unbindable_parameter(
        self, extracted: Sequence[Any], params: Mapping[str, Any] | None, many: bool = False
    ) -> str | None:
        """The key of the parameter whose value its type cannot bind (the processor raises),
        for the error that reports it; None when no single parameter fails on its own."""
        return None

    def __str__(self) -> str:
        return self.string


def _empty_params(dialect: Any) -> Any:
    return {} if dialect.paramstyle in ("named", "pyformat") else []


# --------------------------------------------------------------------------------------
# identifier quoting

RESERVED_WORDS = frozenset(
    [
        "all",
        "analyse",
        "analyze",
        "and",
        "any",
        "array",
        "as",
        "asc",
        "asymmetric",
        "authorization",
        "between",
        "binary",
        "both",
        "case",
        "cast",
        "check",
        "collate",
        "column",
        "constraint",
        "create",
        "cross",
        "current_date",
        "current_role",
        "current_time",
        "current_timestamp",
        "current_user",
        "default",
        "deferrable",
        "desc",
        "distinct",
        "do",
        "else",
        "end",
        "except",
        "false",
        "fetch",
        "for",
        "foreign",
        "freeze",
        "from",
        "full",
        "grant",
        "group",
        "having",
        "ilike",
        "in",
        "initially",
        "inner",
        "intersect",
        "into",
        "is",
        "isnull",
        "join",
        "lateral",
        "leading",
        "left",
        "like",
        "limit",
        "localtime",
        "localtimestamp",
        "natural",
        "not",
        "notnull",
        "null",
        "offset",
        "on",
        "only",
        "or",
        "order",
        "outer",
        "overlaps",
        "placing",
        "primary",
        "references",
        "returning",
        "right",
        "select",
        "session_user",
        "similar",
        "some",
        "symmetric",
        "table",
        "tablesample",
        "then",
        "to",
        "trailing",
        "true",
        "union",
        "unique",
        "user",
        "using",
        "values",
        "variadic",
        "verbose",
        "when",
        "where",
        "window",
        "with",
    ]
)
"""Words quoted in every dialect (SQL keywords reserved in at least one of the databases)."""

_LEGAL = re.compile(r"[a-z_][a-z0-9_$]*\Z")


def translated_schema(
    schema: str | None, schema_map: Mapping[str | None, str | None] | None
) -> str | None:
    """``schema`` as the ``schema_translate_map`` execution option renders it (the key None
    stands for tables without a schema; the value None drops the schema)."""
    return schema if not schema_map else schema_map.get(schema, schema)


class IdentifierPreparer:
    """Quotes identifiers and string literals for one dialect."""

    reserved_words: ClassVar[frozenset[str]] = RESERVED_WORDS
    initial_quote: ClassVar[str] = '"'
    final_quote: ClassVar[str] = '"'

    schema_map: Mapping[str | None, str | None] | None = None
    """The ``schema_translate_map`` execution option: schema names rendered under other
    names (the key None stands for tables without a schema; the value None drops it)."""

    def __init__(self, dialect: Any) -> None:
        self.dialect = dialect
        self._cache: dict[str, str] = {}

    def with_schema_map(self, schema_map: Mapping[str | None, str | None]) -> IdentifierPreparer:
        """This preparer rendering table schemas through ``schema_map``."""
        new = copy.copy(self)
        new.schema_map = schema_map
        return new

    def requires_quotes(self, name: str) -> bool:
        """Whether ``name`` must be quoted (reserved, mixed case or unusual characters)."""
        return name.lower() in self.reserved_words or not _LEGAL.match(name)

    def quote_identifier(self, name: str) -> str:
        """``name`` in identifier quotes, quote characters doubled."""
        if "\x00" in name:
            raise exc.CompileError("An identifier cannot contain NUL characters")
        return (
            self.initial_quote
            + name.replace(self.final_quote, self.final_quote * 2)
            + self.final_quote
        )

    def quote(self, name: str) -> str:
        """``name`` quoted if it needs to be (always or never for a :class:`quoted_name`
        that says so)."""
        if type(name) is not str and getattr(name, "quote", None) is not None:
            return self.quote_identifier(name) if name.quote else str(name)  # type: ignore[attr-defined]
        found = self._cache.get(name)
        if found is None:
            found = self.quote_identifier(name) if self.requires_quotes(name) else name
            self._cache[name] = found
        return found

    def quote_schema(self, schema: str) -> str:
        """A schema name, each dotted part quoted as needed."""
        return ".".join(self.quote(part) for part in schema.split("."))

    def format_table(self, table: Any, use_schema: bool = True) -> str:
        """A table's name, schema-qualified and quoted."""
        name = self.quote(table.name)
        if not use_schema:
            return name
        schema = translated_schema(getattr(table, "schema", None), self.schema_map)
        return self.quote_schema(schema) + "." + name if schema else name

    def format_column(self, column: Any) -> str:
        return self.quote(column.name)

    def quote_literal(self, value: str) -> str:
        """``value`` as a SQL string literal."""
        if "\x00" in value:
            raise exc.CompileError(
                f"{self.dialect.name} string literals cannot contain NUL characters"
            )
        return "'" + value.replace("'", "''") + "'"

    def format_binary_literal(self, value: bytes) -> str:
        """``value`` as a binary literal (``X'0aff'``)."""
        return "X'" + bytes(value).hex() + "'"


# --------------------------------------------------------------------------------------
# the generic dialect used by str(statement)


class _DefaultDialect:
    """The dialect ``str(stmt)`` compiles for: generic SQL with ``:name`` parameters."""

    name = "default"
    paramstyle = "named"
    from_linting = False
    supports_returning = True
    insert_returning = True
    update_returning = True
    delete_returning = True
    supports_dml_in_cte = True
    supports_arrays = True
    supports_multivalues_insert = True
    supports_native_boolean = True
    supports_native_enum = True
    supports_sequences = True
    supports_native_uuid = False
    native_decimal = False
    implicit_returning_pk = False
    max_bind_params = 32766
    server_version_info = None
    colspecs: ClassVar[dict[type, type]] = {}
    json_serializer = None
    json_deserializer = None

    def __init__(self) -> None:
        self.identifier_preparer = IdentifierPreparer(self)

    @property
    def statement_compiler(self) -> type[SQLCompiler]:
        return SQLCompiler

    @property
    def ddl_compiler(self) -> Any:
        from athanor.sql import ddl

        return ddl.DDLCompiler

    @property
    def type_compiler(self) -> Any:
        from athanor.sql import ddl

        return ddl.StrTypeCompiler


_default: _DefaultDialect | None = None


def default_dialect() -> Any:
    """The shared generic dialect."""
    global _default
    if _default is None:
        _default = _DefaultDialect()
    return _default


# --------------------------------------------------------------------------------------
# bound parameter slots


class _Slot:
    """One distinct bound parameter of a compiled statement and where its value comes from."""

    __slots__ = (
        "bind",
        "default",
        "empty_in",
        "expanding",
        "index",
        "key",
        "name",
        "number",
        "processor",
        "required",
        "tuple_processors",
        "use_callable",
        "value",
    )

    def __init__(self, name: str, key: str, bind: el.BindParameter | None, index: int) -> None:
        self.name = name
        self.key = key
        self.bind = bind
        self.index = index
        self.value = bind.value if bind is not None else None
        self.use_callable = bind is not None and bind.callable is not None
        self.required = bind.required if bind is not None else False
        self.expanding = bind.expanding if bind is not None else False
        self.processor: Callable[[Any], Any] | None = None
        self.tuple_processors: list[Callable[[Any], Any] | None] | None = None
        self.default: Any = None
        self.empty_in = "in"
        self.number = 0

    def resolve(
        self, extracted: Sequence[el.BindParameter], params: Mapping[str, Any] | None
    ) -> Any:
        if params:
            if self.key in params:
                return params[self.key]
            if self.name in params:
                return params[self.name]
        if self.index >= 0:
            bind = extracted[self.index]
            value = bind.callable() if bind.callable is not None else bind.value
            if bind.required and value is None and bind.callable is None:
                raise exc.StatementError(
                    f"A value is required for bind parameter {self.key!r}", None, params, None
                )
            return value
        if self.default is not None:
            return _run_default(self.default, params)
        if self.required:
            raise exc.StatementError(
                f"A value is required for bind parameter {self.key!r}", None, params, None
            )
        return self.value


class _ContextDefaultSlot(_Slot):
    """The slot of a column whose default function takes the execution context: the function
    sees the statement's values by parameter name, given or its own (``values(x=5)``, a WHERE
    clause's), not only the parameters given (a class of its own: other slots pay nothing)."""

    __slots__ = ("siblings",)

    siblings: list[_Slot]
    """The statement's slots."""

    def resolve(
        self, extracted: Sequence[el.BindParameter], params: Mapping[str, Any] | None
    ) -> Any:
        if params and (self.key in params or self.name in params):
            return super().resolve(extracted, params)
        return _run_default(self.default, self._current_parameters(extracted, params))

    def _current_parameters(
        self, extracted: Sequence[el.BindParameter], params: Mapping[str, Any] | None
    ) -> dict[str, Any]:
        """The values as the default function sees them: without other default functions'
        (each runs once per row) or missing ones."""
        found: dict[str, Any] = {}
        for slot in self.siblings:
            if slot is self:
                found[slot.name] = None  # the value being worked out
                continue
            if slot.default is not None and slot.default.is_callable:
                continue
            try:
                found[slot.name] = slot.resolve(extracted, params)
            except exc.StatementError:
                continue
        return found


def _run_default(default: Any, params: Mapping[str, Any] | None) -> Any:
    if default.is_callable:
        if default._takes_context:
            from athanor.sql.schema import DefaultExecutionContext

            return default.arg(DefaultExecutionContext(params or {}))
        return default.arg()
    return default.arg


_VARIANT_NAMES_KEPT = 32
"""How many orders of parameter names a statement remembers its variant for (:meth:`_variant`);
others work it out each time."""


class _VariantParams(list[Any]):
    """Positional parameters from a per-parameter-keys variant; knows which variant made them."""

    __slots__ = ("compiled",)
    compiled: SQLCompiler


ParamRoute = Callable[[Mapping[str, Any]], tuple[str, Any]]
"""Turns a parameter dict into the statement to run and the driver's parameters (see
``SQLCompiler._route_of``)."""


def _param_route(
    sql: str,
    getter: Callable[[Mapping[str, Any]], Any],
    one: bool,
    procs: list[Any] | None,
    names: list[str] | None,
    variant: SQLCompiler | None,
) -> ParamRoute:
    """The route of a statement whose values ``getter`` reads from the parameters (a single
    value when ``one``), converted by ``procs``, sent by ``names`` for a named paramstyle and
    tagged with the ``variant`` that made them when it is not the statement itself (what
    ``prepare`` gives for the same parameters); the usual shapes without a loop."""
    if procs is None and not one:
        if names is not None:
            return lambda params: (sql, dict(zip(names, getter(params), strict=True)))
        if variant is None:
            return lambda params: (sql, list(getter(params)))

        def tagged(params: Mapping[str, Any]) -> tuple[str, Any]:
            values = _VariantParams(getter(params))
            values.compiled = variant
            return sql, values

        return tagged

    def general(params: Mapping[str, Any]) -> tuple[str, Any]:
        found = [getter(params)] if one else list(getter(params))
        if procs is not None:
            found = [v if p is None else p(v) for p, v in zip(procs, found, strict=True)]
        if names is not None:
            return sql, dict(zip(names, found, strict=True))
        if variant is not None:
            values = _VariantParams(found)
            values.compiled = variant
            return sql, values
        return sql, found

    return general


_NAME_CLEAN = re.compile(r"\W")


# --------------------------------------------------------------------------------------
# the compiler


class SQLCompiler(Compiled):
    """Renders SELECT / INSERT / UPDATE / DELETE / text() for a dialect."""

    def __init__(
        self,
        dialect: Any,
        statement: Any,
        *,
        compile_kwargs: Mapping[str, Any] | None = None,
        extracted: Sequence[el.BindParameter] | None = None,
        column_keys: frozenset[str] | None = None,
        for_executemany: bool = False,
        nested: Callable[[Any, Sequence[Any]], Any] | None = None,
        schema_map: Mapping[str | None, str | None] | None = None,
        from_linting: bool = False,
    ) -> None:
        self._nested = nested
        self._from_linting = from_linting
        """Warn of a SELECT, UPDATE or DELETE whose FROM elements no condition connects (a
        cartesian product): set when an engine with ``enable_from_linting`` compiles."""
        self._from_linter: _FromLinter | None = None
        """The FROM elements of the statement rendering now, when linted."""
        self._schema_map = schema_map
        """Applied to each SELECT nested in the statement (see ``Translation.nested``)."""
        self._slots: list[_Slot] = []
        self._slot_by_name: dict[str, _Slot] = {}
        self._slot_by_bind: dict[int, _Slot] = {}
        self._anon_counters: dict[str, int] = {}
        self._anon_froms: dict[int, str] = {}
        self._anon_shapes: set[Hashable] = set()
        self._ctes: dict[str, str] = {}
        self._ctes_defining: set[str] = set()
        self._cte_recursive = False
        self._in_cte_dml = False
        """True while a DML statement inside a CTE renders (it gets no WITH of its own)."""
        self._stack: list[list[sel.FromClause]] = []
        self._toplevel_done = False
        self.column_keys = column_keys
        self.for_executemany = for_executemany
        self.literal_binds = bool((compile_kwargs or {}).get("literal_binds"))
        self.result_keys = []
        self.result_key_objects = []
        self._result_types: list[sqltypes.TypeEngine] = []
        self._returned_types: list[sqltypes.TypeEngine] = []
        self._pk_sources: list[tuple[str, Any]] | None = None
        self._key_is_lastrowid = False
        """An INSERT whose whole primary key is the cursor's lastrowid."""
        self._settable: frozenset[str] = frozenset()
        self._variants: dict[Any, SQLCompiler] = {}
        self._variant_of_names: dict[tuple[Any, ...], SQLCompiler] = {}
        self._routes: dict[tuple[str, ...], ParamRoute] = {}
        self._batch_sql: dict[int, str] = {}
        if (
            statement is not None
            and extracted is None
            and hasattr(statement, "_generate_cache_key")
        ):
            try:
                extracted = statement._generate_cache_key()[1]
            except NotImplementedError:
                extracted = None
        self._extracted = extracted
        self._bind_index: dict[int, int] = {}
        # Names generated for anonymous parameters avoid the names users chose and the
        # column keys DML statements bind by.
        self._reserved_names: set[str] = set()
        if extracted is not None:
            for i, bind in enumerate(extracted):
                self._bind_index.setdefault(id(bind.__dict__.get("_original", bind)), i)
                if not bind.unique:
                    self._reserved_names.add(bind.key)
        table = getattr(statement, "table", None) if getattr(statement, "is_dml", False) else None
        if table is not None:
            self._reserved_names.update(c.key for c in table.c)
        super().__init__(dialect, None, compile_kwargs=compile_kwargs)
        if schema_map is not None:
            self.preparer = self.preparer.with_schema_map(schema_map)
        self.statement = statement
        if statement is not None:
            raw = self.process(statement, **self.compile_kwargs)
            self._finish(raw)

    # --- finishing: markers to paramstyle -------------------------------------------

    def _finish(self, raw: str) -> None:
        parts = raw.split(_MARK)
        self._texts = parts[0::2]
        self._marks = parts[1::2]
        style = self.dialect.paramstyle
        self._positional = style not in ("named", "pyformat")
        # Format-style drivers read % only when given parameters (the engine passes none for a
        # statement without any), so % is doubled exactly when the statement has parameters.
        self._percent_doubled = style in ("format", "pyformat") and bool(self._slots)
        if self._percent_doubled:
            self._texts = [t.replace("%", "%%") for t in self._texts]
        self._expanding = any(s.expanding for s in self._slots)
        self.string, order = self._render(self._texts, self._marks, None)
        self._order = order
        if self._positional:
            self.positiontup = [s.name for s in order]
        self._plain = all(
            s.index >= 0 and not s.use_callable and not s.expanding and not s.required
            for s in self._slots
        )
        self._fast = [(s.index, s.processor) for s in (order if self._positional else self._slots)]
        self._no_procs = all(p is None for _, p in self._fast)
        self._fast_idx = [i for i, _ in self._fast]
        self._fast_names = [s.name for s in self._slots]
        # Every value read from the parameters by its key (see _prepare_values): one getter.
        keyed = order if self._positional else self._slots
        self._by_key: Callable[[Mapping[str, Any]], Any] | None = (
            itemgetter(*[s.key for s in keyed]) if keyed and not self._expanding else None
        )
        self._by_key_one = len(keyed) == 1
        procs = [s.processor for s in keyed]
        self._by_key_procs = procs if any(p is not None for p in procs) else None
        if self._result_types and self.returns_rows:
            self.result_processors = sqltypes.processors_for(self._result_types, self.dialect)
        if self._returned_types:
            self.returned_processors = sqltypes.processors_for(self._returned_types, self.dialect)

    def _placeholder(
        self, slot: _Slot, position: int, suffix: str = "", element: int | None = None
    ) -> str:
        mark = self._bare_placeholder(slot, position, suffix)
        if getattr(self.dialect, "render_bind_cast", False) and slot.bind is not None:
            return mark + self._bind_cast(slot.bind, element)
        return mark

    def _bare_placeholder(self, slot: _Slot, position: int, suffix: str = "") -> str:
        """The paramstyle's placeholder for ``slot`` at ``position``, without a cast."""
        style = self.dialect.paramstyle
        if style == "qmark":
            mark = "?"
        elif style == "format":
            mark = "%s"
        elif style == "numeric_dollar":
            mark = f"${position}"
        elif style == "numeric":
            mark = f":{position}"
        elif style == "pyformat":
            mark = f"%({slot.name}{suffix})s"
        else:
            mark = f":{slot.name}{suffix}"
        return mark

    def _bind_cast(self, bind: el.BindParameter, element: int | None) -> str:
        """``::TYPE`` after a placeholder, for drivers that type parameters from the SQL alone
        (asyncpg, psycopg's server-side binding).  Lengths and precisions are left out so a
        cast never truncates or rounds."""
        type_ = bind.type
        if element is not None and bind._tuple_types is not None:
            type_ = bind._tuple_types[element]
        if type_ is sqltypes.NULLTYPE or isinstance(type_, sqltypes.NullType):
            return ""
        if isinstance(type_, sqltypes.JSONPathElement):
            if type_.path:
                return "::TEXT[]"
            type_ = sqltypes.Integer() if type_.integer else sqltypes.Text()
        special: str | None = getattr(type_, "bind_cast_name", None)
        return "::" + (special or _TYPE_ARGUMENTS.sub("", self.type_name(type_)))

    def _render(
        self, texts: list[str], marks: list[str], expansions: dict[int, int] | None
    ) -> tuple[str, list[_Slot]]:
        """Assemble SQL; ``expansions`` maps expanding slot numbers to value counts."""
        out: list[str] = [texts[0]]
        order: list[_Slot] = []
        position = 0
        for i, mark in enumerate(marks):
            if mark not in (_ROW_START, _ROW_END):
                slot = self._slots[int(mark)]
                if slot.expanding and expansions is not None:
                    count = expansions[slot.number]
                    pieces = []
                    width = len(slot.tuple_processors) if slot.tuple_processors is not None else 0
                    for n in range(count):
                        if width:
                            inner = []
                            for m in range(width):
                                position += 1
                                inner.append(
                                    self._placeholder(slot, position, f"_{n + 1}_{m + 1}", m)
                                )
                            pieces.append("(" + ", ".join(inner) + ")")
                        else:
                            position += 1
                            pieces.append(self._placeholder(slot, position, f"_{n + 1}"))
                    if count:
                        out.append(", ".join(pieces))
                    else:
                        out.append(_empty_in(width, slot.empty_in == "in"))
                else:
                    position += 1
                    out.append(self._placeholder(slot, position))
                order.append(slot)
            out.append(texts[i + 1])
        return "".join(out), order

    # --- naming --------------------------------------------------------------------------

    def _anon(self, base: str) -> str:
        count = self._anon_counters.get(base, 0)
        while True:
            count += 1
            name = f"{base}_{count}"
            if name not in self._reserved_names:
                break
        self._anon_counters[base] = count
        return name

    def _bind_slot(self, bind: el.BindParameter, kind: type[_Slot] = _Slot) -> _Slot:
        slot = self._slot_by_bind.get(id(bind))
        if slot is not None:
            return slot
        if bind.unique:
            base = _NAME_CLEAN.sub("_", bind.key)
            name = self._anon(base)
            while name in self._slot_by_name:
                name = self._anon(base)
            key = name
        else:
            key = bind.key
            name = _NAME_CLEAN.sub("_", key)
            existing = self._slot_by_name.get(name)
            if existing is not None:
                self._slot_by_bind[id(bind)] = existing
                return existing
        if name[:1].isdigit():
            name = "p" + name
        slot = kind(name, key, bind, self._bind_index.get(id(bind), -1))
        impl = bind.type.dialect_impl(self.dialect)
        slot.processor = impl.bind_processor(self.dialect)
        if bind._tuple_types is not None:
            slot.tuple_processors = [
                t.dialect_impl(self.dialect).bind_processor(self.dialect) for t in bind._tuple_types
            ]
        slot.number = len(self._slots)
        self._slots.append(slot)
        self._slot_by_name[name] = slot
        self._slot_by_bind[id(bind)] = slot
        return slot

    def _mark(self, slot: _Slot) -> str:
        return _MARK + str(slot.number) + _MARK

    def _from_name(self, from_: Any) -> str:
        if isinstance(from_, sel.Alias):
            root = from_._root
            if root.name is not None:
                return self.preparer.quote(root.name)
            name = self._anon_froms.get(id(root))
            if name is None:
                name = self._anon_froms[id(root)] = self._anon("anon")
                if not self.keys_by_statement:
                    # Two anonymous FROMs of one shape: their columns' stand-ins are equal.
                    shape = root._ck_ref(el.KeyContext())
                    self.keys_by_statement = shape in self._anon_shapes
                    self._anon_shapes.add(shape)
            return name
        return self.preparer.format_table(from_)

    # --- literals ---------------------------------------------------------------------------

    def render_literal_value(self, value: Any, type_: sqltypes.TypeEngine) -> str:
        """``value`` as an inline SQL literal of ``type_``, safely quoted."""
        if value is None:
            return "NULL"
        if type_ is sqltypes.NULLTYPE or isinstance(type_, sqltypes.NullType):
            type_ = sqltypes.type_for_value(value)
        impl = type_.dialect_impl(self.dialect)
        render = impl.literal_processor(self.dialect)
        if render is not None:
            return render(value)
        if isinstance(value, bytes | bytearray | memoryview):
            return self.preparer.format_binary_literal(bytes(value))
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float):
            return sqltypes.Numeric().literal_processor(self.dialect)(value)  # type: ignore[misc]
        if isinstance(value, str):
            return self.preparer.quote_literal(value)
        raise exc.CompileError(
            f"No literal renderer for value {value!r} of type {type_!r}; "
            "bind it as a parameter instead of using literal_binds"
        )

    # --- basic elements ---------------------------------------------------------------------

    def visit_bindparam(
        self, bind: el.BindParameter, literal_binds: bool = False, _in_op: Any = None, **kw: Any
    ) -> str:
        if literal_binds or self.literal_binds:
            value = bind.effective_value
            if bind.expanding:
                items = list(value or ())
                if not items:
                    width = len(bind._tuple_types or ())
                    return "(" + _empty_in(width, _in_op is not operators.not_in_op) + ")"
                if bind._tuple_types is not None:
                    return (
                        "("
                        + ", ".join(
                            "("
                            + ", ".join(
                                self.render_literal_value(v, t)
                                for v, t in zip(item, bind._tuple_types, strict=False)
                            )
                            + ")"
                            for item in items
                        )
                        + ")"
                    )
                return "(" + ", ".join(self.render_literal_value(v, bind.type) for v in items) + ")"
            if bind.required and bind.value is None and bind.callable is None:
                raise exc.CompileError(f"Bind parameter {bind.key!r} has no value to render")
            return self.render_literal_value(value, bind.type)
        slot = self._bind_slot(bind)
        if bind.expanding:
            if _in_op is operators.not_in_op:
                slot.empty_in = "not_in"
            return "(" + self._mark(slot) + ")"
        return self._mark(slot)

    def visit_column(self, column: el.ColumnClause, include_table: bool = True, **kw: Any) -> str:
        name = column.name if column.is_literal else self.preparer.quote(column.name)
        table = column.table
        if table is None or not include_table:
            return name
        if getattr(table, "_is_values_ref", False):
            return f"VALUES({name})"
        return self._from_name(table) + "." + name

    def visit_null(self, element: el.Null, **kw: Any) -> str:
        return "NULL"

    def visit_true(self, element: el.True_, **kw: Any) -> str:
        return "true"

    def visit_false(self, element: el.False_, **kw: Any) -> str:
        return "false"

    def visit_collation(self, element: el.CollationClause, **kw: Any) -> str:
        return self.preparer.quote(element.collation)

    def visit_grouping(self, element: el.Grouping, **kw: Any) -> str:
        inner = element.element
        if isinstance(inner, sel._SelectBase):
            return "(" + self.process(inner, _correlate=True, **_strip(kw)) + ")"
        return "(" + self.process(inner, **kw) + ")"

    def visit_clauselist(self, element: el.ClauseList, **kw: Any) -> str:
        sep = (
            element.operator.sql
            if element.operator is operators.comma_op
            else f" {element.operator.sql} "
        )
        return sep.join(self.process(c, **kw) for c in element.clauses)

    def visit_boolean_clauselist(self, element: el.BooleanClauseList, **kw: Any) -> str:
        return f" {element.operator.sql} ".join(self.process(c, **kw) for c in element.clauses)

    def visit_tuple(self, element: el.Tuple, **kw: Any) -> str:
        return "(" + ", ".join(self.process(c, **kw) for c in element.clauses) + ")"

    def visit_binary(self, binary: el.BinaryExpression, **kw: Any) -> str:
        op = binary.operator
        if op.comparison and self._from_linter is not None:
            compared = binary.right._from_objects
            if compared:  # not a comparison with a value
                self._from_linter.connect(binary.left._from_objects, compared)
        special = getattr(self, f"visit_{op.name}_binary", None)
        if special is not None:
            result: str = special(binary, **kw)
            return result
        left = self.process(binary.left, **kw)
        if op is operators.in_op or op is operators.not_in_op:
            right = self.process(binary.right, _in_op=op, **kw)
        else:
            right = self.process(binary.right, **kw)
        text = f"{left} {op.sql} {right}"
        if op is operators.not_in_op and getattr(binary.right, "expanding", False):
            # An empty list expands to "NULL) OR (1 = 1": keep the OR inside parentheses.
            return f"({text})"
        return text + self._escape_clause(binary)

    def _escape_clause(self, binary: el.BinaryExpression) -> str:
        for name, value in binary.modifiers:
            if name == "escape" and value is not None:
                return " ESCAPE " + self.preparer.quote_literal(value)
        return ""

    def visit_ilike_op_binary(self, binary: el.BinaryExpression, **kw: Any) -> str:
        return self._lower_like(binary, "LIKE", **kw)

    def visit_not_ilike_op_binary(self, binary: el.BinaryExpression, **kw: Any) -> str:
        return self._lower_like(binary, "NOT LIKE", **kw)

    def _lower_like(self, binary: el.BinaryExpression, keyword: str, **kw: Any) -> str:
        left = self.process(binary.left, **kw)
        right = self.process(binary.right, **kw)
        return f"lower({left}) {keyword} lower({right})" + self._escape_clause(binary)

    def visit_between_op_binary(self, binary: el.BinaryExpression, **kw: Any) -> str:
        return self._between(binary, "BETWEEN", **kw)

    def visit_not_between_op_binary(self, binary: el.BinaryExpression, **kw: Any) -> str:
        return self._between(binary, "NOT BETWEEN", **kw)

    def _between(self, binary: el.BinaryExpression, keyword: str, **kw: Any) -> str:
        pair = binary.right
        assert isinstance(pair, el.ClauseList)
        low, high = pair.clauses
        left = self.process(binary.left, **kw)
        return f"{left} {keyword} {self.process(low, **kw)} AND {self.process(high, **kw)}"

    def visit_getitem_binary(self, binary: el.BinaryExpression, **kw: Any) -> str:
        return f"{self.process(binary.left, **kw)}[{self.process(binary.right, **kw)}]"

    def visit_json_getitem_op_binary(self, binary: el.BinaryExpression, **kw: Any) -> str:
        left = self.process(binary.left, **kw)
        right = self.process(binary.right, **kw)
        arrow = "->"
        if getattr(binary.right.type, "path", False) and getattr(
            self.dialect, "json_path_array", False
        ):
            arrow, right = "#>", f"CAST({right} AS TEXT[])"
        as_type = getattr(binary, "as_type", None)
        if as_type is None:
            return f"{left} {arrow} {right}"
        text = f"({left} {arrow}> {right})"
        return text if as_type._is_string else f"CAST({text} AS {self.cast_type(as_type)})"

    def visit_is_distinct_from_binary(self, binary: el.BinaryExpression, **kw: Any) -> str:
        return (
            f"{self.process(binary.left, **kw)} IS DISTINCT FROM {self.process(binary.right, **kw)}"
        )

    def visit_is_not_distinct_from_binary(self, binary: el.BinaryExpression, **kw: Any) -> str:
        left = self.process(binary.left, **kw)
        return f"{left} IS NOT DISTINCT FROM {self.process(binary.right, **kw)}"

    # --- arithmetic, bitwise, regular expressions, full text -----------------------------

    def visit_truediv_binary(self, binary: el.BinaryExpression, **kw: Any) -> str:
        left = self.process(binary.left, **kw)
        right = self.process(binary.right, **kw)
        if _is_integer(binary.left) and _is_integer(binary.right):
            right = self.true_divisor(right)
        return f"{left} / {right}"

    def true_divisor(self, right: str) -> str:
        """The divisor of an integer ``/``, made non-integer so the division is true division
        as in Python (a dialect hook; MySQL's ``/`` already is)."""
        return f"CAST({right} AS NUMERIC)"

    def visit_floordiv_binary(self, binary: el.BinaryExpression, **kw: Any) -> str:
        left = self.process(binary.left, **kw)
        right = self.process(binary.right, **kw)
        if _is_integer(binary.left) and _is_integer(binary.right):
            return self.integer_floor(f"{left} / {self.true_divisor(right)}", binary.type)
        return self.floor(f"{left} / {right}")

    def floor(self, quotient: str) -> str:
        """The floor of ``quotient``, rounding towards minus infinity as Python's ``//``."""
        return f"FLOOR({quotient})"

    def integer_floor(self, quotient: str, type_: sqltypes.TypeEngine) -> str:
        """The floor of a true ``quotient`` of integers, as an integer."""
        return f"CAST({self.floor(quotient)} AS {self.cast_type(type_)})"

    def visit_bitwise_xor_op_binary(self, binary: el.BinaryExpression, **kw: Any) -> str:
        left = self.process(binary.left, **kw)
        return f"{left} {self.bitwise_xor_sql} {self.process(binary.right, **kw)}"

    bitwise_xor_sql = "^"

    def visit_regexp_match_op_binary(self, binary: el.BinaryExpression, **kw: Any) -> str:
        return self.regexp_match(binary, False, **kw)

    def visit_not_regexp_match_op_binary(self, binary: el.BinaryExpression, **kw: Any) -> str:
        return self.regexp_match(binary, True, **kw)

    def regexp_match(self, binary: el.BinaryExpression, negated: bool, **kw: Any) -> str:
        """``x REGEXP pattern`` (a dialect hook)."""
        left = self.process(binary.left, **kw)
        pattern = self.regexp_pattern(self.process(binary.right, **kw), regexp_flags(binary))
        return f"{left} {'NOT ' if negated else ''}REGEXP {pattern}"

    def regexp_pattern(self, pattern: str, flags: str | None) -> str:
        """``pattern`` with inline ``(?flags)`` in front when there are flags."""
        if not flags:
            return pattern
        return f"CONCAT({self.preparer.quote_literal('(?' + flags + ')')}, {pattern})"

    def visit_regexp_replace_op_binary(self, binary: el.BinaryExpression, **kw: Any) -> str:
        pair = binary.right
        assert isinstance(pair, el.ClauseList)
        pattern, replacement = (self.process(c, **kw) for c in pair.clauses)
        return self.regexp_replace(
            self.process(binary.left, **kw), pattern, replacement, regexp_flags(binary)
        )

    def regexp_replace(self, value: str, pattern: str, replacement: str, flags: str | None) -> str:
        """``REGEXP_REPLACE(value, pattern, replacement)``, replacing every match (a dialect
        hook; PostgreSQL's ``"g"`` flag is the default here, so it is dropped)."""
        inline = flags.replace("g", "") if flags else None
        return f"REGEXP_REPLACE({value}, {self.regexp_pattern(pattern, inline)}, {replacement})"

    def visit_match_op_binary(self, binary: el.BinaryExpression, **kw: Any) -> str:
        return self.full_text_match(
            self.process(binary.left, **kw), self.process(binary.right, **kw)
        )

    def visit_not_match_op_binary(self, binary: el.BinaryExpression, **kw: Any) -> str:
        match = self.full_text_match(
            self.process(binary.left, **kw), self.process(binary.right, **kw)
        )
        return f"NOT ({match})"

    def full_text_match(self, column: str, query: str) -> str:
        """A full-text search condition (a dialect hook)."""
        return f"{column} MATCH {query}"

    def visit_collection_aggregate(self, element: el.CollectionAggregate, **kw: Any) -> str:
        assert element.operator is not None
        inner = self.process(element.element, **kw)
        if not isinstance(element.element, el.Grouping):
            inner = f"({inner})"
        return f"{element.operator.sql} {inner}"

    def visit_unary(self, unary: el.UnaryExpression, **kw: Any) -> str:
        inner = self.process(unary.element, **kw)
        if unary.operator is not None:
            sep = "" if unary.operator in (operators.neg, operators.bitwise_not_op) else " "
            return f"{unary.operator.sql}{sep}{inner}"
        assert unary.modifier is not None
        special = getattr(self, f"visit_{unary.modifier.name}_unary", None)
        if special is not None:
            result: str = special(unary, inner)
            return result
        return f"{inner} {unary.modifier.sql}"

    def visit_label(self, label: el.Label, within_columns_clause: bool = False, **kw: Any) -> str:
        if within_columns_clause:
            return (
                self.process(label.element, **kw)
                + " AS "
                + self.preparer.quote(label.name or "anon")
            )
        if kw.get("_order_labels") and id(label) in kw["_order_labels"]:
            return self.preparer.quote(label.name or "anon")
        return self.process(label.element, **kw)

    def visit_label_reference(self, ref: Any, **kw: Any) -> str:
        return self.preparer.quote(ref.name)

    def visit_cast(self, cast: el.Cast, **kw: Any) -> str:
        return f"CAST({self.process(cast.clause, **kw)} AS {self.cast_type(cast.type)})"

    supports_try_cast: ClassVar[bool] = True
    """``TRY_CAST`` exists (SQL Server; not SQLite, PostgreSQL, MySQL or MariaDB)."""

    def visit_try_cast(self, cast: el.Cast, **kw: Any) -> str:
        if not self.supports_try_cast:
            raise exc.CompileError(
                f"{self.dialect.name} has no TRY_CAST; use cast(), which fails on a value "
                "that does not convert, or a CASE testing the value first"
            )
        return f"TRY_CAST({self.process(cast.clause, **kw)} AS {self.cast_type(cast.type)})"

    def cast_type(self, type_: sqltypes.TypeEngine) -> str:
        """The type name used inside CAST (a dialect hook)."""
        return self.type_name(type_)

    def type_name(self, type_: sqltypes.TypeEngine) -> str:
        compiler = self.dialect.type_compiler(self.dialect, self._schema_map)
        result: str = compiler.process(type_)
        return result

    def visit_extract(self, element: el.Extract, **kw: Any) -> str:
        return f"EXTRACT({element.field} FROM {self.process(element.expr, **kw)})"

    def visit_type_coerce(self, element: el.TypeCoerce, **kw: Any) -> str:
        return self.process(element.clause, **kw)

    def visit_case(self, case: el.Case, **kw: Any) -> str:
        parts = ["CASE"]
        if case.value is not None:
            parts.append(self.process(case.value, **kw))
        for cond, result in case.whens:
            parts.append(f"WHEN {self.process(cond, **kw)} THEN {self.process(result, **kw)}")
        if case.else_ is not None:
            parts.append(f"ELSE {self.process(case.else_, **kw)}")
        parts.append("END")
        return " ".join(parts)

    def visit_over(self, over: el.Over, **kw: Any) -> str:
        parts = []
        if over.partition_by:
            parts.append(
                "PARTITION BY " + ", ".join(self.process(c, **kw) for c in over.partition_by)
            )
        if over.order_by:
            parts.append("ORDER BY " + ", ".join(self.process(c, **kw) for c in over.order_by))
        for word, frame in (("ROWS", over.rows), ("RANGE", over.range_), ("GROUPS", over.groups)):
            if frame is not None:
                parts.append(
                    f"{word} BETWEEN {_frame_bound(frame[0], True)} "
                    f"AND {_frame_bound(frame[1], False)}"
                )
        inner = self.process(over.element, **kw)
        return f"{inner} OVER ({' '.join(parts)})"

    def visit_grouping_sets_func(self, func: fn.FunctionElement, **kw: Any) -> str:
        return f"GROUPING SETS({self.process(func.clause_expr, **kw)})"

    def visit_aggregate_strings_func(self, func: fn.FunctionElement, **kw: Any) -> str:
        """``func.aggregate_strings(expr, separator)``: the database's string aggregate, the
        separator written as a literal (MySQL takes no parameter there)."""
        args = func.clause_expr.clauses
        if len(args) != 2:
            raise exc.ArgumentError(
                "aggregate_strings() takes the expression and the separator: "
                "func.aggregate_strings(table.c.name, ', ')"
            )
        expr = self.process(args[0], **kw)
        separator = self.process(args[1], **{**kw, "literal_binds": True})
        return self.aggregate_strings(expr, separator)

    def aggregate_strings(self, expr: str, separator: str) -> str:
        """The string aggregate of ``expr`` joined by ``separator`` (dialect hook)."""
        return f"string_agg({expr}, {separator})"

    def visit_function(self, func: fn.FunctionElement, **kw: Any) -> str:
        if not func.name:
            raise exc.CompileError(
                f"{type(func).__name__} has no SQL function name: give the class a name "
                "attribute, or render it with a @compiles rule (athanor.ext.compiler)"
            )
        lname = func.name.lower()
        special = getattr(self, f"visit_{lname}_func", None)
        if special is not None and not func.packagenames:
            result: str = special(func, **kw)
            return result
        args = func.clause_expr.clauses
        if lname in fn.NO_PARENS and not args:
            return func.name.upper()
        name = (
            func.name
            if re.match(r"^\w+$", func.name)
            else self.preparer.quote_identifier(func.name)
        )
        qualified = ".".join([*(self.preparer.quote(p) for p in func.packagenames), name])
        return f"{qualified}({self.process(func.clause_expr, **kw)})"

    def visit_funcfilter(self, element: fn.FunctionFilter, **kw: Any) -> str:
        crit = " AND ".join(self.process(c, **kw) for c in element.criterion)
        return f"{self.process(element.func, **kw)} FILTER (WHERE {crit})"

    def visit_scalar_function_column(self, element: fn.ScalarFunctionColumn, **kw: Any) -> str:
        return f"({self.process(element.func, **kw)}).{self.preparer.quote(element.name)}"

    def visit_withingroup(self, element: fn.WithinGroup, **kw: Any) -> str:
        order = ", ".join(self.process(c, **kw) for c in element.order_by)
        return f"{self.process(element.func, **kw)} WITHIN GROUP (ORDER BY {order})"

    def visit_next_value(self, element: Any, **kw: Any) -> str:
        raise exc.CompileError(
            f"{self.dialect.name} has no sequences (Sequence {element.sequence.name!r})"
        )

    def visit_identified_clause(self, clause: el._IdentifiedClause, **kw: Any) -> str:
        return clause._render(self.preparer)

    def visit_textclause(self, clause: el.TextClause, **kw: Any) -> str:
        if _MARK in clause.text:
            raise exc.CompileError("text() cannot contain NUL characters")

        def bind(match: re.Match[str]) -> str:
            return self.process(clause._bindparams[match.group(1)], **kw)

        rendered = el._BIND_RE.sub(bind, clause.text)
        return rendered.replace("\\:", ":")

    def visit_text_criterion(self, element: el.TextCriterion, **kw: Any) -> str:
        return self.process(element.clause, **kw)

    def visit_from_statement(self, element: sel.FromStatement, **kw: Any) -> str:
        return self.process(element.element, **kw)

    def visit_textual_select(self, element: el.TextualSelect, **kw: Any) -> str:
        if not self._stack and not self._toplevel_done:
            self._toplevel_done = True
            self._set_result_columns(
                [(c.key or f"anon_{i + 1}", c) for i, c in enumerate(element.column_args)]
            )
        return self.process(element.element, **kw)

    # --- selects -----------------------------------------------------------------------------

    def _set_result_columns(self, named: list[tuple[str, el.ColumnElement]]) -> None:
        self.returns_rows = True
        self.result_keys = [name for name, _ in named]
        self.result_key_objects = result_key_objects(named)
        self._result_types = [col.type for _, col in named]
        stand_ins = [col._result_stand_in() for _, col in named]
        found = [key for key in stand_ins if key is not None]
        self.keys_by_statement = len(set(found)) < len(found)

    def visit_select(self, select: sel.Select, _correlate: bool = False, **kw: Any) -> str:
        toplevel = not self._stack and not self._toplevel_done
        enclosing = self._stack[-1] if (_correlate and self._stack) else None
        if toplevel:
            self._toplevel_done = True
        else:
            plugin = plugin_of(select)
            if plugin is not None:
                select = plugin.translate_nested(select, self.dialect)
            if self._nested is not None:
                select = self._nested(select, enclosing or ())
        froms = select._froms(enclosing)
        named = select._named_columns()
        if toplevel:
            self._set_result_columns(named)
        self._stack.append(froms + (enclosing or []))
        outer_linter = self._from_linter
        # One FROM element (a join is one) cannot make a cartesian product.
        linter = _FromLinter(froms) if self._from_linting and len(froms) > 1 else None
        self._from_linter = None
        try:
            text = self._select_body(select, froms, named, kw, linter)
        finally:
            self._stack.pop()
            self._from_linter = outer_linter
        if linter is not None:
            linter.warn(self, "SELECT")
        for cte in select._independent_ctes:
            self.process(cte, asfrom=True, **_strip(kw))
        if toplevel:
            text = self._with_ctes(text)
        return text

    def _select_body(
        self,
        select: sel.Select,
        froms: list[sel.FromClause],
        named: list[tuple[str, el.ColumnElement]],
        kw: dict[str, Any],
        linter: _FromLinter | None = None,
    ) -> str:
        """The SELECT's text; ``linter`` notes the comparisons of its ON and WHERE clauses,
        the ones that can join its FROM elements."""
        kw = _strip(kw)
        cols = []
        for name, col in named:
            if isinstance(col, el.Label):
                _refuse_ordering(col.element)
                cols.append(self.process(col.element, **kw) + " AS " + self.preparer.quote(name))
                continue
            rendered = self.process(col, **kw)
            natural = col.name if isinstance(col, el.ColumnClause) else None
            if natural != name:
                _refuse_ordering(col)
                rendered += " AS " + self.preparer.quote(name)
            cols.append(rendered)
        parts = ["SELECT " + self._dialect_words(select._prefixes, " ")]
        if select._distinct:
            parts.append(self.distinct_clause(select, **kw))
        parts.append(", ".join(cols))
        self._from_linter = linter
        if froms:
            hints = self._table_hints(select)
            from_kw = {**kw, "table_hints": hints} if hints else kw
            parts.append(
                " FROM " + ", ".join(self.process(f, asfrom=True, **from_kw) for f in froms)
            )
        else:
            parts.append(self.default_from())
        if select._where:
            parts.append(" WHERE " + self._criteria(select._where, kw))
        self._from_linter = None
        if select._group_by:
            labels = {id(c) for _, c in named if isinstance(c, el.Label)}
            parts.append(
                " GROUP BY "
                + ", ".join(self.process(c, _order_labels=labels, **kw) for c in select._group_by)
            )
        if select._having:
            parts.append(" HAVING " + self._criteria(select._having, kw))
        if select._order_by:
            labels = {id(c) for _, c in named if isinstance(c, el.Label)}
            parts.append(self.order_by_clause(select, _order_labels=labels, **kw))
        if select._limit is not None or select._offset is not None:
            parts.append(self.limit_clause(select, **kw))
        if select._for_update is not None:
            parts.append(self.for_update_clause(select, **kw))
        suffixes = self._dialect_words(select._suffixes, "")
        if suffixes:
            parts.append(" " + suffixes)
        return "".join(parts)

    def _dialect_words(self, entries: tuple[tuple[str, str], ...], after: str) -> str:
        """The ``prefix_with()`` / ``suffix_with()`` words meant for this dialect, joined,
        followed by ``after`` when there are any."""
        names = self._dialect_names()
        words = [text for text, dialect in entries if dialect in names]
        return " ".join(words) + after if words else ""

    def _dialect_names(self) -> set[str]:
        """The names that pick out this dialect in ``dialect=`` arguments (``"*"`` for all)."""
        return {"*", *dialect_names(self.dialect)}

    def _criteria(self, criteria: tuple[el.ColumnElement, ...], kw: dict[str, Any]) -> str:
        if len(criteria) == 1:
            return self.process(criteria[0], **kw)
        return self.process(el.and_(*criteria), **kw)

    def default_from(self) -> str:
        """FROM text for a SELECT without tables (empty; Oracle-style dialects say DUAL)."""
        return ""

    def distinct_clause(self, select: sel.Select, **kw: Any) -> str:
        if select._distinct_on:
            raise exc.CompileError(f"DISTINCT ON is not supported by {self.dialect.name}")
        return "DISTINCT "

    def order_by_clause(self, select: Any, **kw: Any) -> str:
        return " ORDER BY " + ", ".join(self.process(c, **kw) for c in select._order_by)

    def limit_clause(self, select: Any, **kw: Any) -> str:
        """LIMIT / OFFSET (a dialect hook); ``fetch()``'s FETCH FIRST."""
        if select._fetch is not None:
            return self.fetch_clause(select, **kw)
        text = ""
        if select._limit is not None:
            text += " LIMIT " + self.process(select._limit, **kw)
        if select._offset is not None:
            text += " OFFSET " + self.process(select._offset, **kw)
        return text

    def fetch_clause(self, select: Any, **kw: Any) -> str:
        """The SQL standard's ``OFFSET n ROWS FETCH FIRST m [PERCENT] ROWS ONLY|WITH TIES``,
        for ``fetch()`` (a dialect hook: ``fetch_percent``/``fetch_with_ties`` say what the
        database takes)."""
        with_ties, percent = select._fetch
        name = self.dialect.name
        if percent and not self.fetch_percent:
            raise exc.CompileError(
                f"{name} has no FETCH FIRST ... PERCENT; compute the row count and use "
                "fetch(count) or limit(count)"
            )
        if with_ties and not self.fetch_with_ties:
            raise exc.CompileError(
                f"{name} has no FETCH FIRST ... WITH TIES here; use fetch(count) without "
                "with_ties, or filter on a rank window function"
            )
        if with_ties and not select._order_by:
            raise exc.CompileError("fetch(..., with_ties=True) needs an ORDER BY")
        # Parenthesised where a typed bind parameter is not a plain value in this position.
        wrap = "({})" if self.fetch_parenthesised else "{}"
        text = ""
        if select._offset is not None:
            text += " OFFSET " + wrap.format(self.process(select._offset, **kw)) + " ROWS"
        text += " FETCH FIRST " + wrap.format(self.process(select._limit, **kw))
        text += " PERCENT ROWS" if percent else " ROWS"
        return text + (" WITH TIES" if with_ties else " ONLY")

    fetch_percent = False
    """Whether the database takes FETCH FIRST ... PERCENT."""
    fetch_with_ties = True
    """Whether the database takes FETCH FIRST ... WITH TIES."""
    fetch_parenthesised = True
    """Whether FETCH FIRST and its OFFSET take their counts in parentheses."""

    def for_update_clause(self, select: Any, **kw: Any) -> str:
        fu = select._for_update
        assert fu is not None
        text = " FOR SHARE" if fu.read else " FOR UPDATE"
        if fu.of_cols or fu.of_tables:
            names = [self._from_name(t) for t in fu.of_tables] + [
                self._from_name(c.table) for c in fu.of_cols if c.table is not None
            ]
            text += " OF " + ", ".join(dict.fromkeys(names))
        if fu.nowait:
            text += " NOWAIT"
        if fu.skip_locked:
            text += " SKIP LOCKED"
        return text

    def visit_compound_select(
        self, cs: sel.CompoundSelect, _correlate: bool = False, **kw: Any
    ) -> str:
        toplevel = not self._stack and not self._toplevel_done
        if toplevel:
            self._toplevel_done = True
            self._set_result_columns(cs._named_columns())
        self._stack.append(list(self._stack[-1]) if (_correlate and self._stack) else [])
        try:
            members = []
            for s in cs.selects:
                rendered = self.process(s, _correlate=_correlate, **_strip(kw))
                if (
                    isinstance(s, sel.CompoundSelect)
                    or s._order_by
                    or s._limit is not None
                    or s._offset is not None
                ):
                    rendered = self.compound_member(rendered)
                members.append(rendered)
            text = f" {cs.keyword} ".join(members)
            if cs._order_by:
                text += " ORDER BY " + ", ".join(
                    self.process(c, include_table=False, **_strip(kw)) for c in cs._order_by
                )
            if cs._limit is not None or cs._offset is not None:
                text += self.limit_clause(cs, **_strip(kw))
        finally:
            self._stack.pop()
        if toplevel:
            text = self._with_ctes(text)
        return text

    def compound_member(self, rendered: str) -> str:
        """A UNION / INTERSECT / EXCEPT member that is itself compound or has ORDER BY /
        LIMIT (a dialect hook, for databases refusing parentheses there)."""
        return "(" + rendered + ")"

    def visit_scalar_select(self, element: sel.ScalarSelect, **kw: Any) -> str:
        return "(" + self.process(element.element, _correlate=True, **_strip(kw)) + ")"

    def visit_exists(self, element: sel.Exists, **kw: Any) -> str:
        return "EXISTS (" + self.process(element.element, _correlate=True, **_strip(kw)) + ")"

    # --- FROM objects -------------------------------------------------------------------------

    def visit_table(
        self, table: Any, asfrom: bool = False, table_hints: Any = None, **kw: Any
    ) -> str:
        text = self.preparer.format_table(table)
        if asfrom and table_hints and id(table) in table_hints:
            text += self.table_hint(table_hints[id(table)], text)
        return text

    def visit_alias(
        self, alias: sel.Alias, asfrom: bool = False, table_hints: Any = None, **kw: Any
    ) -> str:
        name = self._from_name(alias)
        if not asfrom:
            return name
        inner = self.process(alias.element, asfrom=True, **_strip(kw))
        text = f"{inner} AS {name}"
        if table_hints and id(alias) in table_hints:
            text += self.table_hint(table_hints[id(alias)], name)
        return text

    def _table_hints(self, select: Any) -> dict[int, str]:
        """The ``with_hint()`` texts for this dialect, by the id of the FROM object."""
        names = self._dialect_names()
        return {id(target): text for target, text, dialect in select._hints if dialect in names}

    def table_hint(self, text: str, name: str) -> str:
        """What follows a hinted table in FROM (a dialect hook; MySQL writes the hint)."""
        raise exc.CompileError(
            f"{self.dialect.name} has no table hints; give with_hint() the dialect it is "
            f"for (with_hint(table, text, dialect_name='mysql'))"
        )

    def visit_entity_proxy(self, element: Any, **kw: Any) -> str:
        """A FROM object standing for another one (the ORM's ``aliased(User, subquery)``)."""
        return self.process(element._proxied_from, **kw)

    def visit_subquery(self, subquery: sel.Subquery, asfrom: bool = False, **kw: Any) -> str:
        name = self._from_name(subquery)
        if not asfrom:
            return name
        self._stack.append([])
        try:
            inner = self.process(subquery.element, **_strip(kw))
        finally:
            self._stack.pop()
        return f"({inner}) AS {name}"

    def visit_lateral(self, lateral: sel.Lateral, asfrom: bool = False, **kw: Any) -> str:
        name = self._from_name(lateral)
        if not asfrom:
            return name
        if self._from_linter is not None:
            # Joined to the enclosing FROM elements it reads, as if by a condition.
            self._from_linter.connect([lateral], lateral.element._froms())
        # Correlates to the enclosing FROM list, which is on top of the stack.
        inner = self.process(lateral.element, _correlate=True, **_strip(kw))
        return f"{self.lateral_keyword()} ({inner}) AS {name}"

    def lateral_keyword(self) -> str:
        """``LATERAL`` (a dialect hook, for databases without it)."""
        return "LATERAL"

    def lateral_function_prefix(self) -> str:
        """What comes before a lateral table-valued function: ``LATERAL `` (a dialect hook)."""
        return self.lateral_keyword() + " "

    def visit_table_valued_alias(
        self, alias: sel.TableValuedAlias, asfrom: bool = False, **kw: Any
    ) -> str:
        name = self._from_name(alias)
        if not asfrom:
            return name
        text = self.process(alias.element, **_strip(kw))
        if alias.is_lateral:
            if self._from_linter is not None:
                # Joined to the FROM elements its arguments read, as a LATERAL subquery is.
                self._from_linter.connect([alias], alias.element._from_objects)
            text = self.lateral_function_prefix() + text
        if alias.with_ordinality:
            text += " WITH ORDINALITY"
        text += " AS " + name
        if alias.render_derived_columns:
            parts = []
            for col in alias.c:
                part = self.preparer.quote(col.name)
                if alias.with_types:
                    part += " " + self.type_name(col.type)
                parts.append(part)
            text += "(" + ", ".join(parts) + ")"
        return text

    def visit_values(self, element: Any, asfrom: bool = False, **kw: Any) -> str:
        name = self._from_name(element)
        if not asfrom:
            return name
        return self.values_from(element, self._values_rows(element, _strip(kw)), name)

    def visit_scalar_values(self, element: Any, **kw: Any) -> str:
        return "(" + self.values_list(self._values_rows(element.values, _strip(kw))) + ")"

    def _values_rows(self, element: Any, kw: dict[str, Any]) -> list[list[str]]:
        if not element._rows:
            raise exc.CompileError(
                f"values() {element.name or ''} has no rows; add them with .data([(...), ...])"
            )
        if element.literal_binds:
            kw = {**kw, "literal_binds": True}
        return [[self.process(bind, **kw) for bind in row] for row in element._rows]

    def values_list(self, rows: list[list[str]]) -> str:
        """``VALUES (a, b), (c, d)``: rows as a query (a dialect hook)."""
        return "VALUES " + ", ".join("(" + ", ".join(row) + ")" for row in rows)

    def values_from(self, element: Any, rows: list[list[str]], name: str) -> str:
        """A ``values()`` FROM object with its columns named (a dialect hook)."""
        columns = ", ".join(self.preparer.quote(c.name) for c in element._column_args)
        return f"({self.values_list(rows)}) AS {name} ({columns})"

    def visit_lambda_element(self, element: Any, **kw: Any) -> str:
        return self.process(element._resolved(), **kw)

    supports_tablesample: ClassVar[bool] = True
    """``TABLESAMPLE`` exists (PostgreSQL; not SQLite, MySQL or MariaDB)."""

    def visit_tablesample(self, sample: Any, asfrom: bool = False, **kw: Any) -> str:
        name = self._from_name(sample)
        if not asfrom:
            return name
        if not self.supports_tablesample:
            raise exc.CompileError(
                f"{self.dialect.name} has no TABLESAMPLE; sample with "
                "ORDER BY random() LIMIT n, or a WHERE condition on random(), instead"
            )
        kw = _strip(kw)
        text = f"{self.process(sample.element, asfrom=True, **kw)} AS {name} TABLESAMPLE "
        text += self.process(sample.sampling, **kw)
        if sample.seed is not None:
            text += f" REPEATABLE ({self.process(sample.seed, **kw)})"
        return text

    def visit_array(self, element: Any, **kw: Any) -> str:
        """``ARRAY[a, b]`` (``postgresql.array()``), where the database has arrays."""
        if not self.dialect.supports_arrays:
            raise exc.UnsupportedCompilationError(
                f"{self.dialect.name} has no arrays; array() needs PostgreSQL"
            )
        if not element.clauses:
            return f"ARRAY[]::{self.type_name(element.type)}"
        return "ARRAY[" + ", ".join(self.process(c, **kw) for c in element.clauses) + "]"

    def visit_table_valued_column(self, element: sel.TableValuedColumn, **kw: Any) -> str:
        return self._from_name(element.scalar_alias)

    def visit_cte(self, cte: sel.CTE, asfrom: bool = False, **kw: Any) -> str:
        name = self._from_name(cte)
        if name not in self._ctes and name not in self._ctes_defining:
            self._ctes_defining.add(name)
            self._stack.append([])
            try:
                if getattr(cte.element, "is_dml", False):
                    body = self._cte_dml(cte.element, kw)
                else:
                    body = self.process(cte.element, **_strip(kw))
            finally:
                self._stack.pop()
            self._ctes_defining.discard(name)
            header = name
            if cte.recursive:
                self._cte_recursive = True
                header += "(" + ", ".join(self.preparer.quote(c.name) for c in cte.c) + ")"
            self._ctes[name] = f"{header} AS ({body})"
        return name

    _STATEMENT_STATE = (
        "isinsert",
        "isupdate",
        "isdelete",
        "returns_rows",
        "result_keys",
        "result_key_objects",
        "_result_types",
        "keys_by_statement",
        "returned_width",
        "returns_hidden",
        "sort_by_parameter_order",
        "returned_pk_positions",
        "returned_defaults_positions",
        "returned_defaults_keys",
        "_returned_types",
        "implicit_returning_pk",
        "_pk_sources",
        "_key_is_lastrowid",
        "_settable",
    )
    """What rendering a DML statement sets about the statement being compiled."""

    def _cte_dml(self, stmt: Any, kw: dict[str, Any]) -> str:
        """An INSERT/UPDATE/DELETE inside a CTE: rendered like a statement of its own, while
        what the compiled statement reports (its kind, result columns) stays the outer one's."""
        if not self.dialect.supports_dml_in_cte:
            raise exc.CompileError(
                f"{self.dialect.name} has no INSERT/UPDATE/DELETE inside WITH; run the "
                "statement on its own (PostgreSQL supports this)"
            )
        saved = {
            name: self.__dict__[name] for name in self._STATEMENT_STATE if name in self.__dict__
        }
        nested, self._in_cte_dml = self._in_cte_dml, True
        try:
            return self.process(stmt, **_strip(kw))
        finally:
            self._in_cte_dml = nested
            for name in self._STATEMENT_STATE:
                self.__dict__.pop(name, None)
            self.__dict__.update(saved)

    def _statement_ctes(self, stmt: Any, text: str, kw: dict[str, Any]) -> str:
        """``text`` with the WITH clause of a top-level statement, which also holds the CTEs
        given to ``add_cte()``."""
        for cte in stmt._independent_ctes:
            self.process(cte, asfrom=True, **_strip(kw))
        return text if self._in_cte_dml else self._with_ctes(text)

    ctes_follow_insert = False
    """Whether an INSERT ... SELECT puts its WITH before the SELECT, after the column list
    (MySQL, MariaDB), rather than before INSERT."""

    def _with_ctes(self, text: str) -> str:
        if not self._ctes:
            return text
        keyword = "WITH RECURSIVE " if self._cte_recursive else "WITH "
        return keyword + ", ".join(self._ctes.values()) + " " + text

    def visit_join(self, join: sel.Join, asfrom: bool = False, **kw: Any) -> str:
        kw = _strip(kw)
        left = self.process(join.left, asfrom=True, **kw)
        right = self.process(join.right, asfrom=True, **kw)
        if isinstance(getattr(join.right, "_proxied_from", join.right), sel.Join):
            right = f"({right})"
        if join.full:
            keyword = " FULL OUTER JOIN "
        elif join.isouter:
            keyword = " LEFT OUTER JOIN "
        else:
            keyword = " JOIN "
        return left + keyword + right + " ON " + self.process(join.onclause, **kw)

    # --- DML ------------------------------------------------------------------------------------

    def _returning_clause(
        self, stmt: Any, kind: str, implicit_pk: bool = False, multifrom: bool = False
    ) -> str:
        """The RETURNING clause: the columns asked for, then hidden ones the engine reads.

        Hidden columns are the primary key (to know ``inserted_primary_key`` and to match rows
        to parameter sets) and the server-generated values of ``return_defaults()``.
        """
        visible = list(stmt._returning or stmt._supplemental_returning)
        hidden: list[el.ColumnElement] = []
        table = stmt.table
        pk = list(table.primary_key) if kind == "insert" else []
        if stmt._return_defaults:
            asked = stmt._return_defaults_columns or table.c
            hidden = pk + [c for c in asked if database_generates(c, kind)]
        elif stmt._sort_by_parameter_order or (implicit_pk and not visible):
            hidden = pk
        if not visible and not hidden:
            return ""
        if not self._dialect_flag(f"{kind}_returning") or (
            multifrom and not self._dialect_flag(f"{kind}_returning_multifrom")
        ):
            if stmt._returning or stmt._supplemental_returning:
                reading = " reading other tables" if multifrom else ""
                raise exc.CompileError(
                    f"{self.dialect.name} (server version {self.dialect.server_version_info}) "
                    f"does not support RETURNING on {kind.upper()} statements{reading}"
                )
            return ""
        named = [
            (names.label, names.column)
            for names in sel._name_columns(list(visible), sel.LABEL_STYLE_DEFAULT)
        ]
        if named:
            self._set_result_columns(named)
        seen = {id(c) for c in visible}
        columns = list(visible)
        for col in hidden:
            if id(col) not in seen:
                seen.add(id(col))
                columns.append(col)
        position = {id(c): i for i, c in enumerate(columns)}
        self.returned_width = len(columns)
        self.returns_hidden = len(columns) > len(visible)
        self.sort_by_parameter_order = stmt._sort_by_parameter_order
        if pk and all(id(c) in position for c in pk):
            self.returned_pk_positions = tuple(position[id(c)] for c in pk)
        if stmt._return_defaults:
            generated = list(dict.fromkeys(hidden))
            self.returned_defaults_positions = tuple(position[id(c)] for c in generated)
            self.returned_defaults_keys = tuple(
                c.key or f"anon_{i + 1}" for i, c in enumerate(generated)
            )
        self._returned_types = [c.type for c in columns]
        rendered = [self._returning_column(c, name) for name, c in named]
        rendered += [self.process(c, include_table=False) for c in columns[len(visible) :]]
        return " RETURNING " + ", ".join(rendered)

    def _returning_column(self, col: el.ColumnElement, name: str) -> str:
        if isinstance(col, el.Label):
            return self.process(col.element) + " AS " + self.preparer.quote(name)
        rendered = self.process(col)
        if name != (col.name if isinstance(col, el.ColumnClause) else None):
            rendered += " AS " + self.preparer.quote(name)
        return rendered

    def _dialect_flag(self, name: str) -> bool:
        value = getattr(self.dialect, name, None)
        if value is None:
            value = getattr(self.dialect, "supports_returning", False)
        return bool(value)

    def _default_value(self, col: Any, default: Any, multi: bool = False, **kw: Any) -> str | None:
        """SQL for a column default in an INSERT/UPDATE, or None to leave the column out."""
        if default is None or getattr(default, "is_server_default", False):
            return None
        if default.is_sequence:
            if default is not col.default or not self._sequence_in_statement(col):
                return None
            return self.process(default.next_value(), **kw)
        if default.is_clause_element:
            arg = default.arg
            if isinstance(arg, sel._SelectBase):
                arg = arg.scalar_subquery()
            return self.process(arg, **kw)
        bind = el.BindParameter(col.key, None, col.type, unique=multi)
        if default.is_callable and default._takes_context:
            slot = self._bind_slot(bind, _ContextDefaultSlot)
            if isinstance(slot, _ContextDefaultSlot):
                slot.siblings = self._slots
        else:
            slot = self._bind_slot(bind)
        slot.default = default
        slot.required = False
        slot.key = col.key
        return self._mark(slot)

    def _select_with_defaults(
        self, table: Any, select: Any, names: tuple[str, ...], kw: dict[str, Any]
    ) -> tuple[Any, tuple[str, ...]]:
        """``INSERT ... FROM SELECT`` with the Python-side defaults (scalars, callables, SQL
        expressions; not sequences) of the columns the SELECT does not give added to it as
        further columns (``include_defaults=True``)."""
        added = []
        for col in table.c:
            if col.key not in names and _has_default(col) and not col.default.is_sequence:
                rendered = self._default_value(col, col.default, **kw)
                if rendered is not None:
                    added.append((col.key, el.literal_column(rendered)))
        if not added:
            return select, names
        return select.add_columns(*[c for _, c in added]), names + tuple(k for k, _ in added)

    def _param_keys(self, table: Any, values_map: Mapping[str, Any]) -> frozenset[str]:
        """Columns bound as parameters: those the execution's parameters name; compiled
        without parameters (``str(insert(t))``), a statement without values binds them all."""
        if self.column_keys is not None:
            return self.column_keys
        if values_map:
            return frozenset()
        return frozenset(c.key for c in table.c)

    def _param_bind(self, col: Any) -> el.BindParameter:
        return el.BindParameter(col.key, None, col.type, required=True)

    def visit_insert(self, stmt: Any, **kw: Any) -> str:
        self.isinsert = True
        self._toplevel_done = True
        kw = _strip(kw)
        table = stmt.table
        self._stack.append([table])
        try:
            text = self._insert_body(stmt, table, kw)
        finally:
            self._stack.pop()
        return self._statement_ctes(stmt, text, kw)

    def _insert_body(self, stmt: Any, table: Any, kw: dict[str, Any]) -> str:
        prep = self.preparer
        head = "INSERT " + self._dialect_words(stmt._prefixes, " ") + "INTO "
        head += prep.format_table(table)
        provided: set[str] = set()
        if stmt._select is not None:
            select, select_names = stmt._select, stmt._select_names
            if stmt._include_defaults and isinstance(select, sel.Select):
                select, select_names = self._select_with_defaults(table, select, select_names, kw)
            names = ", ".join(prep.quote(table.c[k].name) for k in select_names)
            select_sql = self.process(select, **kw)
            if self.ctes_follow_insert:
                select_sql = self._with_ctes(select_sql)
                self._ctes.clear()
            body = f" ({names}) " + select_sql
            provided.update(select_names)
            single_row = False
        elif stmt._multi_values:
            rows = stmt._multi_values
            keys = [c.key for c in table.c if c.key in rows[0] or _has_default(c)]
            columns = [table.c[k] for k in keys]
            groups = []
            for row in rows:
                values = []
                for col in columns:
                    if col.key in row:
                        values.append(self.process(row[col.key], **kw))
                    else:
                        default = self._default_value(col, col.default, multi=True, **kw)
                        values.append(default if default is not None else "NULL")
                groups.append("(" + ", ".join(values) + ")")
            body = (
                " ("
                + ", ".join(prep.quote(c.name) for c in columns)
                + ") VALUES "
                + ", ".join(groups)
            )
            single_row = False
        else:
            values_map = stmt._values or {}
            param_keys = self._param_keys(table, values_map)
            self._settable = frozenset(c.key for c in table.c if c.key not in values_map)
            column_names: list[str] = []
            values = []
            rendered: str | None
            for col in table.c:
                if col.key in values_map:
                    rendered = self.process(values_map[col.key], **kw)
                    provided.add(col.key)
                elif col.key in param_keys:
                    rendered = self._mark(self._bind_slot(self._param_bind(col)))
                    provided.add(col.key)
                else:
                    rendered = self._default_value(col, getattr(col, "default", None), **kw)
                    if rendered is not None:
                        provided.add(col.key)
                if rendered is not None:
                    column_names.append(prep.quote(col.name))
                    values.append(rendered)
            if column_names:
                body = (
                    " ("
                    + ", ".join(column_names)
                    + ") VALUES "
                    + _MARK
                    + _ROW_START
                    + _MARK
                    + "("
                    + ", ".join(values)
                    + ")"
                    + _MARK
                    + _ROW_END
                    + _MARK
                )
            else:
                body = self.default_values_clause()
            single_row = True
        post = ""
        if stmt._post_values_clause is not None:
            self._stack.append([table])
            post = " " + self.process(stmt._post_values_clause, **kw)
            self._stack.pop()
        implicit_pk = (
            single_row
            and not self.for_executemany
            and not stmt._inline
            and self._implicit_returning_pk(table)
            and getattr(table, "implicit_returning", True)
            and bool(table.primary_key)
        )
        returning = self._returning_clause(stmt, "insert", implicit_pk)
        self.implicit_returning_pk = (
            self.returned_pk_positions is not None and not self.returns_rows
        )
        self._pk_sources = self._primary_key_sources(table, provided)
        self._key_is_lastrowid = [kind for kind, _ in self._pk_sources] == ["lastrowid"]
        return head + body + post + returning

    def _sequence_in_statement(self, col: Any) -> bool:
        """Whether an INSERT computes ``col`` from its ``Sequence`` default with the
        sequence's next value (dialect hook)."""
        default = col.default
        return bool(
            default is not None
            and default.is_sequence
            and getattr(self.dialect, "supports_sequences", False)
        )

    def _implicit_returning_pk(self, table: Any) -> bool:
        """Whether a single-row INSERT into ``table`` reads its primary key back with
        RETURNING (dialect hook)."""
        return bool(getattr(self.dialect, "implicit_returning_pk", False))

    def _primary_key_sources(self, table: Any, provided: set[str]) -> list[tuple[str, Any]]:
        sources: list[tuple[str, Any]] = []
        autoinc = getattr(table, "autoincrement_column", None)
        for col in table.primary_key:
            slot = next((s for s in self._slots if s.key == col.key), None)
            if slot is not None:
                sources.append(("param", slot))
            elif col is autoinc and not self._sequence_in_statement(col):
                sources.append(("lastrowid", None))
            else:
                sources.append(("none", None))
        return sources

    def default_values_clause(self) -> str:
        """An INSERT of a row with only default values (dialect hook)."""
        return " DEFAULT VALUES"

    def visit_update(self, stmt: Any, **kw: Any) -> str:
        if stmt._other_values:
            names = ", ".join(stmt._other_values)
            raise exc.CompileError(
                f"This UPDATE of {stmt.table.name!r} also sets {names}, columns of other "
                "tables its mapped class spans: run it with Session.execute(), which updates "
                "each table, or give each table an update() of its own"
            )
        self.isupdate = True
        self._toplevel_done = True
        kw = _strip(kw)
        table = stmt.table
        prep = self.preparer
        values_map = stmt._values or {}
        param_keys = self._param_keys(table, values_map)
        self._settable = frozenset(c.key for c in table.c if c.key not in values_map)
        extra_froms = self._dml_extra_froms(stmt)
        self._stack.append([table, *extra_froms])
        outer_linter = self._from_linter
        linter = self._dml_linter(table, extra_froms)
        try:
            sets = []
            keys = (
                list(values_map)
                if stmt._ordered
                else [c.key for c in table.c if c.key in values_map]
            )
            for key in keys:
                col = table.c[key]
                sets.append(f"{prep.quote(col.name)}={self.process(values_map[key], **kw)}")
            for col in table.c:
                if col.key in values_map:
                    continue
                if col.key in param_keys:
                    sets.append(
                        f"{prep.quote(col.name)}={self._mark(self._bind_slot(self._param_bind(col)))}"
                    )
                else:
                    rendered = self._default_value(col, getattr(col, "onupdate", None), **kw)
                    if rendered is not None:
                        sets.append(f"{prep.quote(col.name)}={rendered}")
            if not sets:
                raise exc.CompileError(f"UPDATE of {table.name!r} has no values to SET")
            text = "UPDATE " + self._dialect_words(stmt._prefixes, " ")
            text += self.update_head(table, extra_froms, **kw) + " SET " + ", ".join(sets)
            text += self.update_from_clause(table, extra_froms, **kw)
            if stmt._where:
                text += " WHERE " + self._criteria(stmt._where, kw)
            text += self._returning_clause(stmt, "update")
        finally:
            self._stack.pop()
            self._from_linter = outer_linter
        if linter is not None:
            linter.warn(self, "UPDATE")
        return self._statement_ctes(stmt, text, kw)

    def _dml_extra_froms(self, stmt: Any) -> list[sel.FromClause]:
        return dml_extra_froms(stmt)

    def _dml_linter(self, table: Any, extra_froms: list[sel.FromClause]) -> _FromLinter | None:
        """The linter of an UPDATE or DELETE reading other tables (made current), or None."""
        linter = _FromLinter([table, *extra_froms]) if self._from_linting and extra_froms else None
        self._from_linter = linter
        return linter

    def update_head(self, table: Any, extra_froms: list[sel.FromClause], **kw: Any) -> str:
        """The UPDATE's target after ``UPDATE`` (MySQL lists the other tables there too)."""
        return self.preparer.format_table(table)

    def update_from_clause(self, table: Any, extra_froms: list[sel.FromClause], **kw: Any) -> str:
        """``FROM other`` for UPDATE criteria on other tables (PostgreSQL, SQLite)."""
        if not extra_froms:
            return ""
        return " FROM " + ", ".join(self.process(f, asfrom=True, **kw) for f in extra_froms)

    def visit_delete(self, stmt: Any, **kw: Any) -> str:
        self.isdelete = True
        self._toplevel_done = True
        kw = _strip(kw)
        table = stmt.table
        extra_froms = self._dml_extra_froms(stmt)
        self._stack.append([table, *extra_froms])
        outer_linter = self._from_linter
        linter = self._dml_linter(table, extra_froms)
        try:
            text = "DELETE " + self._dialect_words(stmt._prefixes, " ") + "FROM "
            text += self.preparer.format_table(table)
            text += self.delete_extra_from_clause(table, extra_froms, **kw)
            if stmt._where:
                text += " WHERE " + self._criteria(stmt._where, kw)
            text += self._returning_clause(stmt, "delete", multifrom=bool(extra_froms))
        finally:
            self._stack.pop()
            self._from_linter = outer_linter
        if linter is not None:
            linter.warn(self, "DELETE")
        return self._statement_ctes(stmt, text, kw)

    def delete_extra_from_clause(
        self, table: Any, extra_froms: list[sel.FromClause], **kw: Any
    ) -> str:
        if not extra_froms:
            return ""
        return " USING " + ", ".join(self.process(f, asfrom=True, **kw) for f in extra_froms)

    def visit_on_conflict_do_nothing(self, clause: Any, **kw: Any) -> str:
        return "ON CONFLICT" + self._conflict_target(clause, **kw) + " DO NOTHING"

    def visit_on_conflict_do_update(self, clause: Any, **kw: Any) -> str:
        sets = []
        table = self.statement.table
        for key, value in clause.update_values_to_set:
            sets.append(f"{self.preparer.quote(table.c[key].name)} = {self.process(value, **kw)}")
        text = (
            "ON CONFLICT"
            + self._conflict_target(clause, **kw)
            + " DO UPDATE SET "
            + ", ".join(sets)
        )
        if clause.update_whereclause is not None:
            text += " WHERE " + self.process(clause.update_whereclause, **kw)
        return text

    def _conflict_target(self, clause: Any, **kw: Any) -> str:
        if clause.constraint_target is not None:
            return " ON CONSTRAINT " + self.preparer.quote(clause.constraint_target)
        if not clause.inferred_target_elements:
            return ""
        cols = ", ".join(
            self.process(c, include_table=False, **kw) for c in clause.inferred_target_elements
        )
        text = f" ({cols})"
        if clause.inferred_target_whereclause is not None:
            text += " WHERE " + self.process(
                clause.inferred_target_whereclause, include_table=False, **kw
            )
        return text

    # --- execution-time preparation --------------------------------------------------------------

    @property
    def params(self) -> dict[str, Any]:
        extracted = self._extracted
        return {
            s.name: _run_default(s.default, None)
            if s.default is not None
            else extracted[s.index].effective_value
            if s.index >= 0 and extracted is not None
            else s.value
            for s in self._slots
        }

    def sql_for(self, params: Mapping[str, Any] | None, many: bool = False) -> str:
        return self._variant(params, many).string

    def unbindable_parameter(
        self, extracted: Sequence[Any], params: Mapping[str, Any] | None, many: bool = False
    ) -> str | None:
        target = self._variant(params, many)
        for slot in target._slots:
            try:
                target._slot_values(extracted, params, (slot,))
            except Exception:
                return slot.key
        return None

    def _variant(self, params: Mapping[str, Any] | None, many: bool) -> SQLCompiler:
        if not (self.isinsert or self.isupdate):
            return self
        if params:
            # The same parameter names (in the same order) as an earlier call: its variant,
            # without working out which of them the statement can set.
            names = (*params, many)
            found = self._variant_of_names.get(names)
            if found is not None:
                return found
            found = self._variant_of_keys(params, many)
            if len(self._variant_of_names) < _VARIANT_NAMES_KEPT:
                self._variant_of_names[names] = found
            return found
        return self._variant_of_keys(params, many)

    def _variant_of_keys(self, params: Mapping[str, Any] | None, many: bool) -> SQLCompiler:
        """:meth:`_variant` by the parameter keys the statement can set."""
        keys = frozenset(self._settable.intersection(params)) if params else frozenset()
        if not keys and not many:
            return self
        variant_key = (keys, many)
        found = self._variants.get(variant_key)
        if found is None:
            found = type(self)(
                self.dialect,
                self.statement,
                compile_kwargs=self.compile_kwargs,
                extracted=self._extracted,
                column_keys=keys,
                for_executemany=many,
                nested=self._nested,
                schema_map=self._schema_map,
            )
            self._variants[variant_key] = found
        return found

    def prepare(
        self, extracted: Sequence[Any], params: Mapping[str, Any] | None
    ) -> tuple[str, Any]:
        if params:
            if type(params) is dict:
                route = self._routes.get((*params,))
                if route is None:
                    route = self._route_of(params)
                if route is not None:
                    return route(params)
            if self._settable:
                target = self._variant_of_names.get((*params, False))
                if target is None:
                    target = self._variant(params, False)
                if target is not self:
                    sql, values = target._prepare_values(extracted, params)
                    if self._positional:
                        tagged = _VariantParams(values)
                        tagged.compiled = target
                        return sql, tagged
                    return sql, values
            return self._prepare_values(extracted, params)
        if self._plain:
            if self._no_procs:
                # Values picked in C (no comprehension frame): bind objects, then values.
                values = map(_bind_value, map(extracted.__getitem__, self._fast_idx))
                if self._positional:
                    return self.string, list(values)
                return self.string, dict(zip(self._fast_names, values))  # noqa: B905 - equal
            if self._positional:
                return self.string, [
                    p(extracted[i].value) if p is not None else extracted[i].value
                    for i, p in self._fast
                ]
        return self._prepare_values(extracted, params)

    def _route_of(self, params: dict[str, Any]) -> ParamRoute | None:
        """How a parameter dict with the names of ``params`` (in their order) becomes the
        statement and the driver's parameters, where the variant for those names reads every
        value by its key (see :meth:`_prepare_values`): kept per names, so that later calls
        only read the values.  None when some value is not read by key."""
        target = self._variant(params, False) if self._settable else self
        getter = target._by_key
        if getter is None or len(self._routes) >= _VARIANT_NAMES_KEPT:
            return None
        try:
            getter(params)
        except KeyError:
            return None
        route = _param_route(
            target.string,
            getter,
            target._by_key_one,
            target._by_key_procs,
            None if target._positional else target._fast_names,
            target if target is not self and target._positional else None,
        )
        self._routes[(*params,)] = route
        return route

    def _slot_values(
        self,
        extracted: Sequence[Any],
        params: Mapping[str, Any] | None,
        slots: Sequence[_Slot] | None = None,
    ) -> list[Any]:
        values = []
        for slot in self._slots if slots is None else slots:
            value = slot.resolve(extracted, params)
            if slot.expanding:
                if isinstance(value, str) or not hasattr(value, "__iter__"):
                    raise exc.StatementError(
                        f"Parameter {slot.key!r} of an IN clause needs a list of values, "
                        f"got {value!r}",
                        None,
                        None,
                        None,
                    )
                value = list(value)
                if slot.tuple_processors is not None:
                    procs = slot.tuple_processors
                    value = [
                        tuple(
                            p(v) if p is not None else v for p, v in zip(procs, item, strict=False)
                        )
                        for item in value
                    ]
                elif slot.processor is not None:
                    proc = slot.processor
                    value = [proc(v) for v in value]
            elif slot.processor is not None:
                value = slot.processor(value)
            values.append(value)
        return values

    def _prepare_values(
        self, extracted: Sequence[Any], params: Mapping[str, Any] | None
    ) -> tuple[str, Any]:
        by_key = self._by_key
        if by_key is not None and type(params) is dict:
            # The usual parameters give every value by key: picked in C, no slot by slot.
            try:
                got = by_key(params)
            except KeyError:
                pass
            else:
                found = [got] if self._by_key_one else list(got)
                procs = self._by_key_procs
                if procs is not None:
                    found = [v if p is None else p(v) for p, v in zip(procs, found, strict=True)]
                if self._positional:
                    return self.string, found
                return self.string, dict(zip(self._fast_names, found, strict=True))
        values = self._slot_values(extracted, params)
        if self._expanding:
            return self._prepare_expanding(values)
        if self._positional:
            return self.string, [values[s.number] for s in self._order]
        return self.string, {s.name: v for s, v in zip(self._slots, values, strict=True)}

    def _prepare_expanding(self, values: list[Any]) -> tuple[str, Any]:
        counts = {s.number: len(v) for s, v in zip(self._slots, values, strict=True) if s.expanding}
        sql, order = self._render(self._texts, self._marks, counts)
        if self._positional:
            flat: list[Any] = []
            for slot in order:
                value = values[slot.number]
                if slot.expanding:
                    for item in value:
                        if slot.tuple_processors is not None:
                            flat.extend(item)
                        else:
                            flat.append(item)
                else:
                    flat.append(value)
            if not flat and self._percent_doubled:
                sql = sql.replace("%%", "%")
            return sql, flat
        named: dict[str, Any] = {}
        for slot, value in zip(self._slots, values, strict=True):
            if slot.expanding:
                for n, item in enumerate(value):
                    if slot.tuple_processors is not None:
                        for m, part in enumerate(item):
                            named[f"{slot.name}_{n + 1}_{m + 1}"] = part
                    else:
                        named[f"{slot.name}_{n + 1}"] = item
            else:
                named[slot.name] = value
        if not named and self._percent_doubled:
            sql = sql.replace("%%", "%")
        return sql, named

    def prepare_many(
        self, extracted: Sequence[Any], params_list: Sequence[Mapping[str, Any]]
    ) -> list[Step]:
        if not params_list:
            return [(*self.prepare(extracted, None), False, None)]
        target = self._variant(params_list[0], True)
        batchable = (
            target.isinsert
            and len(params_list) > 1
            and _ROW_START in target._marks
            and getattr(self.dialect, "supports_multivalues_insert", False)
        )
        one_by_one = target._expanding or (
            target.returned_width > 0 and not (batchable and target._batch_sentinel() is not None)
        )
        if batchable and not one_by_one:
            return target._batched(extracted, params_list)
        steps: list[Step] = []
        if one_by_one:
            # RETURNING with a driver executemany gives no rows on most drivers, and IN lists
            # change the SQL per parameter set: run each parameter set on its own.
            for p in params_list:
                sql, values = target._prepare_values(extracted, p)
                steps.append((sql, values, False, target._param_pks([values])))
            return steps
        rows = [target._prepare_values(extracted, p)[1] for p in params_list]
        return [(target.string, rows, True, target._param_pks(rows))]

    def _batch_sentinel(self) -> str | None:
        """How rows of a multi-row INSERT ... RETURNING are put back in parameter order:
        ``"params"`` (matched by a primary key the parameters give), ``"autoincrement"`` (sorted
        by an autoincrement key, which increases in VALUES order), ``"none"`` when the order
        does not matter, or None when only one row at a time can keep it."""
        if not self.sort_by_parameter_order:
            return "none"
        if self.returned_pk_positions is None or self._pk_sources is None:
            return None
        if all(kind == "param" for kind, _ in self._pk_sources):
            return "params"
        if [kind for kind, _ in self._pk_sources] == ["lastrowid"]:
            return "autoincrement"
        return None

    def _param_pks(self, driver_rows: Sequence[Any]) -> list[tuple[Any, ...]] | None:
        """The primary key of each parameter set as bound, when the parameters supply it."""
        if not self.isinsert or not self._pk_sources:
            return None
        if any(kind != "param" for kind, _ in self._pk_sources):
            return None
        slots = [slot for _, slot in self._pk_sources]
        if self._positional:
            order = [s.number for s in self._order]
            if any(s.number not in order for s in slots):
                return None
            getter = _tuple_getter_at([order.index(s.number) for s in slots])
        else:
            getter = _tuple_getter_at([s.name for s in slots])
        return self._python_keys([getter(row) for row in driver_rows])

    def _batched(
        self, extracted: Sequence[Any], params_list: Sequence[Mapping[str, Any]]
    ) -> list[Step]:
        start = self._marks.index(_ROW_START)
        end = self._marks.index(_ROW_END)
        row_slots = [self._slots[int(m)] for m in self._marks[start + 1 : end]]
        row_ids = {id(s) for s in row_slots}
        other_slots = [s for s in self._order if id(s) not in row_ids]
        per_row = len(row_slots)
        limit = int(getattr(self.dialect, "max_bind_params", 32766) or 32766)
        page = int(getattr(self.dialect, "insertmanyvalues_page_size", 1000) or 1000)
        rows_per_batch = max(1, min(page, (limit - len(other_slots)) // max(per_row, 1)))
        # The values outside the VALUES groups, from the first parameter set (the rows'
        # own are worked out once each below: a default function runs once per row).
        fixed = {
            id(s): v
            for s, v in zip(
                other_slots, self._slot_values(extracted, params_list[0], other_slots), strict=True
            )
        }
        row_values = _row_values(row_slots, extracted, params_list)
        pk_getter = None
        if self._pk_sources:
            pk_slots = [slot for kind, slot in self._pk_sources if kind == "param"]
            if len(pk_slots) == len(self._pk_sources) and all(id(s) in row_ids for s in pk_slots):
                pk_getter = _tuple_getter_at([row_slots.index(s) for s in pk_slots])
        columnar = self._columnar(start, end)
        steps: list[Step] = []
        for offset in range(0, len(row_values), rows_per_batch):
            chunk = row_values[offset : offset + rows_per_batch]
            pks = (
                self._python_keys([pk_getter(row) for row in chunk])
                if pk_getter is not None
                else None
            )
            if self._positional:
                before = [fixed[id(s)] for s in self._order_before(start)]
                after = [fixed[id(s)] for s in self._order_after(end)]
                if columnar is not None:
                    sql, sendable = columnar
                    columns = [list(values) for values in zip(*chunk, strict=True)]
                    if all(ok(values) for ok, values in zip(sendable, columns, strict=True)):
                        steps.append((sql, before + columns + after, False, pks))
                        continue
                flat = before + list(chain.from_iterable(chunk)) + after
                steps.append((self._batch_statement(len(chunk), start, end), flat, False, pks))
            else:
                named = {s.name: fixed[id(s)] for s in other_slots}
                names = self._row_names(row_slots, len(chunk))
                for row_names, row in zip(names, chunk, strict=False):
                    named.update(zip(row_names, row, strict=True))
                steps.append((self._batch_statement(len(chunk), start, end), named, False, pks))
        return steps

    def _columnar(
        self, start: int, end: int
    ) -> tuple[str, list[Callable[[list[Any]], bool]]] | None:
        """The batch statement whose row source takes each column of the VALUES group as one
        array parameter (see :meth:`columnar_rows`), with the test each column's values must
        pass to be sent so; None when the dialect has no such form, the statement returns rows
        (whose order a row source need not keep) or the group holds more than placeholders
        (SQL defaults, bind expressions)."""
        if "_columnar_form" in self.__dict__:
            found: tuple[str, list[Callable[[list[Any]], bool]]] | None
            found = self.__dict__["_columnar_form"]
            return found
        texts, marks = self._texts, self._marks
        slots = [self._slots[int(m)] for m in marks[start + 1 : end]]
        binds = [s.bind for s in slots if s.bind is not None and not s.expanding]
        form = None
        if (
            self._positional
            and not self.returned_width
            and len(binds) == len(slots)
            and texts[start + 1] == "("
            and texts[end] == ")"
            and all(text == ", " for text in texts[start + 2 : end])
        ):
            first = len(self._order_before(start)) + 1
            placeholders = [self._bare_placeholder(s, first + n) for n, s in enumerate(slots)]
            rows = self.columnar_rows(placeholders, binds)
            if rows is not None:
                source, sendable = rows
                form = (self._around_rows(start, end, lambda p: (source, p + len(slots))), sendable)
        self.__dict__["_columnar_form"] = form
        return form

    def columnar_rows(
        self, placeholders: list[str], binds: list[el.BindParameter]
    ) -> tuple[str, list[Callable[[list[Any]], bool]]] | None:
        """Dialect hook: a row source for a multi-row INSERT that binds each column's values
        as one array (``placeholders`` and ``binds`` in column order), and per column the test
        that a batch of its values can be sent so; None (here) for the VALUES batches.  One
        statement with a few parameters parses faster than thousands of placeholders."""
        return None

    def _row_names(self, row_slots: list[_Slot], rows: int) -> list[list[str]]:
        """Parameter names of each VALUES group of a batch (``name__0``, ``name__1`` ...)."""
        names: list[list[str]] | None = self.__dict__.get("_row_name_cache")
        if names is None or len(names) < rows:
            names = [[f"{s.name}__{n}" for s in row_slots] for n in range(rows)]
            self.__dict__["_row_name_cache"] = names
        return names

    def _order_before(self, start: int) -> list[_Slot]:
        return [self._slots[int(m)] for m in self._marks[:start] if m not in (_ROW_START, _ROW_END)]

    def _order_after(self, end: int) -> list[_Slot]:
        return [
            self._slots[int(m)] for m in self._marks[end + 1 :] if m not in (_ROW_START, _ROW_END)
        ]

    def _batch_statement(self, rows: int, start: int, end: int) -> str:
        found = self._batch_sql.get(rows)
        if found is not None:
            return found
        texts, marks = self._texts, self._marks

        def values(position: int) -> tuple[str, int]:
            groups = []
            for n in range(rows):
                group = [texts[start + 1]]
                for j, mark in enumerate(marks[start + 1 : end], start=start + 1):
                    position += 1
                    group.append(self._placeholder(self._slots[int(mark)], position, f"__{n}"))
                    group.append(texts[j + 1])
                groups.append("".join(group))
            return "VALUES " + ", ".join(groups), position

        sql = self._around_rows(start, end, values)
        self._batch_sql[rows] = sql
        return sql

    def _around_rows(
        self, start: int, end: int, rows_clause: Callable[[int], tuple[str, int]]
    ) -> str:
        """The statement with ``VALUES (...)`` (its group between marks ``start`` and ``end``)
        replaced by what ``rows_clause`` renders: given the count of placeholders before, it
        gives the row source's SQL and the count after it."""
        texts, marks = self._texts, self._marks
        out = [texts[0]]
        position = 0
        for i, mark in enumerate(marks[:start]):
            position += 1
            out.append(self._placeholder(self._slots[int(mark)], position))
            out.append(texts[i + 1])
        out[-1] = out[-1].removesuffix("VALUES ")
        rows, position = rows_clause(position)
        out.append(rows)
        out.append(texts[end + 1])
        for i, mark in enumerate(marks[end + 1 :], start=end + 1):
            position += 1
            out.append(self._placeholder(self._slots[int(mark)], position))
            out.append(texts[i + 1])
        return "".join(out)

    def route_for(self, params: Mapping[str, Any]) -> ParamRoute | None:
        if type(params) is not dict or not params:
            return None
        return self._routes.get((*params,)) or self._route_of(params)

    def key_is_lastrowid(self, params_used: Any) -> bool:
        target = params_used.compiled if isinstance(params_used, _VariantParams) else self
        return not self.returns_rows and target._key_is_lastrowid

    def inserted_primary_key(
        self, params_used: Any, lastrowid: Any, returned_row: Any
    ) -> tuple[Any, ...] | None:
        if returned_row is None:
            # The usual one-row INSERT of an autoincrement key: no parameters to look at.
            target = params_used.compiled if isinstance(params_used, _VariantParams) else self
            if target._key_is_lastrowid:
                return (lastrowid,)
        if isinstance(params_used, _VariantParams):
            return params_used.compiled.inserted_primary_key(
                list(params_used), lastrowid, returned_row
            )
        if not self.isinsert:
            return None
        if returned_row is not None and self.returned_pk_positions is not None:
            return self.returned_values(returned_row, self.returned_pk_positions)
        if self._pk_sources is None:
            return None
        result = []
        for kind, slot in self._pk_sources:
            if kind == "param":
                if isinstance(params_used, Mapping):
                    value = params_used.get(slot.name)
                else:
                    position = next((i for i, s in enumerate(self._order) if s is slot), None)
                    value = (
                        params_used[position]
                        if position is not None and params_used is not None
                        else None
                    )
                result.append(self._unprocess(slot, value))
            elif kind == "lastrowid":
                result.append(lastrowid)
            else:
                result.append(None)
        return tuple(result)

    def defaulted_values(self, params_used: Any) -> dict[str, Any]:
        """The values the Python-side column defaults of this INSERT/UPDATE had, by column
        key, read back from ``params_used`` (the driver parameters of one run) as the
        primary key is."""
        if isinstance(params_used, _VariantParams):
            return params_used.compiled.defaulted_values(list(params_used))
        found: dict[str, Any] = {}
        if not params_used:
            return found
        for slot in self._slots:
            if slot.default is None:
                continue
            if isinstance(params_used, Mapping):
                if slot.name not in params_used:
                    continue
                value = params_used[slot.name]
            else:
                position = next((i for i, s in enumerate(self._order) if s is slot), None)
                if position is None or position >= len(params_used):
                    continue
                value = params_used[position]
            found[slot.key] = self._unprocess(slot, value)
        return found

    def defaulted_rows(
        self, params_list: Sequence[Mapping[str, Any]], steps: Sequence[Step]
    ) -> list[dict[str, Any]]:
        """:meth:`defaulted_values` for each parameter set of an executemany that ran as
        ``steps`` (what :meth:`prepare_many` gave for ``params_list``), in parameter order."""
        target = self._variant(params_list[0], True)
        return [
            found
            for sql, driver_params, is_many, _ in steps
            for found in target._defaulted_in_step(sql, driver_params, is_many)
        ]

    def _defaulted_in_step(
        self, sql: str, driver_params: Any, is_many: bool
    ) -> list[dict[str, Any]]:
        if is_many:
            return [self.defaulted_values(row) for row in driver_params]
        if sql == self.string or _ROW_START not in self._marks:
            return [self.defaulted_values(driver_params)]
        # A multi-row INSERT (see _batched): its VALUES groups one after another.
        start = self._marks.index(_ROW_START)
        end = self._marks.index(_ROW_END)
        row_slots = [self._slots[int(m)] for m in self._marks[start + 1 : end]]
        defaulted = [(i, s) for i, s in enumerate(row_slots) if s.default is not None]
        if self._positional:
            before = len(self._order_before(start))
            columnar = self._columnar(start, end)
            if columnar is not None and sql == columnar[0]:
                # One array per column (see _columnar).
                columns = driver_params[before : before + len(row_slots)]
                return [
                    {s.key: self._unprocess(s, columns[i][n]) for i, s in defaulted}
                    for n in range(len(columns[0]))
                ]
            rows = (len(driver_params) - before - len(self._order_after(end))) // len(row_slots)
            return [
                {
                    s.key: self._unprocess(s, driver_params[before + n * len(row_slots) + i])
                    for i, s in defaulted
                }
                for n in range(rows)
            ]
        first = f"{row_slots[0].name}__"
        rows = 0
        while f"{first}{rows}" in driver_params:
            rows += 1
        return [
            {s.key: self._unprocess(s, driver_params[f"{s.name}__{n}"]) for _, s in defaulted}
            for n in range(rows)
        ]

    def _python_keys(self, bound: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        """Primary keys as the parameters bound them, back in Python form."""
        assert self._pk_sources is not None
        procs = [self._unprocessor(slot) for _, slot in self._pk_sources]
        if all(p is None for p in procs):
            return bound
        return [
            tuple(v if p is None else p(v) for p, v in zip(procs, key, strict=True))
            for key in bound
        ]

    def _unprocessor(self, slot: _Slot) -> Callable[[Any], Any] | None:
        if slot.processor is None or slot.bind is None:
            return None
        proc: Callable[[Any], Any] | None = slot.bind.type.dialect_impl(
            self.dialect
        ).result_processor(self.dialect, None)
        return proc

    def returned_values(self, raw: Sequence[Any], positions: Sequence[int]) -> tuple[Any, ...]:
        """The converted values at ``positions`` of a raw RETURNING row."""
        procs = self.returned_processors
        if procs is None:
            return tuple(raw[i] for i in positions)
        return tuple(
            raw[i] if procs[i] is None else procs[i](raw[i])  # type: ignore[misc]
            for i in positions
        )

    def _unprocess(self, slot: _Slot, value: Any) -> Any:
        proc = self._unprocessor(slot)
        return proc(value) if proc is not None else value


class ValueRows(Sequence[Mapping[str, Any]]):
    """The parameter sets of an executemany as value rows, each in the order of ``keys``:
    what a flush of many new objects hands to an INSERT without a dict per object.

    It is a sequence of mappings like any other (an item is the set's dict, made when asked
    for); a multi-row INSERT takes the rows as they are.
    """

    __slots__ = ("keys", "rows")

    def __init__(self, keys: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
        self.keys = keys
        self.rows = rows

    def __len__(self) -> int:
        return len(self.rows)

    @overload
    def __getitem__(self, index: int) -> dict[str, Any]: ...
    @overload
    def __getitem__(self, index: slice) -> ValueRows: ...
    def __getitem__(self, index: int | slice) -> dict[str, Any] | ValueRows:
        if isinstance(index, slice):
            return ValueRows(self.keys, self.rows[index])
        return dict(zip(self.keys, self.rows[index], strict=True))

    def __iter__(self) -> Iterator[dict[str, Any]]:
        keys = self.keys
        for row in self.rows:
            yield dict(zip(keys, row, strict=True))

    def __repr__(self) -> str:
        return repr(list(self))


def _row_values(
    slots: list[_Slot], extracted: Sequence[Any], params_list: Sequence[Mapping[str, Any]]
) -> list[Sequence[Any]]:
    """The values of one VALUES group per parameter set (the executemany hot loop)."""
    if all(s.index < 0 and s.default is None and s.required for s in slots):
        if type(params_list) is ValueRows and params_list.keys == tuple(s.key for s in slots):
            rows: list[Sequence[Any]] = params_list.rows  # type: ignore[assignment]
        else:
            rows = _values_by_key(slots, params_list)
    else:
        rows = [[slot.resolve(extracted, p) for slot in slots] for p in params_list]
    procs = [(i, s.processor) for i, s in enumerate(slots) if s.processor is not None]
    if procs:
        converted: list[Sequence[Any]] = []
        for row in rows:
            values = list(row)
            for i, proc in procs:
                values[i] = proc(values[i])
            converted.append(values)
        return converted
    return rows


def _values_by_key(
    slots: list[_Slot], params_list: Sequence[Mapping[str, Any]]
) -> list[Sequence[Any]]:
    """:func:`_row_values` of slots that each take the parameter of their key."""
    getter = itemgetter(*[s.key for s in slots])
    try:
        if len(slots) == 1:
            return [(getter(p),) for p in params_list]
        return [getter(p) for p in params_list]
    except KeyError as missing:
        raise exc.StatementError(
            f"A value is required for bind parameter {missing}; every parameter set of an "
            "executemany must have the keys of the first one",
            None,
            None,
            None,
        ) from None


def database_generates(col: Any, kind: str) -> bool:
    """Whether the database makes ``col``'s value when an INSERT (or UPDATE) leaves it out:
    a server default or a SQL expression default, the values ``return_defaults()`` reads
    back; a Python value or function default is computed here and sent as a parameter."""
    if kind == "insert":
        default, server = getattr(col, "default", None), getattr(col, "server_default", None)
    else:
        default, server = getattr(col, "onupdate", None), getattr(col, "server_onupdate", None)
    if server is not None or getattr(default, "is_server_default", False):
        return True
    if default is None:
        return False
    return not (getattr(default, "is_scalar", False) or getattr(default, "is_callable", False))


def result_key_objects(named: Sequence[tuple[str, el.ColumnElement]]) -> list[tuple[object, ...]]:
    """The objects that name each result column besides its key: the column (or label), a
    label's inner expression, and the column's own key where the result renamed it."""
    objects: list[tuple[object, ...]] = []
    for name, col in named:
        extra: list[object] = [col]
        if isinstance(col, el.Label):
            extra.append(col.element)
        if col.key is not None and col.key != name:
            extra.append(col.key)
        objects.append(tuple(extra))
    return objects


def _is_integer(element: el.ColumnElement) -> bool:
    return isinstance(element.type, sqltypes.Integer)


_FLAGS = re.compile(r"[a-zA-Z]+")


def regexp_flags(binary: el.BinaryExpression) -> str | None:
    """The regular-expression flags of a regexp_match / regexp_replace, checked."""
    for name, value in binary.modifiers:
        if name == "flags" and value:
            if not isinstance(value, str) or not _FLAGS.fullmatch(value):
                raise exc.CompileError(
                    f"Regular expression flags must be letters such as 'i', got {value!r}"
                )
            return value
    return None


def _tuple_getter_at(keys: Sequence[Any]) -> Callable[[Any], tuple[Any, ...]]:
    """A callable picking ``keys`` (positions or names) out of a row, always as a tuple."""
    if len(keys) == 1:
        (key,) = keys
        return lambda row: (row[key],)
    return itemgetter(*keys)


def _has_default(col: Any) -> bool:
    default = getattr(col, "default", None)
    return default is not None and not getattr(default, "is_server_default", False)


def _empty_in(width: int, positive: bool) -> str:
    """What goes inside ``IN (...)`` for an empty list: a NULL (or a row of ``width`` NULLs,
    as a tuple's IN needs) and a condition making ``IN`` false and ``NOT IN`` true."""
    null = "(" + ", ".join(["NULL"] * width) + ")" if width else "NULL"
    return f"{null}) AND (1 != 1" if positive else f"{null}) OR (1 = 1"


def _refuse_ordering(col: el.ColumnElement) -> None:
    """Refuse ``x DESC`` (or ASC, NULLS FIRST/LAST) as a selected column: it orders rows, it
    is not a value, and no database takes it in a columns clause."""
    if isinstance(col, el.UnaryExpression) and col.modifier in operators.ORDERINGS:
        raise exc.CompileError(
            f"Cannot select an expression with {col.modifier.sql} applied: it orders rows and is "
            "not a value; select the expression itself and pass the ordering to .order_by()"
        )


_STRIP = ("asfrom", "within_columns_clause", "_order_labels", "include_table", "_in_op")


def _strip(kw: dict[str, Any]) -> dict[str, Any]:
    """Keyword arguments that apply to a nested statement (position-specific ones removed)."""
    if not kw:
        return kw
    return {k: v for k, v in kw.items() if k not in _STRIP}


class _FromLinter:
    """The FROM elements of one SELECT, UPDATE or DELETE and which of them are connected, by
    a join or by a comparison between their columns (in WHERE, HAVING or an ON clause): any
    left unconnected multiply the rows by each other, which is rarely meant and is warned of.

    The elements of a join (and what an ORM entity stands for) are counted apart, the join
    connecting them; the comparisons of a nested SELECT count for that SELECT only.
    """

    __slots__ = ("elements", "owner", "parent")

    def __init__(self, froms: Sequence[Any]) -> None:
        self.elements: list[Any] = []
        self.parent: list[int] = []
        """For each element, another of its connected group (itself at the group's root)."""
        self.owner: dict[int, int] = {}
        """The element (index) standing for each FROM object, by id: itself, the objects
        it hides (an aliased entity's alias), a join or an entity over its elements."""
        for from_ in froms:
            self._add(from_)

    def _add(self, from_: Any) -> int:
        proxied = getattr(from_, "_proxied_from", None)
        if proxied is not None:
            index = self._add(proxied)
        elif isinstance(from_, sel.Join):
            index = self._add(from_.left)
            self._union(index, self._add(from_.right))
        else:
            index = len(self.elements)
            self.elements.append(from_)
            self.parent.append(index)
        owner = self.owner
        owner[id(from_)] = index
        for hidden in from_._hide_froms:
            owner.setdefault(id(hidden), index)
        return index

    def _root(self, index: int) -> int:
        parent = self.parent
        while parent[index] != index:
            parent[index] = index = parent[parent[index]]
        return index

    def _union(self, first: int, second: int) -> None:
        self.parent[self._root(first)] = self._root(second)

    def connect(self, left: Sequence[Any], right: Sequence[Any]) -> None:
        """Note a comparison between the columns of the FROM objects ``left`` and ``right``
        (those of an enclosing statement are not this one's to connect)."""
        owner = self.owner
        for first in left:
            i = owner.get(id(first))
            if i is None:
                continue
            for second in right:
                j = owner.get(id(second))
                if j is not None:
                    self._union(i, j)

    def warn(self, compiler: SQLCompiler, kind: str) -> None:
        """Warn if some FROM elements are not connected to the first one, naming them as the
        statement rendered them."""
        root = self._root(0)
        apart = [e for i, e in enumerate(self.elements) if self._root(i) != root]
        if not apart:
            return
        listed = ", ".join(f'"{_lint_name(compiler, e)}"' for e in apart)
        warnings.warn(
            f"{kind} statement has a cartesian product between FROM element(s) {listed} and "
            f'FROM element "{_lint_name(compiler, self.elements[0])}".  Apply join '
            "condition(s) between each element to resolve.",
            exc.SAWarning,
            stacklevel=2,
        )


def _lint_name(compiler: SQLCompiler, from_: Any) -> str:
    """How the FROM list names ``from_``."""
    if isinstance(from_, sel.Alias):
        return compiler._from_name(from_)
    if isinstance(getattr(from_, "name", None), str):
        return compiler.preparer.format_table(from_)
    return str(from_)


def _frame_bound(value: int | None, lower: bool) -> str:
    if value is None:
        return "UNBOUNDED PRECEDING" if lower else "UNBOUNDED FOLLOWING"
    if value == 0:
        return "CURRENT ROW"
    if value < 0:
        return f"{-value} PRECEDING"
    return f"{value} FOLLOWING"


# --------------------------------------------------------------------------------------
# the engine's entry point


def compile_cached(
    statement: Any,
    dialect: Any,
    cache: MutableMapping[Any, Any] | None,
    schema_map: Mapping[str | None, str | None] | None = None,
) -> tuple[Compiled, Sequence[Any]]:
    """The compiled form of ``statement`` for ``dialect`` and the statement's bound parameters.

    ``cache`` (owned by the engine) maps structural keys to compiled statements; a newly built
    statement of a known shape costs a key computation instead of a compile.  ``schema_map``
    is the ``schema_translate_map`` execution option (part of the key).  A cache that also
    has ``by_statement`` and ``remember()`` (the engine's) finds a statement run again as
    the same object by identity, without computing its key.
    """
    by_statement = None if schema_map else getattr(cache, "by_statement", None)
    if by_statement is not None:
        found = by_statement.get(id(statement))
        if found is not None and found[0] is statement:
            return found[1], found[2]
    if getattr(statement, "is_ddl", False):
        return dialect.ddl_compiler(dialect, statement, schema_map=schema_map or None), []
    try:
        key, extracted = statement._generate_cache_key()
    except NotImplementedError:
        return _compile_to_run(statement, dialect, None, schema_map), []
    if cache is None:
        return _compile_to_run(statement, dialect, extracted, schema_map), extracted
    if schema_map:
        key = (key, "schema_translate_map", *sorted(schema_map.items(), key=repr))
    try:
        compiled = cache.get(key)
    except TypeError:
        return _compile_to_run(statement, dialect, extracted, schema_map), extracted
    if compiled is None:
        compiled = _compile_to_run(statement, dialect, extracted, schema_map)
        cache[key] = compiled
    if by_statement is not None:
        cache.remember(statement, compiled, extracted)  # type: ignore[attr-defined]
    return compiled, extracted


def _compile_to_run(
    statement: Any,
    dialect: Any,
    extracted: Sequence[Any] | None,
    schema_map: Mapping[str | None, str | None] | None,
) -> Compiled:
    """:func:`compile_statement` for the engine, which runs what it compiles: the FROM
    linting of the dialect (``enable_from_linting``) applies, on a cache miss only."""
    return compile_statement(
        statement, dialect, extracted, schema_map=schema_map, from_linting=dialect.from_linting
    )


def compile_statement(
    statement: Any,
    dialect: Any,
    extracted: Sequence[Any] | None,
    compile_kwargs: Mapping[str, Any] | None = None,
    column_keys: frozenset[str] | None = frozenset(),
    schema_map: Mapping[str | None, str | None] | None = None,
    from_linting: bool = False,
) -> Compiled:
    """Compile ``statement`` (through its compile plugin, if it has one) for ``dialect``.

    ``extracted`` are the statement's bound parameters in cache-key order; the compiled form
    reads later statements' values by those positions.  ``column_keys`` are the columns an
    INSERT/UPDATE binds as parameters (None: all of them, for display).  ``from_linting``:
    warn of a cartesian product (as an engine compiling to execute does, unless created with
    ``enable_from_linting=False``).
    """
    plugin = plugin_of(statement)
    nested = None
    if plugin is not None:
        translated = plugin.translate(statement, dialect)
        nested = translated.nested
        if extracted is None:
            try:
                extracted = statement._generate_cache_key()[1]
            except NotImplementedError:
                extracted = None
        statement = translated.statement
    compiled: Compiled = dialect.statement_compiler(
        dialect,
        statement,
        extracted=extracted,
        compile_kwargs=compile_kwargs,
        column_keys=column_keys,
        nested=nested,
        schema_map=schema_map or None,
        from_linting=from_linting,
    )
    if plugin is not None:
        compiled.plan = translated.plan
    return compiled


def cache_key(statement: Any) -> Hashable:
    """The structural cache key of ``statement`` (equal for identically shaped statements)."""
    key: Hashable = statement._generate_cache_key()[0]
    return key
