"""Column types: how Python values travel to and from each database.

A type object says what a column holds (``String(50)``, ``DateTime(timezone=True)``) and
how values convert.  Conversion is per dialect: :meth:`TypeEngine.dialect_impl` swaps in the
dialect's own subclass (from ``dialect.colspecs``) and the processors it returns are ``None``
wherever the driver already hands back the right Python type, so rows cost nothing extra.
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import functools
import inspect
import json
import pickle
import uuid
from collections.abc import Callable, Sequence
from typing import Any, ClassVar, Generic, TypeVar

from athanor import exc
from athanor.sql.dialect_names import dialect_names
from athanor.util.typevars import N, T

Processor = Callable[[Any], Any]
_TE = TypeVar("_TE", bound="TypeEngine[Any]")


class TypeEngine(Generic[T]):
    """Base class of every type."""

    python_type_: ClassVar[type | None] = None
    _is_string: ClassVar[bool] = False
    _is_numeric: ClassVar[bool] = False
    _is_json: ClassVar[bool] = False
    _containment: ClassVar[str | None] = None
    """``"range"`` or ``"array"`` for types with the containment operators (``@>``, ``<@``,
    ``&&``; ranges also ``<<``, ``>>``, ``&<``, ``&>``, ``-|-``)."""
    _jsonpath_type: ClassVar[Any] = None
    """The type a SQL/JSON path is cast to for ``path_exists()`` / ``path_match()`` (set by
    PostgreSQL's JSONB)."""
    hashable: ClassVar[bool] = True
    _isnull: ClassVar[bool] = False
    should_evaluate_none: ClassVar[bool] = False

    @property
    def python_type(self) -> type:
        """The Python type of values of this type."""
        if self.python_type_ is None:
            raise NotImplementedError(f"{type(self).__name__} has no Python type")
        return self.python_type_

    @property
    def _type_affinity(self) -> type[TypeEngine]:
        """The generic class this type belongs to (``VARCHAR`` -> ``String``)."""
        for cls in type(self).__mro__:
            if cls.__module__ == __name__ and cls in _GENERIC:
                return cls
        return type(self)

    # --- cache keys and copies ------------------------------------------------------

    @functools.cached_property
    def _ck(self) -> tuple[Any, ...]:
        """A hashable description of this type, equal for equally configured types."""
        items = tuple(
            sorted((k, _hashable(v)) for k, v in self.__dict__.items() if not k.startswith("_"))
        )
        return (type(self), items)

    def _constructor_state(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if not k.startswith("_")}

    def adapt(self, cls: type[_TE], **kw: Any) -> _TE:
        """A new instance of ``cls`` configured like this type (used for dialect variants)."""
        new = cls.__new__(cls)
        new.__dict__.update(self._constructor_state())
        new.__dict__.update(kw)
        return new

    def copy(self: _TE) -> _TE:
        """A fresh copy of this type."""
        return self.adapt(type(self))

    def with_variant(self: _TE, type_: TypeArg[Any], *dialect_names: str) -> _TE:
        """A copy of this type that is ``type_`` on the named dialects (``"postgresql"``,
        ``"mysql"``, ``"mariadb"``, ``"sqlite"``): DDL and value conversion there use
        ``type_``, while SQL operators keep this type's behaviour everywhere."""
        if not dialect_names:
            raise exc.ArgumentError(
                "with_variant() needs the dialect names the variant is for, e.g. "
                "String().with_variant(Text(), 'postgresql')"
            )
        mapping = dict(self.__dict__.get("_variant_mapping", {}))
        for name in dialect_names:
            if name in mapping:
                raise exc.ArgumentError(
                    f"This type already has a variant for dialect {name!r}; give each dialect "
                    "name to with_variant() once"
                )
            mapping[name] = to_instance(type_)
        new = self.copy()
        new.__dict__["_variant_mapping"] = mapping
        variants = tuple(sorted((name, variant._ck) for name, variant in mapping.items()))
        new.__dict__["_ck"] = (*new._ck, ("variants", variants))
        return new

    def _variant_for(self, dialect: Any) -> TypeEngine:
        """The type to use on ``dialect``: a :meth:`with_variant` variant, or this type."""
        mapping: dict[str, TypeEngine] | None = self.__dict__.get("_variant_mapping")
        if not mapping:
            return self
        for name in dialect_names(dialect):
            found = mapping.get(name)
            if found is not None:
                return found
        return self

    def __getstate__(self) -> dict[str, Any]:
        """Pickled without the per-dialect variants found so far (found again on use): they
        are keyed by dialect classes, some of which are made at run time."""
        state = self.__dict__.copy()
        state.pop("_impls", None)
        return state

    def dialect_impl(self, dialect: Any) -> TypeEngine:
        """The variant of this type that ``dialect`` uses (from ``dialect.colspecs``)."""
        if "_variant_mapping" in self.__dict__:
            variant = self._variant_for(dialect)
            if variant is not self:
                return variant.dialect_impl(dialect)
        cache: dict[Any, TypeEngine] | None = self.__dict__.get("_impls")
        if cache is None:
            cache = self.__dict__["_impls"] = {}
        key = type(dialect)
        impl = cache.get(key)
        if impl is None:
            impl = self._find_impl(dialect)
            cache[key] = impl
        return impl

    def _for_table(self, table: Any) -> TypeEngine:
        """This type as a column of ``table`` uses it: itself, or (for a named type that takes
        its schema from the table) the type with that schema."""
        return self

    def _find_impl(self, dialect: Any) -> TypeEngine:
        colspecs: dict[type, type] = getattr(dialect, "colspecs", None) or {}
        for cls in type(self).__mro__:
            target = colspecs.get(cls)
            if target is not None:
                if isinstance(self, target):
                    return self
                return self.adapt(target)
        return self

    # --- conversion -----------------------------------------------------------------

    def bind_processor(self, dialect: Any) -> Processor | None:
        """A function turning a Python value into what the driver accepts, or None."""
        return None

    def result_processor(self, dialect: Any, coltype: Any) -> Processor | None:
        """A function turning a driver value into the Python value, or None."""
        return None

    def literal_processor(self, dialect: Any) -> Callable[[Any], str] | None:
        """A function rendering a value as a SQL literal (``literal_binds``), or None."""
        return None

    def bind_expression(self, bindvalue: Any) -> Any:
        """A SQL expression wrapping a bound value, or None (used by a few dialect types)."""
        return None

    def coerce_compared_value(self, op: Any, value: Any) -> TypeEngine:
        """The type to bind ``value`` with when it is compared with a value of this type."""
        return self

    def _result_type_for(self, op: Any, other: TypeEngine) -> TypeEngine:
        """The type of ``self <op> other`` for arithmetic operators."""
        if isinstance(self, NullType):
            return other
        return self

    def compile(self, dialect: Any = None) -> str:
        """The DDL name of this type for ``dialect`` (the generic one by default)."""
        if dialect is None:
            from athanor.sql.compiler import default_dialect

            dialect = default_dialect()
        compiler = dialect.type_compiler(dialect)
        result: str = compiler.process(self)
        return result

    def __str__(self) -> str:
        return self.compile()

    def __repr__(self) -> str:
        """The constructor call that builds this type: required arguments by position, the
        others by keyword and only where they differ from the constructor's defaults."""
        state = self._constructor_state()
        implied = self._implied_arguments()
        args: list[str] = []
        for parameter in _init_parameters(type(self)):
            name = parameter.name
            if name not in state or name in implied:
                continue
            value = state[name]
            if parameter.kind is parameter.VAR_POSITIONAL:
                args.extend(repr(v) for v in value)
            elif parameter.default is parameter.empty:
                args.append(repr(value))
            elif not _is_default(value, parameter.default):
                args.append(f"{name}={value!r}")
        return f"{type(self).__name__}({', '.join(args)})"

    def _implied_arguments(self) -> frozenset[str]:
        """Constructor arguments whose stored value was derived from the others (left out of
        the repr)."""
        return frozenset()


_INIT_PARAMETERS: dict[type, tuple[inspect.Parameter, ...]] = {}


def _init_parameters(cls: type) -> tuple[inspect.Parameter, ...]:
    """The named and ``*args`` parameters of the constructor of ``cls``, in order."""
    found = _INIT_PARAMETERS.get(cls)
    if found is None:
        try:
            signature = inspect.signature(cls)
        except (TypeError, ValueError):
            found = ()
        else:
            keywords = inspect.Parameter.VAR_KEYWORD
            found = tuple(p for p in signature.parameters.values() if p.kind is not keywords)
        _INIT_PARAMETERS[cls] = found
    return found


def _is_default(value: Any, default: Any) -> bool:
    if value is default:
        return True
    plain = (bool, int, float, str, tuple)
    return type(value) is type(default) and isinstance(value, plain) and value == default


def _hashable(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return tuple(_hashable(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _hashable(v)) for k, v in value.items()))
    if isinstance(value, TypeEngine):
        return value._ck
    try:
        hash(value)
    except TypeError:
        return id(value)
    return value


TypeArg = TypeEngine[T] | type[TypeEngine[T]]
"""A type given as an instance or a class (``String(50)`` or ``Integer``)."""


def to_instance(type_: TypeEngine | type[TypeEngine] | None) -> TypeEngine:
    """``type_`` as an instance (``Integer`` -> ``Integer()``, None -> ``NullType()``)."""
    if type_ is None:
        return NULLTYPE
    if isinstance(type_, type):
        return type_()
    return type_


class NullType(TypeEngine[None]):
    """The type of a value whose type is unknown; values pass through untouched."""

    _isnull: ClassVar[bool] = True


class Integer(TypeEngine[int]):
    """An integer (``INTEGER``)."""

    python_type_: ClassVar[type | None] = int
    _is_numeric = True

    def literal_processor(self, dialect: Any) -> Callable[[Any], str] | None:
        return lambda value: str(int(value))

    def _result_type_for(self, op: Any, other: TypeEngine) -> TypeEngine:
        if isinstance(other, Numeric | Float):
            return other
        if getattr(op, "name", None) == "truediv" and isinstance(other, Integer):
            return Numeric()  # 5 / 2 is 2.5, as in Python
        return self


class SmallInteger(Integer):
    """A small integer (``SMALLINT``)."""


class BigInteger(Integer):
    """A big integer (``BIGINT``)."""


class Numeric(TypeEngine[N]):
    """A fixed-precision number, returned as :class:`decimal.Decimal` by default."""

    python_type_: ClassVar[type | None] = decimal.Decimal
    _is_numeric = True

    def __init__(
        self,
        precision: int | None = None,
        scale: int | None = None,
        decimal_return_scale: int | None = None,
        asdecimal: bool = True,
    ) -> None:
        self.precision = precision
        self.scale = scale
        self.decimal_return_scale = decimal_return_scale
        self.asdecimal = asdecimal

    @property
    def python_type(self) -> type:
        return decimal.Decimal if self.asdecimal else float

    def literal_processor(self, dialect: Any) -> Callable[[Any], str] | None:
        def render(value: Any) -> str:
            if isinstance(value, float | int | decimal.Decimal) and not isinstance(value, bool):
                text = str(value)
                if text.lower() in ("nan", "inf", "-inf", "infinity", "-infinity"):
                    raise exc.CompileError(f"Cannot render {value!r} as a SQL literal")
                return text
            raise exc.CompileError(f"Cannot render {value!r} as a numeric literal")

        return render

    def result_processor(self, dialect: Any, coltype: Any) -> Processor | None:
        if self.asdecimal:
            return None if getattr(dialect, "native_decimal", False) else _to_decimal
        return _decimal_to_float

    def _result_type_for(self, op: Any, other: TypeEngine) -> TypeEngine:
        return self


def _to_decimal(value: Any) -> Any:
    if value is None or isinstance(value, decimal.Decimal):
        return value
    return decimal.Decimal(str(value))


def _decimal_to_float(value: Any) -> Any:
    if value is None or isinstance(value, float):
        return value
    return float(value)


class Float(Numeric[float]):
    """A floating point number, returned as ``float`` by default."""

    python_type_: ClassVar[type | None] = float

    def __init__(
        self,
        precision: int | None = None,
        asdecimal: bool = False,
        decimal_return_scale: int | None = None,
    ) -> None:
        self.precision = precision
        self.asdecimal = asdecimal
        self.decimal_return_scale = decimal_return_scale
        self.scale = None

    @property
    def python_type(self) -> type:
        return decimal.Decimal if self.asdecimal else float

    def result_processor(self, dialect: Any, coltype: Any) -> Processor | None:
        return _to_decimal if self.asdecimal else None


class Double(Float):
    """A double precision floating point number."""


class Boolean(TypeEngine[bool]):
    """True / False; stored as a native BOOLEAN or a small integer."""

    python_type_: ClassVar[type | None] = bool

    def __init__(self, create_constraint: bool = False, name: str | None = None) -> None:
        self.create_constraint = create_constraint
        self.name = name

    def literal_processor(self, dialect: Any) -> Callable[[Any], str] | None:
        native = getattr(dialect, "supports_native_boolean", False)

        def render(value: Any) -> str:
            if native:
                return "true" if value else "false"
            return "1" if value else "0"

        return render


def _to_bool(value: Any) -> Any:
    return value if value is None else bool(value)


class String(TypeEngine[str]):
    """A string of at most ``length`` characters (``VARCHAR``)."""

    python_type_: ClassVar[type | None] = str
    _is_string = True

    def __init__(self, length: int | None = None, collation: str | None = None) -> None:
        self.length = length
        self.collation = collation

    def literal_processor(self, dialect: Any) -> Callable[[Any], str] | None:
        preparer = getattr(dialect, "identifier_preparer", None)
        quote = preparer.quote_literal if preparer is not None else _quote_string_literal
        return lambda value: quote(str(value))


def _quote_string_literal(value: str) -> str:
    if "\x00" in value:
        raise exc.CompileError("A string literal cannot contain NUL characters")
    return "'" + value.replace("'", "''") + "'"


class Text(String):
    """A string of unbounded length (``TEXT``)."""


class Unicode(String):
    """A string that may hold any Unicode text."""


class UnicodeText(Text):
    """Unbounded Unicode text."""


class Date(TypeEngine[dt.date]):
    """A calendar date (``datetime.date``)."""

    python_type_: ClassVar[type | None] = dt.date

    def literal_processor(self, dialect: Any) -> Callable[[Any], str] | None:
        return lambda value: _quote_string_literal(value.isoformat())


class DateTime(TypeEngine[dt.datetime]):
    """A date and time, optionally with a time zone (``datetime.datetime``)."""

    python_type_: ClassVar[type | None] = dt.datetime

    def __init__(self, timezone: bool = False) -> None:
        self.timezone = timezone

    def literal_processor(self, dialect: Any) -> Callable[[Any], str] | None:
        return lambda value: _quote_string_literal(value.isoformat(sep=" "))


class Time(TypeEngine[dt.time]):
    """A time of day (``datetime.time``)."""

    python_type_: ClassVar[type | None] = dt.time

    def __init__(self, timezone: bool = False) -> None:
        self.timezone = timezone

    def literal_processor(self, dialect: Any) -> Callable[[Any], str] | None:
        return lambda value: _quote_string_literal(value.isoformat())


class Interval(TypeEngine[dt.timedelta]):
    """A duration (``datetime.timedelta``); a date-time offset from the epoch where not native."""

    python_type_: ClassVar[type | None] = dt.timedelta
    epoch: ClassVar[dt.datetime] = dt.datetime(1970, 1, 1)

    def __init__(
        self,
        native: bool = True,
        second_precision: int | None = None,
        day_precision: int | None = None,
    ) -> None:
        self.native = native
        self.second_precision = second_precision
        self.day_precision = day_precision


class LargeBinary(TypeEngine[bytes]):
    """Binary data (``bytes``)."""

    python_type_: ClassVar[type | None] = bytes

    def __init__(self, length: int | None = None) -> None:
        self.length = length

    def result_processor(self, dialect: Any, coltype: Any) -> Processor | None:
        return None if getattr(dialect, "returns_native_bytes", False) else _to_bytes


def _to_bytes(value: Any) -> Any:
    if value is None or type(value) is bytes:
        return value
    return bytes(value)


class _JSONNull:
    """The type of :attr:`JSON.NULL`."""

    def __repr__(self) -> str:
        return "JSON.NULL"


class JSON(TypeEngine[Any]):
    """A JSON document; Python dicts, lists, strings, numbers, booleans and None."""

    python_type_: ClassVar[type | None] = dict
    _is_json = True
    hashable = False

    NULL: ClassVar[object] = _JSONNull()
    """The JSON ``null`` value, stored as such even with ``none_as_null=True`` (where None
    means SQL NULL)."""

    def __init__(self, none_as_null: bool = False) -> None:
        self.none_as_null = none_as_null

    def bind_processor(self, dialect: Any) -> Processor | None:
        dumps = getattr(dialect, "json_serializer", None) or json.dumps
        none_as_null = self.none_as_null
        json_null = JSON.NULL

        def process(value: Any) -> Any:
            if value is json_null:
                return "null"
            if value is None and none_as_null:
                return None
            return dumps(value)

        return process

    def result_processor(self, dialect: Any, coltype: Any) -> Processor | None:
        loads = getattr(dialect, "json_deserializer", None) or json.loads

        def process(value: Any) -> Any:
            if isinstance(value, str | bytes):
                return loads(value)
            return value

        return process


class JSONPathElement(TypeEngine[Any]):
    """The key or index of a JSON element; a JSON path (``$."key"``) where dialects want one.

    ``integer`` tells an array index from an object key, for drivers that need the
    parameter's type written in the SQL (``-> $1::INTEGER`` against ``-> $1::TEXT``).
    ``path`` marks a tuple of keys and indexes (``doc[("a", 0)]``): a text array where the
    dialect has ``json_path_array`` (PostgreSQL's ``#>``), else a JSON path string.
    """

    def __init__(self, integer: bool = False, path: bool = False) -> None:
        self.integer = integer
        self.path = path

    def _converter(self, dialect: Any) -> Processor | None:
        if self.path:
            return _text_path if getattr(dialect, "json_path_array", False) else _json_path
        return _json_path if getattr(dialect, "json_index_as_path", False) else None

    def bind_processor(self, dialect: Any) -> Processor | None:
        return self._converter(dialect)

    def literal_processor(self, dialect: Any) -> Callable[[Any], str] | None:
        preparer = getattr(dialect, "identifier_preparer", None)
        quote = preparer.quote_literal if preparer is not None else _quote_string_literal
        convert = self._converter(dialect)
        if convert is _text_path:
            return lambda value: quote("{" + ",".join(_text_path(value)) + "}")
        if convert is not None:
            return lambda value: quote(convert(value))
        return lambda value: str(int(value)) if isinstance(value, int) else quote(str(value))


def _json_path(value: Any) -> str:
    """A key, an index or a tuple of them as a JSON path: ``$."a"[0]``."""
    steps = value if isinstance(value, tuple) else (value,)
    return "$" + "".join(
        f"[{step}]"
        if isinstance(step, int) and not isinstance(step, bool)
        else "." + json.dumps(str(step))
        for step in steps
    )


def _text_path(value: Any) -> list[str]:
    """A tuple of keys and indexes as the text array PostgreSQL's ``#>`` takes."""
    return [str(step) for step in value]


class Uuid(TypeEngine[uuid.UUID]):
    """A UUID; native where the database has one, else 32 hex characters."""

    python_type_: ClassVar[type | None] = uuid.UUID

    def __init__(self, as_uuid: bool = True, native_uuid: bool = True) -> None:
        self.as_uuid = as_uuid
        self.native_uuid = native_uuid

    def bind_processor(self, dialect: Any) -> Processor | None:
        if getattr(dialect, "supports_native_uuid", False) and self.native_uuid:
            if self.as_uuid:
                return None
            return lambda v: v if v is None else uuid.UUID(str(v))

        def process(value: Any) -> Any:
            if value is None:
                return None
            if not isinstance(value, uuid.UUID):
                value = uuid.UUID(str(value))
            return value.hex

        return process

    def result_processor(self, dialect: Any, coltype: Any) -> Processor | None:
        as_uuid = self.as_uuid
        if as_uuid and self.native_uuid and getattr(dialect, "supports_native_uuid", False):
            return None

        def process(value: Any) -> Any:
            if value is None:
                return None
            if isinstance(value, uuid.UUID):
                return value if as_uuid else str(value)
            if isinstance(value, bytes):
                value = uuid.UUID(bytes=value) if len(value) == 16 else uuid.UUID(value.decode())
            else:
                value = uuid.UUID(value)
            return value if as_uuid else str(value)

        return process

    def literal_processor(self, dialect: Any) -> Callable[[Any], str] | None:
        native = getattr(dialect, "supports_native_uuid", False) and self.native_uuid
        return lambda v: _quote_string_literal(str(v) if native else uuid.UUID(str(v)).hex)


class Enum(String):
    """One of a fixed set of strings, or members of a Python :class:`enum.Enum` class.

    Members are stored by name; native ENUM types are used where the database has them, and
    elsewhere a ``VARCHAR``, with a CHECK constraint keeping other strings out when
    ``create_constraint=True`` (off by default, as in SQLAlchemy 2).
    A PostgreSQL type lives in ``schema``; without it, in the owning table's schema when
    ``inherit_schema=True``, else in the schema of ``metadata`` or of the table's MetaData.
    """

    def __init__(
        self,
        *enums: Any,
        name: str | None = None,
        native_enum: bool = True,
        create_constraint: bool = False,
        length: int | None = None,
        values_callable: Callable[[type[enum.Enum]], list[str]] | None = None,
        validate_strings: bool = False,
        schema: str | None = None,
        inherit_schema: bool = False,
        metadata: Any = None,
    ) -> None:
        self.enum_class: type[enum.Enum] | None = None
        if len(enums) == 1 and isinstance(enums[0], type) and issubclass(enums[0], enum.Enum):
            self.enum_class = enums[0]
            members = list(self.enum_class.__members__.values())
            values = (
                values_callable(self.enum_class) if values_callable else [m.name for m in members]
            )
            self._object_lookup = dict(zip(values, members, strict=True))
            self._value_lookup = {m: v for v, m in self._object_lookup.items()}
            self.enums = tuple(values)
            if name is None:
                name = self.enum_class.__name__.lower()
        else:
            self.enums = tuple(str(e) for e in enums)
            self._object_lookup = {}
            self._value_lookup = {}
        self.name = name
        self.native_enum = native_enum
        self.create_constraint = create_constraint
        self.validate_strings = validate_strings
        self.schema = schema if schema is not None or metadata is None else metadata.schema
        self.values_callable = values_callable
        self.inherit_schema = inherit_schema
        self.metadata = metadata
        longest = max((len(e) for e in self.enums), default=0)
        super().__init__(length=length if length is not None else longest)

    @property
    def python_type(self) -> type:
        return self.enum_class if self.enum_class is not None else str

    def _implied_arguments(self) -> frozenset[str]:
        longest = max((len(e) for e in self.enums), default=0)
        return frozenset({"length"}) if self.length == longest else frozenset()

    def _for_table(self, table: Any) -> TypeEngine:
        """The schema of a named (PostgreSQL) enum type: ``schema=`` when given, the owning
        table's with ``inherit_schema=True``, else the MetaData's (``MetaData(schema=...)``),
        else none (the database's search path).  The first table sets it on this type; a
        table that would put it in another schema gets a copy."""
        from_table = self.__dict__.get("_schema_from_table", False)
        if self.inherit_schema:
            schema = table.schema
        elif self.schema is not None and not from_table:
            return self
        else:
            schema = table.metadata.schema if table.metadata is not None else None
        if schema == self.schema:
            return self
        target = self.copy() if from_table else self
        target.__dict__.pop("_ck", None)
        target.__dict__.pop("_impls", None)
        target.__dict__["_schema_from_table"] = True
        target.schema = schema
        return target

    def adapt(self, cls: type[_TE], **kw: Any) -> _TE:
        new = super().adapt(cls, **kw)
        new.__dict__["_object_lookup"] = self._object_lookup
        new.__dict__["_value_lookup"] = self._value_lookup
        return new

    def _db_value(self, value: Any) -> Any:
        if value is None:
            return None
        if self._value_lookup:
            found = self._value_lookup.get(value)
            if found is not None:
                return found
            if isinstance(value, str) and value in self._object_lookup:
                return value
            raise exc.StatementError(
                f"{value!r} is not among the defined enum values of {self.name!r}; "
                f"possible values: {', '.join(self.enums)}",
                None,
                None,
                None,
            )
        if self.validate_strings and value not in self.enums:
            raise exc.StatementError(
                f"{value!r} is not among the defined enum values; "
                f"possible values: {', '.join(self.enums)}",
                None,
                None,
                None,
            )
        return value

    def bind_processor(self, dialect: Any) -> Processor | None:
        if not self._value_lookup and not self.validate_strings:
            return None
        return self._db_value

    def result_processor(self, dialect: Any, coltype: Any) -> Processor | None:
        if not self._object_lookup:
            return None
        lookup = self._object_lookup
        return lambda value: value if value is None else lookup.get(value, value)

    def literal_processor(self, dialect: Any) -> Callable[[Any], str] | None:
        parent = super().literal_processor(dialect)
        assert parent is not None
        return lambda value: parent(self._db_value(value))


class PickleType(LargeBinary):
    """Any picklable Python object, stored as binary."""

    python_type_: ClassVar[type | None] = object

    def bind_processor(self, dialect: Any) -> Processor | None:
        return lambda value: value if value is None else pickle.dumps(value)

    def result_processor(self, dialect: Any, coltype: Any) -> Processor | None:
        return lambda value: value if value is None else pickle.loads(bytes(value))


class ARRAY(TypeEngine[list[Any]]):
    """An array of ``item_type`` (PostgreSQL)."""

    python_type_: ClassVar[type | None] = list
    hashable = False
    _containment = "array"

    def __init__(
        self,
        item_type: TypeEngine | type[TypeEngine],
        as_tuple: bool = False,
        dimensions: int | None = None,
        zero_indexes: bool = False,
    ) -> None:
        self.item_type = to_instance(item_type)
        self.as_tuple = as_tuple
        self.dimensions = dimensions
        self.zero_indexes = zero_indexes

    def _for_table(self, table: Any) -> TypeEngine:
        item = self.item_type._for_table(table)
        if item is self.item_type:
            return self
        new = self.copy()
        new.item_type = item
        return new

    def _each_element(self, proc: Processor | None, container: type = list) -> Processor:
        """``proc`` applied to every element of an array value: through all nested lists, or
        through ``dimensions`` levels of them when that is set (so list-valued elements stay
        whole); each level is built as ``container`` (tuples for ``as_tuple=True``)."""
        levels = self.dimensions

        def walk(value: Any, level: int) -> Any:
            if value is None:
                return None
            deeper = levels is None or level + 1 < levels
            return container(
                walk(item, level + 1)
                if deeper and isinstance(item, (list, tuple))
                else item
                if proc is None
                else proc(item)
                for item in value
            )

        return lambda value: walk(value, 0)

    def bind_processor(self, dialect: Any) -> Processor | None:
        item = self.item_type.dialect_impl(dialect).bind_processor(dialect)
        return None if item is None else self._each_element(item)

    def result_processor(self, dialect: Any, coltype: Any) -> Processor | None:
        item = self.item_type.dialect_impl(dialect).result_processor(dialect, coltype)
        if self.as_tuple:
            return self._each_element(item, tuple)
        return None if item is None else self._each_element(item)

    def _index(self, index: Any) -> tuple[Any, TypeEngine]:
        """``array[index]``: the index as sent (one more with ``zero_indexes=True``, for both
        bounds of a slice) and the type of the result: an element, an array of one dimension
        less, or this type for a slice."""
        shift = 1 if self.zero_indexes else 0
        if isinstance(index, slice):
            if index.start is None or index.stop is None or index.step is not None:
                raise exc.ArgumentError(
                    f"An array slice needs both bounds and no step, as in array[1:3]; got {index}"
                )
            if shift:
                index = slice(index.start + shift, index.stop + shift)
            return index, self
        if shift:
            index = index + shift
        if self.dimensions is not None and self.dimensions > 1:
            return index, self.adapt(type(self), dimensions=self.dimensions - 1)
        return index, self.item_type


class TypeDecorator(TypeEngine[T]):
    """Base for user types that add Python-side conversion around an existing type.

    Subclasses set ``impl`` to a type (class or instance) and override
    :meth:`process_bind_param` / :meth:`process_result_value`.
    """

    impl: ClassVar[Any] = NullType
    cache_ok: ClassVar[bool | None] = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        impl_cls = self.impl if isinstance(self.impl, type) else type(self.impl)
        self.impl_instance: TypeEngine = (
            impl_cls(*args, **kwargs)
            if (args or kwargs) or isinstance(self.impl, type)
            else self.impl
        )

    @property
    def python_type(self) -> type:
        return self.impl_instance.python_type

    @property
    def _type_affinity(self) -> type[TypeEngine]:
        return self.impl_instance._type_affinity

    @functools.cached_property
    def _ck(self) -> tuple[Any, ...]:
        if self.cache_ok is False:
            return (type(self), id(self))
        return (type(self), self.impl_instance._ck)

    def _for_table(self, table: Any) -> TypeEngine:
        impl = self.impl_instance._for_table(table)
        if impl is self.impl_instance:
            return self
        new = self.copy()
        new.impl_instance = impl
        return new

    def load_dialect_impl(self, dialect: Any) -> TypeEngine:
        """The type this decorator stores values as on ``dialect`` (``impl`` by default)."""
        return self.impl_instance

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        """Convert a Python value before it is sent to the database."""
        return value

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        """Convert a value read from the database."""
        return value

    def process_literal_param(self, value: Any, dialect: Any) -> Any:
        """Convert a value before it is rendered inline as a literal."""
        return self.process_bind_param(value, dialect)

    def _impl_for(self, dialect: Any) -> TypeEngine:
        return self.load_dialect_impl(dialect).dialect_impl(dialect)

    def dialect_impl(self, dialect: Any) -> TypeEngine:
        variant = self._variant_for(dialect)
        return self if variant is self else variant.dialect_impl(dialect)

    def bind_processor(self, dialect: Any) -> Processor | None:
        inner = self._impl_for(dialect).bind_processor(dialect)
        overridden = type(self).process_bind_param is not TypeDecorator.process_bind_param
        if not overridden:
            return inner
        process_param = self.process_bind_param
        if inner is None:
            return lambda value: process_param(value, dialect)
        return lambda value: inner(process_param(value, dialect))

    def result_processor(self, dialect: Any, coltype: Any) -> Processor | None:
        inner = self._impl_for(dialect).result_processor(dialect, coltype)
        overridden = type(self).process_result_value is not TypeDecorator.process_result_value
        if not overridden:
            return inner
        process_value = self.process_result_value
        if inner is None:
            return lambda value: process_value(value, dialect)
        return lambda value: process_value(inner(value), dialect)

    def literal_processor(self, dialect: Any) -> Callable[[Any], str] | None:
        inner = self._impl_for(dialect).literal_processor(dialect)
        if inner is None:
            return None
        process = self.process_literal_param
        return lambda value: inner(process(value, dialect))

    def coerce_compared_value(self, op: Any, value: Any) -> TypeEngine:
        return self

    def copy(self: _TE) -> _TE:
        new = type(self).__new__(type(self))
        new.__dict__.update(self._constructor_state())
        return new


class UserDefinedType(TypeEngine[T]):
    """Base for types whose DDL is given by ``get_col_spec()``."""

    def get_col_spec(self, **kw: Any) -> str:
        raise NotImplementedError


# Upper-case SQL standard names.
class INTEGER(Integer):
    """``INTEGER``."""


INT = INTEGER


class SMALLINT(SmallInteger):
    """``SMALLINT``."""


class BIGINT(BigInteger):
    """``BIGINT``."""


class NUMERIC(Numeric[decimal.Decimal]):
    """``NUMERIC``."""


class DECIMAL(Numeric[decimal.Decimal]):
    """``DECIMAL``."""


class FLOAT(Float):
    """``FLOAT``."""


class REAL(Float):
    """``REAL``."""


class DOUBLE(Double):
    """``DOUBLE``."""


class DOUBLE_PRECISION(Double):  # noqa: N801 - SQL/SQLAlchemy name
    """``DOUBLE PRECISION``."""


class VARCHAR(String):
    """``VARCHAR``."""


class NVARCHAR(Unicode):
    """``NVARCHAR``."""


class CHAR(String):
    """``CHAR``."""


class NCHAR(Unicode):
    """``NCHAR``."""


class TEXT(Text):
    """``TEXT``."""


class CLOB(Text):
    """``CLOB``."""


class BOOLEAN(Boolean):
    """``BOOLEAN``."""


class DATE(Date):
    """``DATE``."""


class DATETIME(DateTime):
    """``DATETIME``."""


class TIMESTAMP(DateTime):
    """``TIMESTAMP``."""


class TIME(Time):
    """``TIME``."""


class BLOB(LargeBinary):
    """``BLOB``."""


class BINARY(LargeBinary):
    """``BINARY``."""


class VARBINARY(LargeBinary):
    """``VARBINARY``."""


class UUID(Uuid):
    """``UUID``."""


_GENERIC: frozenset[type] = frozenset(
    {
        Integer,
        SmallInteger,
        BigInteger,
        Numeric,
        Float,
        Double,
        Boolean,
        String,
        Text,
        Unicode,
        UnicodeText,
        Date,
        DateTime,
        Time,
        Interval,
        LargeBinary,
        JSON,
        Uuid,
        Enum,
        PickleType,
        ARRAY,
        NullType,
    }
)

NULLTYPE = NullType()
BOOLEANTYPE = Boolean()
INTEGERTYPE = Integer()
STRINGTYPE = String()

_PYTHON_TYPES: dict[type, TypeEngine] = {
    int: INTEGERTYPE,
    float: Float(),
    bool: BOOLEANTYPE,
    str: STRINGTYPE,
    bytes: LargeBinary(),
    decimal.Decimal: Numeric(),
    dt.datetime: DateTime(),
    dt.date: Date(),
    dt.time: Time(),
    dt.timedelta: Interval(),
    uuid.UUID: Uuid(),
    dict: JSON(),
    type(None): NULLTYPE,
}


def type_for_value(value: Any) -> TypeEngine:
    """The type to bind a plain Python value with when nothing else says."""
    found = _PYTHON_TYPES.get(type(value))
    if found is not None:
        return found
    if isinstance(value, enum.Enum):
        return NULLTYPE
    for py_type, type_ in _PYTHON_TYPES.items():
        if isinstance(value, py_type):
            return type_
    return NULLTYPE


def _epoch_offset(value: Any) -> Any:
    return value if value is None else Interval.epoch + value


def _epoch_delta(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value - Interval.epoch


class _EpochInterval(Interval):
    """An interval stored as a date-time offset from 1970-01-01 (databases without INTERVAL)."""

    def bind_processor(self, dialect: Any) -> Processor | None:
        return _epoch_offset

    def result_processor(self, dialect: Any, coltype: Any) -> Processor | None:
        return _epoch_delta


class _IntBoolean(Boolean):
    """A boolean the driver returns as 0/1."""

    def result_processor(self, dialect: Any, coltype: Any) -> Processor | None:
        return _to_bool


def processors_for(types: Sequence[TypeEngine], dialect: Any) -> list[Processor | None] | None:
    """Result processors for a row of ``types`` on ``dialect``, or None if none is needed."""
    procs = [t.dialect_impl(dialect).result_processor(dialect, None) for t in types]
    return procs if any(p is not None for p in procs) else None
