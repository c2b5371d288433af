"""ORM-enabled INSERT, UPDATE and DELETE as the querying guide uses them (RETURNING entities,
bulk lists of dicts, upserts through each dialect's insert(), session synchronization) on
every database, asserting on the rows written and on the objects in the session."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from athanor import delete, exc, insert, select, update
from athanor.dialects import mysql, postgresql, sqlite
from athanor.orm import Session
from orm.kitchen_models import Chef, Recipe, Review, kitchen_engine
from orm.library_models import table_rows


@pytest.fixture
def engine(backend: Any) -> Iterator[Any]:
    yield from kitchen_engine(backend.url)


@pytest.fixture
def session(engine: Any) -> Iterator[Session]:
    with Session(engine) as s:
        yield s


def test_insert_returning_entities(session: Session, backend: Any) -> None:
    stmt = insert(Chef).returning(Chef)
    rows = [{"name": "Di", "city": "Rome"}, {"name": "Ed", "city": None}]
    chefs = session.scalars(stmt, rows).all()
    assert [(c.name, c.city) for c in chefs] == [("Di", "Rome"), ("Ed", None)]
    assert all(c in session for c in chefs)
    assert session.get(Chef, chefs[0].id) is chefs[0]
    # RETURNING of columns and of an entity beside a column
    rows2 = session.execute(
        insert(Chef).returning(Chef.id, Chef.name), [{"name": "Fa"}, {"name": "Gu"}]
    ).all()
    assert [r.name for r in rows2] == ["Fa", "Gu"]
    assert rows2[0].id < rows2[1].id
    one = session.execute(insert(Chef).values(name="Hu").returning(Chef, Chef.id)).one()
    assert one[0].name == "Hu" and one[1] == one[0].id


def test_insert_returning_columns_of_dicts_with_different_keys(session: Session) -> None:
    rows = [{"name": "Ka"}, {"name": "Lu", "city": "Oslo"}, {"name": "Mo"}]
    stmt = insert(Chef).returning(Chef.name, Chef.city, sort_by_parameter_order=True)
    assert session.execute(stmt, rows).all() == [("Ka", None), ("Lu", "Oslo"), ("Mo", None)]
    rows = [{"name": "Ni", "city": "Bonn"}, {"name": "Ol"}]
    assert session.scalars(insert(Chef).returning(Chef.name), rows).all() == ["Ni", "Ol"]


def test_bulk_insert_list_of_dicts(session: Session, engine: Any) -> None:
    result = session.execute(
        insert(Review),
        [
            {"stars": 1, "reviewer": "zed", "recipe_id": 2},
            {"stars": 2, "reviewer": "yan", "recipe_id": 2},
        ],
    )
    assert result.rowcount in (2, -1)
    # bulk INSERT of dicts does not put objects in the session
    assert not session.new and not any(isinstance(o, Review) for o in session.identity_map.values())
    session.commit()
    assert table_rows(
        engine, "SELECT reviewer, stars FROM kit_reviews WHERE recipe_id = 2 ORDER BY id"
    ) == [("zed", 1), ("yan", 2)]
    # keys missing from a dict (heterogeneous rows) become NULL / defaults
    session.execute(insert(Chef), [{"name": "Io", "city": "Nice"}, {"name": "Jo"}])
    session.commit()
    assert table_rows(engine, "SELECT name, city FROM kit_chefs WHERE id > 3 ORDER BY id") == [
        ("Io", "Nice"),
        ("Jo", None),
    ]


def test_insert_from_select(session: Session, engine: Any) -> None:
    session.execute(
        insert(Review).from_select(
            ["stars", "reviewer", "recipe_id"],
            select(Review.stars, Review.reviewer + "2", Review.recipe_id).where(Review.stars >= 4),
        )
    )
    session.commit()
    assert table_rows(
        engine, "SELECT reviewer, stars FROM kit_reviews WHERE id > 3 ORDER BY stars"
    ) == [("ann2", 4), ("ann2", 5)]


def _upsert_for(backend: Any) -> Any:
    """The dialect's insert() with 'update the city on a duplicate name'."""
    if backend.name == "mysql":
        stmt = mysql.insert(Chef)
        return stmt.on_duplicate_key_update(city=stmt.inserted.city)
    module = postgresql if backend.name == "postgresql" else sqlite
    stmt = module.insert(Chef)
    return stmt.on_conflict_do_update(index_elements=[Chef.name], set_={"city": stmt.excluded.city})


