"""A ``mariadb://`` URL's dialect is named ``"mariadb"`` and knows it is MariaDB before it
connects, as in SQLAlchemy; what is written for ``"mysql"`` (type variants, ``@compiles``
rules, ``mysql_`` options, ``execute_if``, prefixes) still applies to it, after what is
written for ``"mariadb"``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from athanor import DDL, Column, Integer, MetaData, String, Table, event, inspect, select, text
from athanor.dialects.migrate import migration_impl
from athanor.engine import Engine, create_engine
from athanor.ext.asyncio import create_async_engine
from athanor.ext.compiler import compiles, deregister
from athanor.sql.elements import ColumnClause
from athanor.types import Text
from backends import Backend


@pytest.mark.parametrize(
    ("url", "driver"),
    [
        ("mariadb://u@h/d", "pymysql"),
        ("mariadb+pymysql://u@h/d", "pymysql"),
        ("mariadb+asyncmy://u@h/d", "asyncmy"),
        ("mariadb+aiomysql://u@h/d", "aiomysql"),
    ],
)
def test_mariadb_urls_name_their_dialect_mariadb(url: str, driver: str) -> None:
    engine: Any = create_async_engine(url) if "+a" in url else create_engine(url)
    assert (engine.dialect.name, engine.name, engine.dialect.driver) == (
        "mariadb",
        "mariadb",
        driver,
    )
    assert engine.dialect.is_mariadb is True
    mysql = create_engine("mysql+pymysql://u@h/d")
    assert (mysql.dialect.name, mysql.dialect.is_mariadb) == ("mysql", None)


class Shouted(ColumnClause):
    inherit_cache = True


@pytest.fixture
def engine(backend: Backend) -> Iterator[Engine]:
    eng = create_engine("mariadb" + backend.url[backend.url.index(":") :])
    yield eng
    eng.dispose()


@pytest.mark.backends("mysql")
def test_mysql_and_mariadb_names_both_apply_on_a_mariadb_url(engine: Engine) -> None:
    metadata = MetaData()
    table = Table(
        "mariadb_named",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("body", String(10).with_variant(Text(), "mysql")),
        Column(
            "note", String(10).with_variant(String(20), "mysql").with_variant(Text(), "mariadb")
        ),
        mysql_engine="MyISAM",
        mariadb_charset="utf8mb4",
        mysql_charset="latin1",
    )
    ran: list[str] = []
    for name in ("mysql", "mariadb", "postgresql"):
        event.listen(
            table,
            "after_create",
            DDL(f"SELECT '{name}'").execute_if(
                dialect=name, callable_=lambda *a, name=name, **kw: ran.append(name) or True
            ),
        )

    @compiles(Shouted, "mysql")
    def shout(element: Any, compiler: Any, **kw: Any) -> str:
        return f"UPPER({element.name})"

    try:
        metadata.create_all(engine)
        with engine.connect() as conn:
            assert conn.dialect.name == "mariadb"
            columns = {c["name"]: c["type"] for c in inspect(conn).get_columns("mariadb_named")}
            assert type(columns["body"]).__name__ == "TEXT"  # the "mysql" variant
            assert type(columns["note"]).__name__ == "TEXT"  # "mariadb" comes before "mysql"
            options = conn.execute(
                text(
                    "SELECT engine, table_collation FROM information_schema.tables "
                    "WHERE table_schema = DATABASE() AND table_name = 'mariadb_named'"
                )
            ).one()
            assert options[0] == "MyISAM" and options[1].startswith("utf8mb4")
            stmt = select(Shouted("'x'")).prefix_with("SQL_NO_CACHE", dialect="mysql")
            assert str(stmt.compile(engine)).startswith("SELECT SQL_NO_CACHE UPPER('x')")
            assert conn.execute(stmt).scalar() == "X"
        assert ran == ["mysql", "mariadb"]
        assert type(migration_impl(engine.dialect)).__module__ == "athanor.dialects.mysql.migrate"
    finally:
        deregister(Shouted)
        metadata.drop_all(engine)
