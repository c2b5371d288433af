"""The ``schema_translate_map`` execution option: Core statements, ORM queries, loads and the
flush render table schemas through the map, on every database."""

from __future__ import annotations

import enum
from collections.abc import Iterator
from typing import Any

import pytest

from athanor import (
    ARRAY,
    Column,
    Enum,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    cast,
    create_engine,
    delete,
    insert,
    inspect,
    select,
    text,
    update,
)
from athanor.dialects.sqlite.base import SQLiteDialect
from athanor.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship, selectinload
from athanor.sql.compiler import compile_cached
from orm.orm_models import StatementLog


class TenantBase(DeclarativeBase):
    pass


class Account(TenantBase):
    """Mapped to schema ``tenant``, which the tests translate to the connection's own."""

    __tablename__ = "st_accounts"
    __table_args__ = {"schema": "tenant"}

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(30))
    entries: Mapped[list[Entry]] = relationship(back_populates="account", order_by="Entry.id")


class Entry(TenantBase):
    __tablename__ = "st_entries"
    __table_args__ = {"schema": "tenant"}

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("tenant.st_accounts.id"))
    amount: Mapped[int] = mapped_column(index=True)
    account: Mapped[Account] = relationship(back_populates="entries")


TO_DEFAULT = {"tenant": None}


def _own_schema(backend: Any) -> str:
    """The name of the schema unqualified tables live in."""
    return {"sqlite": "main", "postgresql": "public"}.get(backend.name, backend.database)


@pytest.fixture
def engine(backend: Any) -> Iterator[Any]:
    eng = create_engine(backend.url)
    # The tables (and the index) are created through the map too: unqualified.
    TenantBase.metadata.create_all(eng.execution_options(schema_translate_map=TO_DEFAULT))
    yield eng
    eng.dispose()


def test_compiled_sql_follows_the_map() -> None:
    stmt = select(Account.name).where(Account.id == 1)
    assert "FROM tenant.st_accounts" in str(stmt)
    dialect = SQLiteDialect()
    cache: dict[Any, Any] = {}
    plain, _ = compile_cached(stmt, dialect, cache)
    moved, _ = compile_cached(stmt, dialect, cache, {"tenant": "other"})
    dropped, _ = compile_cached(stmt, dialect, cache, TO_DEFAULT)
    assert "FROM tenant.st_accounts" in plain.string
    assert "FROM other.st_accounts WHERE other.st_accounts.id" in moved.string
    assert "FROM st_accounts WHERE st_accounts.id" in dropped.string
    assert len(cache) == 3


def test_session_on_an_engine_with_the_map_queries_and_flushes(engine: Any) -> None:
    tenant_engine = engine.execution_options(schema_translate_map=TO_DEFAULT)
    log = StatementLog(engine)
    with Session(tenant_engine) as session:
        session.add(Account(id=1, name="ann", entries=[Entry(id=1, amount=5)]))
        session.add(Account(id=2, name="bob"))
        session.commit()
        account = session.get(Account, 1)
        account.name = "anne"
        session.add(Entry(id=2, amount=7, account=account))
        session.delete(session.get(Account, 2))
        session.commit()
    with Session(tenant_engine) as session:
        found = session.scalars(select(Account).options(selectinload(Account.entries))).all()
        assert [(a.name, [e.amount for e in a.entries]) for a in found] == [("anne", [5, 7])]
        assert session.get(Entry, 2).account.name == "anne"
        session.execute(update(Entry).where(Entry.amount > 6).values(amount=8))
        session.execute(delete(Entry).where(Entry.amount == 5))
        session.execute(insert(Entry), [{"id": 3, "account_id": 1, "amount": 9}])
        session.commit()
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT id, amount FROM st_entries ORDER BY id")).all()
        assert [tuple(r) for r in rows] == [(2, 8), (3, 9)]
    assert log.statements and not any("tenant." in s for s in log.statements)


