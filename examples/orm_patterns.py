"""The ORM patterns of tutorial 002 (§5, Variations, Pitfalls 1, 2, 4, 5) and tutorial 000
§15.7 (a session per request), run against one database.

Each function follows the tutorial's code with ``sqlalchemy`` replaced by ``athanor`` and
returns what it observed, so the tests can check the text's promises.

Run: DATABASE_URL=postgresql://postgres@127.0.0.1/test python examples/orm_patterns.py
"""

from __future__ import annotations

import logging
import os
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, Optional

from athanor import JSON, Column, DateTime, Integer, String, create_engine, event, text
from athanor.exc import IntegrityError, OperationalError
from athanor.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from athanor.pool import QueuePool


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(50), unique=True)
    email: Mapped[Optional[str]] = mapped_column(String(100))  # noqa: UP045
    age: Mapped[Optional[int]] = mapped_column(Integer, nullable=True)  # noqa: UP045
    # Pitfall 4, the good version: a server default and a callable default
    tags = Column(JSON, server_default="[]")
    created_at = Column(DateTime, default=datetime.utcnow)


def make_engine(database_url: str) -> Any:
    # §5: configure connection pooling (SQLite files use their own pool defaults)
    if database_url.startswith("sqlite"):
        return create_engine(database_url, pool_pre_ping=True)
    return create_engine(
        database_url,
        poolclass=QueuePool,
        pool_size=10,  # Maintain 10 connections
        max_overflow=20,  # Allow 20 additional connections
        pool_timeout=30,  # Wait 30s for available connection
        pool_recycle=3600,  # Recycle connections after 1 hour
        pool_pre_ping=True,  # Test connections before using
    )


def session_scope(database_url: str) -> dict[str, Any]:
    """§5: pool events and a ``get_db_session`` context manager (commit, or rollback)."""
    engine = make_engine(database_url)
    seen = {"connect": 0, "checkout": 0}

    @event.listens_for(engine, "connect")
    def receive_connect(dbapi_conn: Any, connection_record: Any) -> None:
        """Called when connection is created."""
        seen["connect"] += 1
        logging.info("New database connection established")

    @event.listens_for(engine, "checkout")
    def receive_checkout(dbapi_conn: Any, connection_record: Any, connection_proxy: Any) -> None:
        """Called when connection is checked out from pool."""
        seen["checkout"] += 1

    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)

    @contextmanager
    def get_db_session() -> Iterator[Session]:
        """Provide transactional scope for database operations."""
        session = Session(engine)
        try:
            yield session
            session.commit()
        except Exception:
            session.rollback()
            raise
        finally:
            session.close()

    with get_db_session() as session:
        session.add(User(username="jane", age=28))

    # Usage
    with get_db_session() as session:
        user = session.query(User).first()
        user.age += 1
        # Automatic commit on success, rollback on exception

    try:
        with get_db_session() as session:
            session.add(User(username="jane"))
    except IntegrityError:
        seen["duplicate rolled back"] = 1

    with get_db_session() as session:
        user = session.query(User).first()
        seen["age"] = user.age
        seen["users"] = session.query(User).count()
        seen["tags"] = user.tags
        seen["created_at set"] = user.created_at is not None
    seen["checked out now"] = engine.pool.checkedout()
    engine.dispose()
    return seen


class UserRepository(ABC):
    @abstractmethod
    def get_by_id(self, user_id: int) -> Optional[User]:  # noqa: UP045
        pass

    @abstractmethod
    def get_by_username(self, username: str) -> Optional[User]:  # noqa: UP045
        pass

    @abstractmethod
    def create(self, user: User) -> User:
        pass

    @abstractmethod
    def update(self, user: User) -> User:
        pass

    @abstractmethod
    def delete(self, user_id: int) -> None:
        pass


class SQLAlchemyUserRepository(UserRepository):
    def __init__(self, session: Session):
        self.session = session

    def get_by_id(self, user_id: int) -> Optional[User]:  # noqa: UP045
        return self.session.query(User).filter(User.id == user_id).first()

    def get_by_username(self, username: str) -> Optional[User]:  # noqa: UP045
        return self.session.query(User).filter(User.username == username).first()

    def create(self, user: User) -> User:
        self.session.add(user)
        self.session.flush()
        return user

    def update(self, user: User) -> User:
        self.session.merge(user)
        self.session.flush()
        return user

    def delete(self, user_id: int) -> None:
        user = self.get_by_id(user_id)
        if user:
            self.session.delete(user)
            self.session.flush()


