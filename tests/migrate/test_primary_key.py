"""Autogenerate sees a changed primary key: the old one is dropped and the new one created,
and the downgrade puts the old one back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import athanor as sa
from athanor.migrate import command
from migrate.migrate_project import attributes_project, operations


def models(composite: bool, name: str | None = None) -> sa.MetaData:
    metadata = sa.MetaData()
    sa.Table(
        "prices",
        metadata,
        sa.Column("code", sa.String(10)),
        sa.Column("region", sa.String(10), nullable=False),
        sa.Column("amount", sa.Integer()),
        sa.PrimaryKeyConstraint("code", *(["region"] if composite else []), name=name),
    )
    return metadata


def _primary_key(url: str) -> list[str]:
    engine = sa.create_engine(url)
    try:
        return list(sa.inspect(engine).get_pk_constraint("prices")["constrained_columns"])
    finally:
        engine.dispose()


@pytest.mark.parametrize("name", [None, "PRIMARY"])
def test_primary_key_change(backend, tmp_path: Path, name: str | None) -> None:
    """A key named ``PRIMARY`` (the name MySQL reports for every primary key) is created on
    MySQL/MariaDB too, which refuse that name in DDL: their DDL leaves the name out."""
    project = attributes_project(tmp_path, backend.url)
    config = project.config()
    config.attributes["target_metadata"] = models(composite=False, name=name)
    command.revision(config, "start", autogenerate=True, rev_id="start")
    command.upgrade(config, "head")
    config.attributes["target_metadata"] = models(composite=True, name=name)
    made = command.revision(config, "wider key", autogenerate=True, rev_id="wider")
    assert made is not None and made.path is not None
    source = Path(made.path).read_text()
    rendered_name = "None" if name is None else f'"{name}"'
    assert f"op.create_primary_key({rendered_name}, " in source
    assert "op.create_primary_key(" in source and '["code", "region"]' in source
    assert 'type_="primary"' in source
    command.upgrade(config, "head")
    assert _primary_key(backend.url) == ["code", "region"]
    command.check(config)
    command.downgrade(config, "start")
    assert _primary_key(backend.url) == ["code"]


def auto_models(composite: bool) -> sa.MetaData:
    metadata = sa.MetaData()
    sa.Table(
        "pk_items",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("region", sa.String(10), nullable=False, primary_key=composite),
        sa.Column("amount", sa.Integer()),
    )
    return metadata


def _autoincrement(url: str) -> dict[str, Any]:
    engine = sa.create_engine(url)
    try:
        inspector = sa.inspect(engine)
        columns = {c["name"]: c.get("autoincrement") for c in inspector.get_columns("pk_items")}
        key = list(inspector.get_pk_constraint("pk_items")["constrained_columns"])
        with engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM pk_items"))
            if key == ["id"]:
                # The id is generated again after the round trip.
                conn.execute(sa.text("INSERT INTO pk_items (region) VALUES ('eu')"))
                assert conn.execute(sa.text("SELECT id FROM pk_items")).scalar() is not None
        return {"key": key, "id": columns["id"]}
    finally:
        engine.dispose()


def test_auto_increment_primary_key_change(backend, tmp_path: Path) -> None:
    """MariaDB refuses to drop a primary key whose column is AUTO_INCREMENT: the generated
    revision takes AUTO_INCREMENT off first, and the downgrade puts it back."""
    project = attributes_project(tmp_path, backend.url)
    config = project.config()
    config.attributes["target_metadata"] = auto_models(composite=False)
    command.revision(config, "start", autogenerate=True, rev_id="start")
    command.upgrade(config, "head")
    before = _autoincrement(backend.url)
    config.attributes["target_metadata"] = auto_models(composite=True)
    made = command.revision(config, "wider key", autogenerate=True, rev_id="wider")
    assert made is not None and made.path is not None
    source = Path(made.path).read_text()
    upgrade, downgrade = source.split("def downgrade")
    if backend.name == "mysql":
        assert upgrade.index("autoincrement=False") < upgrade.index("op.drop_constraint(")
        assert downgrade.index("op.create_primary_key(") < downgrade.index("autoincrement=True")
    else:
        assert "autoincrement" not in source
    command.upgrade(config, "head")
    assert _autoincrement(backend.url)["key"] == ["id", "region"]
    command.check(config)
    command.downgrade(config, "start")
    assert _autoincrement(backend.url) == before
    config.attributes["target_metadata"] = auto_models(composite=False)
    command.check(config)


@pytest.mark.backends("mysql", "postgresql")
def test_drop_auto_increment_primary_key_with_op(backend) -> None:
    engine = sa.create_engine(backend.url)
    try:
        auto_models(composite=False).create_all(engine)
    finally:
        engine.dispose()
    with operations(backend.url) as (op, _):
        op.drop_constraint("pk_items_pkey", "pk_items", type_="primary")
        op.create_primary_key("pk_items_pkey", "pk_items", ["id", "region"])
    engine = sa.create_engine(backend.url)
    try:
        inspector = sa.inspect(engine)
        key = inspector.get_pk_constraint("pk_items")["constrained_columns"]
    finally:
        engine.dispose()
    assert key == ["id", "region"]


@pytest.mark.backends("mysql")
def test_primary_key_named_primary_with_op(backend) -> None:
    """``PRIMARY``, the name MySQL reports for every primary key, can be created and dropped."""
    engine = sa.create_engine(backend.url)
    metadata = sa.MetaData()
    sa.Table("pk_plain", metadata, sa.Column("id", sa.Integer, nullable=False))
    try:
        metadata.create_all(engine)
    finally:
        engine.dispose()

    def key() -> list[str]:
        engine = sa.create_engine(backend.url)
        try:
            return list(sa.inspect(engine).get_pk_constraint("pk_plain")["constrained_columns"])
        finally:
            engine.dispose()

    with operations(backend.url) as (op, _):
        op.create_primary_key("PRIMARY", "pk_plain", ["id"])
    assert key() == ["id"]
    with operations(backend.url) as (op, _):
        op.drop_constraint("PRIMARY", "pk_plain", type_="primary")
    assert key() == []


OFFLINE_HEAD = """
import athanor as sa
from athanor.migrate import op

