"""Reflection (``inspect(engine)``, ``MetaData.reflect``, ``autoload_with``) on every database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from athanor import exc
from athanor.engine import Engine, create_engine
from athanor.engine.reflection import (
    Inspector,
    ObjectKind,
    ObjectScope,
    parse_quoted_labels,
    parse_type_string,
)
from athanor.inspection import inspect
from athanor.sql import types as sqltypes
from athanor.sql.elements import text
from athanor.sql.schema import (
    CheckConstraint,
    Column,
    ForeignKeyConstraint,
    Index,
    MetaData,
    Table,
    UniqueConstraint,
)
from backends import Backend


@pytest.fixture
def engine(backend: Backend) -> Iterator[Engine]:
    eng = create_engine(backend.url)
    yield eng
    eng.dispose()


def make_schema(engine: Engine) -> MetaData:
    metadata = MetaData()
    Table(
        "users",
        metadata,
        Column("id", sqltypes.Integer, primary_key=True),
        Column("username", sqltypes.String(50), nullable=False, unique=True),
        Column("email", sqltypes.String(100), comment="where to write"),
        Column("status", sqltypes.String(10), nullable=False, server_default="new"),
        Column("age", sqltypes.Integer),
        CheckConstraint("age >= 0", name="ck_users_age"),
        comment="people",
    )
    orders = Table(
        "orders",
        metadata,
        Column("id", sqltypes.BigInteger, primary_key=True),
        Column("user_id", sqltypes.Integer, nullable=False),
        Column("code", sqltypes.String(20)),
        Column("qty", sqltypes.Integer),
        ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_orders_user", ondelete="CASCADE"),
        UniqueConstraint("code", "qty", name="uq_orders_code_qty"),
    )
    Index("ix_orders_qty", orders.c.qty)
    Index("ix_orders_code_u", orders.c.code, unique=True)
    metadata.create_all(engine)
    return metadata


class TestInspector:
    def test_inspect_returns_an_inspector(self, engine: Engine) -> None:
        assert isinstance(inspect(engine), Inspector)
        with engine.connect() as conn:
            assert isinstance(inspect(conn), Inspector)

    def test_unknown_objects(self) -> None:
        with pytest.raises(exc.NoInspectionAvailable):
            inspect(object())
        assert inspect(object(), raiseerr=False) is None

    def test_table_and_view_names(self, engine: Engine, backend: Backend) -> None:
        make_schema(engine)
        with engine.begin() as conn:
            conn.execute(text("CREATE VIEW adults AS SELECT id FROM users WHERE age >= 18"))
        insp = inspect(engine)
        assert insp.get_table_names() == ["orders", "users"]
        assert insp.get_view_names() == ["adults"]
        assert insp.has_table("users") and insp.has_table("adults")
        assert not insp.has_table("nope")
        assert insp.default_schema_name in insp.get_schema_names()
        assert insp.has_schema(insp.default_schema_name)
        definition = insp.get_view_definition("adults")
        assert definition is not None and "18" in definition

    def test_columns(self, engine: Engine, backend: Backend) -> None:
        make_schema(engine)
        columns = {c["name"]: c for c in inspect(engine).get_columns("users")}
        assert list(columns) == ["id", "username", "email", "status", "age"]
        # reflected types are the database's own (upper-case) names, as SQLAlchemy's are
        assert isinstance(columns["id"]["type"], sqltypes.INTEGER)
        if backend.name == "mysql":  # MariaDB shows a display width, and it is reflected
            assert repr(columns["id"]["type"]) == "INTEGER(display_width=11)"
        else:
            assert type(columns["id"]["type"]) is sqltypes.INTEGER
        assert columns["id"]["autoincrement"] is True
        assert columns["id"]["nullable"] is False
        username = columns["username"]
        assert repr(username["type"]) == "VARCHAR(length=50)"
        assert username["nullable"] is False
        assert columns["email"]["nullable"] is True
        assert columns["status"]["default"] == "'new'"
        assert columns["age"]["default"] is None
        if backend.name != "sqlite":
            assert columns["email"]["comment"] == "where to write"
            assert inspect(engine).get_table_comment("users") == {"text": "people"}

    def test_keys_and_constraints(self, engine: Engine, backend: Backend) -> None:
        make_schema(engine)
        insp = inspect(engine)
        assert insp.get_pk_constraint("orders")["constrained_columns"] == ["id"]
        [fk] = insp.get_foreign_keys("orders")
        assert fk["name"] == "fk_orders_user"
        assert fk["constrained_columns"] == ["user_id"]
        assert (fk["referred_schema"], fk["referred_table"]) == (None, "users")
        assert fk["referred_columns"] == ["id"]
        assert fk["options"]["ondelete"] == "CASCADE"
        reflected = insp.get_unique_constraints("orders")
        uniques = {u["name"]: u["column_names"] for u in reflected}
        assert uniques["uq_orders_code_qty"] == ["code", "qty"]
        if backend.name == "mysql":  # the constraint is its index, as SQLAlchemy reports
            assert [u["duplicates_index"] for u in reflected] == [u["name"] for u in reflected]
        indexes = {ix["name"]: ix for ix in insp.get_indexes("orders")}
        # MySQL has no unique index apart from a unique constraint, and indexes foreign keys
        assert set(indexes) - {"fk_orders_user", "uq_orders_code_qty"} == {
            "ix_orders_qty",
            "ix_orders_code_u",
        }
        assert indexes["ix_orders_qty"]["column_names"] == ["qty"]
        assert indexes["ix_orders_code_u"]["unique"] is True
        assert indexes["ix_orders_qty"]["unique"] is False
        checks = {c["name"]: c["sqltext"] for c in insp.get_check_constraints("users")}
        assert "age" in checks["ck_users_age"] and "0" in checks["ck_users_age"]

    def test_no_such_table(self, engine: Engine) -> None:
        with pytest.raises(exc.NoSuchTableError):
            Table("missing", MetaData(), autoload_with=engine)

    def test_questions_about_a_missing_table_raise_no_such_table(self, engine: Engine) -> None:
        """Each question about one table raises NoSuchTableError for a table that does not
        exist, as in SQLAlchemy, rather than describing an empty table; the get_multi_*
        forms leave it out, and an existing table without foreign keys is no error."""
        make_schema(engine)
        insp = inspect(engine)
        for method in (
            insp.get_columns,
            insp.get_pk_constraint,
            insp.get_foreign_keys,
            insp.get_indexes,
            insp.get_unique_constraints,
            insp.get_check_constraints,
            insp.get_table_comment,
            insp.get_table_options,
            insp.get_view_definition,
        ):
            with pytest.raises(exc.NoSuchTableError, match="missing_xyz"):
                method("missing_xyz")
        assert insp.get_multi_columns(filter_names=["missing_xyz"]) == {}
        assert insp.get_foreign_keys("users") == []
        assert insp.get_table_options("users") is not None


ALL_TYPES: list[tuple[str, Any]] = [
    ("i", sqltypes.Integer()),
    ("bi", sqltypes.BigInteger()),
    ("si", sqltypes.SmallInteger()),
    ("s", sqltypes.String(40)),
    ("tx", sqltypes.Text()),
    ("b", sqltypes.Boolean()),
    ("f", sqltypes.Float()),
    ("d", sqltypes.Double()),
    ("n", sqltypes.Numeric(12, 3)),
    ("dt", sqltypes.Date()),
    ("ts", sqltypes.DateTime()),
    ("tm", sqltypes.Time()),
    ("bin", sqltypes.LargeBinary()),
    ("js", sqltypes.JSON()),
    ("e", sqltypes.Enum("one", "two", name="numbers")),
]


def test_every_type_reflects_back(engine: Engine, backend: Backend) -> None:
    metadata = MetaData()
    Table(
        "typed",
        metadata,
        Column("id", sqltypes.Integer, primary_key=True),
        *[Column(name, type_) for name, type_ in ALL_TYPES],
    )
    metadata.create_all(engine)
    found = {c["name"]: c["type"] for c in inspect(engine).get_columns("typed")}
    expected: dict[str, type] = {
        "i": sqltypes.Integer,
        "bi": sqltypes.BigInteger,
        "si": sqltypes.SmallInteger,
        "s": sqltypes.String,
        "tx": sqltypes.Text,
        "b": sqltypes.Boolean,
        "n": sqltypes.Numeric,
        "dt": sqltypes.Date,
        "ts": sqltypes.DateTime,
        "tm": sqltypes.Time,
        "js": sqltypes.JSON,
        "e": sqltypes.Enum if backend.name != "sqlite" else sqltypes.String,
    }
    for name, type_class in expected.items():
        assert isinstance(found[name], type_class), (name, found[name])
    # each as the database names it (the upper-case type), repr'd as SQLAlchemy shows it
    widths = (11, 20, 6) if backend.name == "mysql" else ("", "", "")
    assert [repr(found[name]) for name in ("i", "bi", "si", "s", "tx", "n", "dt")] == [
        *(
            f"{name}({'display_width=' if width else ''}{width})"
            for name, width in zip(("INTEGER", "BIGINT", "SMALLINT"), widths, strict=True)
        ),
        "VARCHAR(length=40)",
        "TEXT()",
        "DECIMAL(precision=12, scale=3)"
        if backend.name == "mysql"
        else "NUMERIC(precision=12, scale=3)",
        "DATE()",
    ]
    # MariaDB's DATETIME(6) and TIME(6) come back generic, so that they re-create with their
    # microseconds
    if backend.name == "mysql":
        assert (repr(found["ts"]), repr(found["tm"])) == ("DateTime()", "Time()")
    else:
        timestamp = "TIMESTAMP()" if backend.name == "postgresql" else "DATETIME()"
        assert (repr(found["ts"]), repr(found["tm"])) == (timestamp, "TIME()")
    assert isinstance(found["f"], sqltypes.Float)
    assert isinstance(found["bin"], sqltypes.LargeBinary)  # LONGBLOB on MySQL
    assert isinstance(found["d"], sqltypes.Double)
    assert found["s"].length == 40
    assert (found["n"].precision, found["n"].scale) == (12, 3)
    if backend.name != "sqlite":
        assert found["e"].enums == ("one", "two")


@pytest.mark.backends("postgresql")
def test_postgresql_types(engine: Engine) -> None:
    from athanor.dialects.postgresql.types import JSONB

    metadata = MetaData()
    Table(
        "pg",
        metadata,
        Column("id", sqltypes.Integer, primary_key=True),
        Column("tz", sqltypes.DateTime(timezone=True)),
        Column("u", sqltypes.Uuid()),
        Column("iv", sqltypes.Interval()),
        Column("arr", sqltypes.ARRAY(sqltypes.Integer)),
        Column("jb", JSONB()),
    )
    metadata.create_all(engine)
    found = {c["name"]: c for c in inspect(engine).get_columns("pg")}
    assert found["tz"]["type"].timezone is True
    assert isinstance(found["u"]["type"], sqltypes.Uuid)
    assert isinstance(found["iv"]["type"], sqltypes.Interval)
    assert isinstance(found["arr"]["type"], sqltypes.ARRAY)
    assert repr(found["arr"]["type"]) == "ARRAY(INTEGER())"
    assert isinstance(found["jb"]["type"], JSONB)
    assert found["id"]["identity"]["always"] is False
    assert found["id"]["default"] is None


@pytest.mark.backends("postgresql")
def test_postgresql_expression_and_partial_indexes(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (id serial PRIMARY KEY, name varchar(20), n int)"))
        conn.execute(text("CREATE INDEX ix_lower ON t (lower(name)) WHERE n > 1"))
    [ix] = inspect(engine).get_indexes("t")
    assert ix["column_names"] == [None]
    assert ix["expressions"] == ["lower(name)"]
    assert ix["dialect_options"]["postgresql_where"] == "n > 1"
    [column] = [c for c in inspect(engine).get_columns("t") if c["name"] == "id"]
    assert column["autoincrement"] is True and column["default"] is None


@pytest.mark.backends("sqlite")
def test_sqlite_expression_index_and_named_constraints(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(
            text(
                'CREATE TABLE t (id INTEGER PRIMARY KEY, "Name" VARCHAR(20) '
                'CONSTRAINT ck_len CHECK (length("Name") > 1), p INTEGER '
                'CONSTRAINT fk_p REFERENCES t, CONSTRAINT uq_name UNIQUE ("Name"))'
            )
        )
        conn.execute(text('CREATE INDEX ix_lower ON t (lower("Name"), p)'))
    insp = inspect(engine)
    [ix] = insp.get_indexes("t")
    assert ix["column_names"] == [None, "p"]
    assert ix["expressions"] == ['lower("Name")', "p"]
    assert insp.get_check_constraints("t") == [{"name": "ck_len", "sqltext": 'length("Name") > 1'}]
    assert insp.get_unique_constraints("t") == [{"name": "uq_name", "column_names": ["Name"]}]
    [fk] = insp.get_foreign_keys("t")
    assert fk["name"] == "fk_p" and fk["referred_columns"] == ["id"]


def test_seed_003_metadata_reflect(engine: Engine) -> None:
    make_schema(engine)
    metadata = MetaData()
    metadata.reflect(bind=engine)
    users = metadata.tables["users"]
    assert set(metadata.tables) == {"users", "orders"}
    assert [c.name for c in users.columns] == ["id", "username", "email", "status", "age"]
    assert [c.name for c in users.primary_key.columns] == ["id"]
    orders = metadata.tables["orders"]
    [fk] = orders.foreign_key_constraints
    assert fk.referred_table is users
    with engine.begin() as conn:
        conn.execute(users.insert().values(username="ann", email="a@x"))
        row = conn.execute(users.select()).one()
    assert (row.id, row.username, row.status) == (1, "ann", "new")


def test_reflect_only_and_autoload_with(engine: Engine) -> None:
    make_schema(engine)
    metadata = MetaData()
    metadata.reflect(bind=engine, only=["users"])
    assert set(metadata.tables) == {"users"}
    with pytest.raises(exc.InvalidRequestError, match="nope"):
        MetaData().reflect(bind=engine, only=["users", "nope"])
    orders = Table("orders", MetaData(), autoload_with=engine)
    assert "users" in orders.metadata.tables  # referred table reflected too
    assert "ix_orders_qty" in {ix.name for ix in orders.indexes}


def test_autoload_options_resolve_fks_exclude_columns_and_must_exist(engine: Engine) -> None:
    make_schema(engine)
    metadata = MetaData()
    orders = Table(
        "orders", metadata, autoload_with=engine, resolve_fks=False, exclude_columns=["code"]
    )
    assert set(metadata.tables) == {"orders"}  # users not reflected
    assert [fk.target_fullname for fk in orders.foreign_keys] == ["users.id"]
    assert "code" not in orders.c and "qty" in orders.c
    assert "exclude_columns" not in orders.dialect_kwargs
    assert Table("orders", metadata, must_exist=True) is orders
    with pytest.raises(exc.InvalidRequestError, match=r"'users' is not defined.*must_exist"):
        Table("users", metadata, must_exist=True)


def test_reflecting_an_existing_table_again_adds_nothing_twice(engine: Engine) -> None:
    make_schema(engine)
    metadata = MetaData()
    first = Table("orders", metadata, autoload_with=engine)
    shape = (
        sorted(str(ix.name) for ix in first.indexes),
        sorted(type(c).__name__ for c in first.constraints),
        len(first.foreign_keys),
    )
    again = Table("orders", metadata, autoload_with=engine)
    extended = Table("orders", metadata, autoload_with=engine, extend_existing=True)
    assert again is first and extended is first
    assert (
        sorted(str(ix.name) for ix in first.indexes),
        sorted(type(c).__name__ for c in first.constraints),
        len(first.foreign_keys),
    ) == shape


def test_unique_indexed_column_is_one_unique_index(engine: Engine) -> None:
    metadata = MetaData()
    table = Table(
        "handles",
        metadata,
        Column("id", sqltypes.Integer, primary_key=True),
        Column("handle", sqltypes.String(30), unique=True, index=True),
    )
    assert not [c for c in table.constraints if isinstance(c, UniqueConstraint)]
    assert [(ix.name, ix.unique) for ix in table.indexes] == [("ix_handles_handle", True)]
    metadata.create_all(engine)
    inspector = inspect(engine)
    # MySQL reports a unique index both as an index and as a unique constraint.
    unique_names = {ix["name"] for ix in inspector.get_indexes("handles") if ix["unique"]}
    unique_names |= {uq["name"] for uq in inspector.get_unique_constraints("handles")}
    assert unique_names == {"ix_handles_handle"}
    with engine.begin() as conn:
        conn.execute(table.insert().values(handle="a"))
        with pytest.raises(exc.IntegrityError):
            conn.execute(table.insert().values(handle="a"))


def test_reflect_then_recreate_on_sqlite(engine: Engine, tmp_path: Path) -> None:
    make_schema(engine)
    metadata = MetaData()
    metadata.reflect(bind=engine)
    target = create_engine(f"sqlite:///{tmp_path / 'copy.db'}")
    try:
        metadata.create_all(target)
        insp = inspect(target)
        assert insp.get_table_names() == ["orders", "users"]
        assert [fk["referred_table"] for fk in insp.get_foreign_keys("orders")] == ["users"]
        users = metadata.tables["users"]
        with target.begin() as conn:
            conn.execute(users.insert().values(username="bo"))
            assert conn.execute(text("SELECT id, status FROM users")).one() == (1, "new")
    finally:
        target.dispose()


@pytest.mark.backends("sqlite")
def test_reflect_sqlite_then_recreate_on_servers(engine: Engine, server_databases: Any) -> None:
    """Reflect on SQLite and re-create on PostgreSQL and MariaDB (if reachable)."""
    make_schema(engine)
    metadata = MetaData()
    metadata.reflect(bind=engine)
    for name in ("postgresql", "mysql"):
        try:
            url, _ = server_databases.get(name)
        except BaseException:  # server not available: skipped there
            continue
        target = create_engine(url)
        try:
            metadata.drop_all(target)
            metadata.create_all(target)
            assert set(inspect(target).get_table_names()) >= {"users", "orders"}
            metadata.drop_all(target)
        finally:
            target.dispose()


def test_type_string_parsing() -> None:
    assert parse_type_string("character varying(50)") == ("character varying", ["50"], "")
    assert parse_type_string("timestamp(3) without time zone") == (
        "timestamp",
        ["3"],
        "without time zone",
    )
    assert parse_type_string("NUMERIC(10, 2)") == ("numeric", ["10", "2"], "")
    assert parse_quoted_labels("('a','b''c','')") == ["a", "b'c", ""]


# Names a user could give: letters in any case, digits, spaces, quotes of every kind, unicode.
identifiers = st.text(
    alphabet=st.sampled_from(list("abcXYZ019 _'\"`%:?$-éß中")), min_size=1, max_size=12
).filter(lambda name: name.strip() == name and name[0] not in "0123456789")


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    table_name=identifiers,
    column_name=identifiers,
    comment=st.text(
        # MariaDB keeps comments in 3-byte UTF-8: characters beyond the BMP come back as "?"
        st.characters(max_codepoint=0xFFFF, exclude_categories=("Cs",)),
        max_size=20,
    ),
)
def test_arbitrary_names_and_comments_round_trip(
    engine: Engine, backend: Backend, table_name: str, column_name: str, comment: str
) -> None:
    comment = comment.replace("\x00", "")
    metadata = MetaData()
    Table(
        table_name,
        metadata,
        Column(column_name, sqltypes.Integer, primary_key=True, comment=comment or None),
        Column("value", sqltypes.String(20), server_default=comment[:20].replace("\\", "")),
    )
    metadata.create_all(engine)
    try:
        insp = inspect(engine)
        assert table_name in insp.get_table_names()
        columns = insp.get_columns(table_name)
        assert [c["name"] for c in columns] == [column_name, "value"]
        if backend.name != "sqlite" and comment:
            assert columns[0]["comment"] == comment
        reflected = MetaData()
        reflected.reflect(bind=engine)
        table = reflected.tables[table_name]
        with engine.begin() as conn:
            conn.execute(table.insert().values({column_name: 7}))
            found = conn.execute(table.select().where(table.c[column_name] == 7)).one()
            assert found == (7, comment[:20].replace("\\", ""))
    finally:
        metadata.drop_all(engine)


def test_table_options_round_trip(engine: Engine, backend: Backend) -> None:
    metadata = MetaData()
    t = Table(
        "opts",
        metadata,
        Column("id", sqltypes.Integer, primary_key=True),
        Column("name", sqltypes.String(30)),
        sqlite_autoincrement=True,
    )
    Index("ix_opts_name", t.c.name, postgresql_where=t.c.id > 5, mysql_length={"name": 4})
    metadata.create_all(engine)
    reflected = Table("opts", MetaData(), autoload_with=engine)
    [index] = [ix for ix in reflected.indexes if ix.name == "ix_opts_name"]
    options = dict(reflected.dialect_kwargs)
    if backend.name == "sqlite":
        assert options == {"sqlite_autoincrement": True}
    elif backend.name == "mysql":
        assert options["mysql_engine"] == "InnoDB"
        assert options["mysql_charset"] == "utf8mb4"
        assert index.dialect_kwargs == {"mysql_length": {"name": 4}}
    else:
        assert index.dialect_kwargs == {"postgresql_where": "id > 5"}
    metadata.drop_all(engine)
    reflected.metadata.create_all(engine)  # re-created with the same options
    assert {ix["name"] for ix in inspect(engine).get_indexes("opts")} == {"ix_opts_name"}


def _everything(bind: Any) -> dict[str, Any]:
    """Every reflection result for the tables of make_schema(), types as their repr."""
    insp = inspect(bind)
    found: dict[str, Any] = {"tables": insp.get_table_names()}
    for name in ("users", "orders"):
        columns = [{**c, "type": repr(c["type"])} for c in insp.get_columns(name)]
        found[name] = (
            columns,
            insp.get_pk_constraint(name),
            insp.get_foreign_keys(name),
            sorted(insp.get_indexes(name), key=lambda ix: ix["name"]),
            insp.get_unique_constraints(name),
            insp.get_check_constraints(name),
            insp.get_table_comment(name),
        )
    return found


def test_async_drivers_reflect_the_same(engine: Engine, backend: Backend) -> None:
    """asyncpg / asyncmy / aiosqlite return some catalog values differently; results must not."""
    import asyncio

    from athanor.ext.asyncio import create_async_engine

    make_schema(engine)
    expected = _everything(engine)

    async def scenario() -> dict[str, Any]:
        async_engine = create_async_engine(backend.async_url())
        try:
            async with async_engine.connect() as conn:
                return await conn.run_sync(_everything)
        finally:
            await async_engine.dispose()

    assert asyncio.run(scenario()) == expected


def test_colons_and_casts_in_reflected_sql(
    engine: Engine, backend: Backend, tmp_path: Path
) -> None:
    """Defaults and CHECKs with ``:`` are not mistaken for parameters, and PostgreSQL's
    literal casts are dropped, so the table re-creates elsewhere."""
    metadata = MetaData()
    Table(
        "timed",
        metadata,
        Column("id", sqltypes.Integer, primary_key=True),
        Column("at", sqltypes.String(10), server_default="12:30"),
        Column("n", sqltypes.Numeric(5, 1)),
        CheckConstraint("at <> '00:00' AND n > 0", name="ck_timed"),
    )
    metadata.create_all(engine)
    reflected = MetaData()
    reflected.reflect(bind=engine)
    [check] = inspect(engine).get_check_constraints("timed")
    assert "::" not in check["sqltext"]
    target = create_engine(f"sqlite:///{tmp_path / 'copy.db'}")
    try:
        reflected.create_all(target)
        with target.begin() as conn:
            conn.execute(text("INSERT INTO timed (n) VALUES (1)"))
            assert conn.execute(text("SELECT at FROM timed")).scalar() == "12:30"
        with pytest.raises(exc.IntegrityError), target.begin() as conn:
            conn.execute(text("INSERT INTO timed (at, n) VALUES ('00:00', 1)"))
    finally:
        target.dispose()


def test_reflected_types_carry_values_here_and_on_sqlite(
    engine: Engine, backend: Backend, tmp_path: Path
) -> None:
    """A reflected table converts values like the original, and re-creates on SQLite."""
    import datetime as dt
    from decimal import Decimal

    metadata = MetaData()
    Table(
        "typed",
        metadata,
        Column("id", sqltypes.Integer, primary_key=True),
        *[Column(name, type_) for name, type_ in ALL_TYPES],
    )
    metadata.create_all(engine)
    row = {
        "i": 1,
        "bi": 2**40,
        "si": 3,
        "s": "x'y",
        "tx": "text",
        "b": True,
        "f": 1.5,
        "d": 2.25,
        "n": Decimal("1.250"),
        "dt": dt.date(2024, 2, 29),
        "ts": dt.datetime(2024, 2, 29, 12, 30, 15, 123456),
        "tm": dt.time(23, 59, 58),
        "bin": b"\x00\x01\xff",
        "js": {"a": [1, "two", None]},
        "e": "two",
    }
    reflected = MetaData()
    reflected.reflect(bind=engine)
    typed = reflected.tables["typed"]
    copy = create_engine(f"sqlite:///{tmp_path / 'copy.db'}")
    try:
        reflected.create_all(copy)
        for target in (engine, copy):
            with target.begin() as conn:
                conn.execute(typed.insert().values(row))
                found = conn.execute(typed.select()).one()._mapping
            assert {key: found[key] for key in row} == row, target
    finally:
        copy.dispose()


def test_reflection_uses_one_connection_and_reads_each_catalog_row_once(
    engine: Engine, backend: Backend
) -> None:
    """``MetaData.reflect`` and ``autoload_with=engine`` (with the referred table) check out
    one connection for the whole operation, and SQLite's table definition is read once per
    table, not once per question asked about it."""
    from athanor import event

    make_schema(engine)
    checkouts: list[object] = []
    statements: list[str] = []
    event.listen(engine.pool, "checkout", lambda *args: checkouts.append(args[0]))

    @event.listens_for(engine, "before_cursor_execute")
    def record(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(statement)

    metadata = MetaData()
    metadata.reflect(bind=engine)
    assert len(checkouts) == 1
    assert set(metadata.tables) == {"users", "orders"}
    if backend.is_sqlite:
        definitions = [s for s in statements if "SELECT sql FROM sqlite_master" in s]
        assert len(definitions) == 2  # one per table
    del checkouts[:], statements[:]
    orders = Table("orders", MetaData(), autoload_with=engine)
    assert len(checkouts) == 1
    assert {c.name for c in orders.metadata.tables["users"].columns} >= {"id", "username"}
    # a later call on the same inspector still answers, on a connection of its own
    insp = inspect(engine)
    insp.reflect_table(Table("users", MetaData()))
    assert insp.get_table_names() == ["orders", "users"]
    with engine.connect() as conn:  # inspect(conn) keeps to that connection
        del checkouts[:]
        Table("orders", MetaData(), autoload_with=conn)
        assert checkouts == []


def test_sorted_table_and_fkc_names_orders_by_dependency_and_sets_cycles_apart(
    engine: Engine,
) -> None:
    make_schema(engine)
    order = inspect(engine).get_sorted_table_and_fkc_names()
    assert order == [("users", []), ("orders", [("orders", "fk_orders_user")]), (None, [])]
    metadata = MetaData()
    Table(
        "nodes",
        metadata,
        Column("id", sqltypes.Integer, primary_key=True),
        Column("edge_id", sqltypes.Integer),
        ForeignKeyConstraint(["edge_id"], ["edges.id"], name="fk_nodes_edge", use_alter=True),
    )
    Table(
        "edges",
        metadata,
        Column("id", sqltypes.Integer, primary_key=True),
        Column("node_id", sqltypes.Integer),
        ForeignKeyConstraint(["node_id"], ["nodes.id"], name="fk_edges_node"),
    )
    metadata.create_all(engine)
    cyclic = inspect(engine).get_sorted_table_and_fkc_names()
    assert [name for name, _ in cyclic][-1] is None
    assert sorted(cyclic[-1][1]) == [("edges", "fk_edges_node"), ("nodes", "fk_nodes_edge")]
    assert dict(cyclic[:-1])["nodes"] == [] and dict(cyclic[:-1])["edges"] == []
    names = [name for name, _ in cyclic[:-1]]
    assert names.index("users") < names.index("orders")


def test_get_multi_methods_answer_for_every_table_or_the_named_ones(
    engine: Engine, backend: Backend
) -> None:
    make_schema(engine)
    with engine.begin() as conn:
        conn.execute(text("CREATE VIEW active_users AS SELECT id, username FROM users"))
        if backend.name == "postgresql":
            conn.execute(text("CREATE MATERIALIZED VIEW user_ages AS SELECT id, age FROM users"))
    insp = inspect(engine)
    columns = insp.get_multi_columns()
    assert set(columns) == {(None, "users"), (None, "orders")}
    assert [c["name"] for c in columns[(None, "orders")]] == ["id", "user_id", "code", "qty"]
    only_orders = insp.get_multi_foreign_keys(filter_names=["orders"])
    assert [fk["name"] for fk in only_orders[(None, "orders")]] == ["fk_orders_user"]
    assert insp.get_multi_pk_constraint(filter_names=["users"])[(None, "users")][
        "constrained_columns"
    ] == ["id"]
    assert set(insp.get_multi_indexes(filter_names=["orders"])) == {(None, "orders")}
    assert (None, "users") in insp.get_multi_check_constraints()
    assert (None, "orders") in insp.get_multi_unique_constraints()
    assert insp.get_multi_table_comment(filter_names=["users"])[(None, "users")] == {
        "text": None if backend.name == "sqlite" else "people"  # SQLite keeps no comments
    }
    assert (None, "users") in insp.get_multi_table_options()
    views = insp.get_multi_columns(kind=ObjectKind.ANY_VIEW)
    expected = {(None, "active_users")} | (
        {(None, "user_ages")} if backend.name == "postgresql" else set()
    )
    assert set(views) == expected
    assert insp.get_multi_columns(scope=ObjectScope.TEMPORARY) == {}
    assert insp.get_view_names() == ["active_users"]
    assert insp.get_materialized_view_names() == (
        ["user_ages"] if backend.name == "postgresql" else []
    )
    reflected = MetaData()
    reflected.reflect(engine, views=True)
    assert set(reflected.tables) == {"users", "orders"} | {name for _, name in expected}


def test_reflect_only_without_resolve_fks_leaves_referred_tables_out(engine: Engine) -> None:
    make_schema(engine)
    metadata = MetaData()
    metadata.reflect(engine, only=["orders"], resolve_fks=False)
    assert set(metadata.tables) == {"orders"}
    resolved = MetaData()
    resolved.reflect(engine, only=["orders"])
    assert set(resolved.tables) == {"orders", "users"}


def test_get_enums_lists_postgresql_enum_types_with_their_labels_in_order(
    engine: Engine, backend: Backend
) -> None:
    metadata = MetaData()
    Table("moods", metadata, Column("mood", sqltypes.Enum("sad", "ok", "happy", name="mood")))
    metadata.create_all(engine)
    if backend.name != "postgresql":
        with pytest.raises(NotImplementedError, match="get_enums"):
            inspect(engine).get_enums()
        return
    schema = inspect(engine).default_schema_name
    assert inspect(engine).get_enums() == [
        {"name": "mood", "schema": schema, "visible": True, "labels": ["sad", "ok", "happy"]}
    ]
    assert [e["name"] for e in inspect(engine).get_enums("*")] == ["mood"]
    assert inspect(engine).get_enums("no_such_schema") == []


def test_constraint_details_as_sqlalchemy_gives_them(engine: Engine, backend: Backend) -> None:
    width = "(3)" if backend.name == "mysql" else ""
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "CREATE TABLE parent (id INTEGER PRIMARY KEY, a INTEGER, b INTEGER, "
            "CONSTRAINT uq_ab UNIQUE (a, b), CONSTRAINT ck_a CHECK (a > 0))"
        )
        conn.exec_driver_sql(
            f"CREATE TABLE child (id INTEGER PRIMARY KEY, p1 INTEGER, p2 INTEGER, pa INTEGER, "
            f"pb INTEGER, tiny SMALLINT{width}, "
            "CONSTRAINT fk_one FOREIGN KEY (p1) REFERENCES parent (id), "
            "CONSTRAINT fk_two FOREIGN KEY (p2) REFERENCES parent (id), "
            "CONSTRAINT fk_three FOREIGN KEY (pa, pb) REFERENCES parent (a, b))"
        )
        conn.exec_driver_sql("CREATE VIEW big_a AS SELECT id, a FROM parent WHERE a > 1")
        if backend.name == "postgresql":
            conn.exec_driver_sql("COMMENT ON CONSTRAINT ck_a ON parent IS 'positive'")
    insp = inspect(engine)
    foreign_keys = [fk["name"] for fk in insp.get_foreign_keys("child")]
    uniques = insp.get_unique_constraints("parent")
    checks = insp.get_check_constraints("parent")
    definition = insp.get_view_definition("big_a")
    if backend.name == "sqlite":  # in the order they were declared
        assert foreign_keys == ["fk_one", "fk_two", "fk_three"]
    else:
        assert foreign_keys == ["fk_one", "fk_three", "fk_two"]
    if backend.name == "postgresql":
        assert uniques == [
            {
                "name": "uq_ab",
                "column_names": ["a", "b"],
                "comment": None,
                "dialect_options": {
                    "postgresql_include": [],
                    "postgresql_nulls_not_distinct": False,
                },
            }
        ]
        assert checks == [{"name": "ck_a", "sqltext": "a > 0", "comment": "positive"}]
        assert all(fk["comment"] is None for fk in insp.get_foreign_keys("child"))
    else:
        assert [unique["column_names"] for unique in uniques] == [["a", "b"]]
        assert "comment" not in checks[0]
    if backend.name == "postgresql":  # pg_get_viewdef() without its pretty flag, as SQLAlchemy
        assert (
            definition
            == " SELECT parent.id,\n    parent.a\n   FROM parent\n  WHERE (parent.a > 1);"
        )
    else:  # the whole statement, as SQLAlchemy returns it
        assert definition.startswith("CREATE") and " VIEW " in definition.upper()
    tiny = {c["name"]: c["type"] for c in insp.get_columns("child")}["tiny"]
    if backend.name == "mysql":
        assert (repr(tiny), tiny.display_width) == ("SMALLINT(display_width=3)", 3)
    else:
        assert repr(tiny) == "SMALLINT()"
