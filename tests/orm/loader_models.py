"""Models for the loader-strategy tests: many-to-many, composite keys, eager defaults."""

from __future__ import annotations

from athanor import Column, ForeignKey, ForeignKeyConstraint, Integer, String, Table
from athanor.orm import DeclarativeBase, Mapped, mapped_column, relationship


class LoaderBase(DeclarativeBase):
    pass


article_tags = Table(
    "article_tags",
    LoaderBase.metadata,
    Column("article_id", ForeignKey("articles.id"), primary_key=True),
    Column("tag_id", ForeignKey("tags.id"), primary_key=True),
)


class Article(LoaderBase):
    __tablename__ = "articles"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(50))
    tags: Mapped[list[Tag]] = relationship(secondary=article_tags, order_by="Tag.id")


class Tag(LoaderBase):
    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))


class Shelf(LoaderBase):
    """Composite primary key; its items load with ``selectin`` unless a query says otherwise."""

    __tablename__ = "shelves"

    region: Mapped[str] = mapped_column(String(10), primary_key=True)
    code: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    items: Mapped[list[Item]] = relationship(
        back_populates="shelf", lazy="selectin", order_by="Item.id"
    )


class Item(LoaderBase):
    """Its shelf loads with ``joined`` by default."""

    __tablename__ = "items"
    __table_args__ = (
        ForeignKeyConstraint(["shelf_region", "shelf_code"], ["shelves.region", "shelves.code"]),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    shelf_region: Mapped[str] = mapped_column(String(10))
    shelf_code: Mapped[int]
    shelf: Mapped[Shelf] = relationship(back_populates="items", lazy="joined")
