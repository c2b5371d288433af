"""One statement shape run again and again with other options, sessions and databases: what
is worked out once per shape (which columns feed which attributes, how values convert) must
never carry one execution's options into another's objects."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

from athanor import create_engine, inspect, select, text, update
from athanor.orm import Session, load_only
from orm.orm_models import Base, User, seed_users_with_posts


def _by_name(name: str) -> Any:
    return select(User).where(User.username == name)


def _set_age_behind_session(session: Session, name: str, age: int) -> None:
    session.execute(update(User.__table__).where(User.__table__.c.username == name).values(age=age))


def test_populate_existing_on_and_off_alternately(seeded_session: Session) -> None:
    user = seeded_session.scalars(_by_name("u1")).one()
    assert user.age == 1
    _set_age_behind_session(seeded_session, "u1", 41)
    assert seeded_session.scalars(_by_name("u1")).one().age == 1, "the identity map's object wins"
    refreshing = _by_name("u1").execution_options(populate_existing=True)
    assert seeded_session.scalars(refreshing).one().age == 41
    _set_age_behind_session(seeded_session, "u1", 42)
    assert seeded_session.scalars(_by_name("u1")).one().age == 41, "no refresh without the option"
    assert seeded_session.scalars(refreshing).one().age == 42
    assert seeded_session.scalars(_by_name("u1")).one() is user


def test_load_only_and_full_loads_of_one_shape_alternately(seeded_session: Session) -> None:
    full = seeded_session.scalars(_by_name("u1")).one()
    narrow = seeded_session.scalars(_by_name("u2").options(load_only(User.username))).one()
    again = seeded_session.scalars(_by_name("u3")).one()
    assert inspect(full).unloaded == {"posts"}
    assert {"age", "email", "created", "status"} <= inspect(narrow).unloaded
    assert inspect(again).unloaded == {"posts"}
    assert (full.age, narrow.username, again.age) == (1, "u2", 3)
    assert narrow.age == 2, "an unloaded column loads on access"


def test_identity_tokens_alternating_on_one_shape(seeded_session: Session) -> None:
    plain = seeded_session.scalars(_by_name("u1")).one()
    tokened = seeded_session.scalars(_by_name("u1").execution_options(identity_token="t")).one()
    plain_again = seeded_session.scalars(_by_name("u1")).one()
    assert plain_again is plain and tokened is not plain
    assert inspect(plain).key[2] is None
    assert inspect(tokened).key[2] == "t"


def test_one_statement_on_two_databases_converts_values_for_each(
    seeded_session: Session, backend: Any, tmp_path: Path
) -> None:
    """SQLite returns DateTime columns as text that athanor converts; other databases return
    datetimes: the conversions worked out for one database must not serve the other."""
    other = create_engine(f"sqlite:///{tmp_path / 'other.db'}")
    Base.metadata.create_all(other)
    try:
        with Session(other) as other_session:
            seed_users_with_posts(other_session, 2)
            # A shape of this test and backend alone: it runs on ``seeded_session`` first.
            stmt = _by_name("u1").where(text(f"'{backend.name}' = '{backend.name}'"))
            seen = []
            for current in (seeded_session, other_session, seeded_session, other_session):
                current.expunge_all()
                seen.append(current.scalars(stmt).one().created)
            assert all(isinstance(value, datetime.datetime) for value in seen), seen
    finally:
        other.dispose()
