"""SQL functions: ``func.count()``, ``func.lower(x)``, ``func.now()``, ``func.anything(...)``.

``func.<name>`` builds a call of any SQL function; well-known names get their return type
(``count`` -> Integer, ``now`` -> DateTime, ``lower`` -> String, ``sum`` -> the argument's
type) so results convert correctly.
"""

from __future__ import annotations

from typing import Any, ClassVar

from athanor.sql import types as sqltypes
from athanor.sql.elements import (
    CacheAttrs,
    ClauseList,
    ColumnElement,
    coerce_bind,
    coerce_where,
    literal_column,
)
from athanor.sql.operators import Operator


class FunctionElement(ColumnElement):
    """A call of a SQL function over ``clauses``: ``name(arg, ...)``.

    Subclasses name the function with a ``name`` class attribute and may give a ``type``
    class attribute; one rendered some other way registers a rule with ``@compiles``
    (:mod:`athanor.ext.compiler`) and reads its arguments from :attr:`clauses`.
    """

    __visit_name__ = "function"
    name: str = ""
    packagenames: tuple[str, ...] = ()

    def __init__(self, *clauses: Any) -> None:
        self.clause_expr = ClauseList(*[coerce_bind(a, None) for a in clauses])

    def _default_type(self) -> sqltypes.TypeEngine:
        rule = _RETURN_TYPES.get(self.name.lower())
        if rule is None:
            return sqltypes.NULLTYPE
        clauses = self.clause_expr.clauses
        if rule == "first_arg":
            return clauses[0].type if clauses else sqltypes.NULLTYPE
        if rule == "array_of_first_arg":
            return sqltypes.ARRAY(clauses[0].type) if clauses else sqltypes.NULLTYPE
        result: sqltypes.TypeEngine = rule
        return result

    @property
    def clauses(self) -> ClauseList:
        return self.clause_expr

    @property
    def _proxy_name(self) -> str | None:
        return self.name or None

    @property
    def _generated_label(self) -> bool:
        return bool(self.name)

    _cache_attrs: ClassVar[CacheAttrs] = (
        ("name", "plain"),
        ("packagenames", "plain"),
        ("clause_expr", "element"),
        ("type", "type"),
    )

    @property
    def _from_objects(self) -> list[Any]:
        return self.clause_expr._from_objects

    def filter(self, *criteria: Any) -> FunctionFilter:
        """``fn(...) FILTER (WHERE criteria)``."""
        return FunctionFilter(self, *criteria)

    def within_group(self, *order_by: Any) -> ColumnElement:
        """``fn(...) WITHIN GROUP (ORDER BY ...)``."""
        return WithinGroup(self, *order_by)

    def table_valued(
        self, *names: Any, name: str | None = None, with_ordinality: str | None = None
    ) -> Any:
        """This function as a FROM object with columns ``names`` (strings or ``column()``
        objects with types): ``SELECT anon_1.value FROM json_each(...) AS anon_1``.

        ``with_ordinality="n"`` adds ``WITH ORDINALITY`` and a column ``n`` (PostgreSQL).
        """
        from athanor.sql.elements import ColumnClause
        from athanor.sql.selectable import TableValuedAlias

        columns = [n if isinstance(n, ColumnClause) else ColumnClause(str(n)) for n in names]
        return TableValuedAlias(self, columns, name, with_ordinality)

    def column_valued(self, name: str | None = None) -> ColumnElement:
        """This set-returning function as one column: ``SELECT anon_1 FROM
        generate_series(1, 3) AS anon_1`` (PostgreSQL)."""
        from athanor.sql.selectable import TableValuedAlias

        column: ColumnElement = TableValuedAlias(self, [], name).column
        return column

    def scalar_table_valued(self, name: str, type_: Any = None) -> ColumnElement:
        """The column ``name`` of the row this function returns, ``(fn(...)).name``
        (PostgreSQL), selected without the function in FROM."""
        return ScalarFunctionColumn(self, name, type_)

    def alias(self, name: str | None = None) -> Any:
        """This function in FROM under ``name`` (``unnest(t.data) AS data_view``); its
        ``.column`` selects the value of a function returning scalars."""
        return self.table_valued(name=name)

    def select(self) -> Any:
        """``SELECT fn(...)``."""
        from athanor.sql.selectable import Select

        return Select(self)

    def self_group(self, against: Operator | None = None) -> ColumnElement:
        return self


