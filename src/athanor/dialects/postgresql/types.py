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

colspecs: dict[type, type] = {sqltypes.JSON: JSON}
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
