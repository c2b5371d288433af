"""MySQL/MariaDB differences from the generic SQL compiler."""

from __future__ import annotations

from typing import Any

from athanor import exc
from athanor.sql import operators
from athanor.sql import types as sqltypes
from athanor.sql.compiler import RESERVED_WORDS, IdentifierPreparer, SQLCompiler
from athanor.sql.elements import (
    ClauseList,
    ColumnClause,
    UnaryExpression,
    and_,
    case,
    literal_column,
)

MYSQL_RESERVED = RESERVED_WORDS | frozenset(
    [
        "accessible",
        "add",
        "alter",
        "before",
        "bigint",
        "blob",
        "by",
        "call",
        "cascade",
        "change",
        "char",
        "character",
        "condition",
        "continue",
        "convert",
        "cursor",
        "database",
        "databases",
        "day_hour",
        "day_microsecond",
        "day_minute",
        "day_second",
        "dec",
        "decimal",
        "declare",
        "delayed",
        "delete",
        "describe",
        "deterministic",
        "distinctrow",
        "div",
        "double",
        "drop",
        "dual",
        "each",
        "elseif",
        "enclosed",
        "escaped",
        "exists",
        "exit",
        "explain",
        "float",
        "float4",
        "float8",
        "force",
        "fulltext",
        "generated",
        "get",
        "high_priority",
        "hour_microsecond",
        "hour_minute",
        "hour_second",
        "if",
        "ignore",
        "index",
        "infile",
        "inout",
        "insensitive",
        "insert",
        "int",
        "int1",
        "int2",
        "int3",
        "int4",
        "int8",
        "integer",
        "interval",
        "iterate",
        "key",
        "keys",
        "kill",
        "leave",
        "linear",
        "lines",
        "load",
        "lock",
        "long",
        "longblob",
        "longtext",
        "loop",
        "low_priority",
        "match",
        "maxvalue",
        "mediumblob",
        "mediumint",
        "mediumtext",
        "middleint",
        "minute_microsecond",
        "minute_second",
        "mod",
        "modifies",
        "no_write_to_binlog",
        "numeric",
        "optimize",
        "option",
        "optionally",
        "out",
        "outfile",
        "partition",
        "precision",
        "procedure",
        "purge",
        "range",
        "read",
        "reads",
        "real",
        "regexp",
        "release",
        "rename",
        "repeat",
        "replace",
        "require",
        "resignal",
        "restrict",
        "return",
        "revoke",
        "rlike",
        "schema",
        "schemas",
        "second_microsecond",
        "sensitive",
        "separator",
        "set",
        "show",
        "signal",
        "smallint",
        "spatial",
        "specific",
        "sql",
        "sqlexception",
        "sqlstate",
        "sqlwarning",
        "sql_big_result",
        "sql_calc_found_rows",
        "sql_small_result",
        "ssl",
        "starting",
        "stored",
        "straight_join",
        "terminated",
        "tinyblob",
        "tinyint",
        "tinytext",
        "trigger",
        "undo",
        "unlock",
        "unsigned",
        "update",
        "usage",
        "use",
        "utc_date",
        "utc_time",
        "utc_timestamp",
        "varbinary",
        "varchar",
        "varcharacter",
        "varying",
        "virtual",
        "while",
        "write",
        "xor",
        "year_month",
        "zerofill",
        "rank",
        "row_number",
        "dense_rank",
        # MariaDB 10.11 also reserves these (window functions, CTEs, system versioning,
        # replication and table options).
        "asensitive",
        "delete_domain_id",
        "do_domain_ids",
        "ignore_domain_ids",
        "master_demote_to_replica",
        "master_demote_to_slave",
        "master_ssl_verify_server_cert",
        "over",
        "page_checksum",
        "parse_vcol_expr",
        "period",
        "portion",
        "read_write",
        "recursive",
        "ref_system_id",
        "rows",
        "sql_buffer_result",
        "sql_cache",
        "sql_no_cache",
        "stats_auto_recalc",
        "stats_persistent",
        "stats_sample_pages",
        "system",
    ]
)


class MySQLIdentifierPreparer(IdentifierPreparer):
    """Backtick quoting; string literals escape backslashes and NUL as MySQL reads them."""

    reserved_words = MYSQL_RESERVED
    initial_quote = "`"
    final_quote = "`"

    def quote_literal(self, value: str) -> str:
        escaped = value.replace("\\", "\\\\").replace("'", "''").replace("\x00", "\\0")
        return "'" + escaped + "'"


_CAST_NAMES: list[tuple[type, str]] = [
    (sqltypes.Integer, "SIGNED"),
    (sqltypes.Boolean, "SIGNED"),
    (sqltypes.DateTime, "DATETIME"),
    (sqltypes.Date, "DATE"),
    (sqltypes.Time, "TIME"),
    (sqltypes.LargeBinary, "BINARY"),
    (sqltypes.JSON, "JSON"),
    (sqltypes.String, "CHAR"),
]


