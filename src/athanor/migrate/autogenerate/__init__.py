"""Autogenerate: compare ``target_metadata`` with the database and write the operations that
make them agree into a revision file.

:func:`compare_metadata` is importable from here, where Alembic users look for it.
"""

from athanor.migrate.autogenerate.api import compare_metadata

__all__ = ["compare_metadata"]
