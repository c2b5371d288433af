"""Schema reflection for MySQL and MariaDB through ``information_schema``.

MariaDB stores ``JSON`` as ``LONGTEXT`` with a ``CHECK (json_valid(col))`` column constraint;
such columns are reported as ``JSON`` and that constraint is left out of the check constraints.
``TINYINT(1)`` (what ``BOOL`` becomes) is reported as ``Boolean``.
"""

from __future__ import annotations

import re
from typing import Any

from athanor.dialects.mysql import types as mytypes
from athanor.engine.reflection import (
    DialectReflection,
    ReflectedDict,
    parse_quoted_labels,
    parse_type_string,
)
from athanor.sql import types as sqltypes

ischema_names: dict[str, Any] = {
    "tinyint": mytypes.TINYINT,
    "smallint": sqltypes.SMALLINT,
    "mediumint": mytypes.MEDIUMINT,
    "int": sqltypes.INTEGER,
    "integer": sqltypes.INTEGER,
    "bigint": sqltypes.BIGINT,
    "decimal": sqltypes.DECIMAL,
    "numeric": sqltypes.NUMERIC,
    "float": sqltypes.FLOAT,
    "double": sqltypes.DOUBLE,
    "bit": sqltypes.Boolean,
    "varchar": sqltypes.VARCHAR,
    "char": sqltypes.CHAR,
    "tinytext": mytypes.TINYTEXT,
    "text": sqltypes.TEXT,
    "mediumtext": mytypes.MEDIUMTEXT,
    "longtext": mytypes.LONGTEXT,
    "binary": sqltypes.BINARY,
    "varbinary": sqltypes.VARBINARY,
    "tinyblob": mytypes.TINYBLOB,
    "blob": sqltypes.BLOB,
    "mediumblob": mytypes.MEDIUMBLOB,
    "longblob": mytypes.LONGBLOB,
    "date": sqltypes.DATE,
    "datetime": sqltypes.DateTime,
    "timestamp": sqltypes.DateTime,
    "time": sqltypes.Time,
    "year": mytypes.YEAR,
    "json": sqltypes.JSON,
    "enum": sqltypes.Enum,
    "uuid": sqltypes.Uuid,
}
"""MySQL/MariaDB type name -> athanor type class."""

_COLUMNS = """
SELECT c.column_name, c.column_type, c.is_nullable, c.column_default, c.extra, c.column_comment,
       c.generation_expression, c.character_set_name, c.collation_name, t.table_collation,
       co.is_default
FROM information_schema.columns c
JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
LEFT JOIN information_schema.collations co ON co.collation_name = c.collation_name
WHERE c.table_schema = :schema AND c.table_name = :table
ORDER BY c.ordinal_position
"""

_KEY_COLUMNS = """
SELECT k.constraint_name, k.column_name, k.referenced_table_schema, k.referenced_table_name,
       k.referenced_column_name, r.update_rule, r.delete_rule
FROM information_schema.key_column_usage k
LEFT JOIN information_schema.referential_constraints r
  ON r.constraint_schema = k.constraint_schema AND r.constraint_name = k.constraint_name
  AND r.table_name = k.table_name
WHERE k.table_schema = :schema AND k.table_name = :table AND k.constraint_name = :name
ORDER BY k.ordinal_position
"""

_FOREIGN_KEYS = """
SELECT k.constraint_name, k.column_name, k.referenced_table_schema, k.referenced_table_name,
       k.referenced_column_name, r.update_rule, r.delete_rule
FROM information_schema.key_column_usage k
JOIN information_schema.referential_constraints r
  ON r.constraint_schema = k.constraint_schema AND r.constraint_name = k.constraint_name
  AND r.table_name = k.table_name
WHERE k.table_schema = :schema AND k.table_name = :table
  AND k.referenced_table_name IS NOT NULL
ORDER BY k.constraint_name, k.ordinal_position
"""

