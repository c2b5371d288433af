"""PostgreSQL's differences from the generic SQL compiler."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from athanor import exc
from athanor.sql import elements as el
from athanor.sql.compiler import RESERVED_WORDS, IdentifierPreparer, SQLCompiler, regexp_flags

PG_RESERVED = RESERVED_WORDS | frozenset(
    [
        "concurrently",
        "current_catalog",
        "current_schema",
        "freeze",
        "ilike",
        "isnull",
        "notnull",
        "overlaps",
        "similar",
        "verbose",
    ]
)

_FIXED_LENGTH_CHAR = re.compile(r"\bN?CHAR\b")
"""``CHAR``/``NCHAR`` in a cast: without a length PostgreSQL reads them as ``CHAR(1)``."""

_ARRAY_ELEMENTS: dict[str, type] = {
    "INTEGER": int,
    "BIGINT": int,
    "SMALLINT": int,
    "VARCHAR": str,
    "TEXT": str,
    "BOOLEAN": bool,
    "DOUBLE PRECISION": float,
    "REAL": float,
    "NUMERIC": Decimal,
    "DATE": date,
    "TIMESTAMP WITHOUT TIME ZONE": datetime,
    "TIMESTAMP WITH TIME ZONE": datetime,
    "TIME WITHOUT TIME ZONE": time,
    "INTERVAL": timedelta,
    "UUID": UUID,
    "BYTEA": bytes,
}
"""The parameter casts whose values an INSERT may send as one array, and the one Python
type (besides None) those values must have: the drivers make an array's element type from
its first value, so a column of mixed types (or of subclasses) goes as VALUES rows, and
other types (JSON, enums, arrays, domains, CHAR) always do."""


def _sendable(kind: type) -> Callable[[list[Any]], bool]:
    """The test that a column's values all have type ``kind`` or are None; for dates and
    times also that they are all naive or all aware (one array cannot hold both)."""
    allowed = {kind, type(None)}
    if kind is datetime or kind is time:

        def same_kind_of_time(values: list[Any]) -> bool:
            return set(map(type, values)) <= allowed and (
                len({v.tzinfo is None for v in values if v is not None}) < 2
            )

        return same_kind_of_time

    def same_type(values: list[Any]) -> bool:
        return set(map(type, values)) <= allowed

    return same_type


_SENDABLE = {kind: _sendable(kind) for kind in set(_ARRAY_ELEMENTS.values())}


class PostgreSQLIdentifierPreparer(IdentifierPreparer):
    """PostgreSQL quoting; standard-conforming strings, no NUL characters."""

    reserved_words = PG_RESERVED

    def format_binary_literal(self, value: bytes) -> str:
        return "'\\x" + bytes(value).hex() + "'::bytea"


class PostgreSQLCompiler(SQLCompiler):
    """PostgreSQL: ILIKE, DISTINCT ON, sequences, richer FOR UPDATE."""

    supports_try_cast = False

    def visit_ilike_op_binary(self, binary: Any, **kw: Any) -> str:
        return (
            f"{self.process(binary.left, **kw)} ILIKE {self.process(binary.right, **kw)}"
            + self._escape_clause(binary)
        )

    def visit_not_ilike_op_binary(self, binary: Any, **kw: Any) -> str:
        return (
            f"{self.process(binary.left, **kw)} NOT ILIKE {self.process(binary.right, **kw)}"
            + self._escape_clause(binary)
        )

    bitwise_xor_sql = "#"

    def _bind_cast(self, bind: el.BindParameter, element: int | None) -> str:
        """Fixed-length strings are cast to ``BPCHAR`` (blank-padded, any length): a cast to
        ``CHAR`` would cut every value to its first character."""
        return _FIXED_LENGTH_CHAR.sub("BPCHAR", super()._bind_cast(bind, element))

    def columnar_rows(
        self, placeholders: list[str], binds: list[el.BindParameter]
    ) -> tuple[str, list[Callable[[list[Any]], bool]]] | None:
        """``SELECT * FROM unnest(%b::INTEGER[], %b::VARCHAR[])``: the rows of a batch in one
        array per column, cast as a single row's parameter would be, where the driver's
        dialect has an array placeholder (psycopg's)."""
        casts = [self._bind_cast(bind, None).removeprefix("::") for bind in binds]
        marks = [self.dialect.array_placeholder(mark) for mark in placeholders]
        if not all(cast in _ARRAY_ELEMENTS for cast in casts) or None in marks:
            return None
        arrays = ", ".join(f"{mark}::{cast}[]" for mark, cast in zip(marks, casts, strict=True))
        return f"SELECT * FROM unnest({arrays})", [_SENDABLE[_ARRAY_ELEMENTS[c]] for c in casts]

    def visit_aggregate_order_by(self, element: Any, **kw: Any) -> str:
        order = ", ".join(self.process(c, **kw) for c in element.order_by)
        return f"{self.process(element.target, **kw)} ORDER BY {order}"

    def regexp_match(self, binary: Any, negated: bool, **kw: Any) -> str:
        left = self.process(binary.left, **kw)
        pattern = self.process(binary.right, **kw)
        flags = regexp_flags(binary)
        operator = "!~" if negated else "~"
        if flags == "i":
            return f"{left} {operator}* {pattern}"
        return f"{left} {operator} {self.regexp_pattern(pattern, flags)}"

    def regexp_pattern(self, pattern: str, flags: str | None) -> str:
        if not flags:
            return pattern
        return f"({self.preparer.quote_literal('(?' + flags + ')')} || {pattern})"

    def regexp_replace(self, value: str, pattern: str, replacement: str, flags: str | None) -> str:
        if not flags:
            return f"REGEXP_REPLACE({value}, {pattern}, {replacement})"
        return (
            f"REGEXP_REPLACE({value}, {pattern}, {replacement}, "
            f"{self.preparer.quote_literal(flags)})"
        )

    def full_text_match(self, column: str, query: str) -> str:
        return f"{column} @@ plainto_tsquery({query})"

    def distinct_clause(self, select: Any, **kw: Any) -> str:
        if select._distinct_on:
            return (
                "DISTINCT ON ("
                + ", ".join(self.process(c, **kw) for c in select._distinct_on)
                + ") "
            )
        return "DISTINCT "

    def visit_next_value(self, element: Any, **kw: Any) -> str:
        seq = element.sequence
        name = self.preparer.quote(seq.name)
        if seq.schema:
            name = self.preparer.quote_schema(seq.schema) + "." + name
        return "nextval(" + self.preparer.quote_literal(name) + ")"

    def for_update_clause(self, select: Any, **kw: Any) -> str:
        fu = select._for_update
        assert fu is not None
        if fu.read:
            text = " FOR KEY SHARE" if fu.key_share else " FOR SHARE"
        else:
            text = " FOR NO KEY UPDATE" if fu.key_share else " FOR UPDATE"
        tables = list(fu.of_tables) + [c.table for c in fu.of_cols if c.table is not None]
        if tables:
            names = dict.fromkeys(self._from_name(t) for t in tables)
            text += " OF " + ", ".join(names)
        if fu.nowait:
            text += " NOWAIT"
        if fu.skip_locked:
            text += " SKIP LOCKED"
        return text

    def cast_type(self, type_: Any) -> str:
        try:
            return super().cast_type(type_)
        except exc.CompileError:
            return "TEXT"
