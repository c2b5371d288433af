"""Ordered collections: a slide's bullets keep their ``position`` column in step with the
list (``athanor.ext.orderinglist``) as bullets are appended, inserted and removed.

Run: DATABASE_URL=postgresql://postgres@127.0.0.1/test python examples/orm_ordering_list.py
"""

from __future__ import annotations

import os

from athanor import ForeignKey, String, create_engine, select
from athanor.ext.orderinglist import ordering_list
from athanor.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Slide(Base):
    __tablename__ = "ex_slides"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(40))
    bullets: Mapped[list[Bullet]] = relationship(
        order_by="Bullet.position",
        collection_class=ordering_list("position", count_from=1),
        cascade="all, delete-orphan",
    )


class Bullet(Base):
    __tablename__ = "ex_bullets"

    id: Mapped[int] = mapped_column(primary_key=True)
    slide_id: Mapped[int] = mapped_column(ForeignKey("ex_slides.id"))
    position: Mapped[int]
    text: Mapped[str] = mapped_column(String(40))


def main(url: str) -> list[str]:
    """Build a slide, reorder its bullets, and return them as stored ("1. text", ...)."""
    engine = create_engine(url)
    Base.metadata.create_all(engine)
    try:
        with Session(engine) as session:
            slide = Slide(title="Plan", bullets=[Bullet(text="measure"), Bullet(text="ship")])
            slide.bullets.insert(1, Bullet(text="fix"))  # renumbers: measure 1, fix 2, ship 3
            session.add(slide)
            session.commit()
            slide.bullets.pop(0)  # the rest move up: fix 1, ship 2
            slide.bullets.append(Bullet(text="celebrate"))  # 3
            session.commit()
        with Session(engine) as session:
            rows = session.execute(select(Bullet.position, Bullet.text).order_by(Bullet.position))
            return [f"{position}. {text}" for position, text in rows]
    finally:
        Base.metadata.drop_all(engine)
        engine.dispose()


if __name__ == "__main__":
    print("\n".join(main(os.environ.get("DATABASE_URL", "sqlite://"))))
