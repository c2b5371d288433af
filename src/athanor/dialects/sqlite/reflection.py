"""Schema reflection for SQLite through the ``pragma_*`` table functions and ``sqlite_master``.

SQLite keeps no catalog of constraint names or CHECK expressions; those are read from the
``CREATE TABLE`` text stored in ``sqlite_master`` with a small tokenizer.
"""

from __future__ import annotations

import re
from typing import Any

from athanor.engine.reflection import DialectReflection, ReflectedDict, parse_type_string
from athanor.sql import types as sqltypes

ischema_names: dict[str, Any] = {
    "integer": sqltypes.INTEGER,
    "int": sqltypes.INTEGER,
    "bigint": sqltypes.BIGINT,
    "smallint": sqltypes.SMALLINT,
    "tinyint": sqltypes.SmallInteger,
    "varchar": sqltypes.VARCHAR,
    "nvarchar": sqltypes.NVARCHAR,
    "character varying": sqltypes.VARCHAR,
    "char": sqltypes.CHAR,
    "nchar": sqltypes.NCHAR,
    "text": sqltypes.TEXT,
    "clob": sqltypes.CLOB,
    "boolean": sqltypes.BOOLEAN,
    "bool": sqltypes.BOOLEAN,
    "float": sqltypes.FLOAT,
    "real": sqltypes.REAL,
    "double": sqltypes.DOUBLE,
    "double precision": sqltypes.DOUBLE_PRECISION,
    "numeric": sqltypes.NUMERIC,
    "decimal": sqltypes.DECIMAL,
    "date": sqltypes.DATE,
    "datetime": sqltypes.DATETIME,
    "timestamp": sqltypes.TIMESTAMP,
    "time": sqltypes.TIME,
    "blob": sqltypes.BLOB,
    "json": sqltypes.JSON,
    "uuid": sqltypes.Uuid,
}
"""SQLite declared type name -> athanor type class (other names follow SQLite's affinity rules)."""

_TOKEN = re.compile(
    r"""\s+|--[^\n]*|/\*.*?\*/|'(?:[^']|'')*'|"(?:[^"]|"")*"|`(?:[^`]|``)*`|\[[^\]]*\]|\w+|.""",
    re.S,
)
Token = tuple[str, int, int]


def _tokens(sql: str) -> list[Token]:
    return [
        (m.group(), m.start(), m.end())
        for m in _TOKEN.finditer(sql)
        if not m.group().isspace() and not m.group().startswith(("--", "/*"))
    ]


def _ident(token: str) -> str:
    """An identifier token without its quotes."""
    if token[:1] in ('"', "`") and len(token) > 1:
        return token[1:-1].replace(token[0] * 2, token[0])
    if token[:1] == "[":
        return token[1:-1]
    return token


def _closing(tokens: list[Token], start: int) -> int:
    """Index of the ``)`` matching the ``(`` at ``tokens[start]``."""
    depth = 0
    for position in range(start, len(tokens)):
        if tokens[position][0] == "(":
            depth += 1
        elif tokens[position][0] == ")":
            depth -= 1
            if depth == 0:
                return position
    return len(tokens) - 1


def _parenthesized_items(sql: str, tokens: list[Token], start: int) -> list[list[Token]]:
    """The comma-separated items inside the parentheses opening at ``tokens[start]``."""
    end = _closing(tokens, start)
    items: list[list[Token]] = [[]]
    depth = 0
    for token in tokens[start + 1 : end]:
        if token[0] in "()":
            depth += 1 if token[0] == "(" else -1
        if token[0] == "," and depth == 0:
            items.append([])
        else:
            items[-1].append(token)
    return [item for item in items if item]


def _inner_text(sql: str, tokens: list[Token], start: int) -> str:
    return sql[tokens[start][2] : tokens[_closing(tokens, start)][1]].strip()


