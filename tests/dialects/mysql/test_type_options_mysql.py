"""MySQL's own type options: display widths, UNSIGNED/ZEROFILL, character sets and
collations, fractional seconds; rendered in DDL, stored by MariaDB and reflected back."""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Iterator
from typing import Any

import pytest

from athanor import exc, inspect
from athanor.dialects import mysql
from athanor.dialects.migrate import migration_impl
from athanor.engine import create_engine
from athanor.sql import Column, Integer, MetaData, String, Table, insert, select
from backends import Backend

dialect = mysql.dialect()


@pytest.mark.parametrize(
    ("type_", "ddl"),
    [
        (
            mysql.INTEGER(display_width=11, unsigned=True, zerofill=True),
            "INTEGER(11) UNSIGNED ZEROFILL",
        ),
        (mysql.BIGINT(20, unsigned=True), "BIGINT(20) UNSIGNED"),
        (mysql.SMALLINT(unsigned=True), "SMALLINT UNSIGNED"),
        (mysql.TINYINT(3, unsigned=True), "TINYINT(3) UNSIGNED"),
        (mysql.MEDIUMINT(zerofill=True), "MEDIUMINT UNSIGNED ZEROFILL"),
        (mysql.YEAR(4), "YEAR(4)"),
        (mysql.DECIMAL(10, 2, unsigned=True), "DECIMAL(10, 2) UNSIGNED"),
        (mysql.NUMERIC(8, 3, zerofill=True), "NUMERIC(8, 3) UNSIGNED ZEROFILL"),
        (mysql.DOUBLE(10, 2, unsigned=True), "DOUBLE(10, 2) UNSIGNED"),
        (mysql.FLOAT(unsigned=True), "FLOAT UNSIGNED"),
        (mysql.FLOAT(5, 2), "FLOAT(5, 2)"),
        (mysql.REAL(10, 2, unsigned=True), "REAL(10, 2) UNSIGNED"),
        (
            mysql.VARCHAR(100, charset="utf8mb4", collation="utf8mb4_bin"),
            "VARCHAR(100) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin",
        ),
        (mysql.CHAR(10, charset="latin1"), "CHAR(10) CHARACTER SET latin1"),
        (mysql.NVARCHAR(10), "NATIONAL VARCHAR(10)"),
        (mysql.NCHAR(5), "NATIONAL CHAR(5)"),
        (mysql.VARCHAR(10, binary=True), "VARCHAR(10) BINARY"),
        (mysql.VARCHAR(10, ascii=True), "VARCHAR(10) ASCII"),
        (mysql.TEXT(collation="utf8mb4_bin"), "TEXT COLLATE utf8mb4_bin"),
        (mysql.TEXT(1000), "TEXT(1000)"),
        (mysql.LONGTEXT(charset="utf8mb4"), "LONGTEXT CHARACTER SET utf8mb4"),
        (mysql.ENUM("a", "b", charset="latin1"), "ENUM('a', 'b') CHARACTER SET latin1"),
        (mysql.SET("a", "b", collation="utf8mb4_bin"), "SET('a', 'b') COLLATE utf8mb4_bin"),
        (mysql.DATETIME(fsp=6), "DATETIME(6)"),
        (mysql.DATETIME(), "DATETIME"),
        (mysql.TIMESTAMP(fsp=3), "TIMESTAMP(3)"),
        (mysql.TIMESTAMP(fsp=0), "TIMESTAMP"),
        (mysql.TIME(fsp=2), "TIME(2)"),
    ],
)
def test_type_options_render(type_: Any, ddl: str) -> None:
    assert type_.compile(dialect=dialect) == ddl


def test_contradicting_options_are_refused() -> None:
    with pytest.raises(exc.ArgumentError, match="charset and ascii"):
        mysql.VARCHAR(10, charset="utf8mb4", ascii=True)
    with pytest.raises(exc.ArgumentError, match="binary=True and collation"):
        mysql.VARCHAR(10, binary=True, collation="utf8mb4_bin")
    with pytest.raises(exc.ArgumentError, match="precision and scale together"):
        mysql.DOUBLE(10)


def test_options_are_part_of_the_cache_key() -> None:
    assert mysql.INTEGER(unsigned=True)._ck != mysql.INTEGER()._ck
    assert mysql.VARCHAR(10, collation="a")._ck != mysql.VARCHAR(10, collation="b")._ck
    assert repr(mysql.BIGINT(unsigned=True)) == "BIGINT(unsigned=True)"