def test_upsert_with_each_dialect(session: Session, backend: Any, engine: Any) -> None:
    stmt = _upsert_for(backend)
    ada = session.get(Chef, 1)
    assert ada is not None and ada.city == "Lyon"
    session.execute(stmt, [{"name": "Ada", "city": "Nice"}, {"name": "Ki", "city": "Bern"}])
    session.commit()
    assert table_rows(engine, "SELECT name, city FROM kit_chefs ORDER BY name") == [
        ("Ada", "Nice"),
        ("Bo", "Oslo"),
        ("Cy", None),
        ("Ki", "Bern"),
    ]
    assert ada.city == "Nice"  # expired by the commit, reloaded


def test_upsert_returning_entities(session: Session, backend: Any) -> None:
    # MariaDB has RETURNING after ON DUPLICATE KEY UPDATE as well
    ada = session.get(Chef, 1)
    assert ada is not None
    stmt = _upsert_for(backend).returning(Chef)
    chefs = session.scalars(
        stmt.execution_options(populate_existing=True),
        [{"name": "Ada", "city": "Nice"}, {"name": "Li", "city": "Graz"}],
    ).all()
    assert chefs[0] is ada and ada.city == "Nice"
    assert chefs[1].name == "Li" and chefs[1] in session


@pytest.mark.parametrize("sync", ["auto", "evaluate", "fetch", False])
def test_update_where_synchronizes_the_session(session: Session, sync: Any) -> None:
    recipes = session.scalars(select(Recipe).order_by(Recipe.id)).all()
    result = session.execute(
        update(Recipe)
        .where(Recipe.kind == "savoury")
        .values(minutes=Recipe.minutes + 5)
        .execution_options(synchronize_session=sync)
    )
    assert result.rowcount == 2
    if sync is False:
        assert [r.minutes for r in recipes] == [30, 90, 120]
        session.expire_all()
    assert [r.minutes for r in recipes] == [35, 90, 125]
    assert session.scalars(select(Recipe.minutes).order_by(Recipe.id)).all() == [35, 90, 125]


@pytest.mark.parametrize("sync", ["auto", "evaluate", "fetch"])
def test_delete_where_removes_objects_from_the_session(session: Session, sync: Any) -> None:
    reviews = session.scalars(select(Review).order_by(Review.id)).all()
    session.execute(
        delete(Review).where(Review.reviewer == "ann").execution_options(synchronize_session=sync)
    )
    assert [r in session for r in reviews] == [False, True, False]
    assert session.scalars(select(Review.id)).all() == [2]


def test_update_with_unevaluable_criteria(session: Session) -> None:
    recipes = session.scalars(select(Recipe).order_by(Recipe.id)).all()
    stmt = (
        update(Recipe)
        .where(Recipe.chef_id.in_(select(Chef.id).where(Chef.city == "Oslo")))
        .values(kind="hearty")
    )
    with pytest.raises(exc.InvalidRequestError):
        session.execute(stmt.execution_options(synchronize_session="evaluate"))
    session.rollback()
    recipes = session.scalars(select(Recipe).order_by(Recipe.id)).all()
    session.execute(stmt)  # "auto" falls back to fetching the matched keys
    assert [r.kind for r in recipes] == ["savoury", "sweet", "hearty"]


def test_update_and_delete_returning(session: Session, backend: Any) -> None:
    stmt = update(Recipe).where(Recipe.minutes > 60).values(kind="long").returning(Recipe)
    if backend.name == "mysql":
        with pytest.raises(exc.CompileError, match="RETURNING"):
            session.execute(stmt)
        session.rollback()
    else:
        tart = session.get(Recipe, 2)
        updated = session.scalars(stmt).all()
        assert sorted(r.title for r in updated) == ["stew", "tart"]
        assert tart in updated and tart is not None and tart.kind == "long"
    # DELETE ... RETURNING is there on MariaDB as well
    gone = session.execute(
        delete(Review).where(Review.stars < 5).returning(Review.id, Review.reviewer)
    ).all()
    assert sorted(gone) == [(2, "bob"), (3, "ann")]
    deleted = session.scalars(delete(Review).returning(Review)).all()
    assert [r.reviewer for r in deleted] == ["ann"]


