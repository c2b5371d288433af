"""DDL and type names for MySQL and MariaDB.

Tables are ``ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`` unless ``mysql_engine`` /
``mysql_charset`` / ``mysql_collate`` say otherwise.  Date-times and times keep microseconds
(``DATETIME(6)``, ``TIME(6)``), ``Boolean`` is ``BOOL`` (``TINYINT(1)``), ``LargeBinary``
without a length is ``LONGBLOB``, and ``VARCHAR`` must be given a length.
"""

# Type visitors are named visit_<TypeClassName>, after the classes they render.
# ruff: noqa: N802

from __future__ import annotations

from typing import Any, ClassVar

from athanor import exc
from athanor.dialects.mysql import types as mytypes
from athanor.sql.ddl import (
    DDLCompiler,
    DropIndex,
    TypeCompiler,
    constraint_kind,
    dialect_options,
    is_plain_default,
)


class MySQLTypeCompiler(TypeCompiler):
    """Type DDL names for MySQL/MariaDB."""

    def _collate(self, type_: Any, spec: str) -> str:
        """``spec`` with the string type's character set options and collation:
        ``[NATIONAL] VARCHAR(10) [CHARACTER SET cs] [ASCII|UNICODE] [BINARY] [COLLATE c]``."""
        words = [spec]
        if isinstance(type_, mytypes._StringOptions):
            if type_.national:
                words.insert(0, "NATIONAL")
            if type_.charset:
                words.append(f"CHARACTER SET {type_.charset}")
            words.extend(
                word
                for word, given in (
                    ("ASCII", type_.ascii),
                    ("UNICODE", type_.unicode),
                    ("BINARY", type_.binary),
                )
                if given
            )
        collation = getattr(type_, "collation", None)
        if collation:
            words.append(f"COLLATE {collation}")
        return " ".join(words)

    def _sign(self, type_: Any, spec: str) -> str:
        """``spec`` with ``UNSIGNED`` / ``ZEROFILL`` where the numeric type asks for them."""
        if isinstance(type_, mytypes._NumericOptions):
            spec += " UNSIGNED" * type_.unsigned + " ZEROFILL" * type_.zerofill
        return spec

    def _integer(self, name: str, type_: Any) -> str:
        return self._sign(type_, self._args(name, getattr(type_, "display_width", None)))

    def _fixed_point(self, name: str, type_: Any) -> str:
        scale = type_.scale if type_.precision is not None else None
        return self._sign(type_, self._args(name, type_.precision, scale))

    def _floating_point(self, name: str, type_: Any) -> str:
        """``DOUBLE`` / ``REAL``, with ``(precision, scale)`` when both are given."""
        if type_.scale is None:
            return self._sign(type_, name)
        return self._sign(type_, self._args(name, type_.precision, type_.scale))

    def _fractional(self, name: str, type_: Any, usual: str) -> str:
        """A temporal type with its ``fsp`` digits of fractional seconds, else ``usual``."""
        fsp = getattr(type_, "fsp", None)
        if fsp is None:
            return usual
        return self._args(name, fsp or None)

    def visit_String(self, type_: Any, **kw: Any) -> str:
        if type_.length is None:
            raise exc.CompileError(
                f"VARCHAR requires a length on dialect {self.dialect.name}; use String(n) or Text"
            )
        return self._collate(type_, f"VARCHAR({type_.length})")

    def visit_VARCHAR(self, type_: Any, **kw: Any) -> str:
        return self.visit_String(type_)

    def visit_NVARCHAR(self, type_: Any, **kw: Any) -> str:
        return self.visit_String(type_)

    def visit_NCHAR(self, type_: Any, **kw: Any) -> str:
        """``NATIONAL CHAR(n)`` for MySQL's own type (whose ``national`` is set), else the
        generic synonym ``NCHAR(n)``."""
        national = isinstance(type_, mytypes._StringOptions) and type_.national
        return self._collate(type_, self._args("CHAR" if national else "NCHAR", type_.length))

    def visit_Float(self, type_: Any, **kw: Any) -> str:
        precision = type_.precision
        if precision is not None and precision > 24:
            return self._sign(type_, "DOUBLE")
        return self._sign(type_, "FLOAT")

    def visit_FLOAT(self, type_: Any, **kw: Any) -> str:
        if type_.scale is None:
            return self.visit_Float(type_)
        return self._floating_point("FLOAT", type_)

    def visit_DOUBLE(self, type_: Any, **kw: Any) -> str:
        return self._floating_point("DOUBLE", type_)

    def visit_REAL(self, type_: Any, **kw: Any) -> str:
        return self._floating_point("REAL", type_)

    def visit_DECIMAL(self, type_: Any, **kw: Any) -> str:
        return self._fixed_point("DECIMAL", type_)

    def visit_NUMERIC(self, type_: Any, **kw: Any) -> str:
        return self._fixed_point("NUMERIC", type_)

    def visit_INTEGER(self, type_: Any, **kw: Any) -> str:
        return self._integer("INTEGER", type_)

    def visit_SMALLINT(self, type_: Any, **kw: Any) -> str:
        return self._integer("SMALLINT", type_)

    def visit_BIGINT(self, type_: Any, **kw: Any) -> str:
        return self._integer("BIGINT", type_)

    def visit_Double(self, type_: Any, **kw: Any) -> str:
        return "DOUBLE"

    def visit_Boolean(self, type_: Any, **kw: Any) -> str:
        return "BOOL"

    def visit_DateTime(self, type_: Any, **kw: Any) -> str:
        return "DATETIME(6)"

    def visit_Time(self, type_: Any, **kw: Any) -> str:
        return "TIME(6)"

    def visit_TIME(self, type_: Any, **kw: Any) -> str:
        return self._fractional("TIME", type_, "TIME(6)")

    def visit_DATETIME(self, type_: Any, **kw: Any) -> str:
        return self._fractional("DATETIME", type_, "DATETIME")

    def visit_TIMESTAMP(self, type_: Any, **kw: Any) -> str:
        return self._fractional("TIMESTAMP", type_, "TIMESTAMP(6)")

    def visit_LargeBinary(self, type_: Any, **kw: Any) -> str:
        return f"BLOB({type_.length})" if type_.length is not None else "LONGBLOB"

    def visit_BIT(self, type_: Any, **kw: Any) -> str:
        return self._args("BIT", type_.length)

    def visit_INET4(self, type_: Any, **kw: Any) -> str:
        return "INET4"

    def visit_INET6(self, type_: Any, **kw: Any) -> str:
        return "INET6"

    def visit_TINYINT(self, type_: Any, **kw: Any) -> str:
        return self._integer("TINYINT", type_)

    def visit_MEDIUMINT(self, type_: Any, **kw: Any) -> str:
        return self._integer("MEDIUMINT", type_)

    def visit_YEAR(self, type_: Any, **kw: Any) -> str:
        return self._integer("YEAR", type_)

    def visit_TEXT(self, type_: Any, **kw: Any) -> str:
        return self._collate(type_, self._args("TEXT", type_.length))

    def visit_TINYTEXT(self, type_: Any, **kw: Any) -> str:
        return self._collate(type_, "TINYTEXT")

    def visit_MEDIUMTEXT(self, type_: Any, **kw: Any) -> str:
        return self._collate(type_, "MEDIUMTEXT")

    def visit_LONGTEXT(self, type_: Any, **kw: Any) -> str:
        return self._collate(type_, "LONGTEXT")

    def visit_TINYBLOB(self, type_: Any, **kw: Any) -> str:
        return "TINYBLOB"

    def visit_MEDIUMBLOB(self, type_: Any, **kw: Any) -> str:
        return "MEDIUMBLOB"

    def visit_LONGBLOB(self, type_: Any, **kw: Any) -> str:
        return "LONGBLOB"

    def visit_SET(self, type_: Any, **kw: Any) -> str:
        return self._collate(type_, f"SET({', '.join(_literal(v) for v in type_.values)})")

    def visit_Enum(self, type_: Any, **kw: Any) -> str:
        if not type_.native_enum:
            return self.visit_String(type_)
        labels = ", ".join(_literal(label) for label in type_.enums)
        return self._collate(type_, f"ENUM({labels})")


