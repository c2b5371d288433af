"""SQLAlchemy-style ORM with athanor (tutorial 002 §2): declarative models and CRUD.

``as_written()`` runs the tutorial's models exactly as printed: ``Post.user_id`` has no
``ForeignKey``, so using the mappers fails with an error naming ``User.posts``/``Post.author``,
both tables and the fix.  ``main()`` runs the corrected models end to end (and stores
``content`` as ``Text``, since MySQL/MariaDB need a length for ``VARCHAR``).

Run: DATABASE_URL=postgresql://postgres@127.0.0.1/test python examples/orm_declarative.py
"""

from __future__ import annotations

import os
from typing import List  # noqa: UP035 - as the tutorial writes it

from athanor import ForeignKey, Integer, String, Text, create_engine, select
from athanor.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship


def as_written(database_url: str) -> str:
    """The tutorial's models verbatim; returns the configuration error message."""

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
        content: Mapped[str]
        user_id: Mapped[int] = mapped_column(Integer)

        author: Mapped[User] = relationship(back_populates="posts")

    try:
        User(username="jane_doe", email="jane@example.com", age=28)
    except Exception as error:  # the mistake in the tutorial surfaces here
        return f"{type(error).__name__}: {error}"
    finally:
        Base.registry.dispose()
    return "no error"


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(50), unique=True)
    email: Mapped[str] = mapped_column(String(100))
    age: Mapped[int] = mapped_column(Integer, nullable=True)

    # Relationship
    posts: Mapped[List[Post]] = relationship(back_populates="author")  # noqa: UP006

    def __repr__(self) -> str:
        return f"<User(username={self.username}, email={self.email})>"


class Post(Base):
    __tablename__ = "posts"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    content: Mapped[str] = mapped_column(Text)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))

    # Relationship
    author: Mapped[User] = relationship(back_populates="posts")


def main(database_url: str) -> list[str]:
    """Create the tables, then create, read, update and delete; returns what happened."""
    seen: list[str] = []
    engine = create_engine(database_url)
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)

    # CRUD operations
    with Session(engine) as session:
        # Create
        new_user = User(username="jane_doe", email="jane@example.com", age=28)
        session.add(new_user)
        session.commit()

        # Read
        user = session.query(User).filter_by(username="jane_doe").first()
        print(f"Found user: {user}")
        seen.append(f"found {user.username} age {user.age}")

        # Update
        user.age = 29
        session.commit()
        seen.append(f"age now {user.age}")

        user.posts.append(Post(title="Hello", content="First post"))
        session.commit()
        post = session.scalars(select(Post).where(Post.title == "Hello")).one()
        seen.append(f"post by {post.author.username}")

        # Delete
        session.delete(post)
        session.delete(user)
        session.commit()
        seen.append(f"users left {len(session.scalars(select(User)).all())}")
    Base.metadata.drop_all(engine)
    engine.dispose()
    return seen


if __name__ == "__main__":
    url = os.environ.get("DATABASE_URL", "sqlite:///example.db")
    print(as_written(url))
    print(main(url))