def test_map_on_a_statement_and_on_session_execute(engine: Any, backend: Any) -> None:
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO st_accounts (id, name) VALUES (1, 'ann')"))
    own = _own_schema(backend)
    with Session(engine) as session:
        stmt = select(Account).execution_options(schema_translate_map=TO_DEFAULT)
        assert [a.name for a in session.scalars(stmt)] == ["ann"]
        qualified = {"tenant": own}
        names = session.scalars(
            select(Account.name), execution_options={"schema_translate_map": qualified}
        ).all()
        assert names == ["ann"]
    plain = Table("st_accounts", MetaData(), Column("id", Integer), Column("name", String(30)))
    log = StatementLog(engine)
    with engine.connect() as conn:
        mapped = conn.execution_options(schema_translate_map={None: own})
        assert mapped.execute(select(plain.c.name).where(plain.c.id == 1)).scalar() == "ann"
    assert f"{own}.st_accounts" in log.statements[-1]


def test_create_and_drop_all_through_the_map(engine: Any, backend: Any) -> None:
    tenant_engine = engine.execution_options(schema_translate_map=TO_DEFAULT)
    assert set(inspect(engine).get_table_names()) >= {"st_accounts", "st_entries"}
    assert "ix_st_entries_amount" in [i["name"] for i in inspect(engine).get_indexes("st_entries")]
    log = StatementLog(engine)
    # The tables exist where the map puts them: nothing to create.
    TenantBase.metadata.create_all(tenant_engine)
    assert not any(s.startswith("CREATE") for s in log.statements)
    TenantBase.metadata.drop_all(tenant_engine)
    assert [s.split(" (")[0] for s in log.statements if s.startswith("DROP")] == [
        "DROP TABLE st_entries",
        "DROP TABLE st_accounts",
    ]
    assert not {"st_accounts", "st_entries"} & set(inspect(engine).get_table_names())


class Mood(enum.Enum):
    happy = "happy"
    sad = "sad"


def test_enum_types_in_a_schema_follow_the_map(backend: Any) -> None:
    """A native enum type in the mapped schema (PostgreSQL ``CREATE TYPE tenant.mood``) is
    created, named in the table and in casts, and dropped where the map puts it; elsewhere
    enums are column types and the same code runs."""
    metadata = MetaData()
    mood = Enum(Mood, name="st_mood", schema="tenant")
    columns = [Column("id", Integer, primary_key=True), Column("mood", mood)]
    if backend.name == "postgresql":
        columns.append(Column("moods", ARRAY(Enum(Mood, name="st_moods", schema="tenant"))))
    table = Table("st_feelings", metadata, *columns, schema="tenant")
    engine = create_engine(backend.url)
    moved = engine.execution_options(schema_translate_map=TO_DEFAULT)
    log = StatementLog(engine)
    metadata.create_all(moved)
    row: dict[str, Any] = {"id": 1, "mood": Mood.sad}
    if backend.name == "postgresql":
        row["moods"] = [Mood.happy, Mood.sad]
    with moved.begin() as conn:
        conn.execute(insert(table), [row])
        found = conn.execute(
            select(table.c.mood, cast("happy", mood)).where(table.c.mood == Mood.sad)
        ).one()
        assert tuple(found) == (Mood.sad, Mood.happy)
        if backend.name == "postgresql":
            assert conn.execute(select(table.c.moods)).scalar_one() == [Mood.happy, Mood.sad]
    if backend.name == "postgresql":
        with engine.connect() as conn:
            placed = conn.execute(
                text(
                    "SELECT t.typname, n.nspname FROM pg_type t JOIN pg_namespace n "
                    "ON n.oid = t.typnamespace WHERE t.typname LIKE 'st_mood%' ORDER BY 1"
                )
            ).all()
        assert [tuple(p) for p in placed] == [("st_mood", "public"), ("st_moods", "public")]
        assert all("tenant." not in s for s in log.statements)
    metadata.drop_all(moved)
    if backend.name == "postgresql":
        assert "DROP TYPE st_mood" in log.statements
    assert "st_feelings" not in inspect(engine).get_table_names()
    engine.dispose()