class MySQLDDLCompiler(DDLCompiler):
    """DDL compiler for MySQL/MariaDB."""

    inline_comments: ClassVar[bool] = True
    max_identifier_length: ClassVar[int] = 64
    names_primary_keys: ClassVar[bool] = False

    @classmethod
    def enum_is_native(cls, type_: Any) -> bool:
        return bool(type_.native_enum)

    def format_default_expression(self, sql: str) -> str:
        """MySQL 8 needs parentheses around expression defaults; MariaDB accepts them."""
        if is_plain_default(sql) or sql.strip().upper().startswith("CURRENT_TIMESTAMP"):
            return sql
        return f"({sql})"

    def column_extra(self, column: Any) -> str | None:
        if column.table.autoincrement_column is column and column.server_default is None:
            if self.dialect.sequence_generates(column):
                return None
            return "AUTO_INCREMENT"
        return None

    def column_identity(self, column: Any) -> str | None:
        return None

    def render_computed(self, computed: Any) -> str:
        text = f"GENERATED ALWAYS AS ({self.render_expression(computed.sqltext)})"
        return text + (" STORED" if computed.persisted else " VIRTUAL")

    def post_create_table(self, table: Any) -> str:
        options = dialect_options(table, self.dialect)
        engine = options.get("engine", "InnoDB")
        charset = options.get("charset", options.get("default_charset", "utf8mb4"))
        text = f" ENGINE={engine} DEFAULT CHARSET={charset}"
        collate = options.get("collate")
        if collate:
            text += f" COLLATE={collate}"
        for option in ("auto_increment", "row_format", "key_block_size", "stats_persistent"):
            if options.get(option) is not None:
                text += f" {option.upper()}={options[option]}"
        if table.comment:
            text += f" COMMENT={self.literal(table.comment)}"
        return text

    def literal(self, value: str) -> str:
        return _literal(value)

    def index_keywords(self, index: Any) -> tuple[str, str]:
        before, after = super().index_keywords(index)
        prefix = dialect_options(index, self.dialect).get("prefix")
        return (f"{before}{prefix} " if prefix else before), after

    def post_create_index(self, index: Any) -> str:
        using = dialect_options(index, self.dialect).get("using")
        return f" USING {using}" if using else ""

    def index_element(self, expression: Any, index: Any) -> str:
        text = super().index_element(expression, index)
        lengths = dialect_options(index, self.dialect).get("length")
        name = getattr(expression, "name", None)
        if lengths and name is not None and not text.startswith("("):
            length = lengths.get(name) if isinstance(lengths, dict) else lengths
            if length is not None:
                text += f"({int(length)})"
        return text

    def visit_drop_index(self, drop: DropIndex, **kw: Any) -> str:
        return f"{super().visit_drop_index(drop, **kw)} ON {self.format_table(drop.element.table)}"

    def format_index_name(self, index: Any, name: str) -> str:
        return self.quote(name)

    def drop_constraint_keyword(self, constraint: Any) -> str:
        kind = constraint_kind(constraint)
        if kind == "fk":
            return "FOREIGN KEY"
        if kind == "uq":
            return "INDEX"
        return "CONSTRAINT"

    def visit_set_table_comment(self, element: Any, **kw: Any) -> str:
        table = element.element
        return f"ALTER TABLE {self.format_table(table)} COMMENT {self.literal(table.comment)}"

    def visit_drop_table_comment(self, element: Any, **kw: Any) -> str:
        return f"ALTER TABLE {self.format_table(element.element)} COMMENT ''"


def _literal(value: str) -> str:
    """A MySQL string literal (backslash is an escape character there by default)."""
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"
