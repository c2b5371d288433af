"""Sessions on many threads sharing one engine; a flush cut off by a killed connection."""

from __future__ import annotations

import threading

import pytest

from athanor import event, exc, select, text
from athanor.orm import Session, sessionmaker
from orm.orm_models import Post, User


@pytest.mark.backends("postgresql", "mysql")
def test_sessions_on_many_threads_share_one_engine(engine) -> None:
    maker = sessionmaker(bind=engine)
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(10):
                with maker() as session:
                    session.add(User(username=f"t{n}-{i}", posts=[Post(title="p")]))
                    session.commit()
                    found = session.scalars(select(User).where(User.username == f"t{n}-{i}"))
                    assert found.one().posts[0].title == "p"
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM users")).scalar() == 80
        assert conn.execute(text("SELECT COUNT(*) FROM posts")).scalar() == 80
    assert engine.pool.checkedout() == 0


def _kill(backend, dbapi_connection) -> None:
    killer = backend.raw_connect()
    try:
        cur = killer.cursor()
        if backend.name == "postgresql":
            pid = dbapi_connection.info.backend_pid
            cur.execute("SELECT pg_terminate_backend(%s)", (pid,))
        else:
            cur.execute(f"KILL {int(dbapi_connection.thread_id())}")
    finally:
        killer.close()


@pytest.mark.backends("postgresql", "mysql")
def test_flush_cut_by_killed_connection_leaves_nothing_and_recovers(backend, engine) -> None:
    armed = {"on": True}

    def kill_before_posts(conn, cursor, statement, *args) -> None:
        if armed["on"] and statement.startswith("INSERT INTO posts"):
            armed["on"] = False
            _kill(backend, conn.connection.dbapi_connection)

    event.listen(engine, "before_cursor_execute", kill_before_posts)
    with Session(engine) as session:
        session.add_all([User(username=f"k{i}", posts=[Post(title="x")]) for i in range(5)])
        with pytest.raises(exc.DBAPIError):
            session.commit()
        with pytest.raises(exc.PendingRollbackError):
            session.execute(select(User))
        session.rollback()
        with engine.connect() as conn:
            assert conn.execute(text("SELECT COUNT(*) FROM users")).scalar() == 0
            assert conn.execute(text("SELECT COUNT(*) FROM posts")).scalar() == 0
        session.add(User(username="again", posts=[Post(title="y")]))
        session.commit()
        assert session.scalars(select(User.username)).all() == ["again"]