def _definitions(sql: str) -> list[list[Token]]:
    """The column definitions and table constraints of a CREATE TABLE statement."""
    tokens = _tokens(sql)
    for position, token in enumerate(tokens):
        if token[0] == "(":
            return _parenthesized_items(sql, tokens, position)
    return []


def _named_constraints(sql: str, keyword: str) -> list[tuple[str | None, list[Token], int]]:
    """Occurrences of ``keyword`` (e.g. ``CHECK``) in the definitions: (constraint name or None,
    the item's tokens, position of the keyword in them)."""
    found = []
    for item in _definitions(sql):
        for position, token in enumerate(item):
            if token[0].upper() == keyword:
                named = position >= 2 and item[position - 2][0].upper() == "CONSTRAINT"
                found.append((_ident(item[position - 1][0]) if named else None, item, position))
    return found


def _column_list(item: list[Token], start: int) -> list[str]:
    """Identifiers listed in the parentheses opening at ``item[start]``."""
    names = []
    for token in item[start + 1 : _closing(item, start)]:
        if token[0] not in (",", "(", ")") and token[0].upper() not in ("ASC", "DESC"):
            names.append(_ident(token[0]))
    return names


def _affinity_type(declared: str) -> Any:
    """The athanor type for a declared type SQLite does not name, by its affinity rules."""
    upper = declared.upper()
    if "INT" in upper:
        return sqltypes.Integer()
    if any(word in upper for word in ("CHAR", "CLOB", "TEXT")):
        return sqltypes.Text()
    if not upper or "BLOB" in upper:
        return sqltypes.NullType()
    if any(word in upper for word in ("REAL", "FLOA", "DOUB")):
        return sqltypes.Float()
    return sqltypes.Numeric()


