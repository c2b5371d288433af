"""Schema objects: tables, columns, keys, constraints, indexes, naming conventions."""

from __future__ import annotations

from typing import Any

import pytest

from athanor import exc
from athanor.sql import (
    BLANK_SCHEMA,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Identity,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    Sequence,
    String,
    Table,
    UniqueConstraint,
    func,
    text,
)


def test_table_basics_and_registry() -> None:
    md = MetaData()
    users = Table(
        "users",
        md,
        Column("id", Integer, primary_key=True),
        Column("name", String(50), nullable=False, comment="login"),
        Column("email_addr", String(100), key="email", unique=True, index=True),
        Column("created", DateTime, server_default=text("CURRENT_TIMESTAMP")),
        schema="app",
    )
    assert md.tables["app.users"] is users
    assert users.fullname == "app.users"
    assert list(users.primary_key) == [users.c.id]
    assert users.c.id.nullable is False and users.c.name.nullable is False
    assert users.c.email.name == "email_addr"
    assert users.c.created.server_default is not None
    assert users.autoincrement_column is users.c.id
    assert Table("users", md, schema="app") is users
    with pytest.raises(exc.InvalidRequestError, match="extend_existing"):
        Table("users", md, Column("x", Integer), schema="app")
    extended = Table("users", md, Column("x", Integer), schema="app", extend_existing=True)
    assert extended is users and "x" in users.c


def test_foreign_keys_resolve_and_type_is_inferred() -> None:
    md = MetaData()
    parent = Table("parent", md, Column("id", Integer, primary_key=True))
    child = Table(
        "child",
        md,
        Column("id", Integer, primary_key=True),
        Column("parent_id", ForeignKey("parent.id", ondelete="CASCADE")),
    )
    (fk,) = child.c.parent_id.foreign_keys
    assert fk.column is parent.c.id
    assert fk.ondelete == "CASCADE"
    assert isinstance(child.c.parent_id.type, Integer)
    assert child.foreign_keys == {fk}
    (fkc,) = child.foreign_key_constraints
    assert fkc.referred_table is parent
    assert md.sorted_tables == [parent, child]
    orphan = Table("orphan", md, Column("x", ForeignKey("missing.id")))
    with pytest.raises(exc.NoReferencedTableError, match="missing"):
        _ = next(iter(orphan.c.x.foreign_keys)).column


def test_composite_keys_and_constraints() -> None:
    md = MetaData()
    a = Table(
        "a",
        md,
        Column("x", Integer),
        Column("y", Integer),
        PrimaryKeyConstraint("x", "y"),
    )
    b = Table(
        "b",
        md,
        Column("ax", Integer),
        Column("ay", Integer),
        Column("n", Integer),
        ForeignKeyConstraint(["ax", "ay"], ["a.x", "a.y"], name="fk_b_a"),
        UniqueConstraint("n", name="uq_n"),
        CheckConstraint("n > 0", name="ck_n"),
        Index("ix_b_n", "n", unique=True),
    )
    assert [c.name for c in a.primary_key] == ["x", "y"]
    assert a.autoincrement_column is None
    names = {c.name for c in b.constraints}
    assert {"fk_b_a", "uq_n", "ck_n"} <= names
    (index,) = b.indexes
    assert index.unique and list(index.columns) == [b.c.n]
    assert a.join(b).onclause is not None


def test_naming_conventions() -> None:
    md = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_N_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )
    Table("p", md, Column("id", Integer, primary_key=True))
    t = Table(
        "t",
        md,
        Column("id", Integer, primary_key=True),
        Column("a", Integer, index=True),
        Column("b", Integer),
        Column("p_id", ForeignKey("p.id")),
        UniqueConstraint("a", "b"),
        CheckConstraint("b > 0", name="positive"),
    )
    names = {c.name for c in t.constraints} | {i.name for i in t.indexes}
    assert names == {"pk_t", "uq_t_a_b", "ck_t_positive", "fk_t_p_id_p", "ix_t_a"}


def test_default_naming_convention_for_column_index() -> None:
    md = MetaData()
    t = Table(
        "users", md, Column("id", Integer, primary_key=True), Column("email", String(9), index=True)
    )
    assert {i.name for i in t.indexes} == {"ix_users_email"}


