"""``from athanor.migrate import op``: the operations of the running revision.

Every attribute is looked up on the current :class:`~athanor.migrate.operations.Operations`
(``op.create_table(...)``, ``op.add_column(...)``, ``op.get_bind()`` ...).
"""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    from athanor.migrate.operations import Operations

    return getattr(Operations.current(), name)
