"""Schema reflection for PostgreSQL through ``pg_catalog``, mixed into the PostgreSQL dialect."""

from __future__ import annotations

import re
from typing import Any, NamedTuple

from athanor.dialects.postgresql import types as pgtypes
from athanor.engine.reflection import DialectReflection, ReflectedDict, parse_type_string
from athanor.sql import types as sqltypes

ischema_names: dict[str, Any] = {
    "integer": sqltypes.INTEGER,
    "bigint": sqltypes.BIGINT,
    "smallint": sqltypes.SMALLINT,
    "character varying": sqltypes.VARCHAR,
    "character": sqltypes.CHAR,
    "text": sqltypes.TEXT,
    "boolean": sqltypes.BOOLEAN,
    "real": sqltypes.REAL,
    "double precision": pgtypes.DOUBLE_PRECISION,
    "numeric": sqltypes.NUMERIC,
    "date": sqltypes.DATE,
    "timestamp": sqltypes.TIMESTAMP,
    "timestamp without time zone": sqltypes.TIMESTAMP,
    "timestamp with time zone": sqltypes.TIMESTAMP,
    "time": sqltypes.TIME,
    "time without time zone": sqltypes.TIME,
    "time with time zone": sqltypes.TIME,
    "interval": pgtypes.INTERVAL,
    "bytea": pgtypes.BYTEA,
    "json": sqltypes.JSON,
    "jsonb": pgtypes.JSONB,
    "uuid": sqltypes.UUID,
    "inet": pgtypes.INET,
    "cidr": pgtypes.CIDR,
    "macaddr": pgtypes.MACADDR,
    "tsvector": pgtypes.TSVECTOR,
}
"""PostgreSQL type name (as ``format_type`` spells it) -> athanor type class."""

# The table's oid from its name and schema, as a scalar subquery usable in every query below.
_TABLE_OID = (
    "(SELECT c.oid FROM pg_catalog.pg_class c "
    "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
    "WHERE c.relname = :table AND n.nspname = :schema)"
)

_COLUMNS = f"""
SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), a.attnotnull,
       pg_catalog.pg_get_expr(d.adbin, d.adrelid), CAST(a.attidentity AS text),
       CAST(a.attgenerated AS text),
       pg_catalog.col_description(a.attrelid, a.attnum), CAST(t.typtype AS text), t.typname,
       tn.nspname,
       t.oid, pg_catalog.format_type(t.typbasetype, t.typtypmod), t.typnotnull,
       s.seqstart, s.seqincrement, s.seqmin, s.seqmax, s.seqcycle, s.seqcache,
       CAST(et.typtype AS text), et.typname, etn.nspname, et.oid, a.attndims
FROM pg_catalog.pg_attribute a
JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
JOIN pg_catalog.pg_namespace tn ON tn.oid = t.typnamespace
LEFT JOIN pg_catalog.pg_type et ON CAST(t.typcategory AS text) = 'A' AND et.oid = t.typelem
LEFT JOIN pg_catalog.pg_namespace etn ON etn.oid = et.typnamespace
LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
LEFT JOIN pg_catalog.pg_depend dep ON a.attidentity <> '' AND dep.refobjid = a.attrelid
     AND dep.refobjsubid = a.attnum AND dep.classid = CAST('pg_catalog.pg_class' AS regclass)
     AND dep.deptype = 'i'
LEFT JOIN pg_catalog.pg_sequence s ON s.seqrelid = dep.objid
WHERE a.attrelid = {_TABLE_OID} AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum
"""

_ENUM_LABELS = """
SELECT e.enumlabel FROM pg_catalog.pg_enum e WHERE e.enumtypid = :oid ORDER BY e.enumsortorder
"""

# Key columns of every constraint of one kind, one row per column in key order.
_CONSTRAINT_COLUMNS = f"""
SELECT con.conname, a.attname
FROM pg_catalog.pg_constraint con
CROSS JOIN LATERAL unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord)
JOIN pg_catalog.pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
WHERE con.conrelid = {_TABLE_OID} AND CAST(con.contype AS text) = :kind
ORDER BY con.conname, k.ord
"""

