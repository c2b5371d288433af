"""PostgreSQL types (``JSONB``, ``ARRAY``, ``INET`` ...) and its handling of the generic ones.

The PostgreSQL drivers return native Python values for numbers, date-times, intervals, UUIDs
and JSON, so most types need no result conversion here.
"""

from __future__ import annotations

import functools
import ipaddress
from typing import Any, ClassVar

from athanor import exc
from athanor.sql import types as sqltypes
from athanor.sql.types import ARRAY, Processor


class JSON(sqltypes.JSON):
    """``JSON``; the driver decodes values, so results pass through."""

    def result_processor(self, dialect: Any, coltype: Any) -> Processor | None:
        return None


class JSONB(JSON):
    """``JSONB``: binary JSON, indexable; ``@>`` / ``<@`` containment (``contains()``,
    ``contained_by()``), key tests (``has_key()``, ``has_all()``, ``has_any()``) and
    SQL/JSON paths (``path_exists()``, ``path_match()``, ``delete_path()``)."""

    _containment = "json"


class BYTEA(sqltypes.LargeBinary):
    """``BYTEA``."""


class INET(sqltypes.TypeEngine):
    """``INET``: an IP address or network."""

    python_type_ = ipaddress.IPv4Address


class CIDR(sqltypes.TypeEngine):
    """``CIDR``: an IP network."""

    python_type_ = ipaddress.IPv4Network


class MACADDR(sqltypes.TypeEngine):
    """``MACADDR``."""

    python_type_ = str


class INTERVAL(sqltypes.Interval):
    """``INTERVAL``."""

    def __init__(self, precision: int | None = None, fields: str | None = None) -> None:
        super().__init__(second_precision=precision)
        self.fields = fields


class TSVECTOR(sqltypes.TypeEngine):
    """``TSVECTOR`` (full-text search document)."""

    python_type_ = str


class ENUM(sqltypes.Enum):
    """A named PostgreSQL ``ENUM`` type."""


def parse_array(text: str) -> list[Any]:
    """The elements of a PostgreSQL array in its text form (``{a,"b c",NULL}``) as strings and
    ``None``, with nested lists for more dimensions."""
    if text.startswith("["):  # explicit bounds: [0:1]={a,b}
        text = text[text.index("=") + 1 :]
    pos = 0

    def parse_list() -> list[Any]:
        nonlocal pos
        pos += 1  # the opening brace
        items: list[Any] = []
        if text[pos] == "}":
            pos += 1
            return items
        while True:
            if text[pos] == "{":
                items.append(parse_list())
            elif text[pos] == '"':
                pos += 1
                chars = []
                while text[pos] != '"':
                    if text[pos] == "\\":
                        pos += 1
                    chars.append(text[pos])
                    pos += 1
                pos += 1
                items.append("".join(chars))
            else:  # unquoted: no spaces, quotes or backslashes; bare NULL is a null
                end = pos
                while text[end] not in ",}":
                    end += 1
                word = text[pos:end]
                items.append(None if word.upper() == "NULL" else word)
                pos = end
            pos += 1  # the comma or closing brace after the element
            if text[pos - 1] == "}":
                return items

    return parse_list()


class _ARRAY(ARRAY):
    """``ARRAY`` on PostgreSQL. An array of a named enum type has no loader in drivers that do
    not look types up (psycopg), which hand back its text form; that is parsed here, so every
    driver gives a list before the elements are converted."""

    def result_processor(self, dialect: Any, coltype: Any) -> Processor | None:
        elements = super().result_processor(dialect, coltype)
        item = self.item_type
        while isinstance(item, sqltypes.TypeDecorator):  # one over an enum is an enum too
            item = item.load_dialect_impl(dialect)
        if not (isinstance(item, sqltypes.Enum) and item.native_enum):
            return elements

        def process(value: Any) -> Any:
            if isinstance(value, str):
                value = parse_array(value)
            return value if elements is None else elements(value)

        return process


