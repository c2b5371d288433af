"""PostgreSQL types (``JSONB``, ``ARRAY``, ``INET`` ...) and its handling of the generic ones.

The PostgreSQL drivers return native Python values for numbers, date-times, intervals, UUIDs
and JSON, so most types need no result conversion here.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from athanor.sql import types as sqltypes
from athanor.sql.types import ARRAY, Processor


class JSON(sqltypes.JSON):
    """``JSON``; the driver decodes values, so results pass through."""

    def result_processor(self, dialect: Any, coltype: Any) -> Processor | None:
        return None


class JSONB(JSON):
    """``JSONB``: binary JSON, indexable."""


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

colspecs: dict[type, type] = {sqltypes.JSON: JSON, ARRAY: _ARRAY}
"""Generic type -> the PostgreSQL variant."""

__all__ = [
    "ARRAY",
    "BIGINT",
    "BOOLEAN",
    "BYTEA",
    "CHAR",
    "CIDR",
    "DATE",
    "DOUBLE_PRECISION",
    "ENUM",
    "INET",
    "INTEGER",
    "INTERVAL",
    "JSON",
    "JSONB",
    "MACADDR",
    "NUMERIC",
    "REAL",
    "SMALLINT",
    "TEXT",
    "TIME",
    "TIMESTAMP",
    "TSVECTOR",
    "UUID",
    "VARCHAR",
    "colspecs",
]
