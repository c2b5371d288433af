"""``from athanor.migrate import context``: the running command's environment, for env.py.

Every attribute is looked up on the current
:class:`~athanor.migrate.environment.EnvironmentContext` (``context.config``,
``context.configure(...)``, ``context.run_migrations()``, ``context.is_offline_mode()`` ...).
"""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    from athanor.migrate.environment import EnvironmentContext

    return getattr(EnvironmentContext.current(), name)
