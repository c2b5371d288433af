"""Query optimisation and N+1 prevention with athanor (tutorial 002 §6 and Pitfall 3).

The tutorial's code with ``sqlalchemy`` replaced by ``athanor``: the N+1 loop, the three eager
loading fixes and the aggregate with a join inferred from the foreign key.  A listener on the
engine's ``before_cursor_execute`` event counts the statements each variant runs, so the
numbers the tutorial promises (lazy 1 + N, joinedload 1, selectinload 2, subqueryload 2) are
printed next to each.  The models are the tutorial's §2 models with ``Post.user_id`` given its
``ForeignKey`` (the tutorial omits it; see ``orm_declarative.py``) and ``content`` as ``Text``.

``n_plus_one_report()`` runs the ❌ loop in a session made with ``n_plus_one="warn"`` and
returns the warning athanor gives.

Run: DATABASE_URL=postgresql://postgres@127.0.0.1/test python examples/query_optimization.py
"""

from __future__ import annotations

import os
import warnings
from typing import Any, List  # noqa: UP035 - as the tutorial writes it

from athanor import ForeignKey, Integer, String, Text, create_engine, event
from athanor.orm import (
    DeclarativeBase,
    Mapped,
    Session,
    joinedload,
    mapped_column,
    relationship,
    selectinload,
    subqueryload,
)


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(50), unique=True)
    email: Mapped[str] = mapped_column(String(100))
    age: Mapped[int] = mapped_column(Integer, nullable=True)

    posts: Mapped[List[Post]] = relationship(back_populates="author")  # noqa: UP006


class Post(Base):
    __tablename__ = "posts"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    content: Mapped[str] = mapped_column(Text)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))

    author: Mapped[User] = relationship(back_populates="posts")


class StatementCounter:
    """Counts the SQL statements an engine sends to the database."""

    def __init__(self, engine: Any) -> None:
        self.count = 0
        event.listen(engine, "before_cursor_execute", self.before_cursor_execute)

    def before_cursor_execute(self, *args: Any) -> None:
        self.count += 1


def _setup(database_url: str) -> Any:
    engine = create_engine(database_url)
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        for i, count in enumerate([0, 2, 6, 7]):
            user = User(username=f"user{i}", email=f"user{i}@example.com", age=20 + i)
            user.posts = [Post(title=f"Post {j}", content="...") for j in range(count)]
            session.add(user)
        session.commit()
    return engine


def main(database_url: str) -> dict[str, int]:
    """Run every variant of §6 and Pitfall 3; returns the statements each ran."""
    engine = _setup(database_url)
    counter = StatementCounter(engine)
    counts: dict[str, int] = {}

    def measure(name: str) -> None:
        counts[name] = counter.count
        print(f"-- {name}: {counter.count} statements")
        counter.count = 0

    with Session(engine) as session:
        # ❌ N+1 Query Problem
        users = session.query(User).all()
        for user in users:
            # Each iteration executes separate query!
            print(f"{user.username} has {len(user.posts)} posts")
    measure("lazy")

    with Session(engine) as session:
        # ✅ Solution 1: Joined Load (single query with JOIN)
        users = session.query(User).options(joinedload(User.posts)).all()
        for user in users:
            print(f"{user.username} has {len(user.posts)} posts")
    measure("joinedload")

    with Session(engine) as session:
        # ✅ Solution 2: Select In Load (2 queries total)
        users = session.query(User).options(selectinload(User.posts)).all()
        for user in users:
            print(f"{user.username} has {len(user.posts)} posts")
    measure("selectinload")

    with Session(engine) as session:
        # ✅ Solution 3: Subquery Load
        users = session.query(User).options(subqueryload(User.posts)).all()
        for user in users:
            print(f"{user.username} has {len(user.posts)} posts")
    measure("subqueryload")

    with Session(engine) as session:
        # Complex queries with multiple relationships
        from athanor import func

        users_with_stats = (
            session.query(User.username, func.count(Post.id).label("post_count"))
            .outerjoin(Post)
            .group_by(User.id, User.username)
            .having(func.count(Post.id) > 5)
            .all()
        )
        for row in sorted(users_with_stats):
            print(f"{row.username}: {row.post_count} posts")
    measure("aggregate")

    with Session(engine) as session:
        # Pitfall 3 — ❌ Bad: N+1 queries (1 for users + N for posts)
        users = session.query(User).all()
        for user in users:
            print(len(user.posts))  # Separate query each iteration!
    measure("pitfall_bad")

    with Session(engine) as session:
        # ✅ Good: Eager loading
        users = session.query(User).options(selectinload(User.posts)).all()
        for user in users:
            print(len(user.posts))  # No additional queries
    measure("pitfall_good")

    Base.metadata.drop_all(engine)
    engine.dispose()
    return counts


def n_plus_one_report(database_url: str) -> str:
    """The warning athanor's N+1 detection gives for the tutorial's ❌ loop."""
    engine = _setup(database_url)
    try:
        with (
            Session(engine, n_plus_one="warn") as session,
            warnings.catch_warnings(record=True) as caught,
        ):
            warnings.simplefilter("always")
            users = session.query(User).all()
            for user in users:
                len(user.posts)
        return "\n".join(str(w.message) for w in caught)
    finally:
        Base.metadata.drop_all(engine)
        engine.dispose()


if __name__ == "__main__":
    url = os.environ.get("DATABASE_URL", "sqlite:///example.db")
    print(main(url))
    print(n_plus_one_report(url))
