"""A ``bindparam()`` without a type takes the type of the expression it is compared with or
assigned to, so that type's bind processing runs on every database."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterator
from typing import Any

import pytest

from athanor.engine import Engine, create_engine
from athanor.exc import StatementError
from athanor.sql import (
    JSON,
    Column,
    Date,
    DateTime,
    Enum,
    Integer,
    MetaData,
    String,
    Table,
    TypeDecorator,
    bindparam,
    insert,
    literal,
    select,
    text,
    tuple_,
    update,
)
from athanor.sql.types import NullType
from backends import Backend


class Mood(enum.Enum):
    HAPPY = "h"
    SAD = "s"


class Tagged(TypeDecorator):
    """Stores a string with a ``tag:`` prefix and reads it back without."""

    impl = String
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        return None if value is None else "tag:" + value

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        return None if value is None else value.removeprefix("tag:")


metadata = MetaData()
items = Table(
    "bind_type_items",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("label", Tagged(40)),
    Column("mood", Enum(Mood)),
    Column("doc", JSON),
    Column("day", Date),
    Column("stamp", DateTime),
)

STAMP = dt.datetime(2024, 5, 6, 7, 8, 9)


@pytest.fixture
def engine(backend: Backend) -> Iterator[Engine]:
    eng = create_engine(backend.url)
    metadata.create_all(eng)
    yield eng
    eng.dispose()


ROWS = [
    {
        "id": 1,
        "label": "one",
        "mood": Mood.HAPPY,
        "doc": {"k": [1, 2]},
        "day": dt.date(2024, 5, 6),
        "stamp": STAMP,
    },
    {
        "id": 2,
        "label": "two",
        "mood": Mood.SAD,
        "doc": ["x"],
        "day": dt.date(2023, 1, 1),
        "stamp": dt.datetime(2023, 1, 1),
    },
]


@pytest.fixture
def filled(engine: Engine) -> Engine:
    with engine.begin() as conn:
        conn.execute(insert(items), ROWS)
    return engine


def test_insert_values_bindparam_runs_column_bind_processing(engine: Engine) -> None:
    stmt = insert(items).values({key: bindparam(f"p_{key}") for key in ROWS[0]})
    with engine.begin() as conn:
        conn.execute(stmt, [{f"p_{k}": v for k, v in row.items()} for row in ROWS])
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT label, mood FROM bind_type_items ORDER BY id")).all()
        assert [tuple(r) for r in stored] == [("tag:one", "HAPPY"), ("tag:two", "SAD")]
        rows = conn.execute(select(items).order_by(items.c.id)).all()
    assert [tuple(r) for r in rows] == [
        (1, "one", Mood.HAPPY, {"k": [1, 2]}, dt.date(2024, 5, 6), STAMP),
        (2, "two", Mood.SAD, ["x"], dt.date(2023, 1, 1), dt.datetime(2023, 1, 1)),
    ]


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("label", "one"),
        ("mood", Mood.HAPPY),
        ("day", dt.date(2024, 5, 6)),
        ("stamp", STAMP),
    ],
)
def test_compared_bindparam_runs_column_bind_processing(
    filled: Engine, column: str, value: Any
) -> None:
    stmt = select(items.c.id).where(items.c[column] == bindparam("v"))
    with filled.connect() as conn:
        assert conn.execute(stmt, {"v": value}).scalars().all() == [1]


def test_other_operators_take_the_column_type(filled: Engine) -> None:
    with filled.connect() as conn:
        found = conn.execute(
            select(items.c.id).where(items.c.stamp >= bindparam("since")), {"since": STAMP}
        )
        assert found.scalars().all() == [1]
        found = conn.execute(
            select(items.c.id)
            .where(items.c.mood.in_(bindparam("moods", expanding=True)))
            .order_by(items.c.id),
            {"moods": [Mood.SAD, Mood.HAPPY]},
        )
        assert found.scalars().all() == [1, 2]
        found = conn.execute(
            select(items.c.id).where(items.c.day.between(bindparam("lo"), bindparam("hi"))),
            {"lo": dt.date(2024, 1, 1), "hi": dt.date(2024, 12, 31)},
        )
        assert found.scalars().all() == [1]
        found = conn.execute(
            select(items.c.id).where(
                tuple_(items.c.id, items.c.mood).in_(bindparam("pairs", expanding=True))
            ),
            {"pairs": [(1, Mood.HAPPY), (2, Mood.HAPPY)]},
        )
        assert found.scalars().all() == [1]


def test_update_values_bindparam_runs_column_bind_processing(filled: Engine) -> None:
    stmt = (
        update(items)
        .where(items.c.label == bindparam("old"))
        .values(label=bindparam("new"), doc=bindparam("doc"), mood=bindparam("mood"))
    )
    with filled.begin() as conn:
        result = conn.execute(
            stmt, {"old": "two", "new": "deux", "doc": {"a": None}, "mood": Mood.HAPPY}
        )
        assert result.rowcount == 1
    with filled.connect() as conn:
        stored = conn.execute(text("SELECT label, mood FROM bind_type_items WHERE id = 2")).one()
        assert tuple(stored) == ("tag:deux", "HAPPY")
        row = conn.execute(select(items.c.label, items.c.doc).where(items.c.id == 2)).one()
    assert tuple(row) == ("deux", {"a": None})


def test_typed_binds_and_literals_keep_their_own_type() -> None:
    untyped = bindparam("v")
    compared = (items.c.label == untyped).right
    assert isinstance(compared.type, Tagged)
    assert isinstance(untyped.type, NullType), "the given bindparam is not changed in place"
    assert compared.key == "v"

    assert isinstance((items.c.label == bindparam("v", type_=String)).right.type, String)
    assert not isinstance((items.c.label == bindparam("v", type_=String)).right.type, Tagged)
    assert type((items.c.label == literal("x")).right.type) is String
    assert type((items.c.label == literal(5, Integer)).right.type) is Integer

    assigned = insert(items).values(label=untyped)._values
    assert assigned is not None and isinstance(assigned["label"].type, Tagged)
    assert isinstance(untyped.type, NullType)


def test_a_value_its_type_cannot_bind_raises_statement_error_naming_the_parameter(
    engine: Engine,
) -> None:
    row = {**ROWS[0], "label": 5}  # Tagged prefixes a string: an int makes it raise
    with engine.connect() as conn:
        with pytest.raises(
            StatementError,
            match=r"^Parameter 'label' could not be bound: "
            r"\(builtins\.TypeError\)",
        ) as caught:
            conn.execute(insert(items), row)
        error = caught.value
        assert isinstance(error.orig, TypeError)
        assert error.__cause__ is error.orig
        assert error.statement is not None and error.statement.startswith("INSERT INTO")
        assert error.params == row
        assert "[parameters: " in str(error)
        # executemany: the parameter set that fails is found wherever it is
        with pytest.raises(StatementError, match=r"^Parameter 'doc' could not be bound"):
            conn.execute(insert(items), [ROWS[0], {**ROWS[1], "doc": object()}])
        with pytest.raises(StatementError, match=r"^Parameter 'doc_1' could not be bound"):
            conn.execute(select(items.c.id).where(items.c.doc == object()))
        conn.rollback()
        # nothing reached the database, and the connection works on
        assert conn.execute(select(items.c.id)).all() == []


def test_hide_parameters_hides_the_values_of_a_parameter_that_cannot_bind(
    backend: Backend, engine: Engine
) -> None:
    quiet = create_engine(backend.url, hide_parameters=True)
    try:
        with (
            quiet.connect() as conn,
            pytest.raises(StatementError, match="Parameter 'label'") as caught,
        ):
            conn.execute(insert(items), {**ROWS[0], "label": 5})
    finally:
        quiet.dispose()
    assert "hidden due to hide_parameters=True" in str(caught.value)
    assert "'id': 1" not in str(caught.value)