class _Named:
    """A PostgreSQL type rendered by its SQL name, ``pg_name``."""

    pg_name: ClassVar[str] = ""


class CITEXT(_Named, sqltypes.Text):
    """``CITEXT``: text compared case-insensitively (the ``citext`` extension)."""

    pg_name = "CITEXT"


class MONEY(_Named, sqltypes.TypeEngine[str]):
    """``MONEY``; values come back as the server formats them (``'$1.50'``)."""

    pg_name = "MONEY"
    python_type_ = str


class OID(_Named, sqltypes.Integer):
    """``OID``: an object identifier."""

    pg_name = "OID"


class REGCLASS(_Named, sqltypes.TypeEngine[str]):
    """``REGCLASS``: a table's name standing for its OID."""

    pg_name = "REGCLASS"
    python_type_ = str


class REGCONFIG(_Named, sqltypes.TypeEngine[str]):
    """``REGCONFIG``: a text search configuration's name."""

    pg_name = "REGCONFIG"
    python_type_ = str


class TSQUERY(_Named, sqltypes.TypeEngine[str]):
    """``TSQUERY`` (full-text search query)."""

    pg_name = "TSQUERY"
    python_type_ = str


class MACADDR8(_Named, sqltypes.TypeEngine[str]):
    """``MACADDR8``."""

    pg_name = "MACADDR8"
    python_type_ = str


class JSONPATH(_Named, sqltypes.TypeEngine[str]):
    """``JSONPATH``."""

    pg_name = "JSONPATH"
    python_type_ = str


JSONB._jsonpath_type = JSONPATH()


class BIT(sqltypes.TypeEngine[str]):
    """``BIT(length)`` or ``BIT VARYING(length)``; values are strings of 0 and 1."""

    python_type_ = str
    bind_cast_name = "VARBIT"
    """Parameters are cast to ``VARBIT`` (any length), which the column's type then takes;
    a cast to ``BIT`` would mean ``BIT(1)``."""

    def __init__(self, length: int | None = None, varying: bool = False) -> None:
        self.length = length if length is not None or varying else 1
        self.varying = varying

    def result_processor(self, dialect: Any, coltype: Any) -> Processor | None:
        # asyncpg returns a BitString object; psycopg the text form already.
        return lambda value: (
            value if value is None or isinstance(value, str) else value.as_string().replace(" ", "")
        )

    def bind_processor(self, dialect: Any) -> Processor | None:
        if dialect.driver != "asyncpg":
            return None
        from asyncpg import BitString

        return lambda value: value if value is None else BitString(value)


class HSTORE(sqltypes.TypeEngine[dict[str, str | None]]):
    """``HSTORE``: a map of text keys to text values or None (the ``hstore`` extension).

    Values travel in hstore's text form, which every driver passes through."""

    python_type_ = dict
    hashable = False

    def bind_processor(self, dialect: Any) -> Processor | None:
        return lambda value: None if value is None else format_hstore(value)

    def result_processor(self, dialect: Any, coltype: Any) -> Processor | None:
        return lambda value: (
            value if value is None or isinstance(value, dict) else parse_hstore(value)
        )


def _hstore_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def format_hstore(value: Any) -> str:
    """``{"a": "1", "b": None}`` as ``"a"=>"1", "b"=>NULL``."""
    if not isinstance(value, dict):
        raise exc.ArgumentError(f"HSTORE values are dicts of str to str or None, not {value!r}")
    parts = []
    for key, item in value.items():
        if not isinstance(key, str) or not (item is None or isinstance(item, str)):
            raise exc.ArgumentError(
                f"HSTORE keys and values are strings (values may be None), not {key!r}: {item!r}"
            )
        parts.append(_hstore_quote(key) + "=>" + ("NULL" if item is None else _hstore_quote(item)))
    return ", ".join(parts)