_CONSTRAINT_COMMENT = "pg_catalog.obj_description(con.oid, 'pg_constraint')"

_UNIQUES = f"""
SELECT con.conname, a.attname, k.ord > i.indnkeyatts, {_CONSTRAINT_COMMENT}, {{nulls}}
FROM pg_catalog.pg_constraint con
JOIN pg_catalog.pg_index i ON i.indexrelid = con.conindid
CROSS JOIN LATERAL unnest(CAST(i.indkey AS int2[])) WITH ORDINALITY AS k(attnum, ord)
JOIN pg_catalog.pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
WHERE con.conrelid = {_TABLE_OID} AND con.contype = 'u'
ORDER BY con.conname, k.ord
"""

_FOREIGN_KEYS = f"""
SELECT con.conname, la.attname, rn.nspname, rc.relname, ra.attname,
       CAST(con.confupdtype AS text), CAST(con.confdeltype AS text),
       con.condeferrable, con.condeferred, {_CONSTRAINT_COMMENT}
FROM pg_catalog.pg_constraint con
CROSS JOIN LATERAL unnest(con.conkey, con.confkey) WITH ORDINALITY AS k(local, remote, ord)
JOIN pg_catalog.pg_attribute la ON la.attrelid = con.conrelid AND la.attnum = k.local
JOIN pg_catalog.pg_class rc ON rc.oid = con.confrelid
JOIN pg_catalog.pg_namespace rn ON rn.oid = rc.relnamespace
JOIN pg_catalog.pg_attribute ra ON ra.attrelid = con.confrelid AND ra.attnum = k.remote
WHERE con.conrelid = {_TABLE_OID} AND con.contype = 'f'
ORDER BY con.conname, k.ord
"""

_INDEXES = f"""
SELECT ic.relname, i.indisunique, k.ord, a.attname,
       pg_catalog.pg_get_indexdef(i.indexrelid, CAST(k.ord AS int), true),
       k.ord > i.indnkeyatts, pg_catalog.pg_get_expr(i.indpred, i.indrelid, true),
       am.amname, con.conname, i.indoption[k.ord - 1]
FROM pg_catalog.pg_index i
JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
JOIN pg_catalog.pg_am am ON am.oid = ic.relam
CROSS JOIN LATERAL unnest(CAST(i.indkey AS int2[])) WITH ORDINALITY AS k(attnum, ord)
LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
LEFT JOIN pg_catalog.pg_constraint con ON con.conindid = i.indexrelid
     AND con.contype IN ('u', 'x') AND con.conrelid = i.indrelid
WHERE i.indrelid = {_TABLE_OID} AND NOT i.indisprimary
ORDER BY ic.relname, k.ord
"""

_CHECKS = f"""
SELECT con.conname, pg_catalog.pg_get_constraintdef(con.oid, true), {_CONSTRAINT_COMMENT}
FROM pg_catalog.pg_constraint con
WHERE con.conrelid = {_TABLE_OID} AND con.contype = 'c'
ORDER BY con.conname
"""

_RELATIONS = """
SELECT c.relname FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = :schema AND strpos(:kinds, CAST(c.relkind AS text)) > 0 AND NOT c.relispartition
ORDER BY c.relname
"""

_TEMP_RELATIONS = """
SELECT c.relname FROM pg_catalog.pg_class c
WHERE c.relnamespace = pg_catalog.pg_my_temp_schema()
  AND strpos(:kinds, CAST(c.relkind AS text)) > 0 AND NOT c.relispartition
ORDER BY c.relname
"""


