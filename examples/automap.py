"""Automap: an existing database (made here with plain SQL) becomes mapped classes with
relationships, without declaring a model; then one class is declared to rename a column.

Run: DATABASE_URL=postgresql://postgres@127.0.0.1/test python examples/automap.py
"""

from __future__ import annotations

import os
from typing import Any

from athanor import Column, String, create_engine, select, text
from athanor.ext.automap import automap_base
from athanor.orm import Session

SCHEMA = [
    "CREATE TABLE ex_author (id INTEGER PRIMARY KEY, name VARCHAR(40))",
    "CREATE TABLE ex_book (id INTEGER PRIMARY KEY, title VARCHAR(80), "
    "author_id INTEGER REFERENCES ex_author (id))",
]

Base: Any = automap_base()


class Author(Base):
    """Declared only to give the ``name`` column another attribute name; the rest of its
    columns and its relationships come from the database."""

    __tablename__ = "ex_author"
    full_name = Column("name", String(40))


def main(url: str) -> dict[str, object]:
    """Create the tables, automap them, write through the generated relationships and read
    back; returns what it saw."""
    engine = create_engine(url)
    with engine.begin() as conn:
        for statement in SCHEMA:
            conn.execute(text(statement))
    try:
        Base.prepare(autoload_with=engine)
        book_class = Base.classes.ex_book
        with Session(engine) as session:
            author = Author(id=1, full_name="Ursula")
            author.ex_book_collection = [book_class(id=1, title="The Dispossessed")]
            session.add(author)
            session.commit()
            book = session.scalars(select(book_class)).one()
            return {
                "classes": sorted(Base.classes.keys()),
                "book's author": book.author.full_name,
                "author's books": [b.title for b in author.ex_book_collection],
            }
    finally:
        with engine.begin() as conn:
            conn.execute(text("DROP TABLE ex_book"))
            conn.execute(text("DROP TABLE ex_author"))
        engine.dispose()


if __name__ == "__main__":
    print(main(os.environ.get("DATABASE_URL", "sqlite:///automap_example.db")))
