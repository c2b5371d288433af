"""DDL events on Table and MetaData: before/after create and drop, DDL() listeners, execute_if."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from athanor import event, exc, inspect
from athanor.engine import Engine, create_engine
from athanor.sql import DDL, Column, Integer, MetaData, String, Table, insert, select, text
from backends import Backend


@pytest.fixture
def engine(backend: Backend) -> Iterator[Engine]:
    eng = create_engine(backend.url)
    yield eng
    eng.dispose()


def _schema() -> tuple[MetaData, Table, Table]:
    metadata = MetaData()
    parent = Table("ev_parent", metadata, Column("id", Integer, primary_key=True))
    child = Table(
        "ev_child",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("name", String(20)),
    )
    return metadata, parent, child


def test_events_fire_in_order_around_create_all_and_drop_all(engine: Engine) -> None:
    metadata, parent, child = _schema()
    calls: list[tuple[str, str]] = []

    def recorder(name: str) -> Any:
        def record(target: Any, connection: Any, **kw: Any) -> None:
            label = target.name if isinstance(target, Table) else "metadata"
            calls.append((name, label))
            assert connection.dialect is engine.dialect
            if isinstance(target, MetaData):
                assert {t.name for t in kw["tables"]} <= {"ev_parent", "ev_child"}

        return record

    for target in (metadata, parent, child):
        for name in ("before_create", "after_create", "before_drop", "after_drop"):
            event.listen(target, name, recorder(name))
    metadata.create_all(engine)
    assert calls[0] == ("before_create", "metadata")
    assert calls[-1] == ("after_create", "metadata")
    assert ("before_create", "ev_child") in calls and ("after_create", "ev_child") in calls
    assert calls.index(("before_create", "ev_parent")) < calls.index(("after_create", "ev_parent"))
    calls.clear()
    metadata.create_all(engine)  # everything exists: the tables' events do not fire
    assert calls == [("before_create", "metadata"), ("after_create", "metadata")]
    calls.clear()
    child.drop(engine)  # Table.drop fires the table's events only
    assert calls == [("before_drop", "ev_child"), ("after_drop", "ev_child")]
    calls.clear()
    metadata.drop_all(engine)
    assert calls == [
        ("before_drop", "metadata"),
        ("before_drop", "ev_parent"),
        ("after_drop", "ev_parent"),
        ("after_drop", "metadata"),
    ]


def test_ddl_listener_runs_against_the_table(engine: Engine) -> None:
    metadata, _, child = _schema()
    event.listen(
        child,
        "after_create",
        DDL("INSERT INTO %(table)s (id, name) VALUES (1, 'seeded')"),
    )
    metadata.create_all(engine)
    with engine.connect() as conn:
        assert conn.execute(select(child.c.name)).scalars().all() == ["seeded"]
    metadata.drop_all(engine)


def test_execute_if_dialect(engine: Engine, backend: Backend) -> None:
    metadata, _, child = _schema()
    for name in ("sqlite", "postgresql", "mysql"):
        event.listen(
            child,
            "after_create",
            DDL(f"INSERT INTO ev_child (id, name) VALUES (%d, '{name}')" % len(name)).execute_if(
                dialect=name
            ),
        )
    event.listen(
        child,
        "after_create",
        DDL("INSERT INTO ev_child (id, name) VALUES (99, 'never')").execute_if(
            callable_=lambda ddl, target, bind, state=None, **kw: state == "go", state="stop"
        ),
    )
    metadata.create_all(engine)
    with engine.connect() as conn:
        assert conn.execute(select(child.c.name)).scalars().all() == [backend.name]
    metadata.drop_all(engine)


def test_metadata_ddl_before_create(engine: Engine) -> None:
    metadata, parent, _ = _schema()
    event.listen(
        metadata,
        "after_create",
        DDL("CREATE TABLE ev_extra (id INTEGER PRIMARY KEY)"),
    )
    event.listen(metadata, "before_drop", DDL("DROP TABLE ev_extra"))
    metadata.create_all(engine)
    assert "ev_extra" in inspect(engine).get_table_names()
    with engine.begin() as conn:
        conn.execute(insert(parent).values(id=1))
        conn.execute(text("INSERT INTO ev_extra (id) VALUES (1)"))
    metadata.drop_all(engine)
    assert "ev_extra" not in inspect(engine).get_table_names()


def test_ddl_events_are_per_object_and_checked() -> None:
    _, parent, child = _schema()

    def listener(target: Any, connection: Any, **kw: Any) -> None:
        raise AssertionError("not fired in this test")

    event.listen(parent, "before_create", listener)
    assert event.contains(parent, "before_create", listener)
    assert not event.contains(child, "before_create", listener)
    assert not child.dispatch.before_create
    with pytest.raises(exc.InvalidRequestError, match="No such event"):
        event.listen(parent, "before_frobnicate", listener)
