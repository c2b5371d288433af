"""env.py's ``context.configure(...)`` hooks steer autogenerate as in Alembic:
``include_name``, ``include_object``, ``compare_type``, ``compare_server_default``,
``process_revision_directives`` and ``render_item``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import athanor as sa
from athanor.migrate import command
from migrate.migrate_project import Project, attributes_project, operations


def models() -> sa.MetaData:
    metadata = sa.MetaData()
    sa.Table(
        "items",
        metadata,
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(100)),
        sa.Column("qty", sa.Integer(), server_default="1"),
        sa.Column("ignored", sa.Integer()),
    )
    return metadata


def _project(backend: Any, tmp_path: Path) -> Project:
    with operations(backend.url) as (op, _):
        op.create_table(
            "items",
            sa.Column("id", sa.Integer(), primary_key=True),
            sa.Column("name", sa.String(50)),
            sa.Column("qty", sa.Integer(), server_default="0"),
        )
        op.create_table("legacy_audit", sa.Column("id", sa.Integer(), primary_key=True))
    return attributes_project(tmp_path, backend.url)


def _upgrade_body(project: Project, **configure: Any) -> str:
    config = project.config()
    config.attributes["target_metadata"] = models()
    config.attributes["configure"] = configure
    made = command.revision(config, "hooks", autogenerate=True)
    if made is None:
        return "<no revision>"
    assert made.path is not None
    source = Path(made.path).read_text()
    Path(made.path).unlink()
    return source.split("def upgrade() -> None:\n", 1)[1].split("\n\n\ndef downgrade")[0]


def test_without_hooks_everything_differs(backend, tmp_path: Path) -> None:
    body = _upgrade_body(_project(backend, tmp_path))
    assert 'op.add_column("items", sa.Column("ignored"' in body
    assert "type_=sa.String(length=100)" in body
    assert 'server_default="1"' in body
    assert 'op.drop_table("legacy_audit")' in body


def test_include_name_and_include_object(backend, tmp_path: Path) -> None:
    seen: list[tuple[Any, ...]] = []

    def include_name(name: str | None, type_: str, parents: dict[str, Any]) -> bool:
        seen.append((name, type_))
        return not (type_ == "table" and str(name).startswith("legacy_"))

    def include_object(obj: Any, name: str, type_: str, reflected: bool, other: Any) -> bool:
        return not (type_ == "column" and name == "ignored")

    body = _upgrade_body(
        _project(backend, tmp_path), include_name=include_name, include_object=include_object
    )
    assert ("legacy_audit", "table") in seen
    assert "legacy_audit" not in body and "ignored" not in body
    assert "type_=sa.String(length=100)" in body


def test_compare_type_and_server_default_hooks(backend, tmp_path: Path) -> None:
    project = _project(backend, tmp_path)
    calls: list[tuple[Any, ...]] = []

    def compare_type(context: Any, inspected: Any, metadata: Any, db_type: Any, model_type: Any):
        calls.append(("type", inspected.name, type(db_type).__name__, repr(model_type)))
        return False if inspected.name == "name" else None

    def compare_default(
        context: Any,
        inspected: Any,
        metadata: Any,
        inspected_default: str | None,
        metadata_default: Any,
        rendered: str | None,
    ) -> bool | None:
        calls.append(("default", inspected.name, inspected_default, rendered))
        return False

    body = _upgrade_body(project, compare_type=compare_type, compare_server_default=compare_default)
    assert 'alter_column("items", "name"' not in body and "server_default" not in body
    assert ("type", "name", "VARCHAR", "String(length=100)") in calls
    assert any(c[0] == "default" and c[1] == "qty" and c[3] == "'1'" for c in calls)
    assert "'0'" in str([c for c in calls if c[:2] == ("default", "qty")])
    assert (
        _upgrade_body(project, compare_type=False, compare_server_default=False).count(
            "alter_column"
        )
        == 0
    )


def test_process_revision_directives_and_render_item(backend, tmp_path: Path, monkeypatch) -> None:
    project = _project(backend, tmp_path)
    project.write("myapp/__init__.py", "")
    project.write(
        "myapp/types.py",
        """
        import athanor as sa


        def Name(length: int) -> sa.String:
            return sa.String(length)
        """,
    )
    monkeypatch.syspath_prepend(str(project.root))

    def keep_only_adds(context: Any, revision: Any, directives: list[Any]) -> None:
        script = directives[0]
        script.upgrade_ops.ops = [
            op for op in script.upgrade_ops.ops if type(op).__name__ == "AddColumnOp"
        ]

    body = _upgrade_body(project, process_revision_directives=keep_only_adds)
    assert body.strip().startswith('op.add_column("items"') and "alter_column" not in body

    def no_revision(context: Any, revision: Any, directives: list[Any]) -> None:
        directives[:] = []

    assert _upgrade_body(project, process_revision_directives=no_revision) == "<no revision>"

    def render_item(type_: str, obj: Any, autogen_context: Any) -> Any:
        if type_ == "type" and isinstance(obj, sa.String):
            autogen_context.imports.add("from myapp import types as mytypes")
            return f"mytypes.Name({obj.length})"
        return False

    config = project.config()
    config.attributes["target_metadata"] = models()
    config.attributes["configure"] = {"render_item": render_item}
    made = command.revision(config, "rendered", autogenerate=True)
    assert made is not None and made.path is not None
    source = Path(made.path).read_text()
    assert "from myapp import types as mytypes" in source
    assert "type_=mytypes.Name(100)" in source and "existing_type=mytypes.Name(50)" in source
