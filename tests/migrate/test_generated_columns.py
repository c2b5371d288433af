"""Generated columns in autogenerate: an unchanged expression is no difference whatever the
database's spelling; a changed one is noted in the revision, since no database alters it."""

from __future__ import annotations

from pathlib import Path

import athanor as sa
from athanor.migrate import command
from migrate.migrate_project import attributes_project


def models(factor: int) -> sa.MetaData:
    metadata = sa.MetaData()
    sa.Table(
        "lines",
        metadata,
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("price", sa.Integer()),
        sa.Column("total", sa.Integer(), sa.Computed(f"price * {factor}", persisted=True)),
    )
    return metadata


def test_generated_column_changes_are_noted(backend, tmp_path: Path) -> None:
    project = attributes_project(tmp_path, backend.url)
    config = project.config()
    config.attributes["target_metadata"] = models(2)
    command.revision(config, "start", autogenerate=True, rev_id="start")
    command.upgrade(config, "head")
    command.check(config)
    config.attributes["target_metadata"] = models(3)
    made = command.revision(config, "triple", autogenerate=True, rev_id="triple")
    assert made is not None and made.path is not None
    source = Path(made.path).read_text()
    upgrade = source.split("def upgrade() -> None:\n")[1].split("\n\n\ndef downgrade")[0]
    assert upgrade.startswith("    # Generated column lines.total changes from price * 2 to")
    assert "price * 3" in upgrade and upgrade.rstrip().endswith("pass")
    compile(source, made.path, "exec")