_INDEXES = """
SELECT index_name, non_unique, column_name, sub_part
FROM information_schema.statistics
WHERE table_schema = :schema AND table_name = :table AND index_name <> 'PRIMARY'
ORDER BY index_name, seq_in_index
"""

_CHECKS = """
SELECT c.constraint_name, c.check_clause
FROM information_schema.table_constraints t
JOIN information_schema.check_constraints c
  ON c.constraint_schema = t.constraint_schema AND c.constraint_name = t.constraint_name
WHERE t.table_schema = :schema AND t.table_name = :table AND t.constraint_type = 'CHECK'
"""
# MariaDB names check constraints per table, not per schema, so its rows must match the table.
_CHECKS_MARIADB = _CHECKS + "AND c.table_name = t.table_name ORDER BY c.constraint_name"
_CHECKS += "ORDER BY c.constraint_name"

_UNIQUE_NAMES = """
SELECT constraint_name FROM information_schema.table_constraints
WHERE table_schema = :schema AND table_name = :table AND constraint_type = 'UNIQUE'
"""

_TABLES = """
SELECT table_name FROM information_schema.tables
WHERE table_schema = :schema AND table_type IN (:kind, :kind2)
ORDER BY table_name
"""

# A backquoted plain identifier (outside string literals), written bare so that reflected
# expressions (CHECK, generated columns) also work on other databases.
_QUOTED_NAME = re.compile(r"('(?:[^'\\]|\\.|'')*')|`([A-Za-z_][A-Za-z0-9_]*)`")
_JSON_CHECK = re.compile(r"^json_valid\(`(?P<column>(?:[^`]|``)+)`\)$", re.I)
_CURRENT_TIMESTAMP = re.compile(r"^current_timestamp(\(\d*\))?$", re.I)
_FK_NO_ACTION = ("NO ACTION", "RESTRICT")


