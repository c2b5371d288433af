"""SQLite's differences from the generic SQL compiler."""

from __future__ import annotations

from typing import Any

from athanor import exc
from athanor.sql.compiler import RESERVED_WORDS, IdentifierPreparer, SQLCompiler

SQLITE_RESERVED = RESERVED_WORDS | frozenset(
    [
        "abort",
        "action",
        "add",
        "after",
        "alter",
        "attach",
        "autoincrement",
        "before",
        "begin",
        "by",
        "cascade",
        "commit",
        "conflict",
        "database",
        "delete",
        "detach",
        "each",
        "escape",
        "exclusive",
        "exists",
        "explain",
        "fail",
        "glob",
        "if",
        "ignore",
        "immediate",
        "index",
        "indexed",
        "insert",
        "instead",
        "key",
        "match",
        "no",
        "nothing",
        "notnull",
        "of",
        "plan",
        "pragma",
        "query",
        "raise",
        "recursive",
        "regexp",
        "reindex",
        "release",
        "rename",
        "replace",
        "restrict",
        "row",
        "rollback",
        "savepoint",
        "set",
        "temp",
        "temporary",
        "transaction",
        "trigger",
        "update",
        "vacuum",
        "view",
        "virtual",
        "without",
    ]
)


_STRFTIME = {
    "year": "%Y",
    "month": "%m",
    "day": "%d",
    "hour": "%H",
    "minute": "%M",
    "second": "%S",
    "doy": "%j",
    "dow": "%w",
    "week": "%W",
    "epoch": "%s",
}


class SQLiteIdentifierPreparer(IdentifierPreparer):
    """SQLite quoting; NUL characters in literals are spliced in with ``char(0)``."""

    reserved_words = SQLITE_RESERVED

    def quote_literal(self, value: str) -> str:
        parts = value.split("\x00")
        quoted = ["'" + part.replace("'", "''") + "'" for part in parts]
        return " || char(0) || ".join(quoted) if len(quoted) > 1 else quoted[0]


class SQLiteCompiler(SQLCompiler):
    """SQLite: ``LIMIT -1 OFFSET n``, no locking clauses, ``CURRENT_TIMESTAMP`` for now()."""

    supports_try_cast = False
    supports_tablesample = False

    def values_from(self, element: Any, rows: list[list[str]], name: str) -> str:
        # SQLite names VALUES columns column1, column2 ... and takes no column list after
        # the alias, so a SELECT renames them.
        renamed = ", ".join(
            f"column{i} AS {self.preparer.quote(c.name)}"
            for i, c in enumerate(element._column_args, 1)
        )
        return f"(SELECT {renamed} FROM ({self.values_list(rows)})) AS {name}"

    def limit_clause(self, select: Any, **kw: Any) -> str:
        if select._fetch is not None and any(select._fetch):
            return self.fetch_clause(select, **kw)
        text = " LIMIT " + (
            self.process(select._limit, **kw) if select._limit is not None else "-1"
        )
        if select._offset is not None:
            text += " OFFSET " + self.process(select._offset, **kw)
        return text

    fetch_with_ties = False

    def for_update_clause(self, select: Any, **kw: Any) -> str:
        return ""

    def visit_extract(self, element: Any, **kw: Any) -> str:
        code = _STRFTIME.get(element.field)
        if code is None:
            raise exc.CompileError(f"SQLite cannot extract {element.field!r}")
        return f"CAST(STRFTIME('{code}', {self.process(element.expr, **kw)}) AS INTEGER)"

    def visit_now_func(self, func: Any, **kw: Any) -> str:
        return "CURRENT_TIMESTAMP"

    def aggregate_strings(self, expr: str, separator: str) -> str:
        return f"group_concat({expr}, {separator})"

    def visit_char_length_func(self, func: Any, **kw: Any) -> str:
        return f"length({self.process(func.clause_expr, **kw)})"

    def visit_is_distinct_from_binary(self, binary: Any, **kw: Any) -> str:
        return f"{self.process(binary.left, **kw)} IS NOT {self.process(binary.right, **kw)}"

    def true_divisor(self, right: str) -> str:
        return f"CAST({right} AS REAL)"

    def floor(self, quotient: str) -> str:
        # FLOOR() exists only where SQLite was built with its math functions.
        return f"(CAST({quotient} AS INTEGER) - ({quotient} < CAST({quotient} AS INTEGER)))"

    def integer_floor(self, quotient: str, type_: Any) -> str:
        return self.floor(quotient)

    def visit_bitwise_xor_op_binary(self, binary: Any, **kw: Any) -> str:
        left = self.process(binary.left, **kw)
        right = self.process(binary.right, **kw)
        return f"(({left} | {right}) - ({left} & {right}))"

    def regexp_pattern(self, pattern: str, flags: str | None) -> str:
        if not flags:
            return pattern
        return f"({self.preparer.quote_literal('(?' + flags + ')')} || {pattern})"

    def regexp_replace(self, value: str, pattern: str, replacement: str, flags: str | None) -> str:
        # regexp_replace() is a function the dialect adds to each connection.
        inline = flags.replace("g", "") if flags else None
        return f"regexp_replace({value}, {self.regexp_pattern(pattern, inline)}, {replacement})"

    def compound_member(self, rendered: str) -> str:
        # SQLite refuses a parenthesized member; a subquery reads the same rows.
        return f"SELECT * FROM ({rendered})"

    def delete_extra_from_clause(self, table: Any, extra_froms: list[Any], **kw: Any) -> str:
        """SQLite's DELETE reads one table: criteria on others must be subqueries."""
        if extra_froms:
            others = ", ".join(getattr(f, "name", None) or repr(f) for f in extra_froms)
            raise exc.CompileError(
                f"SQLite's DELETE reads only the table it deletes from, but the WHERE clause "
                f"of this DELETE FROM {table.name} names {others}; test the other tables in "
                f"a subquery instead: delete(t).where(t.c.id.in_(select(...)))"
            )
        return ""

    def lateral_function_prefix(self) -> str:
        """Nothing: a table-valued function already sees the FROM objects before it."""
        return ""

    def lateral_keyword(self) -> str:
        raise exc.CompileError(
            "SQLite has no LATERAL subqueries; use a correlated scalar subquery or a join"
        )

    def visit_not_match_op_binary(self, binary: Any, **kw: Any) -> str:
        raise exc.CompileError(
            "SQLite full-text tables cannot negate MATCH; select the rowids that match and "
            "use not_in() on them instead"
        )

    def visit_collection_aggregate(self, element: Any, **kw: Any) -> str:
        raise exc.CompileError(
            "SQLite has no ANY / ALL; compare with in_() or an EXISTS subquery instead"
        )

    def visit_is_not_distinct_from_binary(self, binary: Any, **kw: Any) -> str:
        return f"{self.process(binary.left, **kw)} IS {self.process(binary.right, **kw)}"

    def visit_next_value(self, element: Any, **kw: Any) -> str:
        raise exc.CompileError("SQLite has no sequences")

    def _conflict_target(self, clause: Any, **kw: Any) -> str:
        if clause.constraint_target is not None:
            raise exc.CompileError(
                "SQLite's ON CONFLICT cannot name a constraint; use index_elements=[...]"
            )
        return super()._conflict_target(clause, **kw)