class _ColumnRow(NamedTuple):
    """One row of the column query above."""

    name: str
    spec: str
    notnull: bool
    default: str | None
    identity: str
    generated: str
    comment: str | None
    typtype: str
    typname: str
    typschema: str
    type_oid: int
    base_spec: str
    typnotnull: bool
    seqstart: int | None
    seqincrement: int | None
    seqmin: int | None
    seqmax: int | None
    seqcycle: bool | None
    seqcache: int | None
    elem_typtype: str | None
    """The element type's kind, name, schema and oid, for an array."""
    elem_typname: str | None
    elem_typschema: str | None
    elem_oid: int | None
    ndims: int
    """The array dimensions the column was declared with (0 where unknown, as in views)."""


_FK_ACTIONS = {"a": None, "r": "RESTRICT", "c": "CASCADE", "n": "SET NULL", "d": "SET DEFAULT"}
_CHECK_DEF = re.compile(r"^CHECK \((?P<body>.*)\)(?P<flags>(?: NO INHERIT| NOT VALID)*)$", re.S)
# Casts PostgreSQL adds when it prints an expression: after literals (``(0)::numeric``,
# ``'x'::text``) and on string columns compared with text (``name::text``).  String literals
# are matched whole first, so nothing inside them is touched.
_TYPE_NAME_SQL = r"[a-z_]+(?: [a-z_]+)*(?:\(\d+\))?"
_PRINTED_CASTS = re.compile(
    rf"(?P<string>'(?:[^']|'')*')(?:::{_TYPE_NAME_SQL})?"
    rf"|\((?P<grouped>-?(?:'(?:[^']|'')*'|\d+(?:\.\d+)?))\)::{_TYPE_NAME_SQL}"
    rf"|(?P<number>(?<![\w.])\d+(?:\.\d+)?)::{_TYPE_NAME_SQL}"
    r'|(?P<name>(?<![\w."])(?:[a-z_][a-z0-9_$]*|"(?:[^"]|"")+"))'
    r"::(?:text|character varying|bpchar)\b"
)


