"""SQLite: ``from athanor.dialects import sqlite``; ``sqlite.dialect()``, ``sqlite.insert()``."""

from athanor.dialects.sqlite.base import SQLiteDialect, dialect
from athanor.dialects.sqlite.dml import Insert, insert
from athanor.sql.types import (
    BLOB,
    BOOLEAN,
    CHAR,
    DATE,
    DATETIME,
    DECIMAL,
    FLOAT,
    INTEGER,
    JSON,
    NUMERIC,
    REAL,
    SMALLINT,
    TEXT,
    TIME,
    TIMESTAMP,
    VARCHAR,
)

__all__ = [
    "BLOB",
    "BOOLEAN",
    "CHAR",
    "DATE",
    "DATETIME",
    "DECIMAL",
    "FLOAT",
    "INTEGER",
    "JSON",
    "NUMERIC",
    "REAL",
    "SMALLINT",
    "TEXT",
    "TIME",
    "TIMESTAMP",
    "VARCHAR",
    "Insert",
    "SQLiteDialect",
    "dialect",
    "insert",
]
