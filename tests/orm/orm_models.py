"""Models shared by the ORM tests (users with posts, a tree) and a statement recorder."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from athanor import DateTime, ForeignKey, String, Text, event, func
from athanor.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(50), unique=True)
    email: Mapped[str | None] = mapped_column(String(100))
    age: Mapped[int | None]
    created: Mapped[datetime.datetime] = mapped_column(DateTime, server_default=func.now())
    status: Mapped[str] = mapped_column(String(20), default="new")

    posts: Mapped[list[Post]] = relationship(back_populates="author", order_by="Post.id")


class Post(Base):
    __tablename__ = "posts"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str | None] = mapped_column(Text)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    author: Mapped[User | None] = relationship(back_populates="posts")


class Node(Base):
    __tablename__ = "nodes"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("nodes.id"))

    parent: Mapped[Node | None] = relationship(back_populates="children", remote_side=[id])
    children: Mapped[list[Node]] = relationship(back_populates="parent")


def seed_users_with_posts(session: Any, users: int) -> None:
    """``users`` users u0, u1, ... with ages 0, 1, ...; user i has i posts named p<i><j>."""
    from athanor import insert

    session.execute(insert(User), [{"username": f"u{i}", "age": i} for i in range(users)])
    session.execute(
        insert(Post),
        [{"title": f"p{i}{j}", "user_id": i + 1} for i in range(users) for j in range(i)],
    )
    session.commit()


def compiled(stmt: Any) -> str:
    """``stmt``'s SQL (default dialect) on one line, for comparing with expected SQL."""
    return " ".join(str(stmt).split())


class CommitRefused(Exception):
    """What a listener raises to stand for a database refusing a COMMIT."""


@contextmanager
def refusing_commits(engine: Any) -> Iterator[None]:
    """Within the block, every COMMIT on ``engine`` fails with :class:`CommitRefused` (a
    connection listener raises it)."""

    def refuse(conn: Any) -> None:
        raise CommitRefused("COMMIT refused")

    event.listen(engine, "commit", refuse)
    try:
        yield
    finally:
        event.remove(engine, "commit", refuse)


class StatementLog:
    """SQL statements an engine ran (for asserting how many queries an operation needs)."""

    def __init__(self, engine: Any) -> None:
        self.statements: list[str] = []
        event.listen(engine, "before_cursor_execute", self._record)

    def _record(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        self.statements.append(statement)

    def clear(self) -> None:
        self.statements.clear()

    @property
    def selects(self) -> list[str]:
        return [s for s in self.statements if s.lstrip().upper().startswith("SELECT")]
