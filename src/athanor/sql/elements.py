"""The building blocks of SQL expressions: columns, bound values, operators, text.

Every construct is an immutable tree of :class:`ClauseElement` objects.  Each element has a
*cache key* (:meth:`ClauseElement._ck`): a hashable value describing its structure with bound
values left out, while the bound parameters themselves are collected in a deterministic order.
Identically shaped statements share one key, so the compiler runs once per shape and later
executions only read the values of the collected parameters.

Constructs declare the attributes that make up their identity in ``_cache_attrs`` (see
:data:`KEY_KINDS`); the key and :meth:`ClauseElement.get_children` derive from that list.
Only the leaves with identity rules of their own write ``_ck`` by hand: bound parameters
(which are collected, not keyed by value), columns (keyed by their table's identity), tables
(stable identity) and constants.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar, overload

from athanor import exc
from athanor.sql import operators
from athanor.sql import types as sqltypes
from athanor.sql.operators import PRECEDENCE_ATOM, Operator
from athanor.util.typevars import T, T_co

if TYPE_CHECKING:
    from athanor.sql.compiler import Compiled
    from athanor.sql.selectable import FromClause

_E = TypeVar("_E", bound="ClauseElement")


class KeyContext:
    """State of one cache-key traversal: the bound parameters found, in order."""

    __slots__ = ("binds", "ords")

    def __init__(self) -> None:
        self.binds: list[BindParameter] = []
        self.ords: dict[int, int] | None = None

    def ref(self, element: ClauseElement, define: Callable[[KeyContext], Hashable]) -> Hashable:
        """Key an anonymous-named element: its full definition once, an ordinal afterwards."""
        ords = self.ords
        if ords is None:
            ords = self.ords = {}
        found = ords.get(id(element))
        if found is not None:
            return ("R", found)
        ordinal = ords[id(element)] = len(ords)
        return ("D", ordinal, define(self))


_new_key_context = object.__new__

key_epoch = object()
"""Replaced whenever a table's columns change: what a statement memoises from its tables
(its cache key, a SELECT's named columns) is reused only while this is the same object."""


def new_key_epoch() -> None:
    """Make what every statement memoised from its tables stale (a table's columns changed)."""
    global key_epoch
    key_epoch = object()


KeyPart = str | Callable[[Any, KeyContext], Hashable]
"""How one declared attribute enters a cache key: a kind name from :data:`KEY_KINDS`, or a
function ``(value, ctx) -> hashable`` for a structure of its own (called for a value that is
not None; None keys as None)."""

CacheAttrs = tuple[tuple[str, KeyPart], ...]
"""A construct's declared identity: ``(attribute, kind)`` pairs."""

KEY_KINDS: dict[str, str] = {
    "plain": "{v}",
    "type": "{v}._ck",
    "optional_type": "(None if {v} is None else {v}._ck)",
    "operator": "({v}.name, {v}.sql)",
    "optional_operator": "(None if {v} is None else ({v}.name, {v}.sql))",
    "element": "(None if {v} is None else {v}._ck(ctx))",
    "elements": (
        "(() if not {v} else ({v}[0]._ck(ctx),) if len({v}) == 1"
        " else tuple([c._ck(ctx) for c in {v}]))"
    ),
    "optional_elements": "(None if {v} is None else tuple([c._ck(ctx) for c in {v}]))",
    "options": "(() if not {v} else tuple([o._ck(ctx) for o in {v}]))",
    "element_map": "(None if not {v} else tuple([(k, e._ck(ctx)) for k, e in {v}.items()]))",
    "element_maps": "tuple([tuple([(k, e._ck(ctx)) for k, e in m.items()]) for m in {v}])",
}
"""The kinds of declared attributes: a value used as it is (hashable), a type (or None), an
operator (or None), a clause element (or None), a sequence of them (or None), a mapping of
names to them, a sequence of such mappings (multi-row VALUES), and loader options (keyed,
not children: they are not clause elements).  Each is written out inline
in the generated key function: a call per attribute would cost more than the key itself."""

_CHILD_KINDS = frozenset({"element", "elements", "element_map", "element_maps"})


def _key_function(cls: type, attrs: CacheAttrs, usual: tuple[str, ...] = ()) -> Any:
    """Generate ``cls._ck`` from its declared attributes (as fast as a hand-written one).

    ``usual`` names the attributes usually set; while none of the others is set on the
    instance (all at their class defaults), the key holds the usual ones only, behind a
    marker that keeps it apart from full keys: smaller to build, hash and compare."""
    namespace: dict[str, Any] = {"_rare": frozenset(n for n, _ in attrs if n not in usual)}
    parts = []
    usual_parts = []
    loads: list[str] = []
    usual_loads: list[str] = []
    for index, (name, kind) in enumerate(attrs):
        value = f"_{index}"
        load = f"{value} = self.{name}\n"
        if callable(kind):
            namespace[f"_part_{index}"] = kind
            part = f"(None if {value} is None else _part_{index}({value}, ctx))"
        else:
            part = KEY_KINDS[kind].format(v=value)
        loads.append("    " + load)
        parts.append(part)
        if name in usual:
            usual_loads.append("        " + load)
            usual_parts.append(part)
    short = ""
    if usual:
        short = (
            "    if _rare.isdisjoint(self.__dict__):\n"
            + "".join(usual_loads)
            + "        return (self.__class__, '~', "
            + ", ".join(usual_parts)
            + ")\n"
        )
    source = (
        "def _ck(self, ctx):\n"
        + short
        + "".join(loads)
        + "    return (self.__class__, "
        + ", ".join(parts)
        + ")\n"
    )
    exec(source, namespace)
    function = namespace["_ck"]
    function.__qualname__ = f"{cls.__qualname__}._ck"
    function.__doc__ = "The cache key, derived from the declared ``_cache_attrs``."
    return function


def _pairs_key(pairs: Sequence[tuple[ClauseElement, ClauseElement]], ctx: KeyContext) -> Hashable:
    return tuple((a._ck(ctx), b._ck(ctx)) for a, b in pairs)


class ClauseElement:
    """Base class of every SQL construct (expressions, statements, DDL).

    A construct declares what makes up its identity in ``_cache_attrs``: ``(attribute, kind)``
    pairs (see :data:`KEY_KINDS`).  Its cache key (``_ck``) and its children
    (:meth:`get_children`) derive from that list, and generative methods copy the instance, so
    an attribute a builder method sets but the list misses is a bug a test finds.
    """

    _cache_attrs: ClassVar[CacheAttrs | None] = None
    _cache_usual: ClassVar[tuple[str, ...]] = ()
    """The declared attributes most instances set (see :func:`_key_function`)."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        attrs = cls.__dict__.get("_cache_attrs")
        if attrs is not None:
            # A FROM object is keyed by reference (its definition once per statement, then an
            # ordinal), so what the declaration gives is its definition.
            target = "_ck_def" if hasattr(cls, "_ck_ref") else "_ck"
            if target in cls.__dict__:
                raise TypeError(f"{cls.__name__} declares _cache_attrs and also defines {target}")
            usual = cls.__dict__.get("_cache_usual", ())
            setattr(cls, target, _key_function(cls, attrs, usual))

    def get_children(self) -> list[ClauseElement]:
        """The clause elements directly inside this one, from its declared attributes."""
        children: list[ClauseElement] = []
        for name, kind in self._cache_attrs or ():
            if kind not in _CHILD_KINDS:
                continue
            value = getattr(self, name)
            if value is None:
                continue
            if kind == "element":
                children.append(value)
            elif kind == "elements":
                children.extend(value)
            elif kind == "element_map":
                children.extend(value.values())
            else:
                for mapping in value:
                    children.extend(mapping.values())
        return children

    __visit_name__: ClassVar[str] = "clause"
    is_ddl: ClassVar[bool] = False
    is_dml: ClassVar[bool] = False
    is_select: ClassVar[bool] = False
    is_selectable: ClassVar[bool] = False
    is_clause_element: ClassVar[bool] = True
    _precedence: ClassVar[int] = PRECEDENCE_ATOM
    _execution_options: Mapping[str, Any] = {}
    _bind_overrides: Mapping[str, Any] = {}
    _compile_plugin: Any = None
    """A :class:`~athanor.sql.plugin.CompilePlugin` that translates this statement when it
    is compiled (see :mod:`athanor.sql.plugin`)."""

    def _ck(self, ctx: KeyContext) -> Hashable:
        """This element's structural cache key; appends its bound parameters to ``ctx``."""
        raise NotImplementedError(f"{type(self).__name__} has no cache key")

    def _generate_cache_key(self) -> tuple[Hashable, list[BindParameter]]:
        """The statement's cache key and its bound parameters in traversal order."""
        found: tuple[object, tuple[Hashable, list[BindParameter]]] | None = self.__dict__.get(
            "_ck_memo"
        )
        if found is not None and found[0] is key_epoch:
            return found[1]
        ctx = _new_key_context(KeyContext)  # (no __init__ call: this runs per statement)
        ctx.binds = []
        ctx.ords = None
        key = self._ck(ctx)
        if self._compile_plugin is not None:
            key = (key, self._compile_plugin)
        binds = ctx.binds
        if self._bind_overrides:
            binds = [_overridden(b, self._bind_overrides) for b in binds]
        memo = (key, binds)
        self.__dict__["_ck_memo"] = (key_epoch, memo)
        return memo

    @property
    def _from_objects(self) -> list[FromClause]:
        """The FROM objects this element needs (tables, aliases, joins)."""
        return []

    _memo_keys: ClassVar[tuple[str, ...]] = ("_ck_memo",)

    def _generate(self: _E) -> _E:
        """A shallow copy for generative methods (``where``, ``values``, ...)."""
        cls = self.__class__
        new = cls.__new__(cls)
        state = self.__dict__.copy()
        for key in self._memo_keys:
            if key in state:
                del state[key]
        new.__dict__ = state
        return new

    def self_group(self, against: Operator | None = None) -> ClauseElement:
        """This element, in parentheses if needed inside an ``against`` expression."""
        return self

    def _get_compile_plugin(self) -> Any:
        """The compile plugin of this statement (its own, or one its elements ask for)."""
        return self._compile_plugin

    def _with_compile_plugin(self: _E, plugin: Any) -> _E:
        """A copy compiled through ``plugin`` (see :mod:`athanor.sql.plugin`)."""
        new = self._generate()
        new._compile_plugin = plugin
        return new

    def params(self: _E, *optionaldict: Mapping[str, Any], **kwargs: Any) -> _E:
        """A copy whose named bound parameters (``bindparam("x")``, ``text(":x")``) take these
        values: ``stmt.params(x=5)`` or ``stmt.params({"x": 5})``.

        The values apply when this statement is executed or compiled itself, not when it is
        embedded in another statement.
        """
        values: dict[str, Any] = {}
        for mapping in optionaldict:
            values.update(mapping)
        values.update(kwargs)
        new = self._generate()
        new._bind_overrides = {**self._bind_overrides, **values}
        return new

    def execution_options(self: _E, **options: Any) -> _E:
        """A copy carrying execution options the engine reads (``stream_results`` ...)."""
        new = self._generate()
        new._execution_options = {**self._execution_options, **options}
        return new

    def get_execution_options(self) -> Mapping[str, Any]:
        """The execution options set on this statement."""
        return self._execution_options

    def compile(
        self,
        bind: Any = None,
        dialect: Any = None,
        *,
        compile_kwargs: Mapping[str, Any] | None = None,
    ) -> Compiled:
        """Compile for ``dialect`` (or ``bind.dialect``; the generic dialect by default)."""
        from athanor.sql.compiler import default_dialect

        if dialect is None:
            dialect = bind.dialect if bind is not None else default_dialect()
        if getattr(self, "is_ddl", False):
            result: Compiled = dialect.ddl_compiler(
                dialect, self, compile_kwargs=dict(compile_kwargs or {})
            )
            return result
        from athanor.sql.compiler import compile_statement

        return compile_statement(self, dialect, None, compile_kwargs, column_keys=None)

    def __str__(self) -> str:
        return self.compile().string

    def __bool__(self) -> bool:
        raise TypeError("Boolean value of this clause is not defined")

    def __clause_element__(self) -> ClauseElement:
        return self


class Executable(ClauseElement):
    """Base of the statements ``Connection.execute()`` runs (SELECT, DML, DDL, text); a
    user-defined statement subclasses it and renders through a ``@compiles`` rule."""


def _overridden(bind: BindParameter, values: Mapping[str, Any]) -> BindParameter:
    """``bind`` with the value ``params()`` gave its name; the copy remembers its original,
    which is what a compiled statement knows."""
    if bind.unique or bind.key not in values:
        return bind
    copy = bind._with_value(values[bind.key])
    copy.__dict__["_original"] = bind.__dict__.get("_original", bind)
    return copy


# --------------------------------------------------------------------------------------
# coercion of user arguments


def _is_literal_value(value: Any) -> bool:
    return not hasattr(value, "__clause_element__") and not isinstance(value, ClauseElement)


def coerce_element(value: Any) -> ClauseElement:
    """``value`` as a clause element (via ``__clause_element__`` for ORM attributes)."""
    if isinstance(value, ClauseElement):
        return value
    clause = getattr(value, "__clause_element__", None)
    if clause is not None:
        result: ClauseElement = clause()
        return result
    raise exc.ArgumentError(f"Expected a SQL expression, got {value!r}")


def coerce_operand(value: Any) -> Any:
    """``value`` as it takes part in an expression.

    An object that selects as something richer than its expression (the column attribute of
    an inheriting ORM class, marked with its class: see ``_select_column_element``) is that
    inside expressions too, so ``select(cast(Manager.id, String))`` keeps to the class's rows
    as ``select(Manager.id)`` does.
    """
    if not isinstance(value, ClauseElement):
        marked = getattr(value, "_select_column_element", None)
        if marked is not None:
            return marked()
    return value


def coerce_column(value: Any, *, role: str = "column expression") -> ColumnElement:
    """``value`` as a column expression; strings are refused with a hint."""
    if isinstance(value, ColumnElement):
        return value
    clause = getattr(value, "__clause_element__", None)
    if clause is not None:
        value = clause()
        if isinstance(value, ColumnElement):
            return value
    if isinstance(value, TextClause):
        return TextCriterion(value)
    if isinstance(value, str):
        raise exc.ArgumentError(
            f"Plain string {value!r} given where a {role} is expected; use "
            f"literal_column({value!r}) or text({value!r}) for SQL, or a Column object"
        )
    from athanor.sql.selectable import ScalarSelect, Select

    if isinstance(value, Select):
        return ScalarSelect(value)
    if isinstance(value, ScalarSelect):
        return value
    raise exc.ArgumentError(f"Expected a {role}, got {value!r}")


def coerce_where(value: Any) -> ColumnElement:
    """A WHERE / HAVING / ON criterion."""
    if isinstance(value, ColumnElement):
        return value
    if isinstance(value, TextClause):
        return TextCriterion(value)
    if isinstance(value, bool):
        return True_() if value else False_()
    if isinstance(value, str):
        raise exc.ArgumentError(
            f"Plain string {value!r} given as a WHERE/ON criterion; wrap SQL in text({value!r})"
        )
    return coerce_column(value, role="WHERE/ON criterion")


def coerce_bind(
    value: Any, against: ColumnElement | None, op: Operator | None = None
) -> ColumnElement:
    """The right-hand side of ``against <op> value``: a column or a new bound parameter."""
    if isinstance(value, ColumnElement):
        if against is not None and isinstance(value, BindParameter):
            return value._typed_as(against.type)
        return value
    if not isinstance(value, ClauseElement):
        clause = getattr(value, "_select_column_element", None) or getattr(
            value, "__clause_element__", None
        )
        if clause is not None:
            return coerce_column(clause())
    if isinstance(value, ClauseElement):
        from athanor.sql.selectable import FromClause, ScalarSelect, Select

        if isinstance(value, Select):
            return ScalarSelect(value)
        if isinstance(value, TextClause):
            return TextCriterion(value)
        if isinstance(value, FromClause):
            raise exc.ArgumentError(
                f"Cannot compare a column with the table/selectable {value!r}; "
                "compare with one of its columns (.c.<name>) or use .scalar_subquery()"
            )
        raise exc.ArgumentError(f"Cannot use {value!r} as a column expression")
    if isinstance(value, type) or (callable(value) and not hasattr(value, "__len__")):
        raise exc.ArgumentError(
            f"Cannot compare a SQL expression with {value!r}; compare with a plain value "
            "(number, string, date, ...) or another SQL expression"
        )
    if isinstance(against, Tuple) and isinstance(value, tuple | list):
        members = against.clauses
        if len(value) != len(members):
            raise exc.ArgumentError(
                f"Cannot compare a tuple_() of {len(members)} expressions with "
                f"{len(value)} values {value!r}"
            )
        # one parameter per member, as a row value needs: (a, b) = (?, ?), named param_<n>
        return Tuple(
            *(
                BindParameter(None, v, c.type.coerce_compared_value(op, v), unique=True)
                if _is_literal_value(v)
                else coerce_bind(v, c, op)
                for v, c in zip(value, members, strict=True)
            )
        )
    if against is None:
        return BindParameter(None, value, unique=True)
    bind_type = against.type.coerce_compared_value(op, value)
    return BindParameter(against._bind_base_name(), value, type_=bind_type, unique=True)


# --------------------------------------------------------------------------------------
# operator mixin


class ColumnOperators:
    """Python operators and methods that build SQL expressions (``col == 5``, ``col.in_()``)."""

    __slots__ = ()
    __hash__ = object.__hash__

    def operate(self, op: Operator, *other: Any, **kwargs: Any) -> ColumnElement:
        raise NotImplementedError

    def reverse_operate(self, op: Operator, other: Any, **kwargs: Any) -> ColumnElement:
        raise NotImplementedError

    def __eq__(self, other: Any) -> ColumnElement:  # type: ignore[override]
        return self.operate(operators.eq, other)

    def __ne__(self, other: Any) -> ColumnElement:  # type: ignore[override]
        return self.operate(operators.ne, other)

    def __lt__(self, other: Any) -> ColumnElement:
        return self.operate(operators.lt, other)

    def __le__(self, other: Any) -> ColumnElement:
        return self.operate(operators.le, other)

    def __gt__(self, other: Any) -> ColumnElement:
        return self.operate(operators.gt, other)

    def __ge__(self, other: Any) -> ColumnElement:
        return self.operate(operators.ge, other)

    def __add__(self, other: Any) -> ColumnElement:
        return self.operate(operators.add, other)

    def __radd__(self, other: Any) -> ColumnElement:
        return self.reverse_operate(operators.add, other)

    def __sub__(self, other: Any) -> ColumnElement:
        return self.operate(operators.sub, other)

    def __rsub__(self, other: Any) -> ColumnElement:
        return self.reverse_operate(operators.sub, other)

    def __mul__(self, other: Any) -> ColumnElement:
        return self.operate(operators.mul, other)

    def __rmul__(self, other: Any) -> ColumnElement:
        return self.reverse_operate(operators.mul, other)

    def __truediv__(self, other: Any) -> ColumnElement:
        return self.operate(operators.truediv, other)

    def __rtruediv__(self, other: Any) -> ColumnElement:
        return self.reverse_operate(operators.truediv, other)

    def __floordiv__(self, other: Any) -> ColumnElement:
        return self.operate(operators.floordiv, other)

    def __rfloordiv__(self, other: Any) -> ColumnElement:
        return self.reverse_operate(operators.floordiv, other)

    def __mod__(self, other: Any) -> ColumnElement:
        return self.operate(operators.mod, other)

    def __rmod__(self, other: Any) -> ColumnElement:
        return self.reverse_operate(operators.mod, other)

    def __neg__(self) -> ColumnElement:
        return self.operate(operators.neg)

    def __invert__(self) -> ColumnElement:
        return self.operate(operators.inv)

    def __and__(self, other: Any) -> ColumnElement:
        return self.operate(operators.and_, other)

    def __or__(self, other: Any) -> ColumnElement:
        return self.operate(operators.or_, other)

    def __getitem__(self, index: Any) -> ColumnElement:
        return self.operate(operators.getitem, index)

    def concat(self, other: Any) -> ColumnElement:
        """``self || other``."""
        return self.operate(operators.concat_op, other)

    def bitwise_and(self, other: Any) -> ColumnElement:
        """``self & other``, bit by bit."""
        return self.operate(operators.bitwise_and_op, other)

    def bitwise_or(self, other: Any) -> ColumnElement:
        """``self | other``, bit by bit."""
        return self.operate(operators.bitwise_or_op, other)

    def bitwise_xor(self, other: Any) -> ColumnElement:
        """Exclusive or, bit by bit (``#`` on PostgreSQL, ``^`` on MySQL)."""
        return self.operate(operators.bitwise_xor_op, other)

    def bitwise_not(self) -> ColumnElement:
        """``~self``: every bit inverted."""
        return self.operate(operators.bitwise_not_op)

    def bitwise_lshift(self, other: Any) -> ColumnElement:
        """``self << other``."""
        return self.operate(operators.bitwise_lshift_op, other)

    def bitwise_rshift(self, other: Any) -> ColumnElement:
        """``self >> other``."""
        return self.operate(operators.bitwise_rshift_op, other)

    def regexp_match(self, pattern: Any, flags: str | None = None) -> ColumnElement:
        """True where ``self`` matches the regular expression ``pattern``.

        ``flags`` (e.g. ``"i"`` for case-insensitive) are inline regular-expression flags;
        SQLite gets a ``REGEXP`` function backed by Python's :mod:`re` on each connection.
        """
        return self.operate(operators.regexp_match_op, pattern, flags=flags)

    def regexp_replace(
        self, pattern: Any, replacement: Any, flags: str | None = None
    ) -> ColumnElement:
        """``self`` with matches of ``pattern`` replaced by ``replacement`` (``\\1`` refers to
        a group); PostgreSQL replaces the first match only unless ``flags`` has ``"g"``."""
        return self.operate(operators.regexp_replace_op, pattern, replacement, flags=flags)

    def match(self, other: Any, **kwargs: Any) -> ColumnElement:
        """Full-text match: ``@@ plainto_tsquery()`` on PostgreSQL, ``MATCH () AGAINST ()``
        on MySQL (which needs a FULLTEXT index), ``MATCH`` on an SQLite FTS table."""
        return self.operate(operators.match_op, other)

    def any_(self) -> ColumnElement:
        """``ANY (self)`` for an array or subquery: ``5 == col.any_()``."""
        return self.operate(operators.any_op)

    def all_(self) -> ColumnElement:
        """``ALL (self)`` for an array or subquery."""
        return self.operate(operators.all_op)

    def like(self, other: Any, escape: str | None = None) -> ColumnElement:
        """``self LIKE other``."""
        return self.operate(operators.like_op, other, escape=escape)

    def not_like(self, other: Any, escape: str | None = None) -> ColumnElement:
        """``self NOT LIKE other``."""
        return self.operate(operators.not_like_op, other, escape=escape)

    def ilike(self, other: Any, escape: str | None = None) -> ColumnElement:
        """Case-insensitive LIKE (``ILIKE`` on PostgreSQL, ``lower() LIKE lower()`` elsewhere)."""
        return self.operate(operators.ilike_op, other, escape=escape)

    def not_ilike(self, other: Any, escape: str | None = None) -> ColumnElement:
        """Case-insensitive NOT LIKE."""
        return self.operate(operators.not_ilike_op, other, escape=escape)

    notlike = not_like
    notilike = not_ilike

    def contains(
        self, other: Any, *, autoescape: bool = False, escape: str | None = None
    ) -> ColumnElement:
        """``self LIKE '%' || other || '%'``; ``autoescape`` makes ``%`` and ``_`` literal.
        For a range or an array: ``self @> other`` (PostgreSQL)."""
        return self.operate(
            operators.contains_op, other, _pattern=("%", "%"), autoescape=autoescape, escape=escape
        )

    def contained_by(self, other: Any) -> ColumnElement:
        """``self <@ other``: a range or array inside another (PostgreSQL)."""
        return self.operate(operators.contained_by_op, other)

    def overlaps(self, other: Any) -> ColumnElement:
        """``self && other``: ranges or arrays with something in common (PostgreSQL)."""
        return self.operate(operators.overlap_op, other)

    overlap = overlaps

    def strictly_left_of(self, other: Any) -> ColumnElement:
        """``self << other``: a range entirely before another (PostgreSQL)."""
        return self.operate(operators.strictly_left_of_op, other)

    def strictly_right_of(self, other: Any) -> ColumnElement:
        """``self >> other``: a range entirely after another (PostgreSQL)."""
        return self.operate(operators.strictly_right_of_op, other)

    def not_extend_right_of(self, other: Any) -> ColumnElement:
        """``self &< other``: a range not reaching past another's end (PostgreSQL)."""
        return self.operate(operators.not_extend_right_of_op, other)

    def not_extend_left_of(self, other: Any) -> ColumnElement:
        """``self &> other``: a range not starting before another (PostgreSQL)."""
        return self.operate(operators.not_extend_left_of_op, other)

    def adjacent_to(self, other: Any) -> ColumnElement:
        """``self -|- other``: ranges meeting without overlapping (PostgreSQL)."""
        return self.operate(operators.adjacent_to_op, other)

    def union(self, other: Any) -> ColumnElement:
        """``self + other``: the union of two ranges (PostgreSQL)."""
        return self.operate(operators.add, other)

    def difference(self, other: Any) -> ColumnElement:
        """``self - other``: a range less another (PostgreSQL)."""
        return self.operate(operators.sub, other)

    def intersection(self, other: Any) -> ColumnElement:
        """``self * other``: the intersection of two ranges (PostgreSQL)."""
        return self.operate(operators.mul, other)

    def startswith(
        self, other: Any, *, autoescape: bool = False, escape: str | None = None
    ) -> ColumnElement:
        """``self LIKE other || '%'``."""
        return self.operate(
            operators.like_op, other, _pattern=("", "%"), autoescape=autoescape, escape=escape
        )

    def endswith(
        self, other: Any, *, autoescape: bool = False, escape: str | None = None
    ) -> ColumnElement:
        """``self LIKE '%' || other``."""
        return self.operate(
            operators.like_op, other, _pattern=("%", ""), autoescape=autoescape, escape=escape
        )

    def icontains(
        self, other: Any, *, autoescape: bool = False, escape: str | None = None
    ) -> ColumnElement:
        """Case-insensitive :meth:`contains`."""
        return self.operate(
            operators.ilike_op, other, _pattern=("%", "%"), autoescape=autoescape, escape=escape
        )

    def istartswith(
        self, other: Any, *, autoescape: bool = False, escape: str | None = None
    ) -> ColumnElement:
        """Case-insensitive :meth:`startswith`."""
        return self.operate(
            operators.ilike_op, other, _pattern=("", "%"), autoescape=autoescape, escape=escape
        )

    def iendswith(
        self, other: Any, *, autoescape: bool = False, escape: str | None = None
    ) -> ColumnElement:
        """Case-insensitive :meth:`endswith`."""
        return self.operate(
            operators.ilike_op, other, _pattern=("%", ""), autoescape=autoescape, escape=escape
        )

    def in_(self, other: Any) -> ColumnElement:
        """``self IN (...)``: a list (bound as one expanding parameter), a subquery or bindparam."""
        return self.operate(operators.in_op, other)

    def not_in(self, other: Any) -> ColumnElement:
        """``self NOT IN (...)``."""
        return self.operate(operators.not_in_op, other)

    notin_ = not_in

    def between(self, lower: Any, upper: Any, symmetric: bool = False) -> ColumnElement:
        """``self BETWEEN lower AND upper``."""
        return self.operate(operators.between_op, lower, upper)

    def is_(self, other: Any) -> ColumnElement:
        """``self IS other`` (``IS NULL`` for None)."""
        return self.operate(operators.is_, other)

    def is_not(self, other: Any) -> ColumnElement:
        """``self IS NOT other``."""
        return self.operate(operators.is_not, other)

    isnot = is_not

    def is_distinct_from(self, other: Any) -> ColumnElement:
        """``self IS DISTINCT FROM other``."""
        return self.operate(operators.is_distinct_from, other)

    def is_not_distinct_from(self, other: Any) -> ColumnElement:
        """``self IS NOT DISTINCT FROM other``."""
        return self.operate(operators.is_not_distinct_from, other)

    isnot_distinct_from = is_not_distinct_from

    def asc(self) -> ColumnElement:
        """``self ASC`` for ORDER BY."""
        return self.operate(operators.asc_op)

    def desc(self) -> ColumnElement:
        """``self DESC`` for ORDER BY."""
        return self.operate(operators.desc_op)

    def nulls_first(self) -> ColumnElement:
        """``... NULLS FIRST``."""
        return self.operate(operators.nulls_first_op)

    def nulls_last(self) -> ColumnElement:
        """``... NULLS LAST``."""
        return self.operate(operators.nulls_last_op)

    nullsfirst = nulls_first
    nullslast = nulls_last

    def distinct(self) -> ColumnElement:
        """``DISTINCT self`` (inside an aggregate: ``count(distinct(x))``)."""
        return self.operate(operators.distinct_op)

    def collate(self, collation: str) -> ColumnElement:
        """``self COLLATE collation``."""
        return self.operate(operators.collate, collation)

    def op(
        self,
        opstring: str,
        precedence: int = 5,
        is_comparison: bool = False,
        return_type: Any = None,
    ) -> Callable[[Any], ColumnElement]:
        """A function producing ``self <opstring> other`` for any SQL operator."""
        custom = operators.custom_op(opstring, precedence, is_comparison=is_comparison)

        def apply(other: Any) -> ColumnElement:
            return self.operate(custom, other, return_type=return_type)

        return apply

    def bool_op(self, opstring: str, precedence: int = 5) -> Callable[[Any], ColumnElement]:
        """Like :meth:`op` for an operator returning a boolean."""
        return self.op(opstring, precedence, is_comparison=True)

    def has_key(self, key: Any) -> ColumnElement:
        """``self ? key``: a JSONB document with that top-level key (PostgreSQL)."""
        return self._jsonb_key_test("?", key, sqltypes.STRINGTYPE)

    def has_all(self, keys: Any) -> ColumnElement:
        """``self ?& keys``: a JSONB document with all of these top-level keys (PostgreSQL)."""
        return self._jsonb_key_test("?&", keys, sqltypes.ARRAY(sqltypes.Text()))

    def has_any(self, keys: Any) -> ColumnElement:
        """``self ?| keys``: a JSONB document with any of these top-level keys (PostgreSQL)."""
        return self._jsonb_key_test("?|", keys, sqltypes.ARRAY(sqltypes.Text()))

    def path_exists(self, path: Any) -> ColumnElement:
        """``self @? path``: whether the SQL/JSON path (``'$.tags[*]'``) finds anything in a
        JSONB document (PostgreSQL)."""
        return self.bool_op("@?")(self._jsonpath(path, "@?"))

    def path_match(self, path: Any) -> ColumnElement:
        """``self @@ path``: the outcome of a SQL/JSON path predicate (``'$.age > 30'``) on a
        JSONB document (PostgreSQL)."""
        return self.bool_op("@@")(self._jsonpath(path, "@@"))

    def delete_path(self, path: Any) -> ColumnElement:
        """``self #- path``: the JSONB document without the element at ``path``, a list of
        keys and positions (PostgreSQL)."""
        type_ = self._jsonb_type("#-")
        keys = sqltypes.ARRAY(sqltypes.Text())
        other = path if isinstance(path, ColumnElement) else Cast(literal(list(path), keys), keys)
        return self.op("#-", return_type=type_)(other)

    def _jsonb_type(self, opstring: str) -> sqltypes.TypeEngine:
        """This expression's type, which must be PostgreSQL's JSONB for ``opstring``."""
        type_: sqltypes.TypeEngine = getattr(self, "type", sqltypes.NULLTYPE)
        if type_._containment != "json":
            raise exc.ArgumentError(
                f"The {opstring} operator works on PostgreSQL JSONB documents; "
                f"this expression is of type {type_!r}"
            )
        return type_

    def _jsonpath(self, path: Any, opstring: str) -> ColumnElement:
        type_ = self._jsonb_type(opstring)
        if isinstance(path, ColumnElement):
            return path
        return Cast(literal(path, sqltypes.STRINGTYPE), type_._jsonpath_type)

    def _jsonb_key_test(self, opstring: str, keys: Any, key_type: Any) -> ColumnElement:
        self._jsonb_type(opstring)
        other = keys if isinstance(keys, ColumnElement) else Cast(literal(keys, key_type), key_type)
        return self.bool_op(opstring)(other)


# --------------------------------------------------------------------------------------
# column elements


class ColumnElement(ClauseElement, ColumnOperators, Generic[T_co]):
    """A SQL expression that has a value and a type (anything usable as a column).

    For type checkers ``ColumnElement[int]`` is an expression of int values; selecting it
    types the rows (``select(col)`` is a ``Select[tuple[int]]``).
    """

    __visit_name__ = "column_element"
    type: sqltypes.TypeEngine = sqltypes.NULLTYPE
    key: str | None = None
    primary_key: bool = False
    foreign_keys: Any = frozenset()
    _is_column: ClassVar[bool] = False

    __hash__ = ClauseElement.__hash__

    def __eq__(self, other: Any) -> ColumnElement:  # type: ignore[override]
        if type(other) in _SIMPLE_VALUES and self._precedence == PRECEDENCE_ATOM:
            return _compare_value(self, operators.eq, other)
        return _operate(self, operators.eq, (other,), {})

    @property
    def _proxy_name(self) -> str | None:
        """The name this expression gets in a subquery's ``.c`` and in result rows."""
        return None

    @property
    def _generated_label(self) -> bool:
        """Whether selecting this expression names it ``<_proxy_name>_<n>`` in the statement
        and its result rows (a function: ``count_1``), its subquery key staying ``count``."""
        return False

    def _result_stand_in(self) -> Hashable | None:
        """This expression's structure, as a result key: a statement of the same shape reuses
        a cached compiled form, whose result rows then find this expression by it."""
        try:
            key = self._ck(KeyContext())
        except NotImplementedError:
            return None
        return None if key is self else ("stand-in", key)

    def _bind_base_name(self) -> str:
        return self._proxy_name or "param"

    def __bool__(self) -> bool:
        raise TypeError("Boolean value of this clause is not defined")

    @property
    def expression(self) -> ColumnElement:
        return self

    def label(self, name: str | None) -> Label[T_co]:
        """``self AS name``."""
        return Label(name, self)

    def cast(self, type_: sqltypes.TypeArg[T]) -> Cast[T]:
        """``CAST(self AS type)``."""
        return Cast(self, type_)

    def over(
        self,
        partition_by: Any = None,
        order_by: Any = None,
        rows: tuple[int | None, int | None] | None = None,
        range_: tuple[int | None, int | None] | None = None,
        groups: tuple[int | None, int | None] | None = None,
    ) -> Over:
        """A window function call: ``self OVER (PARTITION BY ... ORDER BY ...)``, with a
        ``ROWS``, ``RANGE`` or ``GROUPS`` frame given as ``(start, end)`` offsets (negative:
        preceding, 0: current row, None: unbounded)."""
        return Over(self, partition_by, order_by, rows, range_, groups)

    def self_group(self, against: Operator | None = None) -> ColumnElement:
        if (
            against is not None
            and self._precedence <= against.precedence
            and self._precedence < PRECEDENCE_ATOM
        ):
            return Grouping(self)
        return self

    def operate(self, op: Operator, *other: Any, **kwargs: Any) -> ColumnElement:
        return _operate(self, op, other, kwargs)

    def reverse_operate(self, op: Operator, other: Any, **kwargs: Any) -> ColumnElement:
        left = coerce_bind(other, self, op)
        if op is operators.add and left.type._is_string and self.type._is_string:
            op = operators.concat_op
        return _binary(left, self, op, kwargs.get("return_type"))


_CONTAINMENT = frozenset(
    {
        operators.contains_op,
        operators.contained_by_op,
        operators.overlap_op,
        *operators.RANGE_ONLY,
    }
)


def _is_range(value: Any) -> bool:
    return getattr(value, "_is_range_value", False) is True


def _binary(
    left: ColumnElement,
    right: ColumnElement,
    op: Operator,
    return_type: Any = None,
    modifiers: tuple[Any, ...] = (),
) -> BinaryExpression:
    if return_type is not None:
        type_ = sqltypes.to_instance(return_type)
    elif op.comparison:
        type_ = sqltypes.BOOLEANTYPE
    elif op is operators.concat_op:
        type_ = left.type if left.type._is_string else sqltypes.STRINGTYPE
    else:
        type_ = left.type._result_type_for(op, right.type)
    return BinaryExpression(
        left.self_group(op), right.self_group(op), op, type_, modifiers=modifiers
    )


_LIKE_ESCAPE = "/"


def _autoescape(value: str, escape: str) -> str:
    return (
        value.replace(escape, escape + escape).replace("%", escape + "%").replace("_", escape + "_")
    )


def _compare_value(left: ColumnElement, op: Operator, value: Any) -> BinaryExpression:
    """``left <op> value`` for a plain int/str/float: the hot path, built without coercion."""
    type_ = left.type
    bind = object.__new__(BindParameter)
    bind.__dict__ = {
        "key": left._bind_base_name(),
        "unique": True,
        "value": value,
        "callable": None,
        "required": False,
        "expanding": False,
        "literal_execute": False,
        "type": type_
        if type(type_).coerce_compared_value is _KEEPS_TYPE
        else type_.coerce_compared_value(op, value),
    }
    binary = object.__new__(BinaryExpression)
    binary.__dict__ = {
        "left": left,
        "right": bind,
        "operator": op,
        "type": sqltypes.BOOLEANTYPE,
        "modifiers": (),
    }
    return binary


_KEEPS_TYPE = sqltypes.TypeEngine.coerce_compared_value
"""What a type binds compared values as unless it says otherwise: its own type."""

_SIMPLE_COMPARISONS = frozenset(
    {operators.eq, operators.ne, operators.lt, operators.le, operators.gt, operators.ge}
)
_SIMPLE_VALUES = frozenset({int, str, float})


def _operate(
    left: ColumnElement, op: Operator, other: tuple[Any, ...], kwargs: dict[str, Any]
) -> ColumnElement:
    if (
        op in _SIMPLE_COMPARISONS
        and len(other) == 1
        and type(other[0]) in _SIMPLE_VALUES
        and left._precedence == PRECEDENCE_ATOM
    ):
        return _compare_value(left, op, other[0])
    if not other:
        if op is operators.inv:
            return _negate(left)
        if op is operators.neg or op is operators.bitwise_not_op:
            return UnaryExpression(left.self_group(op), operator=op, type_=left.type)
        if op is operators.any_op or op is operators.all_op:
            return CollectionAggregate(left, op)
        if op is operators.distinct_op:
            return UnaryExpression(left, operator=op, type_=left.type)
        return UnaryExpression(left, modifier=op, type_=left.type)
    value = other[0]
    if op in _CONTAINMENT:
        containment = left.type._containment
        if op is operators.contains_op and containment is None:
            op = operators.like_op  # text: LIKE '%' || value || '%'
        elif (
            containment is None
            or (containment == "array" and op in operators.RANGE_ONLY)
            or (containment == "json" and op not in _JSON_CONTAINMENT)
        ):
            raise exc.ArgumentError(
                f"The {op.sql} operator needs a PostgreSQL "
                f"{'range' if op in operators.RANGE_ONLY else 'range or array'} "
                f"expression on its left, not one of type {left.type!r}"
            )
        else:
            right = coerce_bind(value, None)
            if containment == "json" and not isinstance(value, ClauseElement):
                # a dict or list is a document to compare with: bind it as the JSONB it meets
                right = BindParameter(None, value, left.type, unique=True)
            elif isinstance(right, BindParameter) and right.type._isnull:
                # A range or array on the right takes the left side's type; an element of it
                # (``range @> 5``) its own.
                scalar = containment == "range" and op is operators.contains_op
                if not (scalar and not isinstance(value, list | tuple) and not _is_range(value)):
                    right = right._typed_as(left.type)
            return BinaryExpression(left, right, op, sqltypes.BOOLEANTYPE)
    if op is operators.and_ or op is operators.or_:
        return BooleanClauseList._construct(op, (left, value))
    if op is operators.in_op or op is operators.not_in_op:
        return _in(left, op, value)
    if op is operators.between_op:
        lower = coerce_bind(value, left, op)
        upper = coerce_bind(other[1], left, op)
        pair = ClauseList(
            lower.self_group(operators.and_),
            upper.self_group(operators.and_),
            operator=operators.and_,
        )
        return BinaryExpression(left.self_group(op), pair, op, sqltypes.BOOLEANTYPE)
    if op is operators.regexp_replace_op:
        pair = ClauseList(coerce_bind(value, left, op), coerce_bind(other[1], left, op))
        flags = kwargs.get("flags")
        return BinaryExpression(
            left, pair, op, left.type, modifiers=(("flags", flags),) if flags else ()
        )
    if op is operators.regexp_match_op:
        flags = kwargs.get("flags")
        return _binary(
            left, coerce_bind(value, left, op), op, modifiers=(("flags", flags),) if flags else ()
        )
    if op is operators.collate:
        return BinaryExpression(left.self_group(op), CollationClause(str(value)), op, left.type)
    if op is operators.getitem:
        if left.type._is_json:
            index = (
                BindParameter(
                    None,
                    value,
                    sqltypes.JSONPathElement(
                        integer=isinstance(value, int) and not isinstance(value, bool),
                        path=isinstance(value, tuple),
                    ),
                    unique=True,
                )
                if _is_literal_value(value)
                else coerce_bind(value, None)
            )
            return JSONIndex(left.self_group(op), index, left.type)
        if isinstance(left.type, sqltypes.ARRAY):
            value, result_type = left.type._index(value)
        else:
            result_type = getattr(left.type, "item_type", sqltypes.NULLTYPE)
        index = (
            ClauseList(value.start, value.stop, operator=operators.slice_op)
            if isinstance(value, slice)
            else coerce_bind(value, None)
        )
        return BinaryExpression(left.self_group(op), index, op, result_type)
    if value is None or (isinstance(value, bool) and op in (operators.is_, operators.is_not)):
        if op is operators.eq or op is operators.is_:
            return BinaryExpression(
                left.self_group(op), _null_or_bool(value), operators.is_, sqltypes.BOOLEANTYPE
            )
        if op is operators.ne or op is operators.is_not:
            return BinaryExpression(
                left.self_group(op), _null_or_bool(value), operators.is_not, sqltypes.BOOLEANTYPE
            )
    pattern = kwargs.get("_pattern")
    if op in _LIKE_OPS:
        escape = kwargs.get("escape")
        if pattern is not None:
            prefix, suffix = pattern
            if kwargs.get("autoescape"):
                if not isinstance(value, str):
                    raise exc.ArgumentError("autoescape=True needs a plain string value")
                escape = escape or _LIKE_ESCAPE
                value = _autoescape(value, escape)
            if isinstance(value, str):
                value = prefix + value + suffix
            else:
                right = coerce_bind(value, left, op)
                parts: list[ColumnElement] = []
                if prefix:
                    parts.append(literal(prefix, sqltypes.STRINGTYPE))
                parts.append(right)
                if suffix:
                    parts.append(literal(suffix, sqltypes.STRINGTYPE))
                concat = parts[0]
                for part in parts[1:]:
                    concat = _binary(concat, part, operators.concat_op)
                return _binary(left, concat, op, modifiers=(("escape", escape),) if escape else ())
        right = coerce_bind(value, left, op)
        return _binary(left, right, op, modifiers=(("escape", escape),) if escape else ())
    right = coerce_bind(value, left, op)
    if op is operators.add and left.type._is_string and right.type._is_string:
        op = operators.concat_op
    return _binary(left, right, op, kwargs.get("return_type", op.return_type))


_LIKE_OPS = frozenset(
    {operators.like_op, operators.not_like_op, operators.ilike_op, operators.not_ilike_op}
)


def _null_or_bool(value: Any) -> ColumnElement:
    if value is None:
        return Null()
    return True_() if value else False_()


def _in(left: ColumnElement, op: Operator, value: Any) -> ColumnElement:
    from athanor.sql.selectable import ScalarSelect, Select, Subquery

    clause = (
        None if isinstance(value, ClauseElement) else getattr(value, "__clause_element__", None)
    )
    if clause is not None:
        value = clause()
    if isinstance(value, Select):
        return BinaryExpression(left.self_group(op), Grouping(value), op, sqltypes.BOOLEANTYPE)
    if isinstance(value, ScalarSelect):
        return BinaryExpression(
            left.self_group(op), Grouping(value.element), op, sqltypes.BOOLEANTYPE
        )
    if isinstance(value, Subquery):
        raise exc.ArgumentError("in_() takes a select(), not a subquery(); pass the select itself")
    from athanor.sql.values import ScalarValues

    if isinstance(value, ScalarValues):
        return BinaryExpression(left.self_group(op), value, op, sqltypes.BOOLEANTYPE)
    if isinstance(value, BindParameter):
        if not value.expanding:
            value = value._with_expanding()
        if isinstance(left, Tuple):
            if value._tuple_types is None and value.type._isnull:
                value = value._generate()
                value._tuple_types = tuple(c.type for c in left.clauses)
        else:
            value = value._typed_as(left.type)
        return BinaryExpression(left.self_group(op), value, op, sqltypes.BOOLEANTYPE)
    if isinstance(value, ClauseElement | str) or not isinstance(value, Iterable):
        raise exc.ArgumentError(
            f"in_() takes a list of values, a select() or a bindparam(); got {value!r}"
        )
    values = list(value)
    if any(not _is_literal_value(v) for v in values):
        items = [coerce_bind(v, left, op) for v in values]
        return BinaryExpression(
            left.self_group(op), Grouping(ClauseList(*items)), op, sqltypes.BOOLEANTYPE
        )
    bind_type = left.type
    if isinstance(left, Tuple):
        bind_type = sqltypes.NULLTYPE
    bind = BindParameter(
        left._bind_base_name(), values, type_=bind_type, unique=True, expanding=True
    )
    if isinstance(left, Tuple):
        bind._tuple_types = tuple(c.type for c in left.clauses)
    return BinaryExpression(left.self_group(op), bind, op, sqltypes.BOOLEANTYPE)


def _negate(element: ColumnElement) -> ColumnElement:
    if isinstance(element, BinaryExpression) and element.operator.negate is not None:
        negated = element.operator.negate
        assert negated is not None
        return BinaryExpression(
            element.left, element.right, negated, element.type, modifiers=element.modifiers
        )
    if isinstance(element, UnaryExpression) and element.operator is operators.inv:
        return element.element
    if isinstance(element, True_):
        return False_()
    if isinstance(element, False_):
        return True_()
    return UnaryExpression(
        element.self_group(operators.inv), operator=operators.inv, type_=sqltypes.BOOLEANTYPE
    )


class ColumnClause(ColumnElement[T_co]):
    """A named column, optionally belonging to a table or a selectable (``column("x")``).

    ``is_literal=True`` makes the name raw SQL text (``literal_column("count(*)")``).
    """

    __visit_name__ = "column"
    _is_column = True

    def __init__(
        self,
        text: str,
        type_: Any = None,
        is_literal: bool = False,
        _selectable: Any = None,
    ) -> None:
        self.name = text
        self.key = text
        self.type = sqltypes.to_instance(type_)
        self.is_literal = is_literal
        self.table: Any = _selectable
        self._proxied: ColumnElement | None = None

    @property
    def _proxy_name(self) -> str | None:
        return self.name

    def _bind_base_name(self) -> str:
        return self.key or "param"

    def _result_stand_in(self) -> Hashable | None:
        table = self.table
        if table is not None and table._stable_identity:
            return None
        return super()._result_stand_in()

    _memo_keys: ClassVar[tuple[str, ...]] = ("_ck_memo", "_ck_token")
    _ck_token: object = None
    """This column in a cache key when its table has a fixed identity (see :meth:`_ck_self`)."""

    def _ck_self(self) -> Hashable:
        """A token standing for this column in cache keys, equal only to itself: comparing
        keys then never calls the column's ``==``, which builds SQL.  A copy gets its own."""
        token = self._ck_token = object()
        return token

    def _ck(self, ctx: KeyContext) -> Hashable:
        table = self.table
        if table is None:
            return ("CC", self.name, self.is_literal, self.type._ck)
        if table._stable_identity:
            return self._ck_token or self._ck_self()
        return ("PC", table._ck_ref(ctx), self.key)

    @property
    def _from_objects(self) -> list[FromClause]:
        return [self.table] if self.table is not None else []

    def _make_proxy(self, selectable: Any, name: str | None = None) -> ColumnClause:
        proxy = ColumnClause(name or self.name, self.type, _selectable=selectable)
        proxy.key = name or self.key or self.name
        proxy._proxied = self
        proxy.primary_key = self.primary_key
        return proxy

    def __repr__(self) -> str:
        table = getattr(self.table, "name", None)
        return f"<Column {table + '.' if table else ''}{self.name}>"


@overload
def column(text: str, type_: sqltypes.TypeArg[T]) -> ColumnClause[T]: ...
@overload
def column(text: str, type_: None = None) -> ColumnClause[Any]: ...
def column(text: str, type_: Any = None) -> ColumnClause[Any]:
    """A lightweight column named ``text``, not tied to any table."""
    return ColumnClause(text, type_)


def literal_column(text: str, type_: Any = None) -> ColumnClause:
    """A column whose SQL is ``text`` as given (not quoted)."""
    return ColumnClause(text, type_, is_literal=True)


_NO_VALUE: Any = object()


class BindParameter(ColumnElement[T_co]):
    """A value sent to the database as a parameter (``:name`` / ``?`` / ``%s`` / ``$1``).

    ``unique=True`` (what expressions create) means the final name is chosen by the compiler,
    derived from ``key``; otherwise ``key`` is the parameter name users supply values for.
    """

    __visit_name__ = "bindparam"
    isoutparam: bool = False
    """An OUT parameter of a stored procedure call (see :func:`outparam`)."""
    _tuple_types: tuple[sqltypes.TypeEngine, ...] | None = None

    def __init__(
        self,
        key: str | None,
        value: Any = _NO_VALUE,
        type_: Any = None,
        *,
        unique: bool = False,
        required: bool | None = None,
        callable_: Callable[[], Any] | None = None,
        expanding: bool = False,
        literal_execute: bool = False,
        quote: bool | None = None,
        isoutparam: bool = False,
    ) -> None:
        if required is None:
            required = value is _NO_VALUE and callable_ is None
        self.key: str = key or "param"
        self.unique = unique or key is None
        self.value = None if value is _NO_VALUE else value
        self.callable = callable_
        self.required = required
        self.expanding = expanding
        self.literal_execute = literal_execute
        if isoutparam:
            self.isoutparam = True
        if type_ is None:
            if expanding and isinstance(self.value, list | tuple) and self.value:
                self.type = sqltypes.type_for_value(self.value[0])
            else:
                self.type = sqltypes.type_for_value(self.value)
        else:
            self.type = sqltypes.to_instance(type_)

    @property
    def effective_value(self) -> Any:
        """The value to send: the callable's result when one was given."""
        if self.callable is not None:
            return self.callable()
        return self.value

    def _with_expanding(self) -> BindParameter:
        new = self._generate()
        new.expanding = True
        return new

    def _typed_as(self, type_: sqltypes.TypeEngine) -> BindParameter:
        """A copy typed ``type_`` when this parameter has no type of its own, else itself: an
        untyped ``bindparam()`` compared with or assigned to a typed expression binds its
        values as that expression's type (the given object is left as it is)."""
        if not self.type._isnull or type_._isnull:
            return self
        new = self._generate()
        new.type = type_
        return new

    def _with_value(self, value: Any) -> BindParameter:
        new = self._generate()
        new.value = value
        new.required = False
        return new

    def _ck(self, ctx: KeyContext) -> Hashable:
        ctx.binds.append(self)
        flags = (
            self.unique
            | self.expanding << 1
            | self.literal_execute << 2
            | (self.callable is not None) << 3
            | self.required << 4
        )
        return ("B", self.key, self.type._ck, flags)

    def __repr__(self) -> str:
        return f"BindParameter({self.key!r}, {self.value!r}, type_={self.type!r})"


def bindparam(
    key: str | None,
    value: Any = _NO_VALUE,
    type_: Any = None,
    unique: bool = False,
    required: bool | None = None,
    callable_: Callable[[], Any] | None = None,
    expanding: bool = False,
    literal_execute: bool = False,
) -> BindParameter:
    """A named bound parameter; its value comes from ``value`` or the execute() parameters."""
    return BindParameter(
        key,
        value,
        type_,
        unique=unique,
        required=required,
        callable_=callable_,
        expanding=expanding,
        literal_execute=literal_execute,
    )


@overload
def literal(
    value: Any, type_: sqltypes.TypeArg[T], literal_execute: bool = False
) -> BindParameter[T]: ...
@overload
def literal(value: T, type_: None = None, literal_execute: bool = False) -> BindParameter[T]: ...
def literal(value: Any, type_: Any = None, literal_execute: bool = False) -> BindParameter[Any]:
    """A Python value as a bound parameter usable in expressions."""
    return BindParameter(None, value, type_, unique=True, literal_execute=literal_execute)


class _Constant(ColumnElement):
    """NULL, TRUE, FALSE."""

    _ck_name: ClassVar[str] = ""

    def _ck(self, ctx: KeyContext) -> Hashable:
        return self._ck_name


class Null(_Constant):
    """SQL ``NULL``."""

    __visit_name__ = "null"
    _ck_name = "NULL"


class True_(_Constant):  # noqa: N801 - SQL/SQLAlchemy name
    """SQL ``true`` (``1`` where booleans are not native)."""

    __visit_name__ = "true"
    _ck_name = "TRUE"
    type = sqltypes.BOOLEANTYPE


class False_(_Constant):  # noqa: N801 - SQL/SQLAlchemy name
    """SQL ``false`` (``0`` where booleans are not native)."""

    __visit_name__ = "false"
    _ck_name = "FALSE"
    type = sqltypes.BOOLEANTYPE


def null() -> Null:
    """SQL ``NULL``."""
    return Null()


def true() -> True_:
    """SQL ``true``."""
    return True_()


def false() -> False_:
    """SQL ``false``."""
    return False_()


class CollationClause(ColumnElement):
    """The collation name after ``COLLATE``."""

    __visit_name__ = "collation"

    def __init__(self, collation: str) -> None:
        self.collation = collation

    _cache_attrs: ClassVar[CacheAttrs] = (("collation", "plain"),)


class BinaryExpression(ColumnElement):
    """``left <operator> right``."""

    __visit_name__ = "binary"

    def __init__(
        self,
        left: ColumnElement,
        right: ColumnElement,
        operator: Operator,
        type_: sqltypes.TypeEngine | None = None,
        *,
        modifiers: tuple[Any, ...] = (),
    ) -> None:
        self.left = left
        self.right = right
        self.operator = operator
        self.type = type_ or sqltypes.BOOLEANTYPE
        self.modifiers = modifiers

    @property
    def _precedence(self) -> int:  # type: ignore[override]
        return self.operator.precedence

    _cache_attrs: ClassVar[CacheAttrs] = (
        ("operator", "operator"),
        ("left", "element"),
        ("right", "element"),
        ("modifiers", "plain"),
        ("type", "type"),
    )

    @property
    def _from_objects(self) -> list[FromClause]:
        return self.left._from_objects + self.right._from_objects

    def __bool__(self) -> bool:
        # ``col_a == col_b`` in a boolean context (dict lookups, ``in``) compares identity.
        if self.operator is operators.eq:
            return self.left is self.right
        if self.operator is operators.ne:
            return self.left is not self.right
        raise TypeError("Boolean value of this clause is not defined")

    def self_group(self, against: Operator | None = None) -> ColumnElement:
        if against is not None and (
            self.operator.precedence < against.precedence
            or (
                self.operator.precedence == against.precedence
                and against not in _ASSOCIATIVE
                # ``arr[i][j]`` indexes a multi-dimensional array; ``(arr[i])[j]`` would
                # index the element ``arr[i]``.
                and not (against is operators.getitem and self.operator is against)
            )
        ):
            return Grouping(self)
        return self


class JSONIndex(BinaryExpression):
    """``json_column[key]``: an element of a JSON document (``->`` / ``JSON_EXTRACT``).

    The result is JSON; :meth:`as_string`, :meth:`as_integer`, :meth:`as_float`,
    :meth:`as_numeric` and :meth:`as_boolean` give the element as a plain SQL value instead.
    """

    def __init__(
        self,
        left: ColumnElement,
        right: ColumnElement,
        json_type: sqltypes.TypeEngine,
        as_type: sqltypes.TypeEngine | None = None,
    ) -> None:
        super().__init__(left, right, operators.json_getitem_op, as_type or json_type)
        self.json_type = json_type
        self.as_type = as_type

    _cache_attrs: ClassVar[CacheAttrs] = (
        ("left", "element"),
        ("right", "element"),
        ("json_type", "type"),
        ("as_type", "optional_type"),
    )

    def _as(self, type_: sqltypes.TypeEngine) -> JSONIndex:
        return JSONIndex(self.left, self.right, self.json_type, type_)

    def as_string(self) -> JSONIndex:
        """The element as text (``->>``)."""
        return self._as(sqltypes.STRINGTYPE)

    @property
    def astext(self) -> JSONIndex:
        """The element as text: PostgreSQL's name for :meth:`as_string` (``->>``, ``#>>``)."""
        return self.as_string()

    def as_integer(self) -> JSONIndex:
        """The element as an integer."""
        return self._as(sqltypes.INTEGERTYPE)

    def as_float(self) -> JSONIndex:
        """The element as a float."""
        return self._as(sqltypes.Float())

    def as_boolean(self) -> JSONIndex:
        """The element as a boolean."""
        return self._as(sqltypes.Boolean())

    def as_numeric(self, precision: int, scale: int, asdecimal: bool = True) -> JSONIndex:
        """The element as a ``NUMERIC(precision, scale)`` (a Decimal unless ``asdecimal``
        is false)."""
        return self._as(sqltypes.Numeric(precision, scale, asdecimal=asdecimal))

    def as_json(self) -> JSONIndex:
        """The element as JSON (the default)."""
        return JSONIndex(self.left, self.right, self.json_type)


_JSON_CONTAINMENT = frozenset({operators.contains_op, operators.contained_by_op})
"""The containment operators a JSONB document has (``@>``, ``<@``)."""

_ASSOCIATIVE = frozenset(
    {operators.add, operators.mul, operators.and_, operators.or_, operators.concat_op}
)


class UnaryExpression(ColumnElement):
    """A prefix operator (``NOT x``, ``-x``, ``DISTINCT x``) or postfix modifier (``x DESC``)."""

    __visit_name__ = "unary"

    def __init__(
        self,
        element: ColumnElement,
        *,
        operator: Operator | None = None,
        modifier: Operator | None = None,
        type_: sqltypes.TypeEngine | None = None,
    ) -> None:
        self.element = element
        self.operator = operator
        self.modifier = modifier
        self.type = type_ or element.type

    @property
    def _precedence(self) -> int:  # type: ignore[override]
        return (self.operator or self.modifier or operators.inv).precedence

    @property
    def _proxy_name(self) -> str | None:
        # -t.c.x is still "x", -func.count() anonymous
        element = self.element
        return None if element._generated_label else element._proxy_name

    _cache_attrs: ClassVar[CacheAttrs] = (
        ("operator", "optional_operator"),
        ("modifier", "optional_operator"),
        ("element", "element"),
        ("type", "type"),
    )

    @property
    def _from_objects(self) -> list[FromClause]:
        return self.element._from_objects


class CollectionAggregate(UnaryExpression):
    """``ANY (expr)`` / ``ALL (expr)`` over an array or a subquery; compared with a value it
    goes on the right: ``5 == any_(col)`` renders ``:param = ANY (col)``."""

    __visit_name__ = "collection_aggregate"

    def __init__(self, element: Any, operator: Operator) -> None:
        element = coerce_column(element)
        from athanor.sql.selectable import ScalarSelect

        inner = element.element if isinstance(element, ScalarSelect) else None
        super().__init__(
            Grouping(inner) if inner is not None else element.self_group(operator),
            operator=operator,
            type_=getattr(element.type, "item_type", element.type),
        )

    def operate(self, op: Operator, *other: Any, **kwargs: Any) -> ColumnElement:
        mirrored = operators.MIRRORED.get(op)
        if mirrored is None or len(other) != 1:
            return super().operate(op, *other, **kwargs)
        value = coerce_bind(other[0], self, mirrored)
        return BinaryExpression(value.self_group(mirrored), self, mirrored, sqltypes.BOOLEANTYPE)

    def __eq__(self, other: Any) -> ColumnElement:  # type: ignore[override]
        return self.operate(operators.eq, other)

    __hash__ = UnaryExpression.__hash__


def any_(expr: Any) -> CollectionAggregate:
    """``ANY (expr)``: compare a value with any element of an array or any row of a subquery."""
    return CollectionAggregate(expr, operators.any_op)


def all_(expr: Any) -> CollectionAggregate:
    """``ALL (expr)``: compare a value with every element of an array or row of a subquery."""
    return CollectionAggregate(expr, operators.all_op)


def _order_target(column: Any) -> ColumnElement:
    if isinstance(column, str):
        return ColumnClause(column)
    return coerce_column(column)


def asc(column: Any) -> ColumnElement:
    """``column ASC``."""
    return _order_target(column).asc()


def desc(column: Any) -> ColumnElement:
    """``column DESC``."""
    return _order_target(column).desc()


def nulls_first(column: Any) -> ColumnElement:
    """``column NULLS FIRST``."""
    return _order_target(column).nulls_first()


def nulls_last(column: Any) -> ColumnElement:
    """``column NULLS LAST``."""
    return _order_target(column).nulls_last()


nullsfirst = nulls_first
nullslast = nulls_last


def distinct(expr: Any) -> ColumnElement:
    """``DISTINCT expr``."""
    return coerce_column(coerce_operand(expr)).distinct()


def collate(expression: Any, collation: str) -> ColumnElement:
    """``expression COLLATE collation``."""
    return coerce_column(coerce_operand(expression)).collate(collation)


def between(expr: Any, lower: Any, upper: Any, symmetric: bool = False) -> ColumnElement:
    """``expr BETWEEN lower AND upper``."""
    return coerce_column(coerce_operand(expr)).between(lower, upper, symmetric)


class Grouping(ColumnElement):
    """Parentheses around an expression."""

    __visit_name__ = "grouping"

    def __init__(self, element: ClauseElement) -> None:
        self.element = element
        self.type = getattr(element, "type", sqltypes.NULLTYPE)

    _cache_attrs: ClassVar[CacheAttrs] = (("element", "element"),)

    @property
    def _proxy_name(self) -> str | None:
        inner = self.element
        return inner._proxy_name if isinstance(inner, ColumnElement) else None

    @property
    def _generated_label(self) -> bool:
        inner = self.element
        return isinstance(inner, ColumnElement) and inner._generated_label

    @property
    def _from_objects(self) -> list[FromClause]:
        return self.element._from_objects


class ClauseList(ColumnElement):
    """Expressions joined by an operator (a comma by default)."""

    __visit_name__ = "clauselist"

    def __init__(self, *clauses: Any, operator: Operator = operators.comma_op) -> None:
        self.operator = operator
        self.clauses: tuple[ColumnElement, ...] = tuple(
            c if isinstance(c, ColumnElement) else coerce_bind(c, None) for c in clauses
        )

    _cache_attrs: ClassVar[CacheAttrs] = (("operator", "operator"), ("clauses", "elements"))

    @property
    def _from_objects(self) -> list[FromClause]:
        return [f for c in self.clauses for f in c._from_objects]

    def __iter__(self) -> Iterator[ColumnElement]:
        return iter(self.clauses)

    def __len__(self) -> int:
        return len(self.clauses)


class BooleanClauseList(ColumnElement):
    """Criteria joined by AND or OR."""

    __visit_name__ = "boolean_clauselist"
    type = sqltypes.BOOLEANTYPE

    def __init__(self, operator: Operator, clauses: tuple[ColumnElement, ...]) -> None:
        self.operator = operator
        self.clauses = clauses

    @classmethod
    def _construct(cls, operator: Operator, clauses: Iterable[Any]) -> ColumnElement:
        flat: list[ColumnElement] = []
        for clause in clauses:
            element = coerce_where(clause)
            if isinstance(element, BooleanClauseList) and element.operator is operator:
                flat.extend(element.clauses)
            else:
                flat.append(element)
        if not flat:
            return True_() if operator is operators.and_ else False_()
        if len(flat) == 1:
            return flat[0]
        return cls(operator, tuple(c.self_group(operator) for c in flat))

    @property
    def _precedence(self) -> int:  # type: ignore[override]
        return self.operator.precedence

    def self_group(self, against: Operator | None = None) -> ColumnElement:
        if against is not None and self.operator.precedence < against.precedence:
            return Grouping(self)
        return self

    _cache_attrs: ClassVar[CacheAttrs] = (("operator", "operator"), ("clauses", "elements"))

    @property
    def _from_objects(self) -> list[FromClause]:
        return [f for c in self.clauses for f in c._from_objects]


def and_(*clauses: Any) -> ColumnElement:
    """``a AND b AND ...``."""
    return BooleanClauseList._construct(operators.and_, clauses)


def or_(*clauses: Any) -> ColumnElement:
    """``a OR b OR ...``."""
    return BooleanClauseList._construct(operators.or_, clauses)


def not_(clause: Any) -> ColumnElement:
    """``NOT clause`` (or the negated operator, ``!=`` for ``=``)."""
    return _negate(coerce_where(clause))


class Tuple(ClauseList):
    """``(a, b, ...)`` as one value (``tuple_(a, b).in_([(1, 2), (3, 4)])``)."""

    __visit_name__ = "tuple"

    def __init__(self, *clauses: Any) -> None:
        super().__init__(*clauses)
        self.type = sqltypes.NULLTYPE

    _cache_attrs: ClassVar[CacheAttrs] = (("clauses", "elements"),)


def tuple_(*clauses: Any, types: Sequence[Any] | None = None) -> Tuple:
    """A SQL tuple of expressions; ``types`` types its plain-value members."""
    members: list[Any] = []
    for i, clause in enumerate(clauses):
        if not _is_literal_value(clause):
            members.append(coerce_column(coerce_operand(clause)))
        elif types is not None and i < len(types):
            members.append(literal(clause, types[i]))
        else:
            members.append(clause)
    return Tuple(*members)


class Label(ColumnElement[T_co]):
    """``element AS name`` in a column list; just ``name`` where a reference is enough."""

    __visit_name__ = "label"

    def __init__(self, name: str | None, element: Any, type_: Any = None) -> None:
        self.element = coerce_column(element)
        self.name = name
        self.key = name
        self.type = sqltypes.to_instance(type_) if type_ is not None else self.element.type

    @property
    def _proxy_name(self) -> str | None:
        return self.name

    _cache_attrs: ClassVar[CacheAttrs] = (
        ("name", "plain"),
        ("element", "element"),
        ("type", "type"),
    )

    @property
    def _from_objects(self) -> list[FromClause]:
        return self.element._from_objects


@overload
def label(name: str, element: ColumnElement[T], type_: None = None) -> Label[T]: ...
@overload
def label(name: str, element: Any, type_: Any = None) -> Label[Any]: ...
def label(name: str, element: Any, type_: Any = None) -> Label[Any]:
    """``element AS name``."""
    return Label(name, element, type_)


class Extract(ColumnElement):
    """``EXTRACT(field FROM expr)``: a part (year, month, day, hour ...) of a date/time value."""

    __visit_name__ = "extract"
    type = sqltypes.INTEGERTYPE

    def __init__(self, field: str, expr: Any) -> None:
        self.field = field.lower()
        if not self.field.isidentifier():
            raise exc.ArgumentError(f"extract() needs a field name such as 'year', got {field!r}")
        self.expr = coerce_column(expr)

    _cache_attrs: ClassVar[CacheAttrs] = (("field", "plain"), ("expr", "element"))

    @property
    def _from_objects(self) -> list[FromClause]:
        return self.expr._from_objects


def extract(field: str, expr: Any) -> Extract:
    """``EXTRACT(field FROM expr)``."""
    return Extract(field, expr)


class _TypedWrapper(ColumnElement[T_co]):
    """An expression seen through another type (CAST or type_coerce): the name and FROM
    objects are those of the wrapped clause."""

    clause: ColumnElement

    @property
    def _proxy_name(self) -> str | None:
        return self.clause._proxy_name

    @property
    def _generated_label(self) -> bool:
        return self.clause._generated_label

    @property
    def _from_objects(self) -> list[FromClause]:
        return self.clause._from_objects


class Cast(_TypedWrapper[T_co]):
    """``CAST(expression AS type)``."""

    __visit_name__ = "cast"

    def __init__(self, expression: Any, type_: Any) -> None:
        self.type = sqltypes.to_instance(type_)
        self.clause = (
            coerce_bind(expression, None)
            if _is_literal_value(expression)
            else coerce_column(coerce_operand(expression))
        )
        if isinstance(self.clause, BindParameter) and self.clause.type is sqltypes.NULLTYPE:
            self.clause.type = self.type

    _cache_attrs: ClassVar[CacheAttrs] = (("type", "type"), ("clause", "element"))


def cast(expression: Any, type_: sqltypes.TypeArg[T]) -> Cast[T]:
    """``CAST(expression AS type)``."""
    return Cast(expression, type_)


class TryCast(Cast[T_co]):
    """``TRY_CAST(expression AS type)``: NULL instead of an error for a value that does not
    convert (SQL Server; other databases raise CompileError)."""

    __visit_name__ = "try_cast"


def try_cast(expression: Any, type_: sqltypes.TypeArg[T]) -> TryCast[T]:
    """``TRY_CAST(expression AS type)`` (SQL Server's; see :class:`TryCast`)."""
    return TryCast(expression, type_)


class quoted_name(str):  # noqa: N801 - SQLAlchemy's name
    """A name whose quoting is decided: ``quote=True`` always quotes it (keeping its case),
    ``False`` never does, None quotes it as usual."""

    quote: bool | None

    def __new__(cls, value: str, quote: bool | None = None) -> quoted_name:
        if isinstance(value, quoted_name) and quote is None:
            return value
        self = super().__new__(cls, value)
        self.quote = quote
        return self

    def __reduce__(self) -> Any:
        return quoted_name, (str(self), self.quote)


def outparam(key: str, type_: Any = None) -> BindParameter:
    """An OUT parameter of a stored procedure call, named ``key``."""
    return BindParameter(key, None, type_, isoutparam=True)


def bitwise_not(expression: Any) -> ColumnElement:
    """``~expression``."""
    return coerce_column(coerce_operand(expression)).bitwise_not()


class TypeCoerce(_TypedWrapper[T_co]):
    """``expression`` treated as ``type_`` in Python only; the SQL is unchanged."""

    __visit_name__ = "type_coerce"

    def __init__(self, expression: Any, type_: Any) -> None:
        self.type = sqltypes.to_instance(type_)
        if _is_literal_value(expression):
            self.clause: ColumnElement = BindParameter(None, expression, self.type, unique=True)
        else:
            self.clause = coerce_column(coerce_operand(expression))
            if isinstance(self.clause, BindParameter):
                # type_coerce(bindparam(...), JSON): the value goes in as the new type too.
                bind = self.clause._generate()
                bind.type = self.type
                self.clause = bind

    _cache_attrs: ClassVar[CacheAttrs] = (("type", "type"), ("clause", "element"))


def type_coerce(expression: Any, type_: sqltypes.TypeArg[T]) -> TypeCoerce[T]:
    """Treat ``expression`` as ``type_`` for Python-side conversion without a SQL CAST."""
    return TypeCoerce(expression, type_)


class Case(ColumnElement):
    """``CASE WHEN ... THEN ... ELSE ... END``."""

    __visit_name__ = "case"

    def __init__(self, *whens: Any, value: Any = None, else_: Any = None) -> None:
        pairs: list[tuple[Any, Any]]
        if len(whens) == 1 and isinstance(whens[0], Mapping):
            pairs = list(whens[0].items())
        else:
            pairs = [tuple(w) for w in whens]
        if not pairs:
            raise exc.ArgumentError("case() needs at least one WHEN (condition, result) pair")
        self.value = coerce_bind(value, None) if value is not None else None
        self.whens: list[tuple[ColumnElement, ColumnElement]] = []
        for condition, result in pairs:
            cond = (
                coerce_bind(condition, self.value)
                if self.value is not None
                else coerce_where(condition)
            )
            self.whens.append((cond, coerce_bind(result, None)))
        self.else_ = coerce_bind(else_, None) if else_ is not None else None
        result_types = [r.type for _, r in self.whens if r.type is not sqltypes.NULLTYPE]
        self.type = result_types[0] if result_types else sqltypes.NULLTYPE

    _cache_attrs: ClassVar[CacheAttrs] = (
        ("value", "element"),
        ("whens", _pairs_key),
        ("else_", "element"),
        ("type", "type"),
    )

    @property
    def _from_objects(self) -> list[FromClause]:
        found: list[FromClause] = []
        for cond, result in self.whens:
            found += cond._from_objects + result._from_objects
        return found


def case(*whens: Any, value: Any = None, else_: Any = None) -> Case:
    """A CASE expression from ``(condition, result)`` pairs, or a dict with ``value=``."""
    return Case(*whens, value=value, else_=else_)


class Over(ColumnElement):
    """A window function: ``fn OVER (PARTITION BY ... ORDER BY ... ROWS ...)``."""

    __visit_name__ = "over"

    def __init__(
        self,
        element: ColumnElement,
        partition_by: Any = None,
        order_by: Any = None,
        rows: tuple[int | None, int | None] | None = None,
        range_: tuple[int | None, int | None] | None = None,
        groups: tuple[int | None, int | None] | None = None,
    ) -> None:
        given = (("rows", rows), ("range_", range_), ("groups", groups))
        frames = [name for name, frame in given if frame is not None]
        if len(frames) > 1:
            raise exc.ArgumentError(
                f"over() takes one window frame; got {' and '.join(frames)}, give only one"
            )
        self.element = element
        self.type = element.type
        self.partition_by = _column_list(partition_by)
        self.order_by = _column_list(order_by)
        self.rows = rows
        self.range_ = range_
        self.groups = groups

    _cache_attrs: ClassVar[CacheAttrs] = (
        ("element", "element"),
        ("partition_by", "elements"),
        ("order_by", "elements"),
        ("rows", "plain"),
        ("range_", "plain"),
        ("groups", "plain"),
    )

    @property
    def _from_objects(self) -> list[FromClause]:
        # row_number() reads no table: the window's PARTITION BY / ORDER BY name them.
        found = list(self.element._from_objects)
        for col in (*self.partition_by, *self.order_by):
            found += col._from_objects
        return found


def over(
    element: ColumnElement,
    partition_by: Any = None,
    order_by: Any = None,
    rows: Any = None,
    range_: Any = None,
    groups: Any = None,
) -> Over:
    """``element OVER (...)`` (see :meth:`ColumnElement.over`)."""
    return Over(element, partition_by, order_by, rows, range_, groups)


def _column_list(value: Any) -> tuple[ColumnElement, ...]:
    if value is None:
        return ()
    if isinstance(value, list | tuple):
        return tuple(coerce_column(v) for v in value)
    return (coerce_column(value),)


# --------------------------------------------------------------------------------------
# text()

_BIND_RE = re.compile(r"(?<![:\w\\]):(\w+)(?!:)")


class _IdentifiedClause(Executable):
    """A transaction statement about one named savepoint; ``begin_nested()`` and its
    transaction run these, and event listeners see them as the statements they are."""

    _keyword: ClassVar[str]
    __visit_name__ = "identified_clause"

    def __init__(self, ident: str) -> None:
        self.ident = ident

    def _render(self, preparer: Any) -> str:
        """The statement's SQL, the savepoint's name quoted by ``preparer`` if it must be."""
        ident = self.ident
        if preparer.requires_quotes(ident):
            ident = preparer.quote_identifier(ident)
        return f"{self._keyword} {ident}"


class SavepointClause(_IdentifiedClause):
    """``SAVEPOINT name``."""

    _keyword = "SAVEPOINT"


class RollbackToSavepointClause(_IdentifiedClause):
    """``ROLLBACK TO SAVEPOINT name``."""

    _keyword = "ROLLBACK TO SAVEPOINT"


class ReleaseSavepointClause(_IdentifiedClause):
    """``RELEASE SAVEPOINT name``."""

    _keyword = "RELEASE SAVEPOINT"


class TextClause(Executable):
    """Literal SQL text with ``:name`` bound parameters (``\\:`` for a literal colon)."""

    __visit_name__ = "textclause"
    is_select = False

    def __init__(self, text: str) -> None:
        self.text = text
        self._bindparams: dict[str, BindParameter] = {
            name: BindParameter(name, required=True) for name in _BIND_RE.findall(text)
        }

    def bindparams(self, *binds: BindParameter, **values: Any) -> TextClause:
        """Give values or types to the text's parameters."""
        new = self._generate()
        params = dict(self._bindparams)
        for bind in binds:
            if bind.key not in params:
                raise exc.ArgumentError(f"This text() has no bind parameter named {bind.key!r}")
            params[bind.key] = bind
        for name, value in values.items():
            if name not in params:
                raise exc.ArgumentError(f"This text() has no bind parameter named {name!r}")
            params[name] = params[name]._with_value(value)
        new._bindparams = params
        return new

    def columns(self, *cols: Any, **types: Any) -> TextualSelect:
        """Declare the result columns of this text (names, types) so rows convert values."""
        columns: list[ColumnElement] = [
            ColumnClause(c) if isinstance(c, str) else coerce_column(c) for c in cols
        ]
        columns.extend(ColumnClause(name, type_) for name, type_ in types.items())
        return TextualSelect(self, columns)

    def self_group(self, against: Operator | None = None) -> ClauseElement:
        return self

    _cache_attrs: ClassVar[CacheAttrs] = (("text", "plain"), ("_bindparams", "element_map"))

    def __and__(self, other: Any) -> ColumnElement:
        return and_(self, other)

    def __or__(self, other: Any) -> ColumnElement:
        return or_(self, other)

    def __repr__(self) -> str:
        return f"text({self.text!r})"


def text(text: str) -> TextClause:
    """A SQL string with ``:name`` parameters; values are always bound, never interpolated."""
    return TextClause(text)


class TextCriterion(ColumnElement):
    """A :class:`TextClause` used as an expression (a WHERE criterion, an ORDER BY term)."""

    __visit_name__ = "text_criterion"
    type: sqltypes.TypeEngine = sqltypes.BOOLEANTYPE
    _precedence = 0

    def __init__(self, clause: TextClause) -> None:
        self.clause = clause

    _cache_attrs: ClassVar[CacheAttrs] = (("clause", "element"),)

    def self_group(self, against: Operator | None = None) -> ColumnElement:
        return Grouping(self) if against is not None else self


class TextColumn(TextCriterion):
    """A :class:`TextClause` given as a ``select()`` column: its SQL as written, read as a
    value of no particular type."""

    type = sqltypes.NULLTYPE


class TextualSelect(Executable):
    """``text(...).columns(...)``: literal SQL whose result columns are known."""

    __visit_name__ = "textual_select"
    is_select = True
    is_selectable = True

    def __init__(self, text: TextClause, columns: list[ColumnElement]) -> None:
        self.element = text
        self.column_args = columns

    @property
    def selected_columns(self) -> Any:
        from athanor.sql.selectable import ColumnCollection

        return ColumnCollection((c.key or str(i), c) for i, c in enumerate(self.column_args))

    _cache_attrs: ClassVar[CacheAttrs] = (("element", "element"), ("column_args", "elements"))

    def subquery(self, name: str | None = None) -> Any:
        """This text as a named subquery in FROM."""
        from athanor.sql.selectable import Subquery

        return Subquery(self, name)

    alias = subquery

    def cte(self, name: str | None = None, recursive: bool = False) -> Any:
        """This text as a common table expression."""
        from athanor.sql.selectable import CTE

        return CTE(self, name, recursive=recursive)

    def bindparams(self, *binds: BindParameter, **values: Any) -> TextualSelect:
        """Give values or types to the text's parameters."""
        return TextualSelect(self.element.bindparams(*binds, **values), self.column_args)