class MySQLReflection(DialectReflection):
    """Reflection methods of the MySQL/MariaDB dialect (queries on ``information_schema``)."""

    ischema_names = ischema_names

    def get_default_schema_name(self, connection: Any) -> str:
        value: str = self._fetch(connection, "SELECT DATABASE()")[0][0]
        return value

    _reflected_mariadb: bool | None = None

    def _is_mariadb(self, connection: Any) -> bool:
        """Whether the server is MariaDB (the dialect learns it on connect; asked if not)."""
        flag = getattr(self, "is_mariadb", None)
        if flag is None:
            if self._reflected_mariadb is None:
                version: str = self._fetch(connection, "SELECT VERSION()")[0][0]
                self._reflected_mariadb = "mariadb" in version.lower()
            flag = self._reflected_mariadb
        return bool(flag)

    def get_view_definition(
        self, connection: Any, view_name: str, schema: str | None = None
    ) -> str | None:
        """The view's whole ``CREATE ... VIEW`` statement, as the server shows it."""
        params = self._table_params(connection, view_name, schema)
        if not self._fetch(
            connection,
            "SELECT 1 FROM information_schema.views "
            "WHERE table_schema = :schema AND table_name = :table",
            **params,
        ):
            return None
        name = ".".join(
            "`" + part.replace("`", "``") + "`" for part in (params["schema"], params["table"])
        )
        created: str = self._fetch(connection, f"SHOW CREATE VIEW {name}")[0][1]
        return created

    def get_schema_names(self, connection: Any) -> list[str]:
        rows = self._fetch(
            connection, "SELECT schema_name FROM information_schema.schemata ORDER BY schema_name"
        )
        return [row[0] for row in rows]

    def get_table_names(self, connection: Any, schema: str | None = None) -> list[str]:
        schema = self._schema_or_default(connection, schema)
        rows = self._fetch(
            connection, _TABLES, schema=schema, kind="BASE TABLE", kind2="SYSTEM VERSIONED"
        )
        return [row[0] for row in rows]

    def get_view_names(self, connection: Any, schema: str | None = None) -> list[str]:
        schema = self._schema_or_default(connection, schema)
        rows = self._fetch(connection, _TABLES, schema=schema, kind="VIEW", kind2="VIEW")
        return [row[0] for row in rows]

    def get_sequence_names(self, connection: Any, schema: str | None = None) -> list[str]:
        """Names of the sequences in ``schema`` (MariaDB 10.3+; none on MySQL)."""
        schema = self._schema_or_default(connection, schema)
        rows = self._fetch(connection, _TABLES, schema=schema, kind="SEQUENCE", kind2="SEQUENCE")
        return [row[0] for row in rows]

    def has_table(self, connection: Any, table_name: str, schema: str | None = None) -> bool:
        rows = self._fetch(
            connection,
            "SELECT 1 FROM information_schema.tables "
            "WHERE table_schema = :schema AND table_name = :table",
            **self._table_params(connection, table_name, schema),
        )
        return bool(rows)

    def _table_params(self, connection: Any, table_name: str, schema: str | None) -> ReflectedDict:
        return {"table": table_name, "schema": self._schema_or_default(connection, schema)}

    def _json_columns(self, connection: Any, params: ReflectedDict) -> set[str]:
        """Columns MariaDB made JSON (LONGTEXT checked by json_valid)."""
        found = set()
        for _, clause in self._fetch(connection, _CHECKS_MARIADB, **params):
            match = _JSON_CHECK.match(clause)
            if match:
                found.add(match.group("column").replace("``", "`"))
        return found

    def get_columns(
        self, connection: Any, table_name: str, schema: str | None = None
    ) -> list[ReflectedDict]:
        params = self._table_params(connection, table_name, schema)
        mariadb = self._is_mariadb(connection)
        json_columns = self._json_columns(connection, params) if mariadb else set()
        columns = []
        for (
            name,
            spec,
            nullable,
            default,
            raw_extra,
            comment,
            generated,
            charset,
            collation,
            table_collation,
            charset_default,
        ) in self._fetch(connection, _COLUMNS, **params):
            extra = (raw_extra or "").lower()
            if name in json_columns:
                type_ = sqltypes.JSON()
            else:
                type_ = self._column_type(
                    spec,
                    _charset_options(charset, collation, table_collation, charset_default == "Yes"),
                )
            column: ReflectedDict = {
                "name": name,
                "type": type_,
                "nullable": nullable == "YES",
                "default": None,
                "autoincrement": "auto_increment" in extra,
                "comment": comment or None,
            }
            if "generated" in extra and generated:
                column["computed"] = {
                    "sqltext": _portable(generated),
                    "persisted": "stored" in extra,
                }
            else:
                column["default"] = _default_sql(default, spec, extra, mariadb)
            columns.append(column)
        return columns

    def _column_type(self, spec: str, charset_options: dict[str, Any]) -> Any:
        """The type of a column from its ``column_type`` spelling (``int(10) unsigned``) and
        the character set options that differ from the table's.

        Generic types are reported where they render back as the column is; MySQL's own
        types where the column has more: a display width (which MariaDB always shows),
        ``unsigned``/``zerofill``, a fractional-second precision other than 6, or its own
        character set or collation.
        """
        name, args, rest = parse_type_string(spec)
        # without arguments the attributes are part of the name: "float unsigned"
        name, *words = name.split()
        words += rest.split()
        sign = {"unsigned": "unsigned" in words, "zerofill": "zerofill" in words}
        signed = not any(sign.values())
        if name in ("enum", "set"):
            labels = parse_quoted_labels(spec[spec.index("(") :])
            if name == "set":
                return mytypes.SET(*labels, **charset_options)
            if charset_options:
                return mytypes.ENUM(*labels, **charset_options)
            return sqltypes.Enum(*labels)
        if name == "tinyint" and args == ["1"] and signed:
            return sqltypes.Boolean()
        if name in _INTEGERS:
            if not args and signed:
                return self._resolve_type(name)
            return _MYSQL_TYPES[name](int(args[0]) if args else None, **sign)
        if name in _FRACTIONAL:
            fsp = int(args[0]) if args else 0
            if fsp == 6 and name != "timestamp":
                return self._resolve_type(name)
            return _MYSQL_TYPES[name](fsp=fsp if fsp != 6 else None)
        if name in ("float", "double", "real", "decimal", "numeric"):
            floating = name in ("float", "double", "real")
            if signed and not (floating and len(args) == 2):
                return self._resolve_type(name, [] if floating else args)
            return _MYSQL_TYPES[name](*(int(arg) for arg in args), **sign)
        if charset_options and name in _MYSQL_TYPES:
            length = [int(args[0])] if args and name in ("char", "varchar") else []
            return _MYSQL_TYPES[name](*length, **charset_options)
        if name == "year":
            args = []
        return self._resolve_type(name, args)

    def get_pk_constraint(
        self, connection: Any, table_name: str, schema: str | None = None
    ) -> ReflectedDict:
        params = self._table_params(connection, table_name, schema)
        rows = self._fetch(connection, _KEY_COLUMNS, name="PRIMARY", **params)
        return {"name": None, "constrained_columns": [row[1] for row in rows]}

    def get_foreign_keys(
        self, connection: Any, table_name: str, schema: str | None = None
    ) -> list[ReflectedDict]:
        params = self._table_params(connection, table_name, schema)
        found: dict[str, ReflectedDict] = {}
        for name, local, ref_schema, ref_table, remote, upd, dele in self._fetch(
            connection, _FOREIGN_KEYS, **params
        ):
            fk = found.get(name)
            if fk is None:
                options = {"onupdate": upd, "ondelete": dele}
                fk = found[name] = {
                    "name": name,
                    "constrained_columns": [],
                    "referred_schema": self._referred_schema(connection, schema, ref_schema),
                    "referred_table": ref_table,
                    "referred_columns": [],
                    "options": {k: v for k, v in options.items() if v not in _FK_NO_ACTION},
                }
            fk["constrained_columns"].append(local)
            fk["referred_columns"].append(remote)
        return list(found.values())

    def get_indexes(
        self, connection: Any, table_name: str, schema: str | None = None
    ) -> list[ReflectedDict]:
        params = self._table_params(connection, table_name, schema)
        unique_constraints = {row[0] for row in self._fetch(connection, _UNIQUE_NAMES, **params)}
        found: dict[str, ReflectedDict] = {}
        for name, non_unique, column, sub_part in self._fetch(connection, _INDEXES, **params):
            index = found.get(name)
            if index is None:
                index = found[name] = {
                    "name": name,
                    "unique": not non_unique,
                    "column_names": [],
                    "dialect_options": {},
                }
                if name in unique_constraints:
                    index["duplicates_constraint"] = name
            index["column_names"].append(column)
            if sub_part is not None:
                index["dialect_options"].setdefault("mysql_length", {})[column] = sub_part
        return list(found.values())

    def get_unique_constraints(
        self, connection: Any, table_name: str, schema: str | None = None
    ) -> list[ReflectedDict]:
        # A MySQL unique constraint is its index, which SQLAlchemy reports as duplicated.
        return [
            {
                "name": index["name"],
                "column_names": index["column_names"],
                "duplicates_index": index["name"],
            }
            for index in self.get_indexes(connection, table_name, schema)
            if index.get("duplicates_constraint")
        ]

    def get_check_constraints(
        self, connection: Any, table_name: str, schema: str | None = None
    ) -> list[ReflectedDict]:
        params = self._table_params(connection, table_name, schema)
        mariadb = self._is_mariadb(connection)
        return [
            {"name": name, "sqltext": _portable(clause)}
            for name, clause in self._fetch(
                connection, _CHECKS_MARIADB if mariadb else _CHECKS, **params
            )
            if not (mariadb and _JSON_CHECK.match(clause))
        ]

    def get_table_options(
        self, connection: Any, table_name: str, schema: str | None = None
    ) -> ReflectedDict:
        rows = self._fetch(
            connection,
            "SELECT engine, table_collation FROM information_schema.tables "
            "WHERE table_schema = :schema AND table_name = :table",
            **self._table_params(connection, table_name, schema),
        )
        if not rows or rows[0][0] is None:
            return {}
        engine, collation = rows[0][0], rows[0][1]
        options = {"mysql_engine": engine}
        if collation:
            # a collation name starts with its character set: utf8mb4_general_ci
            options["mysql_charset"] = collation.split("_", 1)[0]
            options["mysql_collate"] = collation
        return options

    def get_table_comment(
        self, connection: Any, table_name: str, schema: str | None = None
    ) -> ReflectedDict:
        rows = self._fetch(
            connection,
            "SELECT table_comment FROM information_schema.tables "
            "WHERE table_schema = :schema AND table_name = :table",
            **self._table_params(connection, table_name, schema),
        )
        return {"text": rows[0][0] or None if rows else None}


