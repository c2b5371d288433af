"""A small kitchen (chefs, their recipes, the recipes' reviews) for the querying-guide
workflow tests, with the rows every such test starts from."""

from __future__ import annotations

from collections.abc import Iterator

from athanor import Engine, ForeignKey, String, Text, create_engine, func, select
from athanor.orm import (
    DeclarativeBase,
    Mapped,
    Session,
    column_property,
    deferred,
    mapped_column,
    query_expression,
    relationship,
)


class KitchenBase(DeclarativeBase):
    pass


class Chef(KitchenBase):
    __tablename__ = "kit_chefs"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40), unique=True)
    city: Mapped[str | None] = mapped_column(String(30))
    recipes: Mapped[list[Recipe]] = relationship(back_populates="chef", order_by="Recipe.id")
    score: Mapped[int | None] = query_expression()

    def __repr__(self) -> str:
        return f"Chef({self.name!r})"


class Recipe(KitchenBase):
    __tablename__ = "kit_recipes"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(60))
    minutes: Mapped[int]
    kind: Mapped[str] = mapped_column(String(10))
    method: Mapped[str | None] = mapped_column(Text, deferred=True, deferred_group="prose")
    story: Mapped[str | None] = deferred(mapped_column(Text), group="prose")
    chef_id: Mapped[int] = mapped_column(ForeignKey("kit_chefs.id"))
    chef: Mapped[Chef] = relationship(back_populates="recipes")
    reviews: Mapped[list[Review]] = relationship(back_populates="recipe", order_by="Review.id")

    def __repr__(self) -> str:
        return f"Recipe({self.title!r})"


class Review(KitchenBase):
    __tablename__ = "kit_reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    stars: Mapped[int]
    reviewer: Mapped[str] = mapped_column(String(30))
    recipe_id: Mapped[int] = mapped_column(ForeignKey("kit_recipes.id"))
    recipe: Mapped[Recipe] = relationship(back_populates="reviews")


Chef.recipe_count = column_property(
    select(func.count(Recipe.id))
    .where(Recipe.chef_id == Chef.id)
    .correlate_except(Recipe)
    .scalar_subquery()
)


def kitchen() -> list[Chef]:
    """Ada (Lyon: soup 30 min, tart 90 min), Bo (Oslo: stew 120 min), Cy (no city, no
    recipes).  Soup has reviews 5 (ann) and 3 (bob); stew 4 (ann).  Ids follow this order
    in empty tables: chefs 1-3, recipes soup=1 tart=2 stew=3, reviews 1-3."""
    soup = Recipe(title="soup", minutes=30, kind="savoury", method="boil", story="old")
    soup.reviews = [Review(stars=5, reviewer="ann"), Review(stars=3, reviewer="bob")]
    tart = Recipe(title="tart", minutes=90, kind="sweet", method="bake", story="new")
    stew = Recipe(title="stew", minutes=120, kind="savoury", method="simmer", story=None)
    stew.reviews = [Review(stars=4, reviewer="ann")]
    return [
        Chef(name="Ada", city="Lyon", recipes=[soup, tart]),
        Chef(name="Bo", city="Oslo", recipes=[stew]),
        Chef(name="Cy"),
    ]


def kitchen_engine(url: str) -> Iterator[Engine]:
    """An engine on ``url`` whose database holds :func:`kitchen`'s rows; disposed after."""
    engine = create_engine(url)
    KitchenBase.metadata.create_all(engine)
    with Session(engine) as session:
        session.add_all(kitchen())
        session.commit()
    yield engine
    engine.dispose()
