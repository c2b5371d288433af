"""Autogenerate sees a changed primary key: the old one is dropped and the new one created,
and the downgrade puts the old one back."""

from __future__ import annotations

from pathlib import Path

import athanor as sa
from athanor.migrate import command
from migrate.migrate_project import attributes_project


def models(composite: bool) -> sa.MetaData:
    metadata = sa.MetaData()
    sa.Table(
        "prices",
        metadata,
        sa.Column("code", sa.String(10), primary_key=True),
        sa.Column("region", sa.String(10), nullable=False, primary_key=composite),
        sa.Column("amount", sa.Integer()),
    )
    return metadata


def _primary_key(url: str) -> list[str]:
    engine = sa.create_engine(url)
    try:
        return list(sa.inspect(engine).get_pk_constraint("prices")["constrained_columns"])
    finally:
        engine.dispose()


def test_primary_key_change(backend, tmp_path: Path) -> None:
    project = attributes_project(tmp_path, backend.url)
    config = project.config()
    config.attributes["target_metadata"] = models(composite=False)
    command.revision(config, "start", autogenerate=True, rev_id="start")
    command.upgrade(config, "head")
    config.attributes["target_metadata"] = models(composite=True)
    made = command.revision(config, "wider key", autogenerate=True, rev_id="wider")
    assert made is not None and made.path is not None
    source = Path(made.path).read_text()
    assert "op.create_primary_key(" in source and '["code", "region"]' in source
    assert 'type_="primary"' in source
    command.upgrade(config, "head")
    assert _primary_key(backend.url) == ["code", "region"]
    command.check(config)
    command.downgrade(config, "start")
    assert _primary_key(backend.url) == ["code"]
