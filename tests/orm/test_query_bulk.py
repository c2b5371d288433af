"""Legacy ``Query.update()`` / ``Query.delete()`` / ``yield_per()`` keep the session right."""

from __future__ import annotations

from typing import Any

import pytest

from athanor import exc
from athanor.orm import Session
from orm.orm_models import StatementLog, User


def _seed(session: Session) -> list[User]:
    users = [User(username=f"u{i}", age=i) for i in range(5)]
    session.add_all(users)
    session.commit()
    return users


def test_update_expires_loaded_objects(engine: Any) -> None:
    with Session(engine) as session:
        users = _seed(session)
        assert [u.age for u in users] == [0, 1, 2, 3, 4]
        count = session.query(User).filter(User.age >= 3).update({User.age: User.age + 10})
        assert count == 2
        assert [u.age for u in users] == [0, 1, 2, 13, 14]
        assert session.query(User).filter_by(username="u0").update({"status": "x"}) == 1
        assert users[0].status == "x"


def test_update_without_synchronize_keeps_stale_values(engine: Any) -> None:
    with Session(engine) as session:
        users = _seed(session)
        assert users[1].age == 1
        session.query(User).filter(User.id == users[1].id).update(
            {User.age: 99}, synchronize_session=False
        )
        assert users[1].age == 1
        session.expire(users[1])
        assert users[1].age == 99


def test_delete_expunges_matched_objects(engine: Any, sql_log: StatementLog) -> None:
    with Session(engine) as session:
        users = _seed(session)
        assert session.query(User).filter(User.age < 2).delete() == 2
        assert users[0] not in session and users[1] not in session
        assert users[2] in session
        assert session.query(User).count() == 3
        assert "DELETE FROM users" in "\n".join(sql_log.statements)


def test_bulk_errors_and_yield_per(engine: Any) -> None:
    with Session(engine) as session:
        _seed(session)
        with pytest.raises(exc.InvalidRequestError, match="no column attribute 'nope'"):
            session.query(User).update({"nope": 1})
        with pytest.raises(exc.InvalidRequestError, match="one mapped class"):
            session.query(User.username).delete()
        names = [u.username for u in session.query(User).order_by(User.id).yield_per(2)]
        assert names == [f"u{i}" for i in range(5)]
