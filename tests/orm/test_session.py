"""Session basics on every database: CRUD, identity map, autoflush, expiry, failures."""

from __future__ import annotations

import gc
import pickle

import pytest

from athanor import String, exc, inspect, select, text
from athanor.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from athanor.orm.exc import DetachedInstanceError
from orm.orm_models import Node, Post, StatementLog, User


def count_rows(engine, table: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar())


def test_add_commit_get_update_delete(engine) -> None:
    with Session(engine) as session:
        user = User(username="ada", age=36)
        session.add(user)
        assert inspect(user).pending
        session.commit()
        assert inspect(user).persistent
        assert user.id is not None
        assert user.status == "new"
        assert user.created is not None
        user_id = user.id
    with Session(engine) as session:
        found = session.get(User, user_id)
        assert found is not None and found.username == "ada" and found.age == 36
        found.age = 37
        session.commit()
    with Session(engine) as session:
        assert session.scalars(select(User.age).where(User.id == user_id)).one() == 37
        session.delete(session.get(User, user_id))
        session.commit()
        assert session.get(User, user_id) is None
    assert count_rows(engine, "users") == 0


def test_identity_map_returns_same_object_without_sql(engine, sql_log: StatementLog) -> None:
    with Session(engine) as session:
        session.add(User(username="ada"))
        session.commit()
        user = session.scalars(select(User).where(User.username == "ada")).one()
        sql_log.clear()
        assert session.get(User, user.id) is user
        assert sql_log.statements == []
        assert session.scalars(select(User)).one() is user


def test_identity_map_is_weak_for_unmodified_objects(engine) -> None:
    with Session(engine) as session:
        session.add(User(username="ada"))
        session.commit()
        session.scalars(select(User)).all()
        gc.collect()
        assert len(session.identity_map) == 0
        user = session.scalars(select(User)).one()
        user.age = 5
        key = inspect(user).key
        del user
        gc.collect()
        assert key in session.identity_map
        session.commit()
    with Session(engine) as session:
        assert session.scalars(select(User.age)).one() == 5


def test_query_filter_by_first_and_repository_queries(engine) -> None:
    with Session(engine) as session:
        session.add_all([User(username=f"u{i}", age=i) for i in range(5)])
        session.commit()
        assert session.query(User).filter_by(username="u3").first().age == 3
        assert session.query(User).filter(User.id == -1).first() is None
        assert [u.username for u in session.query(User).order_by(User.age.desc()).limit(2)] == [
            "u4",
            "u3",
        ]
        assert session.query(User).count() == 5
        assert session.query(User).filter(User.age > 3).one().username == "u4"
        with pytest.raises(exc.MultipleResultsFound):
            session.query(User).filter(User.age > 2).one_or_none()
        rows = session.query(User.username, User.age).filter(User.age < 2).order_by(User.age).all()
        assert [tuple(r) for r in rows] == [("u0", 0), ("u1", 1)]


def test_autoflush_before_query(engine) -> None:
    with Session(engine) as session:
        session.add(User(username="pending"))
        assert session.scalars(select(User).where(User.username == "pending")).one().id
        with session.no_autoflush:
            session.add(User(username="later"))
            assert session.scalars(select(User).where(User.username == "later")).first() is None
        session.rollback()
    assert count_rows(engine, "users") == 0


def test_expire_on_commit_reloads(engine) -> None:
    with Session(engine) as session:
        user = User(username="ada", age=1)
        session.add(user)
        session.commit()
        assert "age" not in user.__dict__
        with engine.begin() as conn:
            conn.execute(text("UPDATE users SET age = 2"))
        assert user.age == 2


def test_detached_expired_attribute_names_attribute_and_fixes(engine) -> None:
    with Session(engine) as session:
        user = User(username="ada")
        session.add(user)
        session.commit()
    with pytest.raises(DetachedInstanceError) as caught:
        _ = user.username
    message = str(caught.value)
    assert "'username'" in message
    assert "expire_on_commit=False" in message
    maker = sessionmaker(bind=engine, expire_on_commit=False)
    with maker() as session:
        other = User(username="bob")
        session.add(other)
        session.commit()
    assert other.username == "bob"
    with pytest.raises(DetachedInstanceError, match="posts"):
        _ = other.posts


def test_failed_flush_rolls_back_and_requires_rollback(engine) -> None:
    with Session(engine) as session:
        session.add(User(username="dup"))
        session.commit()
        session.add(User(username="fine"))
        session.flush()
        session.add(User(username="dup"))
        with pytest.raises(exc.IntegrityError):
            session.commit()
        with pytest.raises(exc.PendingRollbackError, match="rollback"):
            session.execute(select(User))
        with pytest.raises(exc.PendingRollbackError):
            session.add(User(username="x"))
            session.flush()
        session.rollback()
        assert [u.username for u in session.scalars(select(User))] == ["dup"]
        session.add(User(username="after"))
        session.commit()
    assert count_rows(engine, "users") == 2


