"""Mutable JSON values: in-place changes to a dict and a list stored as JSON are written by
the next flush (``athanor.ext.mutable``), where a plain JSON dict's would be lost.

Run: DATABASE_URL=postgresql://postgres@127.0.0.1/test python examples/orm_mutable.py
"""

from __future__ import annotations

import os
from typing import Any

from athanor import JSON, String, create_engine, select
from athanor.ext.mutable import MutableDict, MutableList
from athanor.orm import DeclarativeBase, Mapped, Session, mapped_column


class Base(DeclarativeBase):
    pass


class Profile(Base):
    __tablename__ = "ex_profiles"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40))
    settings: Mapped[dict[str, Any]] = mapped_column(MutableDict.as_mutable(JSON), default=dict)
    history: Mapped[list[str]] = mapped_column(MutableList.as_mutable(JSON), default=list)
    notes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


def main(url: str) -> dict[str, object]:
    """Change a profile's JSON values in place, commit, and read them back."""
    engine = create_engine(url)
    Base.metadata.create_all(engine)
    try:
        with Session(engine) as session:
            ada = Profile(name="ada", settings={"theme": "dark"}, notes={"a": 1})
            session.add(ada)
            session.commit()
            ada.settings["language"] = "en"  # tracked: MutableDict marks ada modified
            ada.history.append("logged in")  # tracked: MutableList
            ada.notes["b"] = 2  # plain JSON: not tracked, never written
            session.commit()
        with Session(engine) as session:
            row = session.execute(select(Profile.settings, Profile.history, Profile.notes)).one()
            return {"settings": row[0], "history": row[1], "notes": row[2]}
    finally:
        Base.metadata.drop_all(engine)
        engine.dispose()


if __name__ == "__main__":
    for key, value in main(os.environ.get("DATABASE_URL", "sqlite://")).items():
        print(f"{key}: {value}")
