"""Association proxies: a recipe's ingredients through an association object that carries a
quantity, shown as plain names, as a dict of quantities, and filtered in SQL.

Run: DATABASE_URL=postgresql://postgres@127.0.0.1/test python examples/association_proxy.py
"""

from __future__ import annotations

import os

from athanor import ForeignKey, String, create_engine, select
from athanor.ext.associationproxy import AssociationProxy, association_proxy
from athanor.orm import (
    DeclarativeBase,
    Mapped,
    Session,
    attribute_keyed_dict,
    mapped_column,
    relationship,
    selectinload,
)


class Base(DeclarativeBase):
    pass


class Ingredient(Base):
    __tablename__ = "ex_ingredients"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40), unique=True)


class Recipe(Base):
    __tablename__ = "ex_recipes"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(60))
    lines: Mapped[dict[str, RecipeLine]] = relationship(
        collection_class=attribute_keyed_dict("ingredient_name"),
        cascade="all, delete-orphan",
        lazy="selectin",
    )
    # {"flour": "500 g", ...}: setting a new key makes the RecipeLine (and its Ingredient).
    amounts: AssociationProxy[dict[str, str]] = association_proxy(
        "lines",
        "amount",
        creator=lambda name, amount: RecipeLine(ingredient_name=name, amount=amount),
    )
    # The ingredients themselves, through the same lines.
    ingredients: AssociationProxy[list[Ingredient]] = association_proxy("lines", "ingredient")


class RecipeLine(Base):
    __tablename__ = "ex_recipe_lines"

    recipe_id: Mapped[int] = mapped_column(ForeignKey("ex_recipes.id"), primary_key=True)
    ingredient_id: Mapped[int] = mapped_column(ForeignKey("ex_ingredients.id"), primary_key=True)
    amount: Mapped[str] = mapped_column(String(20))
    ingredient: Mapped[Ingredient] = relationship(lazy="joined")
    # One value through a many-to-one: reading gives the ingredient's name, setting it on a
    # line without an ingredient makes one.
    ingredient_name: AssociationProxy[str] = association_proxy("ingredient", "name")


def main(url: str) -> dict[str, object]:
    """Write two recipes through the proxies, then read and filter them; returns what it saw."""
    engine = create_engine(url)
    Base.metadata.create_all(engine)
    try:
        with Session(engine) as session:
            bread = Recipe(title="bread")
            bread.amounts.update({"flour": "500 g", "water": "350 ml", "salt": "10 g"})
            session.add(bread)
            session.commit()
            salt = session.scalars(select(Ingredient).where(Ingredient.name == "salt")).one()
            pancakes = Recipe(title="pancakes", amounts={"milk": "300 ml"})
            pancakes.lines["salt"] = RecipeLine(ingredient=salt, amount="1 pinch")
            session.add(pancakes)
            session.commit()

        with Session(engine) as session:
            recipes = session.scalars(
                select(Recipe).options(selectinload(Recipe.lines)).order_by(Recipe.id)
            ).all()
            seen: dict[str, object] = {r.title: dict(sorted(r.amounts.items())) for r in recipes}
            salt = session.scalars(select(Ingredient).where(Ingredient.name == "salt")).one()
            with_salt = select(Recipe.title).where(Recipe.ingredients.contains(salt))
            seen["with salt"] = sorted(session.scalars(with_salt))
            uses_milk = select(Recipe.title).where(
                Recipe.lines.any(RecipeLine.ingredient_name == "milk")
            )
            seen["uses milk"] = list(session.scalars(uses_milk))
            return seen
    finally:
        Base.metadata.drop_all(engine)
        engine.dispose()


if __name__ == "__main__":
    for key, value in main(os.environ.get("DATABASE_URL", "sqlite://")).items():
        print(f"{key}: {value}")