def test_begin_context_and_nested_savepoint(engine) -> None:
    with Session(engine) as session:
        with session.begin():
            session.add(User(username="outer"))
        assert count_rows(engine, "users") == 1
        session.add(User(username="kept"))
        try:
            with session.begin_nested():
                session.add(User(username="outer"))
        except exc.IntegrityError:
            pass
        session.commit()
    with Session(engine) as session:
        assert sorted(session.scalars(select(User.username))) == ["kept", "outer"]
    maker = sessionmaker(bind=engine)
    with maker.begin() as session:
        session.add(User(username="third"))
    assert count_rows(engine, "users") == 3


def test_rollback_makes_pending_transient_and_restores_deleted(engine) -> None:
    with Session(engine) as session:
        user = User(username="ada")
        session.add(user)
        session.commit()
        new = User(username="new")
        session.add(new)
        session.flush()
        session.delete(user)
        session.flush()
        assert inspect(user).deleted
        session.rollback()
        assert inspect(new).transient
        assert inspect(user).persistent
        assert user.username == "ada"


def test_relationships_back_populates_in_memory_and_flush_order(engine) -> None:
    user = User(username="ada")
    post = Post(title="p1", author=user)
    assert user.posts == [post]
    second = Post(title="p2")
    user.posts.append(second)
    assert second.author is user
    with Session(engine) as session:
        session.add(post)
        assert user in session and second in session
        session.commit()
        assert post.user_id == user.id == second.user_id
    with Session(engine) as session:
        loaded = session.get(User, user.id)
        assert [p.title for p in loaded.posts] == ["p1", "p2"]
        moved = loaded.posts[0]
        other = User(username="bob")
        moved.author = other
        assert moved not in loaded.posts and other.posts == [moved]
        session.commit()
        assert moved.user_id == other.id


def test_lazy_load_one_select_and_many_to_one_from_identity_map(
    engine, sql_log: StatementLog
) -> None:
    with Session(engine) as session:
        session.add(User(username="ada", posts=[Post(title="a"), Post(title="b")]))
        session.commit()
    with Session(engine) as session:
        user = session.scalars(select(User)).one()
        sql_log.clear()
        assert len(user.posts) == 2
        assert len(sql_log.selects) == 1
        sql_log.clear()
        assert all(p.author is user for p in user.posts)
        assert sql_log.statements == []


def test_removing_child_nulls_foreign_key(engine) -> None:
    with Session(engine) as session:
        user = User(username="ada", posts=[Post(title="a")])
        session.add(user)
        session.commit()
        post = user.posts[0]
        user.posts.remove(post)
        assert post.author is None
        session.commit()
        assert post.user_id is None
        assert count_rows(engine, "posts") == 1


def test_deleting_parent_nulls_children_foreign_keys(engine) -> None:
    with Session(engine) as session:
        session.add(User(username="ada", posts=[Post(title="a"), Post(title="b")]))
        session.commit()
        session.delete(session.scalars(select(User)).one())
        session.commit()
        assert session.scalars(select(Post.user_id)).all() == [None, None]


def test_self_referential_rows_insert_parents_first(engine) -> None:
    root = Node(name="root")
    child = Node(name="child", parent=root)
    grandchild = Node(name="grandchild", parent=child)
    with Session(engine) as session:
        session.add_all([grandchild, child, root])
        session.commit()
        assert grandchild.parent_id == child.id and child.parent_id == root.id
    with Session(engine) as session:
        loaded = session.scalars(select(Node).where(Node.name == "root")).one()
        assert [c.name for c in loaded.children] == ["child"]
        assert loaded.children[0].children[0].parent.parent is loaded


def test_many_rows_batched_insert_keeps_keys_in_order(engine) -> None:
    users = [User(username=f"user{i:03d}", age=i) for i in range(250)]
    with Session(engine) as session:
        session.add_all(users)
        session.commit()
        ids = [u.id for u in users]
        assert ids == sorted(ids) and len(set(ids)) == 250
        by_id = dict(session.execute(select(User.id, User.age)).all())
        assert all(by_id[u.id] == int(u.username[4:]) for u in users)


def test_detached_object_pickles(engine) -> None:
    maker = sessionmaker(bind=engine, expire_on_commit=False)
    with maker() as session:
        user = User(username="ada", age=3)
        session.add(user)
        session.commit()
    copy = pickle.loads(pickle.dumps(user))
    assert copy.username == "ada" and inspect(copy).detached
    with maker() as session:
        merged = session.merge(copy)
        merged.age = 4
        session.commit()
        assert session.get(User, user.id).age == 4


def test_instance_state_lives_under_sa_key_only(engine) -> None:
    maker = sessionmaker(bind=engine, expire_on_commit=False)
    with maker() as session:
        user = User(username="ada", age=3)
        session.add(user)
        session.commit()
    public = {k: v for k, v in vars(user).items() if not k.startswith("_sa")}
    assert set(public) == {"id", "username", "email", "age", "created", "status"}