_INTEGERS = ("tinyint", "smallint", "mediumint", "int", "integer", "bigint")

_FRACTIONAL = ("datetime", "timestamp", "time")

_MYSQL_TYPES: dict[str, Any] = {
    "tinyint": mytypes.TINYINT,
    "smallint": mytypes.SMALLINT,
    "mediumint": mytypes.MEDIUMINT,
    "int": mytypes.INTEGER,
    "integer": mytypes.INTEGER,
    "bigint": mytypes.BIGINT,
    "datetime": mytypes.DATETIME,
    "timestamp": mytypes.TIMESTAMP,
    "time": mytypes.TIME,
    "float": mytypes.FLOAT,
    "double": mytypes.DOUBLE,
    "real": mytypes.REAL,
    "decimal": mytypes.DECIMAL,
    "numeric": mytypes.NUMERIC,
    "char": mytypes.CHAR,
    "varchar": mytypes.VARCHAR,
    "tinytext": mytypes.TINYTEXT,
    "text": mytypes.TEXT,
    "mediumtext": mytypes.MEDIUMTEXT,
    "longtext": mytypes.LONGTEXT,
}
"""Type name -> the MySQL type reporting what a generic type can't (widths, signs, character
sets)."""


def _charset_options(
    charset: str | None, collation: str | None, table_collation: str | None, usual: bool
) -> dict[str, Any]:
    """A string column's character set and collation where they differ from its table's
    (a collation name starts with its character set: ``utf8mb4_bin``); the collation is
    left out when it is the ``usual`` one of a character set the column names."""
    if collation is None or collation == table_collation:
        return {}
    options: dict[str, Any] = {}
    if charset is not None and charset != (table_collation or "").split("_", 1)[0]:
        options["charset"] = charset
    if not (usual and options):
        options["collation"] = collation
    return options


def _default_sql(default: str | None, spec: str, extra: str, mariadb: bool) -> str | None:
    """A column default as SQL text.

    MariaDB reports defaults as SQL (``'abc'``, ``NULL``, ``current_timestamp()``); MySQL
    reports literals unquoted and marks expressions with ``DEFAULT_GENERATED``.
    """
    if default is None:
        return None
    if mariadb:
        return None if default == "NULL" else default
    if "default_generated" in extra or _CURRENT_TIMESTAMP.match(default):
        return default
    if re.match(r"^-?\d+(\.\d+)?$", default) and not spec.lower().startswith(("enum", "set")):
        return default
    return "'" + default.replace("'", "''") + "'"


def _portable(sql: str) -> str:
    """``sql`` with backquotes removed from plain identifiers (```n` > 0`` -> ``n > 0``)."""
    return _QUOTED_NAME.sub(lambda m: m.group(1) or m.group(2), sql)
