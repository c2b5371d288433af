"""create_all / drop_all and the DDL constructs on the real databases."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from athanor import event, exc
from athanor.engine import Engine, create_engine
from athanor.engine.reflection import Inspector  # noqa: F401  (registers inspect(engine))
from athanor.inspection import inspect
from athanor.sql import types as sqltypes
from athanor.sql.ddl import CreateIndex, CreateTable, DropTable, create_all, drop_all
from athanor.sql.elements import text
from athanor.sql.schema import (
    CheckConstraint,
    Column,
    Computed,
    ForeignKey,
    Index,
    MetaData,
    Table,
    UniqueConstraint,
)
from athanor.sql.selectable import select
from backends import Backend


@pytest.fixture
def engine(backend: Backend) -> Iterator[Engine]:
    eng = create_engine(backend.url)
    yield eng
    eng.dispose()


def tables_in(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())


def chain(metadata: MetaData) -> tuple[Table, Table, Table]:
    """Three tables where each refers to the previous one, declared in reverse order."""
    c = Table(
        "c",
        metadata,
        Column("id", sqltypes.Integer, primary_key=True),
        Column("b_id", sqltypes.Integer, ForeignKey("b.id")),
    )
    b = Table(
        "b",
        metadata,
        Column("id", sqltypes.Integer, primary_key=True),
        Column("a_id", sqltypes.Integer, ForeignKey("a.id")),
    )
    a = Table(
        "a",
        metadata,
        Column("id", sqltypes.Integer, primary_key=True),
        Column("name", sqltypes.String(30), nullable=False, server_default="x"),
    )
    return a, b, c


def test_create_all_in_foreign_key_order_and_drop_all(engine: Engine) -> None:
    metadata = MetaData()
    chain(metadata)
    create_all(metadata, engine)
    assert tables_in(engine) == {"a", "b", "c"}
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO a (id) VALUES (1)"))
        conn.execute(text("INSERT INTO b (id, a_id) VALUES (1, 1)"))
        conn.execute(text("INSERT INTO c (id, b_id) VALUES (1, 1)"))
        assert conn.execute(text("SELECT name FROM a")).scalar() == "x"
    drop_all(metadata, engine)
    assert tables_in(engine) == set()


def test_checkfirst(engine: Engine) -> None:
    metadata = MetaData()
    chain(metadata)
    create_all(metadata, engine)
    create_all(metadata, engine)  # existing tables are skipped
    with pytest.raises(exc.DBAPIError):
        create_all(metadata, engine, checkfirst=False)
    drop_all(metadata, engine)
    drop_all(metadata, engine)  # missing tables are skipped
    with pytest.raises(exc.DBAPIError):
        drop_all(metadata, engine, checkfirst=False)


def test_create_all_subset_and_on_a_connection(engine: Engine) -> None:
    metadata = MetaData()
    a, b, _ = chain(metadata)
    with engine.connect() as conn:
        create_all(metadata, conn, tables=[b, a])
        conn.commit()
    assert tables_in(engine) == {"a", "b"}


def test_foreign_key_cycle(engine: Engine, backend: Backend) -> None:
    metadata = MetaData()
    Table(
        "dept",
        metadata,
        Column("id", sqltypes.Integer, primary_key=True),
        Column("head_id", sqltypes.Integer, ForeignKey("emp.id")),
    )
    Table(
        "emp",
        metadata,
        Column("id", sqltypes.Integer, primary_key=True),
        Column("dept_id", sqltypes.Integer, ForeignKey("dept.id")),
    )
    create_all(metadata, engine)
    assert tables_in(engine) == {"dept", "emp"}
    insp = inspect(engine)
    assert [fk["referred_table"] for fk in insp.get_foreign_keys("dept")] == ["emp"]
    assert [fk["referred_table"] for fk in insp.get_foreign_keys("emp")] == ["dept"]
    drop_all(metadata, engine)
    assert tables_in(engine) == set()


def test_table_create_drop_via_constructs(engine: Engine) -> None:
    t = Table(
        "solo",
        MetaData(),
        Column("id", sqltypes.Integer, primary_key=True),
        Column("v", sqltypes.Integer),
        CheckConstraint("v > 0", name="ck_solo_v"),
    )
    with engine.begin() as conn:
        conn.execute(CreateTable(t))
        conn.execute(text("INSERT INTO solo (v) VALUES (1)"))
        conn.execute(text("INSERT INTO solo (v) VALUES (2)"))
        ids = [row[0] for row in conn.execute(text("SELECT id FROM solo ORDER BY id"))]
    assert ids == [1, 2]  # autoincrement primary key
    # a CHECK violation is an IntegrityError, except on MariaDB (OperationalError 4025)
    with pytest.raises(exc.DatabaseError), engine.begin() as conn:
        conn.execute(text("INSERT INTO solo (v) VALUES (-1)"))
    with engine.begin() as conn:
        conn.execute(DropTable(t))
    assert tables_in(engine) == set()


def test_unique_and_indexes_are_created(engine: Engine) -> None:
    metadata = MetaData()
    t = Table(
        "people",
        metadata,
        Column("id", sqltypes.Integer, primary_key=True),
        Column("email", sqltypes.String(100), unique=True),
        Column("a", sqltypes.Integer),
        Column("b", sqltypes.Integer),
        UniqueConstraint("a", "b", name="uq_people_ab"),
    )
    Index("ix_people_a", t.c.a)
    create_all(metadata, engine)
    insp = inspect(engine)
    indexes = {ix["name"]: ix for ix in insp.get_indexes("people")}
    assert indexes["ix_people_a"]["column_names"] == ["a"]
    uniques = {tuple(u["column_names"]) for u in insp.get_unique_constraints("people")}
    assert {("email",), ("a", "b")} <= uniques
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO people (email, a, b) VALUES ('x', 1, 1)"))
    with pytest.raises(exc.IntegrityError), engine.begin() as conn:
        conn.execute(text("INSERT INTO people (email, a, b) VALUES ('x', 2, 2)"))


def test_enum_native_and_check(engine: Engine, backend: Backend) -> None:
    metadata = MetaData()
    Table(
        "shirts",
        metadata,
        Column("id", sqltypes.Integer, primary_key=True),
        Column("size", sqltypes.Enum("S", "M", "L", name="shirt_size", create_constraint=True)),
        Column("fit", sqltypes.Enum("slim", "loose", name="shirt_fit")),
    )
    Table(
        "pants",
        metadata,
        Column("id", sqltypes.Integer, primary_key=True),
        Column("size", sqltypes.Enum("S", "M", "L", name="shirt_size", create_constraint=True)),
    )
    create_all(metadata, engine)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO shirts (size, fit) VALUES ('M', 'slim')"))
    with pytest.raises(exc.DBAPIError), engine.begin() as conn:
        conn.execute(text("INSERT INTO shirts (size) VALUES ('XXL')"))
    if backend.name == "postgresql":
        with engine.connect() as conn:
            labels = conn.execute(
                text(
                    "SELECT enumlabel FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid "
                    "WHERE t.typname = 'shirt_size' ORDER BY enumsortorder"
                )
            ).fetchall()
        assert [row[0] for row in labels] == ["S", "M", "L"]
    columns = {c["name"]: c for c in inspect(engine).get_columns("shirts")}
    if backend.name == "sqlite":
        assert type(columns["size"]["type"]) is sqltypes.VARCHAR
    else:
        assert columns["size"]["type"].enums == ("S", "M", "L")
    drop_all(metadata, engine)
    if backend.name == "postgresql":
        with engine.connect() as conn:
            left = conn.execute(text("SELECT count(*) FROM pg_type WHERE typname LIKE 'shirt%'"))
            assert left.scalar() == 0


@pytest.mark.backends("postgresql")
def test_postgresql_schema_sequence_and_comments(engine: Engine) -> None:
    from athanor.sql.schema import Sequence

    with engine.begin() as conn:
        conn.execute(text("CREATE SCHEMA test_schema_ddl"))
    metadata = MetaData()
    Table(
        "items",
        metadata,
        Column("id", sqltypes.Integer, Sequence("item_seq", start=100), primary_key=True),
        Column("label", sqltypes.String(20), comment="shown to users"),
        schema="test_schema_ddl",
        comment="things",
    )
    create_all(metadata, engine)
    insp = inspect(engine)
    assert insp.get_table_names(schema="test_schema_ddl") == ["items"]
    assert insp.get_table_comment("items", schema="test_schema_ddl") == {"text": "things"}
    label = [c for c in insp.get_columns("items", schema="test_schema_ddl") if c["name"] == "label"]
    assert label[0]["comment"] == "shown to users"
    with engine.connect() as conn:
        assert conn.execute(text("SELECT nextval('item_seq')")).scalar() == 100
    drop_all(metadata, engine)
    assert inspect(engine).get_table_names(schema="test_schema_ddl") == []


def test_seed_002_create_all(engine: Engine) -> None:
    metadata = MetaData()
    users = Table(
        "users",
        metadata,
        Column("id", sqltypes.Integer, primary_key=True),
        Column("username", sqltypes.String(50), unique=True, nullable=False),
        Column("email", sqltypes.String(100), nullable=False),
        Column("age", sqltypes.Integer),
    )
    metadata.create_all(engine)
    with engine.connect() as conn:
        result = conn.execute(
            users.insert().values(username="john_doe", email="john@example.com", age=30)
        )
        conn.commit()
        assert result.inserted_primary_key[0] == 1
    users.drop(engine)
    users.create(engine)
    assert tables_in(engine) == {"users"}


def test_metadata_methods(engine: Engine) -> None:
    metadata = MetaData()
    chain(metadata)
    metadata.create_all(engine)
    assert tables_in(engine) == {"a", "b", "c"}
    metadata.drop_all(engine)
    assert tables_in(engine) == set()


def test_create_all_and_reflect_through_async_run_sync(backend: Backend) -> None:
    """The asyncio idiom: ``await conn.run_sync(metadata.create_all)`` and reflection."""
    import asyncio

    from athanor.ext.asyncio import create_async_engine

    metadata = MetaData()
    chain(metadata)

    async def scenario() -> tuple[list[str], list[str]]:
        engine = create_async_engine(backend.async_url())
        try:
            async with engine.begin() as conn:
                await conn.run_sync(metadata.create_all)
            async with engine.connect() as conn:
                names = await conn.run_sync(lambda sync: inspect(sync).get_table_names())
                reflected = MetaData()
                await conn.run_sync(reflected.reflect)
            async with engine.begin() as conn:
                await conn.run_sync(metadata.drop_all)
            return names, sorted(reflected.tables)
        finally:
            await engine.dispose()

    names, reflected = asyncio.run(scenario())
    assert names == ["a", "b", "c"]
    assert reflected == ["a", "b", "c"]


@pytest.mark.backends("postgresql")
def test_tables_sharing_an_enum_type_create_and_drop_one_by_one(engine: Engine) -> None:
    metadata = MetaData()
    size = sqltypes.Enum("S", "M", name="size")
    shirts = Table("shirts", metadata, Column("size", size))
    hats = Table("hats", metadata, Column("size", size))
    shirts.create(engine)
    hats.create(engine)  # the type exists already: not created again
    hats.drop(engine)  # shirts still uses the type: it stays
    count = text("SELECT count(*) FROM pg_type WHERE typname = 'size'")
    with engine.connect() as conn:
        assert conn.execute(count).scalar() == 1
    shirts.drop(engine)
    with engine.connect() as conn:
        assert conn.execute(count).scalar() == 0


def test_index_create_and_drop_honour_checkfirst(engine: Engine) -> None:
    metadata = MetaData()
    table = Table(
        "ix_checked",
        metadata,
        Column("id", sqltypes.Integer, primary_key=True),
        Column("code", sqltypes.String(20)),
    )
    table.create(engine)
    index = Index("ix_checked_code", table.c.code)

    def index_names() -> set[str]:
        return {ix["name"] for ix in inspect(engine).get_indexes("ix_checked")}

    index.create(engine)
    assert inspect(engine).has_index("ix_checked", "ix_checked_code")
    index.create(engine, checkfirst=True)  # already there: nothing to do
    with pytest.raises(exc.DBAPIError):
        index.create(engine)
    assert index_names() == {"ix_checked_code"}
    index.drop(engine)
    assert index_names() == set()
    assert not inspect(engine).has_index("ix_checked", "ix_checked_code")
    index.drop(engine, checkfirst=True)  # already gone: nothing to do
    with pytest.raises(exc.DBAPIError):
        index.drop(engine)
    index.create(engine, checkfirst=True)
    assert index_names() == {"ix_checked_code"}
    assert not inspect(engine).has_index("no_such_table", "ix_checked_code")


def _sequences_supported(engine: Engine) -> bool:
    with engine.connect():
        return bool(engine.dialect.supports_sequences)


def test_sequence_create_and_drop_honour_checkfirst(engine: Engine, backend: Backend) -> None:
    from athanor.sql.schema import Sequence

    sequence = Sequence("checked_seq", start=10)
    supported = _sequences_supported(engine)
    # PostgreSQL and MariaDB 10.3+ have sequences; the test servers are new enough
    assert supported == (backend.name in ("postgresql", "mysql"))
    sequence.create(engine)  # checkfirst=True is the default for sequences
    sequence.create(engine, checkfirst=True)
    if not supported:
        # SQLite: declaring a sequence is harmless, nothing is created or dropped
        sequence.drop(engine)
        sequence.drop(engine, checkfirst=False)
        assert inspect(engine).get_sequence_names() == []
        return
    assert inspect(engine).has_sequence("checked_seq")
    assert inspect(engine).get_sequence_names() == ["checked_seq"]
    with pytest.raises(exc.DBAPIError):
        sequence.create(engine, checkfirst=False)
    with engine.connect() as conn:
        assert conn.execute(select(sequence.next_value())).scalar() == 10
        assert conn.scalar(select(sequence.next_value())) == 11
    sequence.drop(engine)
    assert not inspect(engine).has_sequence("checked_seq")
    sequence.drop(engine, checkfirst=True)
    with pytest.raises(exc.DBAPIError):
        sequence.drop(engine, checkfirst=False)
    assert inspect(engine).get_table_names() == []


def test_a_sequence_column_default_generates_the_ids(engine: Engine, backend: Backend) -> None:
    """Where the database has sequences (PostgreSQL, MariaDB 10.3+) ``create_all`` creates a
    column's ``Sequence`` and INSERTs take the ids from it; with ``optional=True`` (and on
    SQLite) the database's own autoincrement generates them."""
    from athanor.sql.schema import Sequence

    statements: list[str] = []

    @event.listens_for(engine, "before_cursor_execute")
    def record(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(statement)

    metadata = MetaData()
    tickets = Table(
        "tickets",
        metadata,
        Column("id", sqltypes.Integer, Sequence("ticket_seq", start=500), primary_key=True),
        Column("label", sqltypes.String(20)),
    )
    notes = Table(
        "notes",
        metadata,
        Column("id", sqltypes.Integer, Sequence("note_seq", optional=True), primary_key=True),
        Column("label", sqltypes.String(20)),
    )
    create_all(metadata, engine)
    supported = _sequences_supported(engine)
    assert supported == (backend.name != "sqlite")
    with engine.begin() as conn:
        one = conn.execute(tickets.insert(), {"label": "one"})
        conn.execute(tickets.insert(), [{"label": "two"}, {"label": "three"}])
        note = conn.execute(notes.insert(), {"label": "n"})
        rows = conn.execute(select(tickets.c.id, tickets.c.label).order_by(tickets.c.id)).all()
    first = 500 if supported else 1
    assert one.inserted_primary_key == (first,)
    assert [tuple(row) for row in rows] == [
        (first, "one"),
        (first + 1, "two"),
        (first + 2, "three"),
    ]
    assert note.inserted_primary_key == (1,)
    if supported:
        assert sorted(inspect(engine).get_sequence_names()) == ["note_seq", "ticket_seq"]
        with engine.connect() as conn:  # the sequence itself moved on
            assert conn.scalar(select(Sequence("ticket_seq").next_value())) == first + 3
    if backend.name == "mysql":
        ddl = [s for s in statements if s.startswith("CREATE TABLE")]
        assert "AUTO_INCREMENT" not in ddl[0] and "AUTO_INCREMENT" in ddl[1]
    drop_all(metadata, engine)
    assert inspect(engine).get_sequence_names() == []
    assert tables_in(engine) == set()


def test_index_on_ordered_columns_creates_and_reflects_its_ordering(
    engine: Engine, backend: Backend
) -> None:
    metadata = MetaData()
    table = Table(
        "ranked",
        metadata,
        Column("id", sqltypes.Integer, primary_key=True),
        Column("score", sqltypes.Integer),
        Column("seen", sqltypes.Integer),
    )
    Index("ix_ranked_score_seen", table.c.score.desc(), table.c.seen.asc())
    create_all(metadata, engine)
    reflected = {ix["name"]: ix for ix in inspect(engine).get_indexes("ranked")}
    assert reflected["ix_ranked_score_seen"]["column_names"] == ["score", "seen"]
    if backend.name != "postgresql":
        return
    assert reflected["ix_ranked_score_seen"]["column_sorting"] == {"score": ("desc",)}
    Index("ix_ranked_nulls", table.c.seen.nulls_first(), table.c.score.desc().nulls_last()).create(
        engine
    )
    sorting = {ix["name"]: ix.get("column_sorting") for ix in inspect(engine).get_indexes("ranked")}
    assert sorting["ix_ranked_nulls"] == {"seen": ("nulls_first",), "score": ("desc", "nulls_last")}
    copy = Table("ranked", MetaData(), autoload_with=engine)
    rendered = {
        ix.name: str(CreateIndex(ix).compile(dialect=engine.dialect)) for ix in copy.indexes
    }
    assert rendered["ix_ranked_nulls"].endswith("(seen NULLS FIRST, score DESC NULLS LAST)")


def test_a_table_copied_with_to_metadata_creates_with_its_indexes_and_checks(
    engine: Engine,
) -> None:
    source = Table(
        "ledger",
        MetaData(),
        Column("id", sqltypes.Integer, primary_key=True),
        Column("amount", sqltypes.Integer),
        Column("memo", sqltypes.String(40)),
        CheckConstraint("amount > 0", name="ck_ledger_amount"),
    )
    Index("ix_ledger_amount_desc", source.c.amount.desc())
    metadata = MetaData()
    copy = source.to_metadata(metadata, name="ledger_archive")
    create_all(metadata, engine)
    assert tables_in(engine) == {"ledger_archive"}
    indexes = {ix["name"] for ix in inspect(engine).get_indexes("ledger_archive")}
    assert "ix_ledger_amount_desc" in indexes
    # MariaDB reports a failed CHECK as an OperationalError (4025), the others as integrity
    with pytest.raises(exc.DBAPIError, match=r"ck_ledger_amount|CHECK"), engine.begin() as conn:
        conn.execute(copy.insert().values(amount=-1, memo="refund"))


def test_table_prefixes_make_a_temporary_table(engine: Engine, backend: Backend) -> None:
    scratch = Table(
        "scratch_rows",
        MetaData(),
        Column("id", sqltypes.Integer, primary_key=True),
        prefixes=["TEMPORARY"],
    )
    assert str(CreateTable(scratch).compile(dialect=engine.dialect)).startswith(
        "CREATE TEMPORARY TABLE scratch_rows"
    )
    with engine.connect() as conn:
        scratch.create(conn)
        conn.execute(scratch.insert(), [{"id": 1}, {"id": 2}])
        assert conn.execute(select(scratch.c.id)).scalars().all() == [1, 2]
        other = create_engine(backend.url)
        try:
            assert not inspect(other).has_table("scratch_rows")
        finally:
            other.dispose()
        conn.rollback()


@pytest.mark.backends("postgresql")
def test_postgresql_index_and_table_options_reach_the_database(engine: Engine) -> None:
    metadata = MetaData()
    events = Table(
        "pg_events",
        metadata,
        Column("id", sqltypes.Integer, primary_key=True),
        Column("code", sqltypes.String(20)),
        Column("at", sqltypes.Integer, primary_key=True),
        postgresql_partition_by="RANGE (at)",
    )
    metadata.create_all(engine)
    codes = Table(
        "pg_codes",
        metadata,
        Column("id", sqltypes.Integer, primary_key=True),
        Column("code", sqltypes.String(20)),
    )
    codes.create(engine)
    Index(
        "ix_pg_codes_pattern",
        codes.c.code,
        postgresql_ops={"code": "text_pattern_ops"},
        postgresql_with={"fillfactor": 70},
    ).create(engine)
    autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
    Index("ix_pg_codes_live", codes.c.code, postgresql_concurrently=True).create(autocommit)
    with engine.connect() as conn:
        kind = conn.execute(text("SELECT relkind FROM pg_class WHERE relname = 'pg_events'"))
        assert kind.scalar() == "p"  # partitioned
        definitions = dict(
            conn.execute(
                text("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'pg_codes'")
            ).all()
        )
    assert "text_pattern_ops" in definitions["ix_pg_codes_pattern"]
    assert "fillfactor='70'" in definitions["ix_pg_codes_pattern"]
    assert "ix_pg_codes_live" in definitions
    assert events.c.at.primary_key


@pytest.mark.backends("mysql")
def test_mysql_index_prefix_and_table_options_reach_the_database(engine: Engine) -> None:
    metadata = MetaData()
    notes = Table(
        "my_notes",
        metadata,
        Column("id", sqltypes.Integer, primary_key=True),
        Column("body", sqltypes.Text),
        Column("tag", sqltypes.String(20)),
        mysql_auto_increment="5",
        mysql_row_format="DYNAMIC",
    )
    Index("ix_my_notes_body", notes.c.body, mysql_prefix="FULLTEXT")
    Index("ix_my_notes_tag", notes.c.tag, mysql_using="BTREE")
    metadata.create_all(engine)
    with engine.begin() as conn:
        first = conn.execute(notes.insert().values(body="hello world", tag="a"))
        assert first.inserted_primary_key == (5,)
        created = conn.execute(text("SHOW CREATE TABLE my_notes")).one()[1]
    assert "FULLTEXT KEY `ix_my_notes_body`" in created
    assert "ROW_FORMAT=DYNAMIC" in created


def test_computed_column_without_persisted_creates_and_computes(engine: Engine) -> None:
    metadata = MetaData()
    lines = Table(
        "order_lines",
        metadata,
        Column("id", sqltypes.Integer, primary_key=True),
        Column("qty", sqltypes.Integer),
        Column("doubled", sqltypes.Integer, Computed("qty * 2")),
    )
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(lines.insert().values(qty=4))
        assert conn.execute(select(lines.c.doubled)).scalar() == 8
