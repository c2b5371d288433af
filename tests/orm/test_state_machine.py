"""A stateful property test: random session work against a plain-Python model of the rows."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from athanor import ForeignKey, String, create_engine, text
from athanor.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Parent(Base):
    __tablename__ = "sm_parents"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(20))
    children: Mapped[list[Child]] = relationship(
        back_populates="parent", cascade="all, delete-orphan"
    )


class Child(Base):
    __tablename__ = "sm_children"

    id: Mapped[int] = mapped_column(primary_key=True)
    value: Mapped[int]
    parent_id: Mapped[int] = mapped_column(ForeignKey("sm_parents.id"))
    parent: Mapped[Parent] = relationship(back_populates="children")


names = st.text(alphabet="abcdefgh", min_size=1, max_size=8)


def snapshot(model: dict[int, tuple[Parent, str, list[tuple[Child, int]]]]) -> list[tuple]:
    return sorted((name, tuple(sorted(v for _, v in kids))) for _, name, kids in model.values())


class SessionMachine(RuleBasedStateMachine):
    engine = None

    def __init__(self) -> None:
        super().__init__()
        assert self.engine is not None
        with self.engine.begin() as conn:
            conn.execute(text("DELETE FROM sm_children"))
            conn.execute(text("DELETE FROM sm_parents"))
        self.session = Session(self.engine)
        self.model: dict[int, tuple[Parent, str, list[tuple[Child, int]]]] = {}
        self.committed: dict[int, tuple[Parent, str, list[tuple[Child, int]]]] = {}
        self.next_key = 0

    def _pick(self, index: int) -> int:
        keys = sorted(self.model)
        return keys[index % len(keys)]

    @rule(name=names)
    def add_parent(self, name: str) -> None:
        parent = Parent(name=name)
        self.session.add(parent)
        self.model[self.next_key] = (parent, name, [])
        self.next_key += 1

    @precondition(lambda self: self.model)
    @rule(index=st.integers(0, 50), name=names)
    def rename(self, index: int, name: str) -> None:
        key = self._pick(index)
        parent, _, kids = self.model[key]
        parent.name = name
        self.model[key] = (parent, name, kids)

    @precondition(lambda self: self.model)
    @rule(index=st.integers(0, 50), value=st.integers(-1000, 1000))
    def append_child(self, index: int, value: int) -> None:
        key = self._pick(index)
        parent, name, kids = self.model[key]
        child = Child(value=value)
        parent.children.append(child)
        self.model[key] = (parent, name, [*kids, (child, value)])

    @precondition(lambda self: any(kids for _, _, kids in self.model.values()))
    @rule(index=st.integers(0, 50), which=st.integers(0, 50))
    def remove_child(self, index: int, which: int) -> None:
        keys = sorted(k for k, (_, _, kids) in self.model.items() if kids)
        key = keys[index % len(keys)]
        parent, name, kids = self.model[key]
        child, _ = kids[which % len(kids)]
        parent.children.remove(child)
        self.model[key] = (parent, name, [(c, v) for c, v in kids if c is not child])

    @precondition(lambda self: any(kids for _, _, kids in self.model.values()))
    @rule(index=st.integers(0, 50), which=st.integers(0, 50), to=st.integers(0, 50))
    def move_child(self, index: int, which: int, to: int) -> None:
        keys = sorted(k for k, (_, _, kids) in self.model.items() if kids)
        key = keys[index % len(keys)]
        others = sorted(k for k in self.model if k != key)
        if not others:
            return
        target = others[to % len(others)]
        parent, name, kids = self.model[key]
        child, value = kids[which % len(kids)]
        new_parent, new_name, new_kids = self.model[target]
        new_parent.children.append(child)
        self.model[key] = (parent, name, [(c, v) for c, v in kids if c is not child])
        self.model[target] = (new_parent, new_name, [*new_kids, (child, value)])

    @precondition(lambda self: self.model)
    @rule(index=st.integers(0, 50))
    def delete_parent(self, index: int) -> None:
        key = self._pick(index)
        parent, _, kids = self.model[key]
        if parent in self.session.new and any(child not in self.session.new for child, _ in kids):
            # Expunging would cascade to a stored child and leave its row behind: store the
            # parent first so that deleting it deletes the child too.
            self.session.flush()
        if parent in self.session.new:
            self.session.expunge(parent)
            for child, _ in self.model[key][2]:
                if child in self.session:
                    self.session.expunge(child)
        else:
            self.session.delete(parent)
        del self.model[key]

    @rule()
    def flush(self) -> None:
        self.session.flush()

    @rule()
    def commit(self) -> None:
        self.session.commit()
        self.committed = {k: (p, n, list(kids)) for k, (p, n, kids) in self.model.items()}
        with self.engine.connect() as conn:
            parents = dict(conn.execute(text("SELECT id, name FROM sm_parents")).all())
            kids: dict[int, list[int]] = {pid: [] for pid in parents}
            for value, pid in conn.execute(text("SELECT value, parent_id FROM sm_children")):
                kids[pid].append(value)
        in_db = sorted((parents[pid], tuple(sorted(vals))) for pid, vals in kids.items())
        assert in_db == snapshot(self.model)

    @rule()
    def rollback(self) -> None:
        self.session.rollback()
        self.model = {k: (p, n, list(kids)) for k, (p, n, kids) in self.committed.items()}

    @precondition(lambda self: self.model)
    @rule(index=st.integers(0, 50))
    def expire(self, index: int) -> None:
        parent = self.model[self._pick(index)][0]
        if parent not in self.session.new:
            self.session.flush()
            self.session.expire(parent)

    @invariant()
    def objects_match_model(self) -> None:
        for parent, name, kids in self.model.values():
            assert parent.name == name
            assert sorted(c.value for c in parent.children) == sorted(v for _, v in kids)

    def teardown(self) -> None:
        self.session.close()


def test_random_session_work_matches_model(backend) -> None:
    engine = create_engine(backend.url)
    Base.metadata.create_all(engine)
    SessionMachine.engine = engine
    try:
        SessionMachine.TestCase.settings = settings(
            max_examples=int(os.environ.get("ATHANOR_STATE_MACHINE_EXAMPLES", "12")),
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
        SessionMachine.TestCase().runTest()
    finally:
        SessionMachine.engine = None
        engine.dispose()
