"""Composite attributes: a Point dataclass over two columns, read, assigned, compared in SQL
and selected as values.

Run: DATABASE_URL=postgresql://postgres@127.0.0.1/test python examples/orm_composites.py
"""

from __future__ import annotations

import dataclasses
import os

from athanor import create_engine, select, update
from athanor.orm import DeclarativeBase, Mapped, Session, composite, mapped_column


@dataclasses.dataclass
class Point:
    x: int
    y: int


class Base(DeclarativeBase):
    pass


class Vertex(Base):
    __tablename__ = "ex_vertices"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The columns x1/y1 and x2/y2 are INTEGER NOT NULL, from Point's field annotations.
    start: Mapped[Point] = composite(mapped_column("x1"), mapped_column("y1"))
    end: Mapped[Point] = composite(mapped_column("x2"), mapped_column("y2"))


def main(url: str) -> dict[str, object]:
    """Store two vertices, move one end, query by points; returns what it saw."""
    engine = create_engine(url)
    Base.metadata.create_all(engine)
    try:
        with Session(engine) as session:
            first = Vertex(start=Point(0, 0), end=Point(3, 4))
            session.add_all([first, Vertex(start=Point(3, 4), end=Point(6, 8))])
            session.commit()
            first.end = Point(1, 1)  # sets x2 and y2; the flush writes both
            session.commit()
            seen: dict[str, object] = {"first": (first.start, first.end)}
            starting_at = select(Vertex.id).where(Vertex.start == Point(3, 4))
            seen["starts at (3, 4)"] = list(session.scalars(starting_at))
            session.execute(
                update(Vertex).where(Vertex.start == Point(3, 4)).values(end=Point(9, 9))
            )
            seen["ends"] = list(session.scalars(select(Vertex.end).order_by(Vertex.id)))
            return seen
    finally:
        Base.metadata.drop_all(engine)
        engine.dispose()


if __name__ == "__main__":
    for key, value in main(os.environ.get("DATABASE_URL", "sqlite://")).items():
        print(f"{key}: {value}")
