"""ORM-enabled INSERT / UPDATE / DELETE through the Session, and the identity map after each."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from athanor import bindparam, delete, exc, func, insert, inspect, select, update
from athanor.dialects import mysql, postgresql, sqlite
from athanor.orm import Session
from orm.orm_models import Post, StatementLog, User


def _users(session: Session, count: int = 5) -> list[User]:
    users = session.scalars(
        insert(User).returning(User),
        [{"username": f"u{i}", "age": i} for i in range(count)],
    ).all()
    session.commit()
    for user in users:
        assert user.age is not None  # loaded again after the commit, for the evaluator
    return users


def _db_ages(session: Session) -> dict[str, int | None]:
    rows = session.execute(select(User.username, User.age)).all()
    return dict(rows)  # type: ignore[arg-type]


def test_bulk_insert_is_one_executemany_without_objects(engine: Any, sql_log: StatementLog) -> None:
    with Session(engine) as session:
        result = session.execute(
            insert(User), [{"username": f"n{i}", "email": f"{i}@x"} for i in range(50)]
        )
        assert result.rowcount == 50
        inserts = [s for s in sql_log.statements if s.lstrip().upper().startswith("INSERT")]
        assert len(inserts) <= 2
        assert len(session.identity_map) == 0
        names = session.scalars(select(User.username).order_by(User.id)).all()
        assert names == [f"n{i}" for i in range(50)]
        assert session.scalar(select(User.status).where(User.username == "n3")) == "new"


def test_bulk_insert_mixed_keys_and_bad_key(engine: Any) -> None:
    with Session(engine) as session:
        session.execute(insert(User), [{"username": "a"}, {"username": "b", "age": 2}])
        assert _db_ages(session) == {"a": None, "b": 2}
        with pytest.raises(exc.InvalidRequestError, match="no column attribute 'nope'"):
            session.execute(insert(User), [{"username": "c", "nope": 1}])


def test_insert_returning_gives_objects_in_identity_map(engine: Any) -> None:
    with Session(engine) as session:
        users = session.scalars(
            insert(User).returning(User),
            [{"username": "a", "age": 1}, {"username": "b"}, {"username": "c", "age": 3}],
        ).all()
        assert [u.username for u in users] == ["a", "b", "c"]
        assert [u.age for u in users] == [1, None, 3]
        assert all(inspect(u).persistent for u in users)
        assert session.get(User, users[1].id) is users[1]
        assert users[0].created is not None and users[0].status == "new"
        rows = session.execute(
            insert(User).returning(User.id, User.username), [{"username": "d"}]
        ).all()
        assert rows[0].username == "d"


def test_insert_values_returning_single_object(engine: Any) -> None:
    with Session(engine) as session:
        user = session.scalar(insert(User).values(username="solo", age=7).returning(User))
        assert isinstance(user, User) and user.age == 7
        assert session.get(User, user.id) is user


def _upsert(backend_name: str) -> Any:
    if backend_name == "mysql":
        stmt = mysql.insert(User)
        return stmt.on_duplicate_key_update({User.age: stmt.inserted.age})
    dialect_insert = postgresql.insert if backend_name == "postgresql" else sqlite.insert
    stmt = dialect_insert(User)
    return stmt.on_conflict_do_update(
        index_elements=[User.username], set_={User.age: stmt.excluded.age}
    )


def test_upsert_with_mapped_attribute_keys(engine: Any, backend: Any) -> None:
    with Session(engine) as session:
        users = _users(session, 2)
        stmt = _upsert(backend.name)
        session.execute(stmt, [{"username": "u0", "age": 50}, {"username": "new", "age": 9}])
        assert _db_ages(session) == {"u0": 50, "u1": 1, "new": 9}
        assert users[0].age == 0  # loaded objects are not refreshed without populate_existing
        session.expire_all()
        assert users[0].age == 50


def test_upsert_returning_populate_existing(engine: Any, backend: Any) -> None:
    if backend.name == "mysql" and not engine.dialect.insert_returning:
        pytest.skip("this MySQL server has no INSERT ... RETURNING")
    with Session(engine) as session:
        users = _users(session, 2)
        assert users[1].age == 1
        stmt = _upsert(backend.name).returning(User)
        found = session.scalars(
            stmt.execution_options(populate_existing=True),
            [{"username": "u1", "age": 11}],
        ).all()
        assert found == [users[1]]
        assert users[1].age == 11


def test_on_conflict_do_nothing(engine: Any, backend: Any) -> None:
    if backend.name == "mysql":
        session_stmt: Any = mysql.insert(User).on_duplicate_key_update({User.id: User.id})
    else:
        dialect_insert = postgresql.insert if backend.name == "postgresql" else sqlite.insert
        session_stmt = dialect_insert(User).on_conflict_do_nothing(index_elements=[User.username])
    with Session(engine) as session:
        _users(session, 1)
        session.execute(session_stmt, [{"username": "u0", "age": 99}, {"username": "x", "age": 1}])
        assert _db_ages(session) == {"u0": 0, "x": 1}


@pytest.mark.parametrize("mode", ["auto", "evaluate", "fetch", False])
def test_update_synchronize_modes(engine: Any, sql_log: StatementLog, mode: Any) -> None:
    with Session(engine) as session:
        users = _users(session)
        sql_log.clear()
        result = session.execute(
            update(User).where(User.age >= 3).values({User.age: User.age + 10, "email": "hi"}),
            execution_options={"synchronize_session": mode},
        )
        assert result.rowcount == 2
        updates = [s for s in sql_log.statements if s.lstrip().upper().startswith("UPDATE")]
        assert len(updates) == 1
        pre_selects = [s for s in sql_log.statements if s.lstrip().upper().startswith("SELECT")]
        returning = getattr(engine.dialect, "update_returning", False)
        assert len(pre_selects) == (1 if mode == "fetch" and not returning else 0)
        sql_log.clear()
        ages = [u.__dict__.get("age") for u in users]
        if mode is False:
            assert ages == [0, 1, 2, 3, 4]
            assert users[3].email is None
        else:
            assert ages == [0, 1, 2, 13, 14]
            assert [u.email for u in users] == [None, None, None, "hi", "hi"]
            assert not session.dirty
            assert sql_log.statements == []
        assert _db_ages(session) == {"u0": 0, "u1": 1, "u2": 2, "u3": 13, "u4": 14}


def test_update_sql_expression_value_expires_or_fetches(engine: Any) -> None:
    with Session(engine) as session:
        users = _users(session, 2)
        session.execute(
            update(User).where(User.id == users[0].id).values(username=func.upper(User.username))
        )
        assert "username" not in users[0].__dict__
        assert users[0].username == "U0"
        session.execute(
            update(User).where(User.id == users[1].id).values(username=func.upper(User.username)),
            execution_options={"synchronize_session": "fetch"},
        )
        assert users[1].username == "U1"


def test_update_evaluate_unsupported_criteria(engine: Any) -> None:
    with Session(engine) as session:
        users = _users(session, 3)
        criteria = User.username.like("u%")
        with pytest.raises(exc.InvalidRequestError, match="Could not evaluate current criteria"):
            session.execute(
                update(User).where(criteria).values(age=5),
                execution_options={"synchronize_session": "evaluate"},
            )
        session.execute(update(User).where(criteria).values(age=5))  # auto falls back to fetch
        assert [u.age for u in users] == [5, 5, 5]
        with pytest.raises(exc.ArgumentError, match="synchronize_session must be"):
            session.execute(
                update(User).values(age=1), execution_options={"synchronize_session": "bogus"}
            )


def test_update_evaluate_handles_in_null_and_bindparams(engine: Any) -> None:
    with Session(engine) as session:
        users = _users(session, 4)
        users[0].age = None
        session.flush()
        session.execute(
            update(User)
            .where(User.age.in_([1, 2]) | (User.age == None))  # noqa: E711
            .values(email=bindparam("mail")),
            {"mail": "m"},
            execution_options={"synchronize_session": "evaluate"},
        )
        assert [u.email for u in users] == ["m", "m", "m", None]
        session.execute(
            update(User).where(~User.age.between(1, 2)).values(email="z"),
            execution_options={"synchronize_session": "evaluate"},
        )
        assert [u.email for u in users] == ["m", "m", "m", "z"]
        session.commit()
        assert [u.email for u in users] == ["m", "m", "m", "z"]


def test_update_evaluate_expires_object_with_unloaded_criteria(engine: Any) -> None:
    with Session(engine) as session:
        users = _users(session, 2)
        assert users[1].age == 1
        session.expire(users[0], ["age"])
        session.execute(
            update(User).where(User.age < 5).values(email="e"),
            execution_options={"synchronize_session": "evaluate"},
        )
        assert "email" not in users[0].__dict__
        assert users[0].email == "e" and users[1].email == "e"
        session.expire(users[0], ["age"])
        session.execute(update(User).where(User.age < 5).values(email="f"))  # auto: fetch
        assert users[0].__dict__["email"] == "f" and users[1].email == "f"


@pytest.mark.parametrize("mode", ["auto", "evaluate", "fetch", False])
def test_delete_synchronize_modes(engine: Any, sql_log: StatementLog, mode: Any) -> None:
    with Session(engine) as session:
        users = _users(session)
        sql_log.clear()
        result = session.execute(
            delete(User).where(User.age < 2), execution_options={"synchronize_session": mode}
        )
        assert result.rowcount == 2
        returning = getattr(engine.dialect, "delete_returning", False)
        pre_selects = [s for s in sql_log.statements if s.lstrip().upper().startswith("SELECT")]
        assert len(pre_selects) == (1 if mode == "fetch" and not returning else 0)
        if mode is False:
            assert users[0] in session and not inspect(users[0]).deleted
        else:
            assert inspect(users[0]).deleted and inspect(users[1]).deleted
            assert users[0] not in session and users[2] in session
            assert session.get(User, users[0].id) is None
        session.commit()
        if mode is not False:
            assert inspect(users[0]).detached
        assert session.scalar(select(func.count()).select_from(User)) == 3


def test_delete_then_rollback_restores_objects(engine: Any) -> None:
    with Session(engine) as session:
        users = _users(session, 2)
        session.execute(delete(User).where(User.id == users[0].id))
        assert inspect(users[0]).deleted
        session.rollback()
        assert users[0] in session and not inspect(users[0]).deleted
        assert users[0].username == "u0"


def test_update_and_delete_returning_entities(engine: Any, backend: Any) -> None:
    with Session(engine) as session:
        users = _users(session, 3)
        if engine.dialect.update_returning:
            changed = session.scalars(
                update(User).where(User.age >= 1).values(age=User.age * 2).returning(User)
            ).all()
            assert sorted(u.age for u in changed) == [2, 4]
            assert set(changed) == {users[1], users[2]}
        if engine.dialect.delete_returning:
            gone = session.execute(
                delete(User).where(User.id == users[0].id).returning(User.username)
            ).all()
            assert [r.username for r in gone] == ["u0"]
            assert inspect(users[0]).deleted


def test_bulk_update_by_primary_key(engine: Any, sql_log: StatementLog) -> None:
    with Session(engine) as session:
        users = _users(session, 4)
        assert users[0].age == 0
        sql_log.clear()
        result = session.execute(
            update(User),
            [
                {"id": users[0].id, "username": "x0", "age": 100},
                {"id": users[1].id, "username": "x1", "age": 101},
                {"id": users[2].id, "age": 102},
            ],
        )
        assert result.rowcount == 3
        assert len(sql_log.statements) == 2  # one executemany per distinct set of keys
        assert [u.username for u in users] == ["x0", "x1", "u2", "u3"]
        assert [u.age for u in users] == [100, 101, 102, 3]
        assert not session.dirty
        session.expire_all()
        assert [u.age for u in users] == [100, 101, 102, 3]
        with pytest.raises(exc.InvalidRequestError, match="lacks the primary key"):
            session.execute(update(User), [{"age": 1}])
        with pytest.raises(exc.InvalidRequestError, match="Bulk UPDATE by primary key"):
            session.execute(update(User).where(User.age > 1), [{"id": 1, "age": 1}])


def test_orm_dml_autoflushes_pending_changes(engine: Any) -> None:
    with Session(engine) as session:
        users = _users(session, 2)
        users[0].age = 40
        session.add(Post(title="p", user_id=users[0].id))
        session.execute(update(User).where(User.age == 40).values(email="flushed"))
        assert users[0].email == "flushed"
        assert session.scalar(select(User.email).where(User.id == users[0].id)) == "flushed"


_AGES = [None, 0, 1, 2, 3, 5, 8, 13]


def _criteria() -> st.SearchStrategy[Any]:
    value = st.sampled_from([0, 1, 2, 3, 5, 8, 13])
    leaf = st.one_of(
        st.builds(lambda v: User.age == v, value),
        st.builds(lambda v: User.age != v, value),
        st.builds(lambda v: User.age < v, value),
        st.builds(lambda v: User.age >= v, value),
        st.builds(lambda v: User.age + 1 > v, value),
        st.builds(User.age.in_, st.lists(value, min_size=1, max_size=3)),
        st.builds(User.age.not_in, st.lists(value, min_size=1, max_size=3)),
        st.builds(User.age.between, value, value),
        st.just(User.age == None),  # noqa: E711
        st.just(User.age != None),  # noqa: E711
    )
    return st.recursive(
        leaf,
        lambda inner: st.one_of(
            st.builds(lambda a, b: a & b, inner, inner),
            st.builds(lambda a, b: a | b, inner, inner),
            st.builds(lambda a: ~a, inner),
        ),
        max_leaves=4,
    )


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_evaluate_matches_the_database(engine: Any, data: st.DataObject) -> None:
    with Session(engine) as session:
        if not session.scalar(select(func.count()).select_from(User)):
            session.execute(insert(User), [{"username": f"e{a}", "age": a} for a in _AGES])
            session.commit()
        users = session.scalars(select(User)).all()
        criteria = data.draw(_criteria())
        in_db = set(session.scalars(select(User.id).where(criteria)).all())
        session.execute(
            update(User).where(criteria).values(email="hit"),
            execution_options={"synchronize_session": "evaluate"},
        )
        in_python = {u.id for u in users if u.__dict__.get("email") == "hit"}
        assert in_python == in_db, str(criteria)
        session.rollback()