def test_defaults_sequence_identity() -> None:
    md = MetaData()
    seq = Sequence("t_seq", start=10)
    t = Table(
        "t",
        md,
        Column("id", Integer, seq, primary_key=True),
        Column("n", Integer, Identity(start=5)),
        Column("v", Integer, default=3, onupdate=func.now()),
        Column("f", Integer, default=lambda: 4),
    )
    assert t.c.id.default is seq and seq.metadata is md
    assert t.c.n.identity is not None and t.c.n.identity.start == 5
    assert t.c.v.default.is_scalar and t.c.v.default.arg == 3
    assert t.c.v.onupdate.is_clause_element
    assert t.c.f.default.is_callable


def test_to_metadata_copies_table() -> None:
    md = MetaData()
    t = Table("t", md, Column("id", Integer, primary_key=True), Column("n", String(5), unique=True))
    copy = t.to_metadata(MetaData(), schema="other")
    assert copy is not t and copy.schema == "other"
    assert [c.name for c in copy.c] == ["id", "n"]
    assert copy.c.n.unique


def test_to_metadata_moves_same_schema_foreign_keys_and_keeps_their_options() -> None:
    md = MetaData()
    Table("shared_t", md, Column("x", Integer, primary_key=True), schema="shared")
    Table("p", md, Column("id", Integer, primary_key=True), Column("k", Integer), schema="a")
    child = Table(
        "c",
        md,
        Column("id", Integer, primary_key=True),
        Column("pid", ForeignKey("a.p.id", deferrable=True, initially="DEFERRED")),
        Column("sx", ForeignKey("shared.shared_t.x")),
        Column("k", Integer),
        ForeignKeyConstraint(["pid", "k"], ["a.p.id", "a.p.k"], name="fk_pair", match="FULL"),
        schema="a",
        info={"owner": "billing"},
    )

    def targets(table: Table) -> list[str]:
        return sorted(fk.target_fullname for fk in table.foreign_keys)

    kept = child.to_metadata(MetaData())
    assert kept.fullname == "a.c"
    assert targets(kept) == ["a.p.id", "a.p.id", "a.p.k", "shared.shared_t.x"]
    moved = child.to_metadata(MetaData(), schema="b")
    assert targets(moved) == ["b.p.id", "b.p.id", "b.p.k", "shared.shared_t.x"]
    assert moved.info == {"owner": "billing"}
    single = next(fk for fk in moved.c.pid.foreign_keys if fk.constraint is None or fk.deferrable)
    assert (single.deferrable, single.initially) == (True, "DEFERRED")
    pair = next(c for c in moved.constraints if isinstance(c, ForeignKeyConstraint) and c.name)
    assert (pair.name, pair.match, len(pair.elements)) == ("fk_pair", "FULL", 2)
    assert child.to_metadata(MetaData(schema="dflt"), schema=None).fullname == "dflt.c"
    blank = child.to_metadata(MetaData(schema="dflt"), schema=BLANK_SCHEMA)
    assert blank.fullname == "c" and "p.id" in targets(blank)
    chosen = child.to_metadata(
        MetaData(),
        schema="z",
        referred_schema_fn=lambda table, to, constraint, referred: "q" if referred == "a" else None,
    )
    assert targets(chosen) == ["q.p.id", "q.p.id", "q.p.k", "shared.shared_t.x"]


def test_to_metadata_rebinds_index_and_check_expressions_to_the_copy() -> None:
    source = Table(
        "scores", MetaData(), Column("id", Integer, primary_key=True), Column("v", String(10))
    )
    Index("ix_scores_v_desc", source.c.v.desc())
    Index("ix_scores_lower_v", func.lower(source.c.v))
    source.append_constraint(CheckConstraint(source.c.id > 0, name="ck_scores_id"))
    copy = source.to_metadata(MetaData(), schema="other")
    assert len(source.indexes) == 2 and len(copy.indexes) == 2
    for index in copy.indexes:
        assert index.table is copy
        assert {c.table for c in _columns_in(index.expressions)} == {copy}
    check = next(c for c in copy.constraints if isinstance(c, CheckConstraint))
    assert {c.table for c in _columns_in([check.sqltext])} == {copy}


def _columns_in(elements: list[Any]) -> list[Column]:
    found: list[Column] = []
    for element in elements:
        if isinstance(element, Column):
            found.append(element)
        else:
            found.extend(_columns_in(element.get_children()))
    return found


def test_column_cannot_join_two_tables() -> None:
    col = Column("x", Integer)
    Table("one", MetaData(), col)
    with pytest.raises(exc.ArgumentError, match="already belongs"):
        Table("two", MetaData(), col)
