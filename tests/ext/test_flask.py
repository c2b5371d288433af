"""Per-request sessions in Flask, through its test client, on every database."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from flask import Flask, g, jsonify

from athanor import create_engine, func, select
from athanor.ext.flask import FlaskSession
from athanor.orm import Session, sessionmaker
from backends import Backend
from ext.test_async_session import Base, Post, User


def _engine(backend: Backend) -> Any:
    engine = create_engine(backend.url, pool_size=5, max_overflow=5, pool_timeout=60)
    Base.metadata.create_all(engine)
    return engine


def test_the_tutorial_pattern_as_written(backend: Backend) -> None:
    engine = _engine(backend)
    SessionLocal = sessionmaker(bind=engine, autoflush=False, autocommit=False, future=True)
    app = Flask(__name__)
    FlaskSession(app, SessionLocal)  # for the JSON of mapped objects only

    @app.before_request
    def open_session() -> None:
        g.db = SessionLocal()

    @app.teardown_request
    def close_session(exc: BaseException | None) -> None:
        try:
            if exc:
                g.db.rollback()
            else:
                g.db.commit()
        finally:
            g.db.close()

    @app.post("/users/<name>")
    def create(name: str) -> Any:
        g.db.add(User(username=name, email=f"{name}@x"))
        g.db.flush()
        if name.startswith("fail"):
            raise RuntimeError("the view failed after writing")
        return {"ok": True}

    @app.get("/users")
    def users() -> Any:
        return jsonify(g.db.scalars(select(User).order_by(User.id)).all())

    try:
        client = app.test_client()
        assert client.post("/users/dee").status_code == 200
        app.testing = False
        assert client.post("/users/failing").status_code == 500
        listed = client.get("/users").get_json()
        assert [u["username"] for u in listed] == ["dee"]
        assert engine.pool.checkedout() == 0
    finally:
        engine.dispose()


def test_extension_session_per_request(backend: Backend) -> None:
    engine = _engine(backend)
    app = Flask(__name__)
    db = FlaskSession(app, sessionmaker(bind=engine), commit_on_success=True)
    seen: list[Session] = []  # kept alive, so no two can share an identity

    @app.post("/users/<name>")
    def create(name: str) -> Any:
        assert db.session is not None
        user = User(username=name, email=f"{name}@x", posts=[Post(title="p")])
        db.session.add(user)
        db.session.flush()
        seen.append(db.session())
        if name.startswith("fail"):
            raise RuntimeError("the view failed after writing")
        return jsonify(user)

    @app.get("/count")
    def count() -> Any:
        assert db.session is not None
        return {"users": db.session.scalar(select(func.count()).select_from(User))}

    try:
        client = app.test_client()
        reply = client.post("/users/eve").get_json()
        assert reply["username"] == "eve" and isinstance(reply["id"], int)
        assert "posts" not in reply  # columns only: no relationship is loaded for JSON
        app.testing = False
        assert client.post("/users/failing").status_code == 500
        assert client.post("/users/fay").status_code == 200
        assert len({id(session) for session in seen}) == 3  # a fresh session for each request
        assert client.get("/count").get_json() == {"users": 2}

        def request(_: int) -> int:
            return app.test_client().get("/count").status_code

        with ThreadPoolExecutor(20) as pool:
            codes = list(pool.map(request, range(200)))
        assert codes == [200] * 200
        assert engine.pool.checkedout() == 0
    finally:
        engine.dispose()


def test_extension_needs_a_factory() -> None:
    with pytest.raises(TypeError, match="session factory"):
        FlaskSession(Flask(__name__))
