"""Naming conventions: ``op.*`` calls without a name take the one ``target_metadata``'s
``naming_convention`` gives, and autogenerate writes convention-made names as ``op.f()`` so
they are not converted twice."""

from __future__ import annotations

from pathlib import Path

import athanor as sa
from athanor.migrate import command
from migrate.migrate_project import attributes_project

CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

UNNAMED = '''
"""unnamed constraints"""
import athanor as sa
from athanor.migrate import op

revision = "unnamed"
down_revision = None


def upgrade() -> None:
    op.create_table("owners", sa.Column("id", sa.Integer(), primary_key=True))
    op.create_table(
        "pets",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("tag", sa.String(20)),
        sa.Column("age", sa.Integer()),
        sa.Column("owner_id", sa.Integer()),
    )
    op.create_unique_constraint(None, "pets", ["tag"])
    op.create_index(None, "pets", ["age"])
    op.create_check_constraint("adult", "pets", "age >= 0")
    op.create_foreign_key(None, "pets", "owners", ["owner_id"], ["id"])


def downgrade() -> None:
    op.drop_table("pets")
    op.drop_table("owners")
'''


def models() -> sa.MetaData:
    metadata = sa.MetaData(naming_convention=CONVENTION)
    sa.Table("owners", metadata, sa.Column("id", sa.Integer(), primary_key=True))
    sa.Table(
        "pets",
        metadata,
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("tag", sa.String(20), unique=True),
        sa.Column("age", sa.Integer(), index=True),
        sa.Column("owner_id", sa.Integer(), sa.ForeignKey("owners.id")),
        sa.CheckConstraint("age >= 0", name="adult"),
    )
    return metadata


def test_operations_use_the_models_convention(backend, tmp_path: Path) -> None:
    project = attributes_project(tmp_path, backend.url)
    project.write("migrations/versions/unnamed.py", UNNAMED)
    config = project.config()
    config.attributes["target_metadata"] = models()
    command.upgrade(config, "head")
    engine = sa.create_engine(backend.url)
    try:
        inspector = sa.inspect(engine)
        uniques = {u["name"] for u in inspector.get_unique_constraints("pets")}
        indexes = {i["name"] for i in inspector.get_indexes("pets")}
        checks = {c["name"] for c in inspector.get_check_constraints("pets")}
        fks = {f["name"] for f in inspector.get_foreign_keys("pets")}
    finally:
        engine.dispose()
    assert "uq_pets_tag" in uniques and "ix_pets_age" in indexes
    assert checks == {"ck_pets_adult"}
    if not backend.is_sqlite:  # SQLite reflects no name for an inline foreign key
        assert fks == {"fk_pets_owner_id_owners"}
    command.check(config)


def test_autogenerate_writes_op_f(backend, tmp_path: Path) -> None:
    project = attributes_project(tmp_path, backend.url)
    config = project.config()
    config.attributes["target_metadata"] = models()
    made = command.revision(config, "named", autogenerate=True, rev_id="named")
    assert made is not None and made.path is not None
    source = Path(made.path).read_text()
    assert 'name=op.f("ck_pets_adult")' in source
    assert 'name=op.f("uq_pets_tag")' in source
    assert 'op.create_index(op.f("ix_pets_age"), "pets", ["age"])' in source
    command.upgrade(config, "head")
    command.check(config)
    command.downgrade(config, "base")