class Function(FunctionElement):
    """A call of the SQL function ``name`` (what ``func.<name>(...)`` builds); its return
    type is ``type_``, or the known one of a well-known function."""

    def __init__(
        self, name: str, *clauses: Any, type_: Any = None, packagenames: tuple[str, ...] = ()
    ) -> None:
        self.name = name
        self.packagenames = packagenames
        super().__init__(*clauses)
        self.type = sqltypes.to_instance(type_) if type_ is not None else self._default_type()


class GenericFunction(Function):
    """A function declared as a class, which ``func.<name>(...)`` then builds:
    ``class as_utc(GenericFunction): type = DateTime()`` makes ``func.as_utc(x)`` typed.

    The function's name is the ``name`` class attribute, or the class name; ``identifier``
    (default: the name) is what follows ``func.``.
    """

    identifier: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "name" not in cls.__dict__:
            cls.name = cls.__name__
        if "identifier" not in cls.__dict__:
            cls.identifier = cls.name
        _CLASSES[cls.identifier.lower()] = cls

    def __init__(self, *clauses: Any, type_: Any = None) -> None:
        if type_ is None and type(self).type is not sqltypes.NULLTYPE:
            type_ = type(self).type
        super().__init__(type(self).name, *clauses, type_=type_)


class FunctionFilter(ColumnElement):
    """``aggregate FILTER (WHERE ...)``."""

    __visit_name__ = "funcfilter"

    def __init__(self, func: FunctionElement, *criteria: Any) -> None:
        self.func = func
        self.criterion = [coerce_where(c) for c in criteria]
        self.type = func.type

    _cache_attrs: ClassVar[CacheAttrs] = (("func", "element"), ("criterion", "elements"))

    @property
    def _from_objects(self) -> list[Any]:
        return [*self.func._from_objects, *(f for c in self.criterion for f in c._from_objects)]


class ScalarFunctionColumn(ColumnElement):
    """One column of a function returning a row: ``(fn(...)).name``."""

    __visit_name__ = "scalar_function_column"

    def __init__(self, func: FunctionElement, name: str, type_: Any = None) -> None:
        self.func = func
        self.name = name
        self.type = sqltypes.to_instance(type_)

    @property
    def _proxy_name(self) -> str | None:
        return self.name

    _cache_attrs: ClassVar[CacheAttrs] = (
        ("func", "element"),
        ("name", "plain"),
        ("type", "type"),
    )

    @property
    def _from_objects(self) -> list[Any]:
        return self.func._from_objects


class WithinGroup(ColumnElement):
    """``fn(...) WITHIN GROUP (ORDER BY ...)``."""

    __visit_name__ = "withingroup"

    def __init__(self, func: FunctionElement, *order_by: Any) -> None:
        from athanor.sql.elements import _column_list

        self.func = func
        self.order_by = _column_list(list(order_by))
        self.type = func.type
        if func.type._isnull and func.name.lower() in _ORDERED_SET_OF_ORDERING and self.order_by:
            self.type = self.order_by[0].type

    _cache_attrs: ClassVar[CacheAttrs] = (("func", "element"), ("order_by", "elements"))

    @property
    def _from_objects(self) -> list[Any]:
        return [*self.func._from_objects, *(f for c in self.order_by for f in c._from_objects)]


class Count(Function):
    """``count(expr)``; ``count()`` is ``count(*)``."""

    def __init__(self, expression: Any = None, **kw: Any) -> None:
        if expression is None:
            expression = literal_column("*")
        super().__init__("count", expression, type_=sqltypes.INTEGERTYPE)