class SQLiteReflection(DialectReflection):
    """Reflection methods of the SQLite dialect."""

    ischema_names = ischema_names

    def get_default_schema_name(self, connection: Any) -> str:
        return "main"

    def _master(self, schema: str | None) -> str:
        if schema is None:
            return "sqlite_master"
        return '"' + schema.replace('"', '""') + '".sqlite_master'

    def get_schema_names(self, connection: Any) -> list[str]:
        rows = self._fetch(
            connection, "SELECT name FROM pragma_database_list WHERE name <> 'temp' ORDER BY seq"
        )
        return [row[0] for row in rows]

    def _names(self, connection: Any, schema: str | None, kind: str) -> list[str]:
        rows = self._fetch(
            connection,
            f"SELECT name FROM {self._master(schema)} WHERE type = :kind "
            "AND substr(name, 1, 7) <> 'sqlite_' ORDER BY name",
            kind=kind,
        )
        return [row[0] for row in rows]

    def get_table_names(self, connection: Any, schema: str | None = None) -> list[str]:
        return self._names(connection, schema, "table")

    def get_view_names(self, connection: Any, schema: str | None = None) -> list[str]:
        return self._names(connection, schema, "view")

    def get_view_definition(
        self, connection: Any, view_name: str, schema: str | None = None
    ) -> str | None:
        return self._table_sql(connection, view_name, schema)

    def get_temp_table_names(self, connection: Any) -> list[str]:
        return self._names(connection, "temp", "table")

    def get_temp_view_names(self, connection: Any) -> list[str]:
        return self._names(connection, "temp", "view")

    def has_table(self, connection: Any, table_name: str, schema: str | None = None) -> bool:
        return self._table_sql(connection, table_name, schema) is not None

    def _table_sql(self, connection: Any, table_name: str, schema: str | None) -> str | None:
        rows = self._fetch_once(
            connection,
            f"SELECT sql FROM {self._master(schema)} "
            "WHERE type IN ('table', 'view') AND name = :table",
            table=table_name,
        )
        return rows[0][0] if rows else None

    def get_columns(
        self, connection: Any, table_name: str, schema: str | None = None
    ) -> list[ReflectedDict]:
        rows = self._fetch(
            connection,
            'SELECT name, type, "notnull", dflt_value, pk, hidden '
            "FROM pragma_table_xinfo(:table, :schema) ORDER BY cid",
            table=table_name,
            schema=schema or "main",
        )
        pk_count = sum(1 for row in rows if row[4])
        generated = self._generated_expressions(connection, table_name, schema)
        columns = []
        for name, declared, notnull, default, pk, hidden in rows:
            if hidden == 1:
                continue
            column_type = self._column_type(declared or "")
            column: ReflectedDict = {
                "name": name,
                "type": column_type,
                "nullable": not notnull and not pk,
                "default": default if hidden == 0 else None,
                "autoincrement": bool(
                    pk and pk_count == 1 and (declared or "").upper() == "INTEGER"
                ),
                "comment": None,
            }
            if hidden in (2, 3) and name in generated:
                column["computed"] = {"sqltext": generated[name], "persisted": hidden == 3}
            columns.append(column)
        return columns

    def _generated_expressions(
        self, connection: Any, table_name: str, schema: str | None
    ) -> dict[str, str]:
        sql = self._table_sql(connection, table_name, schema) or ""
        found = {}
        for name, item, position in _named_constraints(sql, "AS"):
            del name
            if position + 1 < len(item) and item[position + 1][0] == "(":
                found[_ident(item[0][0])] = _inner_text(sql, item, position + 1)
        return found

    def _column_type(self, declared: str) -> Any:
        name, args, rest = parse_type_string(declared)
        full_name = f"{name} {rest}" if rest else name
        if full_name in self.ischema_names:
            return self._resolve_type(full_name, args)
        return _affinity_type(declared)

    def get_pk_constraint(
        self, connection: Any, table_name: str, schema: str | None = None
    ) -> ReflectedDict:
        rows = self._fetch(
            connection,
            "SELECT name FROM pragma_table_info(:table, :schema) WHERE pk > 0 ORDER BY pk",
            table=table_name,
            schema=schema or "main",
        )
        sql = self._table_sql(connection, table_name, schema) or ""
        named = [name for name, _, _ in _named_constraints(sql, "PRIMARY") if name]
        return {"name": named[0] if named else None, "constrained_columns": [r[0] for r in rows]}

    def get_foreign_keys(
        self, connection: Any, table_name: str, schema: str | None = None
    ) -> list[ReflectedDict]:
        rows = self._fetch(
            connection,
            'SELECT id, "table", "from", "to", on_update, on_delete '
            "FROM pragma_foreign_key_list(:table, :schema) ORDER BY id DESC, seq",
            table=table_name,
            schema=schema or "main",
        )
        names = self._foreign_key_names(connection, table_name, schema)
        found: dict[int, ReflectedDict] = {}
        for fk_id, referred, local, remote, on_update, on_delete in rows:
            fk = found.get(fk_id)
            if fk is None:
                options = {"onupdate": on_update, "ondelete": on_delete}
                fk = found[fk_id] = {
                    "name": None,
                    "constrained_columns": [],
                    "referred_schema": schema,
                    "referred_table": referred,
                    "referred_columns": [],
                    "options": {k: v for k, v in options.items() if v != "NO ACTION"},
                }
            fk["constrained_columns"].append(local)
            fk["referred_columns"].append(remote)
        for fk in found.values():
            fk["name"] = names.get(tuple(fk["constrained_columns"]))
            if None in fk["referred_columns"]:
                referred_pk = self.get_pk_constraint(connection, fk["referred_table"], schema)
                fk["referred_columns"] = referred_pk["constrained_columns"]
        return list(found.values())

    def _foreign_key_names(
        self, connection: Any, table_name: str, schema: str | None
    ) -> dict[tuple[str, ...], str]:
        sql = self._table_sql(connection, table_name, schema) or ""
        names: dict[tuple[str, ...], str] = {}
        for keyword in ("FOREIGN", "REFERENCES"):
            for name, item, position in _named_constraints(sql, keyword):
                if name is None:
                    continue
                if keyword == "FOREIGN":
                    names[tuple(_column_list(item, position + 2))] = name
                elif position >= 3 and item[0][0].upper() not in ("CONSTRAINT", "FOREIGN"):
                    names[(_ident(item[0][0]),)] = name
        return names

    def _index_rows(
        self, connection: Any, table_name: str, schema: str | None
    ) -> list[tuple[str, bool, str]]:
        rows = self._fetch(
            connection,
            'SELECT name, "unique", origin FROM pragma_index_list(:table, :schema) ORDER BY name',
            table=table_name,
            schema=schema or "main",
        )
        return [(row[0], bool(row[1]), row[2]) for row in rows]

    def _index_columns(self, connection: Any, index: str, schema: str | None) -> list[str | None]:
        rows = self._fetch(
            connection,
            "SELECT cid, name FROM pragma_index_xinfo(:index, :schema) WHERE key = 1 "
            "ORDER BY seqno",
            index=index,
            schema=schema or "main",
        )
        return [name if cid >= 0 else None for cid, name in rows]

    def get_indexes(
        self, connection: Any, table_name: str, schema: str | None = None
    ) -> list[ReflectedDict]:
        indexes = []
        for name, unique, origin in self._index_rows(connection, table_name, schema):
            if origin != "c":
                continue
            columns = self._index_columns(connection, name, schema)
            index: ReflectedDict = {"name": name, "unique": unique, "column_names": columns}
            if None in columns:
                index["expressions"] = self._index_expressions(connection, name, schema, columns)
            indexes.append(index)
        return indexes

    def _index_expressions(
        self, connection: Any, name: str, schema: str | None, columns: list[str | None]
    ) -> list[str]:
        rows = self._fetch(
            connection,
            f"SELECT sql FROM {self._master(schema)} WHERE type = 'index' AND name = :name",
            name=name,
        )
        sql = rows[0][0]
        tokens = _tokens(sql)
        on = next(i for i, token in enumerate(tokens) if token[0].upper() == "ON")
        start = next(i for i in range(on, len(tokens)) if tokens[i][0] == "(")
        items = _parenthesized_items(sql, tokens, start)
        return [
            column if column is not None else sql[item[0][1] : item[-1][2]]
            for column, item in zip(columns, items, strict=False)
        ]

    def get_unique_constraints(
        self, connection: Any, table_name: str, schema: str | None = None
    ) -> list[ReflectedDict]:
        sql = self._table_sql(connection, table_name, schema) or ""
        names: dict[tuple[str, ...], str] = {}
        for name, item, position in _named_constraints(sql, "UNIQUE"):
            if name is None:
                continue
            if position + 1 < len(item) and item[position + 1][0] == "(":
                names[tuple(_column_list(item, position + 1))] = name
            else:
                names[(_ident(item[0][0]),)] = name
        uniques = []
        for index, _, origin in self._index_rows(connection, table_name, schema):
            if origin == "u":
                columns = [c for c in self._index_columns(connection, index, schema) if c]
                uniques.append({"name": names.get(tuple(columns)), "column_names": columns})
        return uniques

    def get_check_constraints(
        self, connection: Any, table_name: str, schema: str | None = None
    ) -> list[ReflectedDict]:
        sql = self._table_sql(connection, table_name, schema) or ""
        return [
            {"name": name, "sqltext": _inner_text(sql, item, position + 1)}
            for name, item, position in _named_constraints(sql, "CHECK")
            if position + 1 < len(item) and item[position + 1][0] == "("
        ]

    def get_table_options(
        self, connection: Any, table_name: str, schema: str | None = None
    ) -> ReflectedDict:
        sql = self._table_sql(connection, table_name, schema) or ""
        if any(token[0].upper() == "AUTOINCREMENT" for token in _tokens(sql)):
            return {"sqlite_autoincrement": True}
        return {}

    def get_table_comment(
        self, connection: Any, table_name: str, schema: str | None = None
    ) -> ReflectedDict:
        return {"text": None}