metadata = MetaData()
options = Table(
    "type_options",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("big", mysql.BIGINT(unsigned=True)),
    Column("filled", mysql.INTEGER(display_width=6, zerofill=True)),
    Column("small", mysql.SMALLINT(3)),
    Column("amount", mysql.DECIMAL(10, 2, unsigned=True)),
    Column("ratio", mysql.DOUBLE(10, 2)),
    Column("code", mysql.VARCHAR(20, collation="utf8mb4_bin")),
    Column("latin", mysql.CHAR(4, charset="latin1")),
    Column("body", mysql.TEXT(collation="utf8mb4_bin")),
    Column("mood", mysql.ENUM("up", "down", charset="latin1")),
    Column("plain", String(20)),
    Column("at", mysql.DATETIME(fsp=3)),
    Column("stamp", mysql.TIMESTAMP(fsp=0), nullable=True),
    Column("clock", mysql.TIME(fsp=2)),
    mysql_engine="InnoDB",
)


@pytest.fixture
def engine(backend: Backend) -> Iterator[Any]:
    engine = create_engine(backend.url)
    metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.mark.backends("mysql")
def test_options_are_stored_and_reflected(engine: Any) -> None:
    with engine.connect() as conn:
        stored = conn.exec_driver_sql("SHOW CREATE TABLE type_options").one()[1].lower()
    assert "`big` bigint(20) unsigned" in stored
    assert "`filled` int(6) unsigned zerofill" in stored
    assert "`code` varchar(20) collate utf8mb4_bin" in stored or (
        "`code` varchar(20) character set utf8mb4 collate utf8mb4_bin" in stored
    )
    assert "`latin` char(4) character set latin1" in stored
    assert "`at` datetime(3)" in stored and "`clock` time(2)" in stored

    columns = {c["name"]: c["type"] for c in inspect(engine).get_columns("type_options")}
    assert repr(columns["big"]) == "BIGINT(display_width=20, unsigned=True)"
    assert (columns["filled"].display_width, columns["filled"].zerofill) == (6, True)
    assert columns["small"].display_width == 3
    assert (columns["amount"].precision, columns["amount"].scale) == (10, 2)
    assert columns["amount"].unsigned
    assert (columns["ratio"].precision, columns["ratio"].scale) == (10, 2)
    assert columns["code"].collation == "utf8mb4_bin"
    assert (columns["latin"].charset, columns["latin"].length) == ("latin1", 4)
    assert columns["body"].collation == "utf8mb4_bin"
    assert columns["mood"].charset == "latin1" and columns["mood"].enums == ("up", "down")
    assert columns["plain"].collation is None
    assert (columns["at"].fsp, columns["stamp"].fsp, columns["clock"].fsp) == (3, 0, 2)
    # what was reflected creates the same columns again (an integer's usual display width
    # aside, which the server shows whether asked for or not)
    impl = migration_impl(engine.dialect)
    for name, type_ in columns.items():
        assert impl.type_signature(type_) == impl.type_signature(options.c[name].type), name


@pytest.mark.backends("mysql")
def test_values_follow_the_options(engine: Any) -> None:
    row = {
        "id": 1,
        "big": 2**64 - 1,
        "filled": 42,
        "small": 7,
        "amount": decimal.Decimal("12.34"),
        "ratio": 1.5,
        "code": "Ab",
        "latin": "café",
        "body": "x",
        "mood": "up",
        "plain": "p",
        "at": dt.datetime(2024, 5, 6, 7, 8, 9, 123456),
        "stamp": dt.datetime(2024, 5, 6, 7, 8, 9),
        "clock": dt.time(1, 2, 3, 456789),
    }
    with engine.begin() as conn:
        conn.execute(insert(options), [row])
        got = conn.execute(select(options)).one()._asdict()
        # a binary collation tells case apart
        assert conn.scalar(select(options.c.id).where(options.c.code == "ab")) is None
        with pytest.raises(exc.DBAPIError):
            conn.execute(insert(options), [{**row, "id": 2, "big": -1}])
    assert got["big"] == 2**64 - 1
    assert got["ratio"] == decimal.Decimal("1.50")
    assert got["latin"] == "café"
    assert got["at"] == dt.datetime(2024, 5, 6, 7, 8, 9, 123000)
    assert got["clock"] == dt.time(1, 2, 3, 450000)
