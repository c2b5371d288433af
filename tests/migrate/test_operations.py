"""Every ``op`` operation on every database, checked by reflection, then undone."""

# ruff: noqa: E501

from __future__ import annotations

import athanor as sa
from athanor.migrate import command
from migrate.migrate_project import Project

OPERATIONS = '''
"""operations"""
import athanor as sa
from athanor.migrate import op

revision = "ops1"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(50), nullable=False),
        sa.Column("note", sa.String(20)),
    )
    accounts = sa.table("accounts", sa.column("id"), sa.column("name"), sa.column("note"))
    op.bulk_insert(accounts, [{"id": 1, "name": "ada", "note": "x"}, {"id": 2, "name": "bob", "note": "y"}])
    op.add_column("accounts", sa.Column("score", sa.Integer(), nullable=True))
    op.execute("UPDATE accounts SET score = 5")
    op.alter_column("accounts", "note", type_=sa.String(200), existing_type=sa.String(20))
    op.alter_column("accounts", "score", nullable=False, server_default="0", existing_type=sa.Integer())
    op.alter_column("accounts", "name", new_column_name="display_name", existing_type=sa.String(50), existing_nullable=False)
    op.create_index("ix_accounts_score", "accounts", ["score"])
    op.create_unique_constraint("uq_accounts_display_name", "accounts", ["display_name"])
    op.create_check_constraint("ck_accounts_score", "accounts", "score >= 0")
    op.create_table(
        "entries",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("account_id", sa.Integer(), nullable=False),
    )
    op.create_foreign_key("fk_entries_account", "entries", "accounts", ["account_id"], ["id"], ondelete="CASCADE")
    op.drop_column("accounts", "note")


def downgrade() -> None:
    op.add_column("accounts", sa.Column("note", sa.String(200)))
    op.drop_constraint("fk_entries_account", "entries", type_="foreignkey")
    op.drop_table("entries")
    op.drop_constraint("ck_accounts_score", "accounts", type_="check")
    op.drop_constraint("uq_accounts_display_name", "accounts", type_="unique")
    op.drop_index("ix_accounts_score", table_name="accounts")
    op.alter_column("accounts", "display_name", new_column_name="name", existing_type=sa.String(50), existing_nullable=False)
    op.alter_column("accounts", "score", nullable=True, server_default=None, existing_type=sa.Integer())
    op.drop_column("accounts", "score")
    op.alter_column("accounts", "note", type_=sa.String(20), existing_type=sa.String(200))
    op.drop_table("accounts")
'''


def _schema(url: str) -> dict[str, object]:
    """Tables, columns (name, type DDL, nullable), indexes, uniques, foreign keys, checks."""
    engine = sa.create_engine(url)
    try:
        inspector = sa.inspect(engine)
        found: dict[str, object] = {}
        for table in inspector.get_table_names():
            found[table] = {
                "columns": [
                    (c["name"], type(c["type"]).__name__, c["nullable"], c["default"] is not None)
                    for c in inspector.get_columns(table)
                ],
                "indexes": sorted(
                    (i["name"], tuple(i["column_names"]), bool(i["unique"]))
                    for i in inspector.get_indexes(table)
                    if not i.get("duplicates_constraint") and i["name"] != "fk_entries_account"
                ),
                "uniques": sorted(u["name"] for u in inspector.get_unique_constraints(table)),
                "fks": sorted(
                    (
                        tuple(f["constrained_columns"]),
                        f["referred_table"],
                        (f["options"] or {}).get("ondelete"),
                    )
                    for f in inspector.get_foreign_keys(table)
                ),
                "checks": sorted(c["name"] for c in inspector.get_check_constraints(table)),
            }
        return found
    finally:
        engine.dispose()


def test_operations_apply_and_revert(project: Project) -> None:
    project.write("migrations/versions/ops1_operations.py", OPERATIONS)
    config = project.config()
    command.upgrade(config, "head")
    schema = _schema(project.url)
    accounts = schema["accounts"]
    assert [c[0] for c in accounts["columns"]] == ["id", "display_name", "score"]
    assert accounts["columns"][2] == ("score", "INTEGER", False, True)
    assert accounts["indexes"] == [("ix_accounts_score", ("score",), False)] or accounts[
        "indexes"
    ] == [
        ("ix_accounts_score", ("score",), False),
        ("uq_accounts_display_name", ("display_name",), True),
    ]
    assert "uq_accounts_display_name" in accounts["uniques"]
    assert accounts["checks"] == ["ck_accounts_score"]
    assert schema["entries"]["fks"] == [(("account_id",), "accounts", "CASCADE")]
    engine = sa.create_engine(project.url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text("SELECT id, display_name, score FROM accounts ORDER BY id")
            ).all()
        assert [tuple(r) for r in rows] == [(1, "ada", 5), (2, "bob", 5)]
    finally:
        engine.dispose()

    command.downgrade(config, "base")
    assert set(_schema(project.url)) == {"alembic_version"}
