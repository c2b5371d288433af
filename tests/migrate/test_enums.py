"""Enums in migrations: PostgreSQL's named types are created before the columns that use
them, get labels with ``ALTER TYPE ... ADD VALUE`` and are dropped after the last column that
used them; MySQL's inline ENUM is altered like any other type."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import athanor as sa
from athanor.migrate import command
from migrate.migrate_project import attributes_project


def models(labels: tuple[str, ...], color: bool = False) -> sa.MetaData:
    metadata = sa.MetaData()
    columns = [
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("mood", sa.Enum(*labels, name="mood")),
    ]
    if color:
        columns.append(sa.Column("color", sa.Enum("red", "blue", name="color")))
    sa.Table("people", metadata, *columns)
    return metadata


def _enum_types(url: str) -> dict[str, list[str]]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text(
                    "SELECT t.typname, e.enumlabel FROM pg_type t JOIN pg_enum e "
                    "ON e.enumtypid = t.oid ORDER BY t.typname, e.enumsortorder"
                )
            ).all()
    finally:
        engine.dispose()
    found: dict[str, list[str]] = {}
    for name, label in rows:
        found.setdefault(name, []).append(label)
    return found


def _revision(config, labels: tuple[str, ...], rev_id: str, color: bool = False) -> str:
    config.attributes["target_metadata"] = models(labels, color)
    made = command.revision(config, rev_id, autogenerate=True, rev_id=rev_id)
    assert made is not None and made.path is not None
    return Path(made.path).read_text()


@pytest.mark.backends("postgresql")
def test_postgresql_enum_types(backend, tmp_path: Path) -> None:
    project = attributes_project(tmp_path, backend.url)
    config = project.config()
    first = _revision(config, ("sad", "ok"), "first")
    assert 'sa.Enum("sad", "ok", name="mood")' in first
    command.upgrade(config, "head")
    assert _enum_types(backend.url) == {"mood": ["sad", "ok"]}

    labels = _revision(config, ("meh", "sad", "ok", "happy"), "labels", color=True)
    upgrade, downgrade = labels.split("def downgrade")
    assert "ALTER TYPE mood ADD VALUE IF NOT EXISTS 'meh' BEFORE 'sad'" in upgrade
    assert "ALTER TYPE mood ADD VALUE IF NOT EXISTS 'happy' AFTER 'ok'" in upgrade
    flat = re.sub(r"\(\s+", "(", re.sub(r",\s+", ", ", upgrade))
    assert 'op.add_column("people", sa.Column("color", sa.Enum("red", "blue", name="color")' in flat
    assert "# PostgreSQL cannot drop the label 'meh' of enum type mood; it stays" in downgrade
    command.upgrade(config, "head")
    assert _enum_types(backend.url) == {
        "color": ["red", "blue"],
        "mood": ["meh", "sad", "ok", "happy"],
    }
    command.check(config)

    command.downgrade(config, "first")
    assert _enum_types(backend.url) == {"mood": ["meh", "sad", "ok", "happy"]}
    command.downgrade(config, "base")
    assert _enum_types(backend.url) == {}


@pytest.mark.backends("postgresql")
def test_postgresql_labels_removed_and_reordered(backend, tmp_path: Path) -> None:
    """The type is renamed aside, created with the new labels, the column converted (its
    default dropped and set again) and the old type dropped; the downgrade does the same
    back, and the rows keep their values."""
    project = attributes_project(tmp_path, backend.url)
    config = project.config()
    _revision(config, ("sad", "ok", "happy"), "first")
    command.upgrade(config, "head")
    engine = sa.create_engine(backend.url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("ALTER TABLE people ALTER COLUMN mood SET DEFAULT 'ok'"))
            conn.execute(sa.text("INSERT INTO people (id, mood) VALUES (1, 'happy'), (2, 'ok')"))
    finally:
        engine.dispose()
    source = _revision(config, ("happy", "ok"), "fewer")
    assert "Enum type mood changes from ['sad', 'ok', 'happy'] to ['happy', 'ok']" in source
    upgrade = source.split("def downgrade")[0]
    order = [
        "ALTER TYPE mood RENAME TO mood_old",
        "CREATE TYPE mood AS ENUM ('happy', 'ok')",
        "ALTER TABLE people ALTER COLUMN mood DROP DEFAULT",
        "ALTER TABLE people ALTER COLUMN mood TYPE mood USING mood::text::mood",
        "ALTER TABLE people ALTER COLUMN mood SET DEFAULT 'ok'",
        "DROP TYPE mood_old",
    ]
    positions = [upgrade.index(statement) for statement in order]
    assert positions == sorted(positions)
    assert "ADD VALUE" not in source
    command.upgrade(config, "head")
    assert _enum_types(backend.url) == {"mood": ["happy", "ok"]}
    engine = sa.create_engine(backend.url)
    try:
        with engine.begin() as conn:
            rows = conn.execute(sa.text("SELECT id, mood FROM people ORDER BY id")).all()
    finally:
        engine.dispose()
    assert [tuple(r) for r in rows] == [(1, "happy"), (2, "ok")]
    command.downgrade(config, "first")
    assert _enum_types(backend.url) == {"mood": ["sad", "ok", "happy"]}


@pytest.mark.backends("mysql", "sqlite")
def test_inline_enum_labels_round_trip(backend, tmp_path: Path) -> None:
    project = attributes_project(tmp_path, backend.url)
    config = project.config()
    _revision(config, ("sad", "ok"), "first")
    command.upgrade(config, "head")
    source = _revision(config, ("sad", "ok", "happy"), "labels")
    assert 'sa.Enum("sad", "ok", "happy", name="mood")' in source.split("def downgrade")[0]
    command.upgrade(config, "head")
    command.check(config)
    engine = sa.create_engine(backend.url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO people (id, mood) VALUES (1, 'happy')"))
            conn.execute(sa.text("DELETE FROM people"))
    finally:
        engine.dispose()
    command.downgrade(config, "first")
    config.attributes["target_metadata"] = models(("sad", "ok"))
    command.check(config)


def _switch_models(enum: bool) -> sa.MetaData:
    metadata = sa.MetaData()
    kind: sa.types.TypeEngine[str] = (
        sa.Enum("draft", "live", name="state") if enum else sa.String(10)
    )
    sa.Table(
        "docs",
        metadata,
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("state", kind),
    )
    return metadata


def test_column_switches_to_and_from_an_enum(backend, tmp_path: Path) -> None:
    project = attributes_project(tmp_path, backend.url)
    config = project.config()
    config.attributes["target_metadata"] = _switch_models(enum=False)
    command.revision(config, "plain", autogenerate=True, rev_id="plain")
    command.upgrade(config, "head")
    engine = sa.create_engine(backend.url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO docs (id, state) VALUES (1, 'live')"))
    finally:
        engine.dispose()
    config.attributes["target_metadata"] = _switch_models(enum=True)
    made = command.revision(config, "to enum", autogenerate=True, rev_id="toenum")
    assert made is not None and made.path is not None
    assert 'type_=sa.Enum("draft", "live", name="state")' in Path(made.path).read_text()
    command.upgrade(config, "head")
    command.check(config)
    if backend.name == "postgresql":
        assert _enum_types(backend.url) == {"state": ["draft", "live"]}
    engine = sa.create_engine(backend.url)
    try:
        with engine.begin() as conn:
            assert conn.execute(sa.text("SELECT state FROM docs")).scalar() == "live"
            if backend.name != "sqlite":
                with pytest.raises(sa.exc.DBAPIError), conn.begin_nested():
                    conn.execute(sa.text("INSERT INTO docs (id, state) VALUES (2, 'gone')"))
    finally:
        engine.dispose()
    command.downgrade(config, "plain")
    config.attributes["target_metadata"] = _switch_models(enum=False)
    command.check(config)
    if backend.name == "postgresql":
        assert _enum_types(backend.url) == {}
    engine = sa.create_engine(backend.url)
    try:
        with engine.begin() as conn:
            assert conn.execute(sa.text("SELECT state FROM docs")).scalar() == "live"
    finally:
        engine.dispose()


@pytest.mark.backends("mysql")
def test_mysql_enum_label_removed(backend, tmp_path: Path) -> None:
    project = attributes_project(tmp_path, backend.url)
    config = project.config()
    _revision(config, ("sad", "ok", "happy"), "first")
    command.upgrade(config, "head")
    source = _revision(config, ("sad", "ok"), "fewer")
    assert 'type_=sa.Enum("sad", "ok", name="mood")' in source.split("def downgrade")[0]
    command.upgrade(config, "head")
    command.check(config)
    engine = sa.create_engine(backend.url)
    try:
        columns = {c["name"]: c for c in sa.inspect(engine).get_columns("people")}
    finally:
        engine.dispose()
    assert list(columns["mood"]["type"].enums) == ["sad", "ok"]
    command.downgrade(config, "first")
    engine = sa.create_engine(backend.url)
    try:
        columns = {c["name"]: c for c in sa.inspect(engine).get_columns("people")}
    finally:
        engine.dispose()
    assert list(columns["mood"]["type"].enums) == ["sad", "ok", "happy"]
