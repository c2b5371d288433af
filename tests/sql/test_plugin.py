"""Compile plugins: a statement translated to Core SQL at compile time, cached by its key."""

from __future__ import annotations

from collections.abc import Hashable, Iterator
from typing import Any

import pytest

from athanor.engine import Engine, create_engine
from athanor.sql import Column, Integer, MetaData, String, Table, insert, select
from athanor.sql.compiler import compile_cached
from athanor.sql.elements import KeyContext
from athanor.sql.plugin import CompilePlugin, Translation, plugin_of
from athanor.sql.selectable import ColumnCollection, FromClause, Select
from backends import Backend

metadata = MetaData()
people = Table(
    "plugin_people",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(30)),
    Column("secret", String(30)),
)


class EntityPlugin(CompilePlugin):
    """Selects an entity's public columns; the plan names the entity and its columns."""

    def __init__(self) -> None:
        self.translations = 0

    def translate(self, statement: Any, dialect: Any) -> Translation:
        self.translations += 1
        assert isinstance(statement, Select)
        entity = statement._raw_columns[0]
        assert isinstance(entity, Entity)
        core = statement._generate()
        core._raw_columns = tuple(entity.c)
        core._compile_plugin = None
        return Translation(core, (entity.label, tuple(c.key for c in entity.c)))


PLUGIN = EntityPlugin()


class Entity(FromClause):
    """An ORM-like entity: a named view of some columns of a table."""

    _compile_plugin = PLUGIN

    def __init__(self, label: str, table: Table, *names: str) -> None:
        self.label = label
        self.table = table
        self.names = names

    def _populate_columns(self) -> ColumnCollection:
        return ColumnCollection((n, self.table.c[n]) for n in self.names)

    @property
    def _from_objects(self) -> list[FromClause]:
        return [self.table]

    def _ck(self, ctx: KeyContext) -> Hashable:
        return ("ENTITY", self.label, self.table, self.names)


public = Entity("Person", people, "id", "name")
names_only = Entity("Name", people, "name")


def test_plugin_found_on_columns_clause() -> None:
    assert plugin_of(select(public)) is PLUGIN
    assert plugin_of(select(people)) is None


def test_str_compiles_through_the_plugin() -> None:
    stmt = select(public).where(people.c.id == 5)
    compiled = stmt.compile()
    assert compiled.string == (
        "SELECT plugin_people.id, plugin_people.name FROM plugin_people "
        "WHERE plugin_people.id = :id_1"
    )
    assert compiled.plan == ("Person", ("id", "name"))
    assert compiled.params == {"id_1": 5}


def test_translation_is_cached_under_the_statement_key() -> None:
    from athanor.dialects.sqlite.pysqlite import dialect

    cache: dict[Any, Any] = {}
    before = PLUGIN.translations
    first, _ = compile_cached(select(public).where(people.c.id == 1), dialect(), cache)
    second, extracted = compile_cached(select(public).where(people.c.id == 2), dialect(), cache)
    assert first is second
    assert PLUGIN.translations == before + 1
    # The cached SQL reads the new statement's values.
    assert second.prepare(extracted, None)[1] == [2]
    other, _ = compile_cached(select(names_only).where(people.c.id == 2), dialect(), cache)
    assert other is not first
    assert other.plan == ("Name", ("name",))


def test_explicit_plugin_is_part_of_the_key() -> None:
    class Upper(CompilePlugin):
        def translate(self, statement: Any, dialect: Any) -> Translation:
            core = statement._generate()
            core._compile_plugin = None
            return Translation(core, "upper")

    plain = select(people.c.id)
    with_plugin = plain._with_compile_plugin(Upper())
    assert plain._generate_cache_key()[0] != with_plugin._generate_cache_key()[0]
    assert with_plugin.compile().plan == "upper"


@pytest.fixture
def engine(backend: Backend) -> Iterator[Engine]:
    eng = create_engine(backend.url)
    metadata.create_all(eng)
    with eng.begin() as conn:
        conn.execute(
            insert(people),
            [{"id": i, "name": f"p{i}", "secret": "s"} for i in range(1, 4)],
        )
    yield eng
    eng.dispose()


def test_plugin_statement_executes_with_its_plan(engine: Engine) -> None:
    with engine.connect() as conn:
        for wanted in (1, 3):
            result = conn.execute(select(public).where(people.c.id == wanted))
            assert result.context.compiled.plan == ("Person", ("id", "name"))
            assert result.all() == [(wanted, f"p{wanted}")]
