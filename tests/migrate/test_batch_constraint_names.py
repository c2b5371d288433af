"""A table recreated by ``batch_alter_table(recreate="always")`` keeps its constraint names on
every database, although the new table exists next to the old one while rows are copied."""

from __future__ import annotations

import athanor as sa
from migrate.migrate_project import operations


def _setup(url: str) -> None:
    metadata = sa.MetaData()
    sa.Table("bn_owners", metadata, sa.Column("id", sa.Integer, primary_key=True))
    things = sa.Table(
        "bn_things",
        metadata,
        sa.Column("id", sa.Integer),
        sa.Column("code", sa.String(10)),
        sa.Column("owner_id", sa.Integer),
        sa.PrimaryKeyConstraint("id", name="pk_bn_things"),
        sa.UniqueConstraint("code", name="uq_bn_things_code"),
        sa.ForeignKeyConstraint(["owner_id"], ["bn_owners.id"], name="fk_bn_things_owner"),
        sa.CheckConstraint("owner_id > 0", name="ck_bn_things_owner"),
    )
    engine = sa.create_engine(url)
    try:
        metadata.create_all(engine)
        with engine.begin() as conn:
            conn.execute(metadata.tables["bn_owners"].insert(), [{"id": 7}])
            conn.execute(things.insert(), [{"id": 1, "code": "a", "owner_id": 7}])
    finally:
        engine.dispose()


def test_recreated_table_keeps_constraint_names(backend) -> None:
    _setup(backend.url)
    with (
        operations(backend.url) as (op, _),
        op.batch_alter_table("bn_things", recreate="always") as batch_op,
    ):
        batch_op.add_column(sa.Column("note", sa.String(20)))
    engine = sa.create_engine(backend.url)
    try:
        inspector = sa.inspect(engine)
        uniques = {u["name"] for u in inspector.get_unique_constraints("bn_things")}
        uniques |= {i["name"] for i in inspector.get_indexes("bn_things") if i["unique"]}
        foreign = {f["name"] for f in inspector.get_foreign_keys("bn_things")}
        checks = {c["name"] for c in inspector.get_check_constraints("bn_things")}
        primary = inspector.get_pk_constraint("bn_things")
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT id, code, owner_id, note FROM bn_things")).all()
    finally:
        engine.dispose()
    assert [tuple(r) for r in rows] == [(1, "a", 7, None)]
    assert "uq_bn_things_code" in uniques
    assert foreign == {"fk_bn_things_owner"}
    assert "ck_bn_things_owner" in checks
    assert primary["constrained_columns"] == ["id"]
    if backend.name == "postgresql":  # MySQL names every primary key PRIMARY; SQLite none
        assert primary["name"] == "pk_bn_things"