def parse_hstore(text: str) -> dict[str, str | None]:
    """The dict of an hstore's text form (``"a"=>"1", "b"=>NULL``)."""
    result: dict[str, str | None] = {}
    pos = 0
    length = len(text)

    def quoted() -> str:
        nonlocal pos
        pos += 1  # opening quote
        chars = []
        while text[pos] != '"':
            if text[pos] == "\\":
                pos += 1
            chars.append(text[pos])
            pos += 1
        pos += 1
        return "".join(chars)

    while pos < length:
        while pos < length and text[pos] in " ,":
            pos += 1
        if pos >= length:
            break
        key = quoted()
        pos = text.index("=>", pos) + 2
        while text[pos] == " ":
            pos += 1
        if text[pos] == '"':
            result[key] = quoted()
        else:  # NULL
            result[key] = None
            pos += 4
    return result


class DOMAIN(sqltypes.TypeDecorator[Any]):
    """A PostgreSQL ``DOMAIN``: ``data_type`` under a name, with an optional default,
    NOT NULL and CHECK (``check``, SQL text or an expression on ``column("value")``).
    ``create_all()`` creates it before the tables using it (``create_type=False``: it
    exists already); values convert as ``data_type``'s do."""

    impl = sqltypes.NullType
    cache_ok = True
    _is_domain: ClassVar[bool] = True

    def __init__(
        self,
        name: str,
        data_type: Any,
        *,
        collation: str | None = None,
        default: Any = None,
        constraint_name: str | None = None,
        not_null: bool | None = None,
        check: Any = None,
        create_type: bool = True,
        schema: str | None = None,
    ) -> None:
        self.impl_instance = sqltypes.to_instance(data_type)
        self.name = name
        self.data_type = self.impl_instance
        self.collation = collation
        self.default = _sql(default)
        self.constraint_name = constraint_name
        self.not_null = not_null
        self.check = _sql(check)
        self.create_type = create_type
        self.schema = schema

    def load_dialect_impl(self, dialect: Any) -> sqltypes.TypeEngine:
        return self.impl_instance

    @functools.cached_property
    def _ck(self) -> tuple[Any, ...]:
        return (DOMAIN, self.name, self.schema, self.impl_instance._ck)


def _sql(value: Any) -> Any:
    """A DOMAIN default or check: SQL text as given, an expression or a Python value."""
    if value is None or not isinstance(value, str):
        return value
    from athanor.sql.elements import text

    return text(value)


class DOUBLE_PRECISION(sqltypes.Double):  # noqa: N801
    """``DOUBLE PRECISION``."""


class UUID(sqltypes.UUID):
    """``UUID``."""


TIMESTAMP = sqltypes.TIMESTAMP
TIME = sqltypes.TIME
DATE = sqltypes.DATE
INTEGER = sqltypes.INTEGER
BIGINT = sqltypes.BIGINT
SMALLINT = sqltypes.SMALLINT
NUMERIC = sqltypes.NUMERIC
REAL = sqltypes.REAL
BOOLEAN = sqltypes.BOOLEAN
TEXT = sqltypes.TEXT
VARCHAR = sqltypes.VARCHAR
CHAR = sqltypes.CHAR
FLOAT = sqltypes.FLOAT

colspecs: dict[type, type] = {sqltypes.JSON: JSON, ARRAY: _ARRAY}
"""Generic type -> the PostgreSQL variant."""

__all__ = [
    "ARRAY",
    "BIGINT",
    "BIT",
    "BOOLEAN",
    "BYTEA",
    "CHAR",
    "CIDR",
    "CITEXT",
    "DATE",
    "DOMAIN",
    "DOUBLE_PRECISION",
    "ENUM",
    "FLOAT",
    "HSTORE",
    "INET",
    "INTEGER",
    "INTERVAL",
    "JSON",
    "JSONB",
    "JSONPATH",
    "MACADDR",
    "MACADDR8",
    "MONEY",
    "NUMERIC",
    "OID",
    "REAL",
    "REGCLASS",
    "REGCONFIG",
    "SMALLINT",
    "TEXT",
    "TIME",
    "TIMESTAMP",
    "TSQUERY",
    "TSVECTOR",
    "UUID",
    "VARCHAR",
    "colspecs",
]