def repository(database_url: str) -> list[str]:
    """Variations: the repository pattern over a session."""
    engine = make_engine(database_url)
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    seen = []
    with Session(engine) as session:
        repo = SQLAlchemyUserRepository(session)
        created = repo.create(User(username="repo", email="repo@example.com"))
        seen.append(f"created id {created.id is not None}")
        detached = User(id=created.id, username="repo", email="new@example.com")
        repo.update(detached)
        seen.append(f"email {repo.get_by_username('repo').email}")
        repo.delete(created.id)
        seen.append(f"after delete {repo.get_by_id(created.id)}")
        session.commit()
    engine.dispose()
    return seen


def bulk(database_url: str) -> tuple[int, list[int]]:
    """Variations: bulk_insert_mappings of 10,000 rows, then bulk_update_mappings."""
    engine = make_engine(database_url)
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    users_data = [{"username": f"user_{i}", "email": f"user_{i}@example.com"} for i in range(10000)]

    with Session(engine) as session:
        session.bulk_insert_mappings(User, users_data)
        session.commit()

        # Bulk update
        session.bulk_update_mappings(User, [{"id": 1, "age": 31}, {"id": 2, "age": 32}])
        session.commit()
        count = session.query(User).count()
        ages = [session.get(User, 1).age, session.get(User, 2).age]
    engine.dispose()
    return count, ages


def read_replica(primary_url: str, replica_url: str) -> list[str]:
    """Variations: route reads and writes to different engines."""
    primary_engine = create_engine(primary_url)
    replica_engine = create_engine(replica_url)
    Base.metadata.drop_all(primary_engine)
    Base.metadata.create_all(primary_engine)

    class DatabaseRouter:
        """Route queries to appropriate database."""

        def get_session(self, for_write: bool = False) -> Session:
            engine = primary_engine if for_write else replica_engine
            return Session(engine)

    router = DatabaseRouter()
    with router.get_session(for_write=True) as session:
        user = User(username="new_user", email="new@example.com")
        session.add(user)
        session.commit()
    with router.get_session(for_write=False) as session:
        users = session.query(User).all()
    primary_engine.dispose()
    replica_engine.dispose()
    return [u.username for u in users]


def pitfalls(database_url: str) -> dict[str, Any]:
    """Pitfalls 1, 2 and 5: short sessions, forgetting to commit, handling errors."""
    engine = make_engine(database_url)
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    seen: dict[str, Any] = {}

    # 2. Forgetting to commit: changes are lost when the session closes
    session = Session(engine)
    session.add(User(username="test"))
    session.close()
    with Session(engine) as check:
        seen["without commit"] = check.query(User).count()
    with Session(engine) as session:
        session.add(User(username="test"))
        session.commit()  # Persisted
        seen["with commit"] = session.query(User).count()

    # 1. Short-lived sessions: nothing stays in the identity map after the block
    with Session(engine) as session:
        user = session.query(User).first()
        session.commit()
    seen["identity map after close"] = len(session.identity_map)

    # 5. Handle specific exceptions, then keep using the session
    session = Session(engine)
    try:
        user = User(username="test")
        session.add(user)
        session.commit()  # Crashes on duplicate username!
    except IntegrityError as e:
        session.rollback()
        seen["duplicate"] = type(e).__name__
    except OperationalError:
        session.rollback()
    session.add(User(username="after"))
    session.commit()
    seen["users"] = session.query(User).count()
    session.close()
    engine.dispose()
    return seen


def per_request(database_url: str) -> list[Any]:
    """Tutorial 000 §15.7: a sessionmaker and a session per request (``get_db``)."""
    engine = make_engine(database_url)
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    SessionLocal = sessionmaker(bind=engine, autoflush=False, autocommit=False, future=True)  # noqa: N806

    @contextmanager
    def get_db() -> Iterator[Session]:
        db = SessionLocal()
        try:
            yield db
            db.commit()
        except:
            db.rollback()
            raise
        finally:
            db.close()

    def create_user(name: str) -> int:
        with get_db() as db:
            user = User(username=name)
            db.add(user)
            db.flush()
            return user.id

    def read_user(user_id: int) -> Any:
        with get_db() as db:
            user = db.get(User, user_id)
            return None if user is None else {"id": user.id, "username": user.username}

    first = create_user("ada")
    results = [read_user(first), read_user(first + 1000)]
    results.append(engine.pool.checkedout())
    with engine.connect() as conn:
        results.append(conn.execute(text("SELECT COUNT(*) FROM users")).scalar())
    engine.dispose()
    return results


if __name__ == "__main__":
    url = os.environ.get("DATABASE_URL", "sqlite:///example.db")
    print(session_scope(url))
    print(repository(url))
    print(bulk(url))
    print(read_replica(url, url))
    print(pitfalls(url))
    print(per_request(url))