class MySQLCompiler(SQLCompiler):
    """MySQL: ``LIMIT offset, count``, ``concat()``, ``<=>``, ``VALUES()`` in upserts."""

    fetch_parenthesised = False

    @property
    def fetch_with_ties(self) -> bool:  # type: ignore[override]
        """MariaDB 10.6+ takes FETCH FIRST ... WITH TIES; MySQL has no FETCH clause.  Before
        the first connection tells which server this is, the clause is rendered and the
        server judges it."""
        dialect = self.dialect
        version = getattr(dialect, "server_version_info", None)
        if version is None:
            return True
        return bool(getattr(dialect, "is_mariadb", False) and tuple(version[:2]) >= (10, 6))

    supports_try_cast = False
    supports_tablesample = False

    def values_list(self, rows: list[list[str]], names: list[str] | None = None) -> str:
        # MariaDB names VALUES columns after the first row's values and MySQL spells rows
        # ROW(...); a UNION ALL of one-row SELECTs means the same on both.
        first = rows[0]
        if names is not None:
            first = [f"{value} AS {name}" for value, name in zip(first, names, strict=True)]
        selects = ["SELECT " + ", ".join(first)]
        selects.extend("SELECT " + ", ".join(row) for row in rows[1:])
        return " UNION ALL ".join(selects)

    def values_from(self, element: Any, rows: list[list[str]], name: str) -> str:
        names = [self.preparer.quote(c.name) for c in element._column_args]
        return f"({self.values_list(rows, names)}) AS {name}"

    def limit_clause(self, select: Any, **kw: Any) -> str:
        if select._fetch is not None and any(select._fetch):
            return self.fetch_clause(select, **kw)
        limit = (
            self.process(select._limit, **kw)
            if select._limit is not None
            else "18446744073709551615"
        )
        if select._offset is not None:
            return f" LIMIT {self.process(select._offset, **kw)}, {limit}"
        return f" LIMIT {limit}"

    def visit_concat_op_binary(self, binary: Any, **kw: Any) -> str:
        return f"concat({self.process(binary.left, **kw)}, {self.process(binary.right, **kw)})"

    def visit_is_distinct_from_binary(self, binary: Any, **kw: Any) -> str:
        return f"NOT ({self.process(binary.left, **kw)} <=> {self.process(binary.right, **kw)})"

    ctes_follow_insert = True

    def visit_update(self, stmt: Any, **kw: Any) -> str:
        text = super().visit_update(stmt, **kw)
        self._refuse_dml_ctes("UPDATE")
        return text

    def visit_delete(self, stmt: Any, **kw: Any) -> str:
        text = super().visit_delete(stmt, **kw)
        self._refuse_dml_ctes("DELETE")
        return text

    def _refuse_dml_ctes(self, kind: str) -> None:
        if self._ctes and getattr(self.dialect, "is_mariadb", False):
            raise exc.CompileError(
                f"MariaDB has no WITH (common table expressions) before {kind}; use the "
                "CTE's SELECT as a subquery (.subquery() instead of .cte()) in the statement"
            )

    def visit_funcfilter(self, element: Any, **kw: Any) -> str:
        """MySQL and MariaDB have no ``FILTER (WHERE ...)``: an aggregate of one argument
        reads ``CASE WHEN criteria THEN argument END`` instead, whose NULLs it skips."""
        func = element.func
        args = func.clause_expr.clauses
        if len(args) != 1 or (
            isinstance(args[0], UnaryExpression) and args[0].operator is operators.distinct_op
        ):
            raise exc.CompileError(
                f"MySQL has no FILTER (WHERE ...) clause, and {func.name}() with these "
                "arguments cannot be rewritten to one; put case((criteria, value)) inside the "
                "aggregate instead"
            )
        (arg,) = args
        if isinstance(arg, ColumnClause) and arg.is_literal and arg.name == "*":
            arg = literal_column("1")
        rewritten = func._generate()
        rewritten.clause_expr = ClauseList(case((and_(*element.criterion), arg)))
        result: str = self.process(rewritten, **kw)
        return result

    def table_hint(self, text: str, name: str) -> str:
        """``t USE INDEX (ix)``: the hint after the table (``%(name)s`` names it)."""
        return " " + text.replace("%(name)s", name)

    def lateral_keyword(self) -> str:
        if getattr(self.dialect, "is_mariadb", False):
            raise exc.CompileError(
                "MariaDB has no LATERAL subqueries (MySQL 8.0.14+ has); use a correlated "
                "scalar subquery or a join"
            )
        return "LATERAL"

    def true_divisor(self, right: str) -> str:
        return right  # MySQL's / is true division already

    def integer_floor(self, quotient: str, type_: Any) -> str:
        return f"CAST({self.floor(quotient)} AS SIGNED)"

    def regexp_pattern(self, pattern: str, flags: str | None) -> str:
        # REGEXP follows the column's collation, case-insensitive by default; without the
        # "i" flag a match is case-sensitive, as on the other databases.
        inline = flags or ""
        if "i" not in inline:
            inline = inline + "-i"
        return f"CONCAT({self.preparer.quote_literal('(?' + inline + ')')}, {pattern})"

    def visit_mysql_match(self, element: Any, **kw: Any) -> str:
        columns = ", ".join(self.process(c, **kw) for c in element.columns)
        against = self.process(element.against, **kw)
        modifiers = element.modifiers()
        return f"MATCH ({columns}) AGAINST ({against}{' ' + modifiers if modifiers else ''})"

    def full_text_match(self, column: str, query: str) -> str:
        return f"MATCH ({column}) AGAINST ({query} IN BOOLEAN MODE)"

    def visit_is_not_distinct_from_binary(self, binary: Any, **kw: Any) -> str:
        return f"{self.process(binary.left, **kw)} <=> {self.process(binary.right, **kw)}"

    def visit_json_getitem_op_binary(self, binary: Any, **kw: Any) -> str:
        left = self.process(binary.left, **kw)
        extract = f"JSON_EXTRACT({left}, {self.process(binary.right, **kw)})"
        as_type = getattr(binary, "as_type", None)
        if as_type is None:
            return extract
        text = f"JSON_UNQUOTE({extract})"
        if isinstance(as_type, sqltypes.Boolean):
            # a JSON true / false reads back as text; CAST('true' AS SIGNED) would be 0
            return f"CASE {text} WHEN 'true' THEN 1 WHEN 'false' THEN 0 END"
        return text if as_type._is_string else f"CAST({text} AS {self.cast_type(as_type)})"

    def visit_nulls_first_op_unary(self, unary: Any, inner: str) -> str:
        return self._nulls_order(unary, inner, "IS NOT NULL")

    def visit_nulls_last_op_unary(self, unary: Any, inner: str) -> str:
        return self._nulls_order(unary, inner, "IS NULL")

    def _nulls_order(self, unary: Any, inner: str, test: str) -> str:
        # MySQL has no NULLS FIRST/LAST: sort on the NULL test first.
        base = unary.element
        while isinstance(base, UnaryExpression) and base.modifier is not None:
            base = base.element
        return f"{self.process(base)} {test}, {inner}"

    def visit_next_value(self, element: Any, **kw: Any) -> str:
        sequence = element.sequence
        if not self.dialect.supports_sequences:
            raise exc.CompileError(
                f"MySQL has no sequences (Sequence {sequence.name!r}); MariaDB 10.3+ has them"
            )
        name = self.preparer.quote(sequence.name)
        if sequence.schema:
            name = f"{self.preparer.quote(sequence.schema)}.{name}"
        return f"NEXT VALUE FOR {name}"

    def _sequence_in_statement(self, col: Any) -> bool:
        # otherwise AUTO_INCREMENT generates the column's values (see supports_sequences)
        return bool(self.dialect.sequence_generates(col))

    def _implicit_returning_pk(self, table: Any) -> bool:
        """A key generated by a sequence inside the INSERT is read back with RETURNING
        (there is no ``lastrowid`` for it)."""
        autoinc = getattr(table, "autoincrement_column", None)  # None for a table() clause
        return bool(
            autoinc is not None
            and self.dialect.sequence_generates(autoinc)
            and self.dialect.insert_returning
        )

    def cast_type(self, type_: Any) -> str:
        if isinstance(type_, sqltypes.Numeric) and not isinstance(type_, sqltypes.Float):
            if type_.precision is not None:
                return f"DECIMAL({type_.precision}, {type_.scale or 0})"
            return "DECIMAL"
        if isinstance(type_, sqltypes.Float):
            return "DOUBLE"
        for cls, name in _CAST_NAMES:
            if isinstance(type_, cls):
                return name
        return super().cast_type(type_)

    def for_update_clause(self, select: Any, **kw: Any) -> str:
        fu = select._for_update
        assert fu is not None
        text = " LOCK IN SHARE MODE" if fu.read else " FOR UPDATE"
        if fu.nowait:
            text += " NOWAIT"
        if fu.skip_locked:
            text += " SKIP LOCKED"
        return text

    def visit_random_func(self, func: Any, **kw: Any) -> str:
        return f"rand({self.process(func.clause_expr, **kw)})"

    def aggregate_strings(self, expr: str, separator: str) -> str:
        return f"group_concat({expr} SEPARATOR {separator})"

    def default_values_clause(self) -> str:
        return " () VALUES ()"

    def update_head(self, table: Any, extra_froms: list[Any], **kw: Any) -> str:
        head = self.preparer.format_table(table)
        if extra_froms:
            head += ", " + ", ".join(self.process(f, asfrom=True, **kw) for f in extra_froms)
        return head

    def update_from_clause(self, table: Any, extra_froms: list[Any], **kw: Any) -> str:
        return ""

    def delete_extra_from_clause(self, table: Any, extra_froms: list[Any], **kw: Any) -> str:
        if not extra_froms:
            return ""
        froms = [self.preparer.format_table(table)] + [
            self.process(f, asfrom=True, **kw) for f in extra_froms
        ]
        return " USING " + ", ".join(froms)

    def visit_on_duplicate_key_update(self, clause: Any, **kw: Any) -> str:
        table = self.statement.table
        sets = [
            f"{self.preparer.quote(table.c[key].name)} = {self.process(value, **kw)}"
            for key, value in clause.update
        ]
        return "ON DUPLICATE KEY UPDATE " + ", ".join(sets)