_RETURN_TYPES: dict[str, Any] = {
    "count": sqltypes.INTEGERTYPE,
    "char_length": sqltypes.INTEGERTYPE,
    "length": sqltypes.INTEGERTYPE,
    "row_number": sqltypes.INTEGERTYPE,
    "rank": sqltypes.INTEGERTYPE,
    "dense_rank": sqltypes.INTEGERTYPE,
    "ntile": sqltypes.INTEGERTYPE,
    "percent_rank": sqltypes.Float(),
    "cume_dist": sqltypes.Float(),
    "random": sqltypes.Float(),
    "now": sqltypes.DateTime(),
    "current_timestamp": sqltypes.DateTime(),
    "localtimestamp": sqltypes.DateTime(),
    "localtime": sqltypes.DateTime(),
    "sysdate": sqltypes.DateTime(),
    "current_date": sqltypes.Date(),
    "current_time": sqltypes.Time(),
    "lower": sqltypes.STRINGTYPE,
    "upper": sqltypes.STRINGTYPE,
    "concat": sqltypes.STRINGTYPE,
    "trim": sqltypes.STRINGTYPE,
    "ltrim": sqltypes.STRINGTYPE,
    "rtrim": sqltypes.STRINGTYPE,
    "substr": sqltypes.STRINGTYPE,
    "substring": sqltypes.STRINGTYPE,
    "replace": sqltypes.STRINGTYPE,
    "current_user": sqltypes.STRINGTYPE,
    "session_user": sqltypes.STRINGTYPE,
    "user": sqltypes.STRINGTYPE,
    "group_concat": sqltypes.STRINGTYPE,
    "string_agg": sqltypes.STRINGTYPE,
    "aggregate_strings": sqltypes.STRINGTYPE,
    "array_agg": "array_of_first_arg",
    "sum": "first_arg",
    "min": "first_arg",
    "max": "first_arg",
    "coalesce": "first_arg",
    "abs": "first_arg",
    "nullif": "first_arg",
    "avg": sqltypes.Numeric(),
}

NO_PARENS = frozenset(
    {
        "current_timestamp",
        "current_date",
        "current_time",
        "localtime",
        "localtimestamp",
        "current_user",
        "session_user",
        "user",
    }
)
"""SQL-standard functions written without parentheses (``CURRENT_TIMESTAMP``)."""

_ORDERED_SET_OF_ORDERING = frozenset({"mode", "percentile_cont", "percentile_disc"})
"""Ordered-set aggregates whose result has the type of the ORDER BY expression."""

_CLASSES: dict[str, type[Function]] = {"count": Count}


class _FunctionGenerator:
    """``func.<name>(...)``; dotted names become package-qualified calls."""

    _names: ClassVar[tuple[str, ...]] = ()

    def __init__(self, names: tuple[str, ...] = ()) -> None:
        self.__names = names

    def __getattr__(self, name: str) -> _FunctionGenerator:
        if name.startswith("__"):
            raise AttributeError(name)
        if name.endswith("_"):
            name = name[:-1]
        return _FunctionGenerator((*self.__names, name))

    def __call__(self, *args: Any, **kwargs: Any) -> FunctionElement:
        if not self.__names:
            raise TypeError("func needs a function name: func.count(), func.lower(x), ...")
        *packages, name = self.__names
        if not packages:
            cls = _CLASSES.get(name.lower())
            if cls is not None:
                return cls(*args, **kwargs)
        return Function(name, *args, type_=kwargs.get("type_"), packagenames=tuple(packages))


func = _FunctionGenerator()
"""Builds SQL function calls: ``func.count(t.c.id)``, ``func.now()``, ``func.my_fn(x)``."""

modifier = _FunctionGenerator()
"""Builds SQL function calls like :data:`func` (SQLAlchemy's name for calls used as
modifiers)."""


def within_group(element: FunctionElement, *order_by: Any) -> ColumnElement:
    """``element WITHIN GROUP (ORDER BY ...)`` (ordered-set aggregates)."""
    return element.within_group(*order_by)


def funcfilter(func: FunctionElement, *criterion: Any) -> FunctionFilter:
    """``func FILTER (WHERE criterion)``."""
    return func.filter(*criterion)