class PostgreSQLReflection(DialectReflection):
    """Reflection methods of the PostgreSQL dialect (queries on ``pg_catalog``)."""

    ischema_names = ischema_names

    def get_default_schema_name(self, connection: Any) -> str:
        value: str = self._fetch(connection, "SELECT current_schema()")[0][0]
        return value

    def get_schema_names(self, connection: Any) -> list[str]:
        rows = self._fetch(
            connection,
            "SELECT nspname FROM pg_catalog.pg_namespace WHERE left(nspname, 3) <> 'pg_' "
            "AND nspname <> 'information_schema' ORDER BY nspname",
        )
        return [row[0] for row in rows]

    def _relations(self, connection: Any, schema: str | None, kinds: str) -> list[str]:
        schema = self._schema_or_default(connection, schema)
        return [row[0] for row in self._fetch(connection, _RELATIONS, schema=schema, kinds=kinds)]

    def get_table_names(self, connection: Any, schema: str | None = None) -> list[str]:
        return self._relations(connection, schema, "rp")

    def get_view_names(self, connection: Any, schema: str | None = None) -> list[str]:
        return self._relations(connection, schema, "v")

    def get_materialized_view_names(self, connection: Any, schema: str | None = None) -> list[str]:
        return self._relations(connection, schema, "m")

    def get_temp_table_names(self, connection: Any) -> list[str]:
        return [row[0] for row in self._fetch(connection, _TEMP_RELATIONS, kinds="rp")]

    def get_temp_view_names(self, connection: Any) -> list[str]:
        return [row[0] for row in self._fetch(connection, _TEMP_RELATIONS, kinds="v")]

    def get_sequence_names(self, connection: Any, schema: str | None = None) -> list[str]:
        """Names of the sequences in ``schema``."""
        return self._relations(connection, schema, "S")

    def get_view_definition(
        self, connection: Any, view_name: str, schema: str | None = None
    ) -> str | None:
        rows = self._fetch(
            connection,
            f"SELECT pg_catalog.pg_get_viewdef({_TABLE_OID})",
            **self._table_params(connection, view_name, schema),
        )
        return rows[0][0] if rows else None

    def has_table(self, connection: Any, table_name: str, schema: str | None = None) -> bool:
        rows = self._fetch(
            connection,
            f"SELECT 1 FROM pg_catalog.pg_class WHERE oid = {_TABLE_OID} "
            "AND relkind IN ('r', 'p', 'v', 'm', 'f')",
            table=table_name,
            schema=self._schema_or_default(connection, schema),
        )
        return bool(rows)

    def has_type(self, connection: Any, type_name: str, schema: str | None = None) -> bool:
        """Whether a type (e.g. a native enum) of that name exists in ``schema``."""
        rows = self._fetch(
            connection,
            "SELECT 1 FROM pg_catalog.pg_type t "
            "JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace "
            "WHERE t.typname = :name AND n.nspname = :schema",
            name=type_name,
            schema=self._schema_or_default(connection, schema),
        )
        return bool(rows)

    def get_enums(self, connection: Any, schema: str | None = None) -> list[ReflectedDict]:
        """The native enum types of ``schema`` (``"*"``: of every schema): name, schema,
        visible (found without a schema prefix) and labels in their declared order."""
        rows = self._fetch(
            connection,
            "SELECT t.typname, n.nspname, pg_catalog.pg_type_is_visible(t.oid), "
            "COALESCE((SELECT array_agg(e.enumlabel ORDER BY e.enumsortorder) "
            "FROM pg_catalog.pg_enum e WHERE e.enumtypid = t.oid), '{}') "
            "FROM pg_catalog.pg_type t "
            "JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace "
            "WHERE t.typtype = 'e' AND (:schema = '*' OR n.nspname = :schema) "
            "ORDER BY n.nspname, t.typname",
            schema="*" if schema == "*" else self._schema_or_default(connection, schema),
        )
        return [
            {"name": name, "schema": nspname, "visible": visible, "labels": list(labels)}
            for name, nspname, visible, labels in rows
        ]

    def is_type_in_use(self, connection: Any, type_name: str, schema: str | None = None) -> bool:
        """Whether a column of some table or view (still) has the type, or an array of it."""
        rows = self._fetch(
            connection,
            "SELECT 1 FROM pg_catalog.pg_attribute a "
            "JOIN pg_catalog.pg_class c ON c.oid = a.attrelid AND c.relkind <> 'c' "
            "JOIN pg_catalog.pg_type t ON t.oid = a.atttypid "
            "LEFT JOIN pg_catalog.pg_type e ON e.oid = t.typelem "
            "JOIN pg_catalog.pg_namespace n "
            "ON n.oid = CASE WHEN t.typname = :name THEN t.typnamespace ELSE e.typnamespace END "
            "WHERE (t.typname = :name OR e.typname = :name) AND n.nspname = :schema "
            "AND NOT a.attisdropped LIMIT 1",
            name=type_name,
            schema=self._schema_or_default(connection, schema),
        )
        return bool(rows)

    def _table_params(self, connection: Any, table_name: str, schema: str | None) -> ReflectedDict:
        return {"table": table_name, "schema": self._schema_or_default(connection, schema)}

    def get_columns(
        self, connection: Any, table_name: str, schema: str | None = None
    ) -> list[ReflectedDict]:
        params = self._table_params(connection, table_name, schema)
        columns = []
        for raw in self._fetch(connection, _COLUMNS, **params):
            row = _ColumnRow(*raw)
            column: ReflectedDict = {
                "name": row.name,
                "type": self._column_type(connection, row, row.spec),
                "nullable": not row.notnull,
                "default": None,
                "autoincrement": False,
                "comment": row.comment,
            }
            if row.generated:
                column["computed"] = {"sqltext": row.default, "persisted": row.generated == "s"}
            elif row.identity:
                column["autoincrement"] = True
                column["identity"] = {
                    "always": row.identity == "a",
                    "start": row.seqstart,
                    "increment": row.seqincrement,
                    "minvalue": row.seqmin,
                    "maxvalue": row.seqmax,
                    "cycle": row.seqcycle,
                    "cache": row.seqcache,
                }
            elif row.default is not None and row.default.startswith("nextval("):
                column["autoincrement"] = True
            else:
                column["default"] = (
                    _without_literal_casts(row.default) if row.default is not None else None
                )
            columns.append(column)
        return columns

    def _column_type(self, connection: Any, row: _ColumnRow | None, spec: str) -> Any:
        """The athanor type of a column from ``format_type`` text and its pg_type row."""
        if spec.endswith("[]"):
            brackets = spec.count("[]")
            # format_type() spells an array of any dimensions with one "[]"; the declared
            # dimensions are kept with the column.
            dimensions = max(brackets, row.ndims if row is not None else 0)
            if row is not None and row.elem_typtype == "e":
                assert row.elem_typname is not None and row.elem_typschema is not None
                item = self._enum_type(
                    connection, row.elem_oid, row.elem_typname, row.elem_typschema
                )
            else:
                item = self._column_type(connection, None, spec[: -2 * brackets])
            return sqltypes.ARRAY(item, dimensions=dimensions if dimensions > 1 else None)
        if row is not None and row.typtype == "e":
            return self._enum_type(connection, row.type_oid, row.typname, row.typschema)
        if row is not None and row.typtype == "d":
            spec = row.base_spec
        name, args, rest = parse_type_string(spec)
        full_name = f"{name} {rest}" if rest else name
        kw: dict[str, Any] = {}
        if full_name in ("timestamp with time zone", "time with time zone"):
            kw["timezone"] = True
        if name in ("timestamp", "time", "interval"):
            args = []
        return self._resolve_type(full_name, args, **kw)

    def _enum_type(self, connection: Any, oid: Any, name: str, schema: str) -> Any:
        """A native enum type with its labels; its schema is None when it is the default
        schema (as for a model's ``Enum`` without ``schema=``)."""
        labels = [r[0] for r in self._fetch(connection, _ENUM_LABELS, oid=oid)]
        if schema == self._schema_or_default(connection, None):
            return sqltypes.Enum(*labels, name=name)
        return sqltypes.Enum(*labels, name=name, schema=schema)

    def get_pk_constraint(
        self, connection: Any, table_name: str, schema: str | None = None
    ) -> ReflectedDict:
        params = self._table_params(connection, table_name, schema)
        rows = self._fetch(connection, _CONSTRAINT_COLUMNS, kind="p", **params)
        return {
            "name": rows[0][0] if rows else None,
            "constrained_columns": [row[1] for row in rows],
        }

    def get_unique_constraints(
        self, connection: Any, table_name: str, schema: str | None = None
    ) -> list[ReflectedDict]:
        params = self._table_params(connection, table_name, schema)
        # NULLS NOT DISTINCT came with PostgreSQL 15
        nulls = "i.indnullsnotdistinct" if (self.server_version_info or ()) >= (15,) else "false"
        found: dict[str, ReflectedDict] = {}
        for name, column, included, comment, nulls_not_distinct in self._fetch(
            connection, _UNIQUES.format(nulls=nulls), **params
        ):
            unique = found.get(name)
            if unique is None:
                unique = found[name] = {
                    "name": name,
                    "column_names": [],
                    "comment": comment,
                    "dialect_options": {
                        "postgresql_include": [],
                        "postgresql_nulls_not_distinct": nulls_not_distinct,
                    },
                }
            if included:
                unique["dialect_options"]["postgresql_include"].append(column)
            else:
                unique["column_names"].append(column)
        return list(found.values())

    def get_foreign_keys(
        self, connection: Any, table_name: str, schema: str | None = None
    ) -> list[ReflectedDict]:
        params = self._table_params(connection, table_name, schema)
        found: dict[str, ReflectedDict] = {}
        for row in self._fetch(connection, _FOREIGN_KEYS, **params):
            (
                name,
                local,
                ref_schema,
                ref_table,
                remote,
                upd,
                dele,
                deferrable,
                deferred,
                comment,
            ) = row
            fk = found.get(name)
            if fk is None:
                options: dict[str, Any] = {
                    "onupdate": _FK_ACTIONS[upd],
                    "ondelete": _FK_ACTIONS[dele],
                }
                if deferrable:
                    options["deferrable"] = True
                    options["initially"] = "DEFERRED" if deferred else "IMMEDIATE"
                fk = found[name] = {
                    "name": name,
                    "constrained_columns": [],
                    "referred_schema": self._referred_schema(connection, schema, ref_schema),
                    "referred_table": ref_table,
                    "referred_columns": [],
                    "options": {k: v for k, v in options.items() if v is not None},
                    "comment": comment,
                }
            fk["constrained_columns"].append(local)
            fk["referred_columns"].append(remote)
        return list(found.values())

    def get_indexes(
        self, connection: Any, table_name: str, schema: str | None = None
    ) -> list[ReflectedDict]:
        params = self._table_params(connection, table_name, schema)
        found: dict[str, ReflectedDict] = {}
        for row in self._fetch(connection, _INDEXES, **params):
            name, unique, _, column, definition, included, where, method, constraint, sort = row
            index = found.get(name)
            if index is None:
                options: dict[str, Any] = {}
                if where:
                    options["postgresql_where"] = _without_literal_casts(where)
                if method != "btree":
                    options["postgresql_using"] = method
                index = found[name] = {
                    "name": name,
                    "unique": unique,
                    "column_names": [],
                    "expressions": [],
                    "include_columns": [],
                    "dialect_options": options,
                }
                if constraint:
                    index["duplicates_constraint"] = constraint
            if included:
                index["include_columns"].append(column)
            else:
                index["column_names"].append(column)
                index["expressions"].append(
                    column if column is not None else _without_literal_casts(definition)
                )
                if sort:
                    key = column if column is not None else _without_literal_casts(definition)
                    index.setdefault("column_sorting", {})[key] = _sort_flags(sort)
        for index in found.values():
            if all(column is not None for column in index["column_names"]):
                del index["expressions"]
            if index["include_columns"]:
                index["dialect_options"]["postgresql_include"] = index["include_columns"]
        return list(found.values())

    def get_check_constraints(
        self, connection: Any, table_name: str, schema: str | None = None
    ) -> list[ReflectedDict]:
        params = self._table_params(connection, table_name, schema)
        checks = []
        for name, definition, comment in self._fetch(connection, _CHECKS, **params):
            match = _CHECK_DEF.match(definition)
            sqltext = match.group("body") if match else definition
            checks.append(
                {"name": name, "sqltext": _without_literal_casts(sqltext), "comment": comment}
            )
        return checks

    def get_table_comment(
        self, connection: Any, table_name: str, schema: str | None = None
    ) -> ReflectedDict:
        params = self._table_params(connection, table_name, schema)
        rows = self._fetch(
            connection, f"SELECT pg_catalog.obj_description({_TABLE_OID}, 'pg_class')", **params
        )
        return {"text": rows[0][0] if rows else None}


def _sort_flags(option: int) -> tuple[str, ...]:
    """An index column's ordering from its ``pg_index.indoption`` bits (1: descending,
    2: nulls first), naming only what differs from that direction's default null order."""
    descending, nulls_first = bool(option & 1), bool(option & 2)
    flags: tuple[str, ...] = ("desc",) if descending else ()
    if nulls_first != descending:
        flags += ("nulls_first",) if nulls_first else ("nulls_last",)
    return flags


def _without_literal_casts(sql: str) -> str:
    """``sql`` without the casts PostgreSQL writes when it prints an expression
    (``n > (0)::numeric`` -> ``n > 0``, ``name::text`` -> ``name``), so that the expression
    also runs elsewhere."""
    return _PRINTED_CASTS.sub(lambda m: next(g for g in m.groups() if g is not None), sql)
