"""The ORM Querying Guide's workflows (joins, aliases, subqueries, entity and Bundle
columns, set operations, EXISTS, column expressions, loader strategies and column
deferral) on every database, asserting on the objects and rows they give."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from athanor import (
    and_,
    exc,
    exists,
    func,
    literal_column,
    or_,
    select,
    text,
    union,
    union_all,
)
from athanor.orm import (
    Bundle,
    Load,
    Session,
    aliased,
    contains_eager,
    defaultload,
    defer,
    joinedload,
    lazyload,
    load_only,
    raiseload,
    selectinload,
    subqueryload,
    undefer,
    undefer_group,
    with_expression,
    with_loader_criteria,
)
from orm.kitchen_models import Chef, Recipe, Review, kitchen_engine
from orm.orm_models import StatementLog


@pytest.fixture
def engine(backend: Any) -> Iterator[Any]:
    yield from kitchen_engine(backend.url)


@pytest.fixture
def session(engine: Any) -> Iterator[Session]:
    with Session(engine) as s:
        yield s


@pytest.fixture
def log(engine: Any) -> StatementLog:
    return StatementLog(engine)


# --- joins ------------------------------------------------------------------------------


def test_join_along_relationships_and_explicit_on(session: Session) -> None:
    rows = session.execute(
        select(Chef.name, Review.stars).join(Chef.recipes).join(Recipe.reviews).order_by(Review.id)
    ).all()
    assert rows == [("Ada", 5), ("Ada", 3), ("Bo", 4)]
    rows = session.execute(
        select(Chef.name, Recipe.title)
        .join(Recipe, Chef.id == Recipe.chef_id)
        .where(Recipe.minutes > 60)
        .order_by(Recipe.id)
    ).all()
    assert rows == [("Ada", "tart"), ("Bo", "stew")]
    # inferred ON clause from the one foreign key
    assert session.scalars(select(Chef.name).join(Recipe).where(Recipe.kind == "sweet")).all() == [
        "Ada"
    ]


def test_join_from_chooses_the_left_side(session: Session) -> None:
    stmt = (
        select(Review.reviewer, Chef.name)
        .join_from(Chef, Recipe)
        .join_from(Recipe, Review)
        .order_by(Review.id)
    )
    assert session.execute(stmt).all() == [("ann", "Ada"), ("bob", "Ada"), ("ann", "Bo")]
    stmt = (
        select(Review.stars).join_from(Recipe, Review, Recipe.reviews).where(Recipe.title == "stew")
    )
    assert session.scalars(stmt).all() == [4]


def test_select_from_then_join(session: Session) -> None:
    stmt = select(Recipe.title).select_from(Chef).join(Chef.recipes).where(Chef.city == "Oslo")
    assert session.scalars(stmt).all() == ["stew"]
    stmt = select(func.count()).select_from(Chef).join(Recipe).where(Recipe.minutes < 100)
    assert session.scalar(stmt) == 2


def test_outerjoin_and_full_flags(session: Session) -> None:
    rows = session.execute(
        select(Chef.name, Recipe.title).outerjoin(Chef.recipes).order_by(Chef.id, Recipe.id)
    ).all()
    assert rows == [("Ada", "soup"), ("Ada", "tart"), ("Bo", "stew"), ("Cy", None)]
    rows = session.execute(
        select(Chef.name, Recipe.title).join(Chef.recipes, isouter=True).where(Recipe.id.is_(None))
    ).all()
    assert rows == [("Cy", None)]


def test_join_with_relationship_and_criteria(session: Session) -> None:
    stmt = (
        select(Chef.name, Recipe.title)
        .join(Chef.recipes.and_(Recipe.minutes > 60))
        .order_by(Recipe.id)
    )
    assert session.execute(stmt).all() == [("Ada", "tart"), ("Bo", "stew")]
    stmt = (
        select(Chef.name, func.count(Recipe.id))
        .outerjoin(Chef.recipes.and_(Recipe.kind == "sweet"))
        .group_by(Chef.name)
        .order_by(Chef.name)
    )
    assert session.execute(stmt).all() == [("Ada", 1), ("Bo", 0), ("Cy", 0)]


def test_aliased_self_join_for_pairs(session: Session) -> None:
    r1 = aliased(Recipe, name="r1")
    r2 = aliased(Recipe, name="r2")
    stmt = (
        select(r1.title, r2.title)
        .join(r2, and_(r1.chef_id == r2.chef_id, r1.id < r2.id))
        .order_by(r1.id)
    )
    assert session.execute(stmt).all() == [("soup", "tart")]
    # two joins to the same entity through aliases and of_type
    good = aliased(Review)
    poor = aliased(Review)
    stmt = (
        select(Recipe.title)
        .join(Recipe.reviews.of_type(good))
        .join(Recipe.reviews.of_type(poor))
        .where(good.stars == 5, poor.stars == 3)
    )
    assert session.scalars(stmt).all() == ["soup"]


def test_join_to_aliased_subquery_gives_objects(session: Session) -> None:
    subq = select(Recipe).where(Recipe.kind == "savoury").subquery()
    savoury = aliased(Recipe, subq)
    rows = session.execute(
        select(Chef, savoury).join(Chef.recipes.of_type(savoury)).order_by(savoury.id)
    ).all()
    assert [(c.name, r.title) for c, r in rows] == [("Ada", "soup"), ("Bo", "stew")]
    assert rows[0][1] is session.get(Recipe, 1)
    # the subquery as a join target with an explicit ON
    rows = session.execute(
        select(Chef.name, savoury.title)
        .join(savoury, Chef.id == savoury.chef_id)
        .order_by(savoury.id)
    ).all()
    assert rows == [("Ada", "soup"), ("Bo", "stew")]


def test_join_to_aliased_cte(session: Session) -> None:
    cte = select(Recipe).where(Recipe.minutes >= 90).cte("slow")
    slow = aliased(Recipe, cte)
    rows = session.execute(
        select(Chef.name, slow).join(Chef.recipes.of_type(slow)).order_by(slow.id)
    ).all()
    assert [(name, r.title) for name, r in rows] == [("Ada", "tart"), ("Bo", "stew")]


def test_join_to_aggregate_subquery(session: Session) -> None:
    counts = (
        select(Review.recipe_id, func.avg(Review.stars).label("avg_stars"))
        .group_by(Review.recipe_id)
        .subquery()
    )
    rows = session.execute(
        select(Recipe.title, counts.c.avg_stars)
        .join(counts, counts.c.recipe_id == Recipe.id)
        .order_by(Recipe.id)
    ).all()
    assert [(t, float(a)) for t, a in rows] == [("soup", 4.0), ("stew", 4.0)]


# --- entities, bundles, column choices -------------------------------------------------


def test_select_two_entities_and_row_access(session: Session) -> None:
    rows = session.execute(select(Chef, Recipe).join(Chef.recipes).order_by(Recipe.id)).all()
    assert [(r.Chef.name, r.Recipe.title) for r in rows] == [
        ("Ada", "soup"),
        ("Ada", "tart"),
        ("Bo", "stew"),
    ]
    assert rows[0].Chef is rows[1].Chef
    named = aliased(Chef, name="cook")
    row = session.execute(select(named).where(named.id == 2)).one()
    assert row.cook.name == "Bo"
    assert list(row._mapping.keys()) == ["cook"]


def test_bundle_groups_columns(session: Session) -> None:
    stmt = (
        select(Bundle("chef", Chef.name, Chef.city), Bundle("dish", Recipe.title, Recipe.minutes))
        .join(Chef.recipes)
        .order_by(Recipe.id)
    )
    rows = session.execute(stmt).all()
    assert rows[0].chef.name == "Ada" and rows[0].chef.city == "Lyon"
    assert [(r.dish.title, r.dish.minutes) for r in rows] == [
        ("soup", 30),
        ("tart", 90),
        ("stew", 120),
    ]
    bundles = session.scalars(select(Bundle("b", Chef.id, Chef.name)).order_by(Chef.id)).all()
    assert [tuple(b) for b in bundles] == [(1, "Ada"), (2, "Bo"), (3, "Cy")]


def test_with_only_columns_and_add_columns(session: Session) -> None:
    stmt = select(Recipe).where(Recipe.minutes > 60).order_by(Recipe.id)
    assert session.execute(stmt.with_only_columns(Recipe.title)).all() == [("tart",), ("stew",)]
    rows = session.execute(stmt.add_columns(Recipe.minutes * 2)).all()
    assert [(r[0].title, r[1]) for r in rows] == [("tart", 180), ("stew", 240)]
    rows = session.execute(
        select(Recipe.title)
        .join(Recipe.chef)
        .with_only_columns(Chef.name, Recipe.title)
        .order_by(Recipe.id)
    ).all()
    assert rows == [("Ada", "soup"), ("Ada", "tart"), ("Bo", "stew")]


def test_labels_and_column_expressions(session: Session) -> None:
    rows = session.execute(
        select(
            (Chef.name + " of " + func.coalesce(Chef.city, "nowhere")).label("who"),
            literal_column("1").label("one"),
        ).order_by(Chef.id)
    ).all()
    assert [r.who for r in rows] == ["Ada of Lyon", "Bo of Oslo", "Cy of nowhere"]
    assert {r.one for r in rows} == {1}


# --- set operations --------------------------------------------------------------------


def test_union_all_of_entity_selects_from_statement(session: Session) -> None:
    u = union_all(
        select(Recipe).where(Recipe.minutes < 60),
        select(Recipe).where(Recipe.kind == "sweet"),
    ).order_by(Recipe.id)
    recipes = session.scalars(select(Recipe).from_statement(u)).all()
    assert [r.title for r in recipes] == ["soup", "tart"]
    assert recipes[0] is session.get(Recipe, 1)
    # duplicates survive union_all, not union
    u2 = union_all(select(Recipe).where(Recipe.id == 1), select(Recipe).where(Recipe.id == 1))
    assert len(session.scalars(select(Recipe).from_statement(u2)).all()) == 2
    u3 = union(select(Recipe).where(Recipe.id == 1), select(Recipe).where(Recipe.id == 1))
    assert len(session.scalars(select(Recipe).from_statement(u3)).all()) == 1


def test_union_as_subquery_aliased_to_entity(session: Session) -> None:
    u = union_all(
        select(Recipe).where(Recipe.minutes < 60),
        select(Recipe).where(Recipe.minutes > 100),
    ).subquery()
    r = aliased(Recipe, u)
    stmt = select(r).order_by(r.minutes.desc())
    assert [x.title for x in session.scalars(stmt)] == ["stew", "soup"]
    stmt = select(Chef.name, r.title).join_from(r, Chef, r.chef).order_by(r.id)
    assert session.execute(stmt).all() == [("Ada", "soup"), ("Bo", "stew")]


def test_union_of_columns(session: Session) -> None:
    u = union(select(Chef.city), select(literal_column("'Rome'"))).order_by("city")
    rows = session.scalars(u).all()
    assert [c for c in rows if c is not None] == ["Lyon", "Oslo", "Rome"]


# --- EXISTS, any(), has() --------------------------------------------------------------


def test_exists_any_and_has(session: Session) -> None:
    sub = exists().where(Recipe.chef_id == Chef.id)
    assert session.scalars(select(Chef.name).where(sub).order_by(Chef.id)).all() == ["Ada", "Bo"]
    assert session.scalars(select(Chef.name).where(~sub)).all() == ["Cy"]
    stmt = select(Chef.name).where(
        select(Recipe.id).where(Recipe.chef_id == Chef.id, Recipe.kind == "sweet").exists()
    )
    assert session.scalars(stmt).all() == ["Ada"]
    assert session.scalars(
        select(Chef.name).where(Chef.recipes.any(Recipe.minutes > 100))
    ).all() == ["Bo"]
    assert session.scalars(
        select(Chef.name).where(~Chef.recipes.any()).order_by(Chef.id)
    ).all() == ["Cy"]
    assert session.scalars(
        select(Recipe.title).where(Recipe.chef.has(Chef.city == "Lyon")).order_by(Recipe.id)
    ).all() == ["soup", "tart"]
    # nested: chefs with a recipe reviewed by bob
    assert session.scalars(
        select(Chef.name).where(Chef.recipes.any(Recipe.reviews.any(Review.reviewer == "bob")))
    ).all() == ["Ada"]
    assert session.scalar(select(exists().where(Review.stars > 4))) is True


def test_relationship_comparisons(session: Session) -> None:
    ada = session.get(Chef, 1)
    assert ada is not None
    assert session.scalars(
        select(Recipe.title).where(Recipe.chef == ada).order_by(Recipe.id)
    ).all() == ["soup", "tart"]
    assert session.scalars(select(Recipe.title).where(Recipe.chef != ada)).all() == ["stew"]
    soup = session.get(Recipe, 1)
    assert session.scalars(select(Chef.name).where(Chef.recipes.contains(soup))).all() == ["Ada"]


# --- contains_eager, with_expression, column_property -----------------------------------


def test_contains_eager_with_filtered_join(session: Session, log: StatementLog) -> None:
    stmt = (
        select(Chef)
        .join(Chef.recipes)
        .where(Recipe.minutes > 60)
        .options(contains_eager(Chef.recipes))
        .order_by(Chef.id)
        .execution_options(populate_existing=True)
    )
    log.clear()
    chefs = session.scalars(stmt).unique().all()
    assert [(c.name, [r.title for r in c.recipes]) for c in chefs] == [
        ("Ada", ["tart"]),
        ("Bo", ["stew"]),
    ]
    assert len(log.statements) == 1


def test_contains_eager_from_aliased_target_and_chained(
    session: Session, log: StatementLog
) -> None:
    r = aliased(Recipe)
    stmt = (
        select(Review)
        .join(Review.recipe.of_type(r))
        .join(r.chef)
        .options(contains_eager(Review.recipe.of_type(r)).contains_eager(r.chef))
        .order_by(Review.id)
    )
    log.clear()
    reviews = session.scalars(stmt).all()
    assert [(v.recipe.title, v.recipe.chef.name) for v in reviews] == [
        ("soup", "Ada"),
        ("soup", "Ada"),
        ("stew", "Bo"),
    ]
    assert len(log.statements) == 1


def test_with_expression_fills_query_expression(session: Session) -> None:
    stmt = (
        select(Chef)
        .options(with_expression(Chef.score, func.length(Chef.name) * 10))
        .order_by(Chef.id)
    )
    assert [(c.name, c.score) for c in session.scalars(stmt)] == [
        ("Ada", 30),
        ("Bo", 20),
        ("Cy", 20),
    ]
    # without the option the attribute is None, and a plain reload doesn't overwrite it
    session.expunge_all()
    assert session.scalars(select(Chef).where(Chef.id == 1)).one().score is None
    # the expression can be filtered on through the same expression
    expr = func.length(Chef.name)
    stmt = select(Chef).options(with_expression(Chef.score, expr)).where(expr > 2)
    session.expunge_all()
    assert [(c.name, c.score) for c in session.scalars(stmt)] == [("Ada", 3)]


def test_with_expression_from_correlated_subquery(session: Session) -> None:
    best = (
        select(func.max(Review.stars))
        .join(Review.recipe)
        .where(Recipe.chef_id == Chef.id)
        .scalar_subquery()
    )
    stmt = select(Chef).options(with_expression(Chef.score, best)).order_by(Chef.id)
    assert [(c.name, c.score) for c in session.scalars(stmt)] == [
        ("Ada", 5),
        ("Bo", 4),
        ("Cy", None),
    ]


def test_column_property_with_correlated_subquery(session: Session) -> None:
    chefs = session.scalars(select(Chef).order_by(Chef.id)).all()
    assert [c.recipe_count for c in chefs] == [2, 1, 0]
    assert session.scalars(
        select(Chef.name).where(Chef.recipe_count >= 1).order_by(Chef.recipe_count.desc())
    ).all() == ["Ada", "Bo"]
    a = aliased(Chef)
    assert session.scalars(select(a.recipe_count).where(a.name == "Bo")).all() == [1]


def test_populate_existing_overwrites_loaded_state(session: Session) -> None:
    ada = session.get(Chef, 1)
    assert ada is not None
    ada.city = "Paris"  # pending change in memory
    # a change the ORM does not know of, as another client's would be
    session.execute(text("UPDATE kit_chefs SET name = 'Adele' WHERE id = 1"))
    again = session.scalars(select(Chef).where(Chef.id == 1)).one()
    assert again is ada and ada.name == "Ada"  # identity map wins without the option
    again = session.scalars(
        select(Chef).where(Chef.id == 1).execution_options(populate_existing=True)
    ).one()
    assert again is ada and ada.name == "Adele"
    # autoflush had written Paris before the reload
    assert ada.city == "Paris"


# --- results -----------------------------------------------------------------------------


def test_yield_per_and_partitions(session: Session) -> None:
    result = session.scalars(select(Review).order_by(Review.id).execution_options(yield_per=2))
    parts = [[r.id for r in part] for part in result.partitions()]
    assert parts == [[1, 2], [3]]
    result = session.execute(select(Recipe.title).order_by(Recipe.id))
    assert [list(p) for p in result.partitions(2)] == [[("soup",), ("tart",)], [("stew",)]]
    stmt = select(Chef).order_by(Chef.id).execution_options(yield_per=1)
    assert [c.name for c in session.scalars(stmt)] == ["Ada", "Bo", "Cy"]


def test_unique_scalars_after_joined_eager(session: Session) -> None:
    stmt = select(Chef).options(joinedload(Chef.recipes)).order_by(Chef.id)
    with pytest.raises(exc.InvalidRequestError):
        session.scalars(stmt).all()
    chefs = session.scalars(stmt).unique().all()
    assert [len(c.recipes) for c in chefs] == [2, 1, 0]
    rows = session.execute(select(Chef.city).order_by(Chef.id)).scalars().unique().all()
    assert rows == ["Lyon", "Oslo", None]


# --- loader strategies ------------------------------------------------------------------


def test_selectinload_chain(session: Session, log: StatementLog) -> None:
    log.clear()
    chefs = session.scalars(
        select(Chef)
        .options(selectinload(Chef.recipes).selectinload(Recipe.reviews))
        .order_by(Chef.id)
    ).all()
    assert len(log.statements) == 3
    assert [[len(r.reviews) for r in c.recipes] for c in chefs] == [[2, 0], [1], []]
    assert len(log.statements) == 3


def test_joinedload_innerjoin_drops_parents(session: Session) -> None:
    reviews = session.scalars(
        select(Review).options(joinedload(Review.recipe, innerjoin=True)).order_by(Review.id)
    ).all()
    assert [v.recipe.title for v in reviews] == ["soup", "soup", "stew"]
    chefs = (
        session.scalars(
            select(Chef).options(joinedload(Chef.recipes, innerjoin=True)).order_by(Chef.id)
        )
        .unique()
        .all()
    )
    assert [c.name for c in chefs] == ["Ada", "Bo"]
    chefs = (
        session.scalars(select(Chef).options(joinedload(Chef.recipes)).order_by(Chef.id))
        .unique()
        .all()
    )
    assert [c.name for c in chefs] == ["Ada", "Bo", "Cy"]


def test_subqueryload_and_lazyload(session: Session, log: StatementLog) -> None:
    log.clear()
    chefs = session.scalars(
        select(Chef)
        .where(Chef.city.is_not(None))
        .options(subqueryload(Chef.recipes))
        .order_by(Chef.id)
    ).all()
    assert len(log.statements) == 2
    assert [[r.title for r in c.recipes] for c in chefs] == [["soup", "tart"], ["stew"]]
    assert len(log.statements) == 2
    session.expunge_all()
    log.clear()
    recipes = session.scalars(
        select(Recipe).options(lazyload(Recipe.chef)).order_by(Recipe.id)
    ).all()
    assert [r.chef.name for r in recipes] == ["Ada", "Ada", "Bo"]
    assert len(log.statements) == 3  # one per distinct chef, the repeated one from the map
    # a lazy-loaded many-to-one stays loaded: reading it again needs no SQL
    assert "chef" in recipes[0].__dict__
    assert recipes[2].chef.name == "Bo" and len(log.statements) == 3


def test_raiseload(session: Session) -> None:
    chef = session.scalars(select(Chef).where(Chef.id == 1).options(raiseload(Chef.recipes))).one()
    with pytest.raises(exc.InvalidRequestError):
        chef.recipes  # noqa: B018
    session.expunge_all()
    recipe = session.scalars(select(Recipe).where(Recipe.id == 1).options(raiseload("*"))).one()
    with pytest.raises(exc.InvalidRequestError):
        recipe.chef  # noqa: B018
    session.expunge_all()
    # sql_only lets a many-to-one come from the identity map
    ada = session.get(Chef, 1)
    recipe = session.scalars(
        select(Recipe).where(Recipe.id == 1).options(raiseload(Recipe.chef, sql_only=True))
    ).one()
    assert recipe.chef is ada


def test_defer_undefer_load_only_and_groups(session: Session, log: StatementLog) -> None:
    recipe = session.scalars(select(Recipe).where(Recipe.id == 1)).one()
    assert "method" not in recipe.__dict__ and "story" not in recipe.__dict__
    log.clear()
    assert recipe.method == "boil"
    # the group loads together
    assert "story" in recipe.__dict__
    assert len(log.statements) == 1
    session.expunge_all()
    recipe = session.scalars(
        select(Recipe).where(Recipe.id == 1).options(undefer_group("prose"))
    ).one()
    assert recipe.__dict__["method"] == "boil" and recipe.__dict__["story"] == "old"
    session.expunge_all()
    recipe = session.scalars(
        select(Recipe).where(Recipe.id == 2).options(undefer(Recipe.method))
    ).one()
    assert recipe.__dict__["method"] == "bake"
    session.expunge_all()
    recipe = session.scalars(
        select(Recipe).where(Recipe.id == 2).options(load_only(Recipe.title))
    ).one()
    assert "minutes" not in recipe.__dict__ and recipe.__dict__["title"] == "tart"
    assert recipe.minutes == 90
    session.expunge_all()
    recipe = session.scalars(
        select(Recipe).where(Recipe.id == 2).options(defer(Recipe.minutes, raiseload=True))
    ).one()
    with pytest.raises(exc.InvalidRequestError):
        recipe.minutes  # noqa: B018


def test_load_object_options_along_paths(session: Session, log: StatementLog) -> None:
    stmt = (
        select(Chef)
        .options(
            Load(Chef).load_only(Chef.name),
            selectinload(Chef.recipes).options(
                load_only(Recipe.title), selectinload(Recipe.reviews)
            ),
        )
        .order_by(Chef.id)
    )
    log.clear()
    chefs = session.scalars(stmt).all()
    assert len(log.statements) == 3
    ada = chefs[0]
    assert "city" not in ada.__dict__
    assert [r.__dict__.get("title") for r in ada.recipes] == ["soup", "tart"]
    assert "minutes" not in ada.recipes[0].__dict__
    assert [v.stars for v in ada.recipes[0].reviews] == [5, 3]
    assert len(log.statements) == 3


def test_load_only_on_related_joinedload(session: Session) -> None:
    recipes = session.scalars(
        select(Recipe).options(joinedload(Recipe.chef).load_only(Chef.name)).order_by(Recipe.id)
    ).all()
    assert recipes[0].chef.__dict__["name"] == "Ada"
    assert "city" not in recipes[0].chef.__dict__


def test_with_loader_criteria_filters_queries_and_loads(session: Session) -> None:
    opt = with_loader_criteria(Recipe, Recipe.minutes < 100)
    assert session.scalars(select(Recipe.title).options(opt).order_by(Recipe.id)).all() == [
        "soup",
        "tart",
    ]
    chefs = session.scalars(
        select(Chef).options(selectinload(Chef.recipes), opt).order_by(Chef.id)
    ).all()
    assert [[r.title for r in c.recipes] for c in chefs] == [["soup", "tart"], [], []]
    session.expunge_all()
    chefs = (
        session.scalars(select(Chef).options(joinedload(Chef.recipes), opt).order_by(Chef.id))
        .unique()
        .all()
    )
    assert [[r.title for r in c.recipes] for c in chefs] == [["soup", "tart"], [], []]
    session.expunge_all()
    # lazy loads of objects loaded with the option carry the criteria too
    chefs = session.scalars(select(Chef).options(opt).order_by(Chef.id)).all()
    assert [r.title for r in chefs[1].recipes] == []
    session.expunge_all()
    # a lambda criteria on a base, applied to joined entities as well
    stmt = (
        select(Chef.name, Recipe.title)
        .join(Chef.recipes)
        .options(with_loader_criteria(Recipe, lambda cls: cls.kind == "sweet"))
    )
    assert session.execute(stmt).all() == [("Ada", "tart")]


def test_loader_and_criteria_on_relationship_options(session: Session) -> None:
    chefs = session.scalars(
        select(Chef)
        .options(selectinload(Chef.recipes.and_(Recipe.kind == "savoury")))
        .order_by(Chef.id)
    ).all()
    assert [[r.title for r in c.recipes] for c in chefs] == [["soup"], ["stew"], []]
    session.expunge_all()
    chefs = (
        session.scalars(
            select(Chef)
            .options(joinedload(Chef.recipes.and_(Recipe.minutes > 60)))
            .order_by(Chef.id)
        )
        .unique()
        .all()
    )
    assert [[r.title for r in c.recipes] for c in chefs] == [["tart"], ["stew"], []]
    session.expunge_all()
    chefs = session.scalars(
        select(Chef).options(lazyload(Chef.recipes.and_(Recipe.minutes > 60))).order_by(Chef.id)
    ).all()
    assert [[r.title for r in c.recipes] for c in chefs] == [["tart"], ["stew"], []]
    session.expunge_all()
    chefs = session.scalars(
        select(Chef).options(subqueryload(Chef.recipes.and_(Recipe.minutes < 60))).order_by(Chef.id)
    ).all()
    assert [[r.title for r in c.recipes] for c in chefs] == [["soup"], [], []]


def test_text_with_columns_to_entities(session: Session) -> None:
    t = text("SELECT id, title, minutes, kind, chef_id FROM kit_recipes ORDER BY id").columns(
        Recipe.id, Recipe.title, Recipe.minutes, Recipe.kind, Recipe.chef_id
    )
    recipes = session.scalars(select(Recipe).from_statement(t)).all()
    assert [r.title for r in recipes] == ["soup", "tart", "stew"]
    assert recipes[0] is session.get(Recipe, 1)
    sub = t.subquery()
    r = aliased(Recipe, sub)
    assert session.scalars(select(r.title).where(r.minutes > 60)).all() == ["tart", "stew"]
    rows = session.execute(text("SELECT name FROM kit_chefs WHERE id = :i").bindparams(i=2)).all()
    assert rows == [("Bo",)]
    assert (
        session.scalars(
            select(Chef).from_statement(text("SELECT * FROM kit_chefs WHERE city = :c")),
            {"c": "Oslo"},
        )
        .one()
        .name
        == "Bo"
    )


def test_or_filters_and_scalar_subquery(session: Session) -> None:
    # every FROM of the subquery is the enclosing query's: auto-correlation would leave it
    # none, so it says so; correlate(None) keeps its own FROM
    most = select(func.max(Recipe.minutes)).scalar_subquery()
    with pytest.raises(exc.InvalidRequestError, match="correlate"):
        session.scalars(select(Recipe.title).where(Recipe.minutes == most)).all()
    most = select(func.max(Recipe.minutes)).correlate(None).scalar_subquery()
    assert session.scalars(select(Recipe.title).where(Recipe.minutes == most)).all() == ["stew"]
    stmt = (
        select(Recipe.title)
        .where(or_(Recipe.kind == "sweet", Recipe.minutes > 100))
        .order_by(Recipe.id)
    )
    assert session.scalars(stmt).all() == ["tart", "stew"]


# --- more shapes: LIMIT with eager collections, defaults, mappings --------------------


def test_joinedload_collection_with_limit_limits_parents(session: Session) -> None:
    chefs = (
        session.scalars(select(Chef).options(joinedload(Chef.recipes)).order_by(Chef.id).limit(1))
        .unique()
        .all()
    )
    assert [c.name for c in chefs] == ["Ada"]
    assert [r.title for r in chefs[0].recipes] == ["soup", "tart"]
    chefs = (
        session.scalars(
            select(Chef)
            .options(joinedload(Chef.recipes))
            .order_by(Chef.id)
            .limit(2)
            .offset(1)
            .execution_options(populate_existing=True)
        )
        .unique()
        .all()
    )
    assert [(c.name, len(c.recipes)) for c in chefs] == [("Bo", 1), ("Cy", 0)]


def test_selectinload_with_yield_per_batches(session: Session) -> None:
    stmt = (
        select(Chef)
        .options(selectinload(Chef.recipes))
        .order_by(Chef.id)
        .execution_options(yield_per=2)
    )
    result = session.scalars(stmt)
    seen = [
        [(c.name, [r.title for r in c.__dict__["recipes"]]) for c in part]
        for part in result.partitions()
    ]
    assert seen == [[("Ada", ["soup", "tart"]), ("Bo", ["stew"])], [("Cy", [])]]


def test_defaultload_then_defer(session: Session) -> None:
    chef = session.scalars(
        select(Chef)
        .where(Chef.id == 1)
        .options(
            selectinload(Chef.recipes),
            defaultload(Chef.recipes).undefer(Recipe.method),
            defaultload(Chef.recipes).defer(Recipe.minutes),
        )
    ).one()
    soup = chef.recipes[0]
    assert soup.__dict__["method"] == "boil"
    assert "minutes" not in soup.__dict__ and "story" not in soup.__dict__


def test_result_mappings_and_tuples(session: Session) -> None:
    result = session.execute(select(Chef.name, Chef.city).where(Chef.id < 3).order_by(Chef.id))
    assert result.mappings().all() == [
        {"name": "Ada", "city": "Lyon"},
        {"name": "Bo", "city": "Oslo"},
    ]
    row = session.execute(select(Chef, Recipe.title).join(Chef.recipes).limit(1)).mappings().one()
    assert row["Chef"].name == "Ada" and row["title"] == "soup"
    assert session.execute(select(Recipe.id, Recipe.title).order_by(Recipe.id)).columns(
        "title"
    ).scalars().all() == ["soup", "tart", "stew"]


def test_distinct_entities_over_join(session: Session) -> None:
    chefs = session.scalars(
        select(Chef).join(Chef.recipes).join(Recipe.reviews).distinct().order_by(Chef.id)
    ).all()
    assert [c.name for c in chefs] == ["Ada", "Bo"]
    assert session.scalar(select(func.count(Chef.id.distinct())).join(Chef.recipes)) == 2


def test_populate_existing_refreshes_eager_collections(session: Session) -> None:
    ada = session.scalars(
        select(Chef).where(Chef.id == 1).options(selectinload(Chef.recipes))
    ).one()
    assert len(ada.recipes) == 2
    session.execute(text("DELETE FROM kit_reviews"))
    session.execute(text("DELETE FROM kit_recipes WHERE id = 2"))
    session.scalars(
        select(Chef)
        .where(Chef.id == 1)
        .options(selectinload(Chef.recipes))
        .execution_options(populate_existing=True)
    ).one()
    assert [r.title for r in ada.recipes] == ["soup"]


def test_with_loader_criteria_include_aliases(session: Session) -> None:
    r = aliased(Recipe)
    stmt = select(r.title).order_by(r.id)
    plain = with_loader_criteria(Recipe, Recipe.kind == "sweet")
    assert session.scalars(stmt.options(plain)).all() == ["soup", "tart", "stew"]
    wide = with_loader_criteria(Recipe, Recipe.kind == "sweet", include_aliases=True)
    assert session.scalars(stmt.options(wide)).all() == ["tart"]


def test_entity_with_columns_and_exists_correlated_to_entity(session: Session) -> None:
    reviewed = exists(select(Review.id).join(Review.recipe).where(Recipe.chef_id == Chef.id))
    rows = session.execute(select(Chef, reviewed.label("reviewed")).order_by(Chef.id)).all()
    assert [(c.name, bool(flag)) for c, flag in rows] == [
        ("Ada", True),
        ("Bo", True),
        ("Cy", False),
    ]


def test_subquery_of_entity_with_column_property(session: Session) -> None:
    subq = select(Chef).where(Chef.city.is_not(None)).subquery()
    c = aliased(Chef, subq)
    chefs = session.scalars(select(c).order_by(c.id)).all()
    assert [(x.name, x.recipe_count) for x in chefs] == [("Ada", 2), ("Bo", 1)]


def test_deferred_and_query_expression_attributes_of_an_alias(session: Session) -> None:
    r = aliased(Recipe)
    # a deferred column of an alias is there to filter on, select and undefer
    assert session.scalars(select(r.title).where(r.method == "bake")).all() == ["tart"]
    assert session.scalars(select(r.method).order_by(r.id)).all() == ["boil", "bake", "simmer"]
    soup = session.scalars(select(r).where(r.id == 1).options(undefer(r.method))).one()
    assert soup.__dict__["method"] == "boil" and "story" not in soup.__dict__
    # with_expression() fills a query_expression() through the alias
    c = aliased(Chef)
    chefs = session.scalars(
        select(c).options(with_expression(c.score, c.id * 2)).order_by(c.id)
    ).all()
    assert [(x.name, x.score) for x in chefs] == [("Ada", 2), ("Bo", 4), ("Cy", 6)]
    # two aliases in one statement keep apart
    c2 = aliased(Chef)
    rows = session.execute(
        select(c, c2)
        .join(c2, c2.id == c.id + 1)
        .options(with_expression(c2.score, c2.id * 10))
        .order_by(c.id)
        .execution_options(populate_existing=True)
    ).all()
    assert [(a.name, b.name, b.score) for a, b in rows] == [("Ada", "Bo", 20), ("Bo", "Cy", 30)]


def test_join_along_a_relationship_starts_from_its_parent(session: Session) -> None:
    # the first FROM (chefs, from the first column) is not the relationship's parent
    rows = session.execute(
        select(Chef.name, Recipe.title).join(Recipe.chef).order_by(Recipe.id)
    ).all()
    assert rows == [("Ada", "soup"), ("Ada", "tart"), ("Bo", "stew")]
    rows = session.execute(
        select(Bundle("chef", Chef.name), Recipe).join(Recipe.chef).order_by(Recipe.id)
    ).all()
    assert [(b.name, r.title) for b, r in rows] == [
        ("Ada", "soup"),
        ("Ada", "tart"),
        ("Bo", "stew"),
    ]
    r = aliased(Recipe)
    rows = session.execute(
        select(Review.stars, Chef.name, r.title)
        .join(r.chef)
        .join(Review, Review.recipe_id == r.id)
        .order_by(Review.id)
    ).all()
    assert rows == [(5, "Ada", "soup"), (3, "Ada", "soup"), (4, "Bo", "stew")]


def test_collection_compared_with_none(session: Session) -> None:
    assert session.scalars(select(Chef.name).where(Chef.recipes == None)).all() == ["Cy"]  # noqa: E711
    assert session.scalars(
        select(Chef.name).where(Chef.recipes != None).order_by(Chef.id)  # noqa: E711
    ).all() == ["Ada", "Bo"]
    assert session.scalars(select(Recipe.title).where(Recipe.reviews == None)).all() == ["tart"]  # noqa: E711


def test_one_subquery_read_as_two_entities(session: Session) -> None:
    subq = select(Chef, Recipe).join(Chef.recipes).where(Recipe.kind == "savoury").subquery()
    chef = aliased(Chef, subq)
    recipe = aliased(Recipe, subq)
    rows = session.execute(select(chef, recipe).order_by(recipe.id)).all()
    assert [(c.name, r.title) for c, r in rows] == [("Ada", "soup"), ("Bo", "stew")]
    assert rows[0][0] is session.get(Chef, 1) and rows[1][1] is session.get(Recipe, 3)