class _EqBase(DeclarativeBase):
    pass


class _AlwaysEqual(_EqBase):
    """Objects that all compare equal and cannot be hashed (like an ``eq=True`` dataclass)."""

    __tablename__ = "always_equal"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(20))

    def __eq__(self, other: object) -> bool:
        return True

    __hash__ = None  # type: ignore[assignment]


def test_states_hash_by_identity_whatever_the_objects_equality(engine) -> None:
    """An instance state is the weak reference to its object, but unlike a plain weak
    reference it hashes and compares by identity: unhashable objects that compare equal
    still get distinct states in the session's bookkeeping."""
    _EqBase.metadata.create_all(engine)
    try:
        with Session(engine) as session:
            first, second = _AlwaysEqual(name="a"), _AlwaysEqual(name="b")
            session.add_all([first, second])
            states = [inspect(first), inspect(second)]
            assert states[0] != states[1] and len(set(states)) == 2
            assert states[0]() is first and states[0].obj() is first
            session.commit()
            assert sorted(session.scalars(select(_AlwaysEqual.name))) == ["a", "b"]
            assert session.identity_map._dict[states[1].key] is states[1]
            del first, second
            gc.collect()
            assert len(session.identity_map) == 0
    finally:
        _EqBase.metadata.drop_all(engine)


def test_objects_marked_for_deletion_are_their_sessions_own(engine) -> None:
    with Session(engine) as session:
        session.add_all([User(username="ada"), User(username="bob")])
        session.commit()
    with Session(engine) as first, Session(engine) as second, Session(engine) as third:

        def deleted() -> tuple[list[User], ...]:
            return list(first.deleted), list(second.deleted), list(third.deleted)

        ada = first.scalars(select(User).where(User.username == "ada")).one()
        bob = second.scalars(select(User).where(User.username == "bob")).one()
        assert deleted() == ([], [], [])
        first.delete(ada)
        assert deleted() == ([ada], [], [])
        second.delete(bob)
        assert deleted() == ([ada], [bob], [])
        second.rollback()
        assert deleted() == ([ada], [], [])
        first.commit()
        assert deleted() == ([], [], [])
    assert count_rows(engine, "users") == 1


def test_session_listeners_of_a_class_reach_its_sessions_and_those_below(engine) -> None:
    # Sessions share their class's dispatch until one gets listeners of its own; a listener
    # added later on a class reaches the sessions made before and those of its subclasses,
    # and none of another class.
    from athanor import event

    factory = sessionmaker(engine)
    plain, made = Session(engine), factory()
    seen: list[str] = []

    def on_factory(session: Session) -> None:
        seen.append("factory")

    def on_every(session: Session) -> None:
        seen.append("every")

    def on_one(session: Session) -> None:
        seen.append("one")

    event.listen(factory, "after_commit", on_factory)
    try:
        plain.commit()
        made.commit()
        assert seen == ["factory"]
        event.listen(Session, "after_commit", on_every)
        try:
            seen.clear()
            plain.commit()
            factory().commit()
            assert sorted(seen) == ["every", "every", "factory"]
            event.listen(plain, "before_commit", on_one)
            seen.clear()
            Session(engine).commit()
            plain.commit()
            assert seen == ["every", "one", "every"]
        finally:
            event.remove(Session, "after_commit", on_every)
    finally:
        event.remove(factory, "after_commit", on_factory)
    seen.clear()
    plain.commit()
    made.commit()
    assert seen == ["one"]
    plain.close()
    made.close()


def test_close_after_a_query_releases_the_connection_and_detaches(engine) -> None:
    # Whether or not anything listens, and whether or not the transaction wrote anything,
    # close() rolls back, returns the connection and leaves every object detached/transient.
    from athanor import event

    with Session(engine) as session:
        session.add(User(username="ada"))
        session.commit()
    seen: list[str] = []
    for listening in (False, True):
        session = Session(engine)
        if listening:
            event.listen(session, "after_rollback", lambda s: seen.append("rollback"))
            event.listen(session, "after_transaction_end", lambda s, t: seen.append("end"))
        ada = session.scalars(select(User)).one()
        transaction = session.get_transaction()
        assert transaction is not None and engine.pool.checkedout() == 1
        session.close()
        assert engine.pool.checkedout() == 0
        assert not transaction.is_active and session.get_transaction() is None
        assert inspect(ada).detached and ada not in session
        # the transaction ends; after_rollback is for rollback() only
        assert seen == (["end"] if listening else [])
        pending = User(username=f"new{listening}")
        session.add(pending)
        session.flush()
        session.close()
        assert inspect(pending).transient and pending not in session
        assert engine.pool.checkedout() == 0
    assert count_rows(engine, "users") == 1