def test_bulk_update_by_primary_key(session: Session, engine: Any) -> None:
    tart = session.get(Recipe, 2)
    assert tart is not None
    session.execute(update(Recipe), [{"id": 1, "minutes": 31}, {"id": 2, "minutes": 91}])
    assert tart.minutes == 91
    session.commit()
    assert table_rows(engine, "SELECT id, minutes FROM kit_recipes ORDER BY id") == [
        (1, 31),
        (2, 91),
        (3, 120),
    ]


def test_update_join_criteria_on_other_table(session: Session, engine: Any) -> None:
    stmt = (
        update(Recipe)
        .where(Recipe.chef_id == Chef.id, Chef.name == "Bo")
        .values(minutes=100)
        .execution_options(synchronize_session="fetch")
    )
    stew = session.get(Recipe, 3)
    session.execute(stmt)
    assert stew is not None and stew.minutes == 100
    session.commit()
    assert table_rows(engine, "SELECT id, minutes FROM kit_recipes ORDER BY id") == [
        (1, 30),
        (2, 90),
        (3, 100),
    ]


def test_update_with_relationship_criteria_and_attribute_keys(
    session: Session, engine: Any
) -> None:
    soup = session.get(Recipe, 1)
    session.execute(
        update(Recipe).where(Recipe.chef.has(Chef.name == "Ada")).values({Recipe.minutes: 1})
    )
    assert soup is not None and soup.minutes == 1
    session.execute(delete(Review).where(Review.recipe.has(Recipe.title == "stew")))
    session.execute(delete(Chef).where(~Chef.recipes.any()))
    session.commit()
    assert table_rows(engine, "SELECT name FROM kit_chefs ORDER BY id") == [("Ada",), ("Bo",)]
    assert table_rows(engine, "SELECT COUNT(*) FROM kit_reviews") == [(2,)]
    assert table_rows(engine, "SELECT minutes FROM kit_recipes ORDER BY id") == [
        (1,),
        (1,),
        (120,),
    ]


def test_update_evaluates_string_and_in_criteria(session: Session) -> None:
    recipes = session.scalars(select(Recipe).order_by(Recipe.id)).all()
    session.execute(
        update(Recipe)
        .where(Recipe.title.in_(["soup", "stew"]), Recipe.minutes != 0)
        .values(title=Recipe.title + "!")
        .execution_options(synchronize_session="evaluate")
    )
    assert [r.title for r in recipes] == ["soup!", "tart", "stew!"]
    session.execute(
        update(Recipe)
        .where(Recipe.minutes.between(20, 100))
        .values(kind="quick")
        .execution_options(synchronize_session="evaluate")
    )
    assert [r.kind for r in recipes] == ["quick", "quick", "savoury"]
    # LIKE has no Python equivalent here: "auto" fetches the matched keys instead
    stmt = update(Recipe).where(Recipe.title.startswith("st")).values(minutes=0)
    with pytest.raises(exc.InvalidRequestError, match="evaluate"):
        session.execute(stmt.execution_options(synchronize_session="evaluate"))
    session.execute(stmt)
    assert [r.minutes for r in recipes] == [30, 90, 0]


def test_insert_values_list_returning_entities(session: Session) -> None:
    chefs = session.scalars(
        insert(Chef)
        .values([{"name": "Mo", "city": "Kiel"}, {"name": "No", "city": None}])
        .returning(Chef)
    ).all()
    assert [c.name for c in chefs] == ["Mo", "No"]
    assert session.scalars(select(Chef.name).where(Chef.id > 3).order_by(Chef.id)).all() == [
        "Mo",
        "No",
    ]


@pytest.mark.parametrize("sync", ["auto", "fetch"])
def test_delete_with_other_table_criteria_synchronizes(
    session: Session, backend: Any, sync: Any
) -> None:
    if backend.name == "sqlite":
        pytest.skip("SQLite's DELETE reads one table")
    reviews = session.scalars(select(Review).order_by(Review.id)).all()
    # MariaDB has no RETURNING on DELETE ... USING: the keys are selected first instead
    session.execute(
        delete(Review)
        .where(Review.recipe_id == Recipe.id, Recipe.title == "soup")
        .execution_options(synchronize_session=sync)
    )
    assert [r in session for r in reviews] == [False, False, True]
    assert session.scalars(select(Review.id)).all() == [3]
    stmt = delete(Review).where(Review.recipe_id == Recipe.id).returning(Review.id)
    if backend.name == "mysql":
        with pytest.raises(exc.CompileError, match="other tables"):
            session.execute(stmt)
    else:
        assert session.scalars(stmt).all() == [3]