revision = "{revision}"
down_revision = {down}
"""

OFFLINE_CREATE = """
def upgrade() -> None:
    op.create_table(
        "pk_items",
        sa.Column("id", sa.Integer(), primary_key=True, comment="row id"),
        sa.Column("region", sa.String(10), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("pk_items")
"""

OFFLINE_WIDEN = """
def upgrade() -> None:
    op.drop_constraint("{name}", "pk_items", type_="primary")
    op.create_primary_key("{name}", "pk_items", ["id", "region"])


def downgrade() -> None:
    op.drop_constraint("{name}", "pk_items", type_="primary")
    op.create_primary_key("{name}", "pk_items", ["id"])
    op.alter_column("pk_items", "id", existing_type=sa.Integer(), autoincrement=True)
"""


@pytest.mark.backends("mysql")
@pytest.mark.parametrize("name", ["pk_items_pkey", "PRIMARY"])
def test_drop_auto_increment_primary_key_offline(backend, tmp_path: Path, name: str) -> None:
    """With --sql no database says the key's column is AUTO_INCREMENT, but the run created the
    table: AUTO_INCREMENT is taken off first (keeping the comment), so MariaDB accepts the
    script; the script of the downgrade, which puts it back, runs too.  The key's name is left
    out (MariaDB refuses ``PRIMARY``, the name it reports)."""
    from migrate.migrate_project import init_project
    from migrate.test_batch_offline import _run_script

    project = init_project(tmp_path, backend.url)
    project.write(
        "migrations/versions/create.py",
        OFFLINE_HEAD.format(revision="create", down=None) + OFFLINE_CREATE,
    )
    project.write(
        "migrations/versions/widen.py",
        OFFLINE_HEAD.format(revision="widen", down='"create"') + OFFLINE_WIDEN.format(name=name),
    )
    result = project.run("upgrade", "head", "--sql")
    assert result.returncode == 0, result.stderr
    sql = result.stdout
    modify = "ALTER TABLE pk_items MODIFY id INTEGER NOT NULL COMMENT 'row id';"
    assert sql.index(modify) < sql.index("ALTER TABLE pk_items DROP PRIMARY KEY"), sql
    assert "ALTER TABLE pk_items ADD PRIMARY KEY (id, region);" in sql
    _run_script(project.url, sql)
    engine = sa.create_engine(project.url)
    try:
        inspector = sa.inspect(engine)
        assert inspector.get_pk_constraint("pk_items")["constrained_columns"] == ["id", "region"]
        columns = {c["name"]: c for c in inspector.get_columns("pk_items")}
        assert columns["id"]["autoincrement"] is False and columns["id"]["comment"] == "row id"
    finally:
        engine.dispose()

    result = project.run("downgrade", "widen:create", "--sql")
    assert result.returncode == 0, result.stderr
    _run_script(project.url, result.stdout)
    assert _autoincrement(backend.url) == {"key": ["id"], "id": True}
