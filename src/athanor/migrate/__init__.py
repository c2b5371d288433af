"""Schema migrations, the Alembic workflow: revision files under ``versions/`` with
``upgrade()``/``downgrade()`` written with :mod:`athanor.migrate.op`, an ``env.py`` using
:mod:`athanor.migrate.context`, autogenerate from models, and the ``athanor migrate`` command.

Revision files say ``from athanor.migrate import op`` and ``import athanor as sa``.
"""

from athanor.migrate import context, op
from athanor.migrate.config import Config
from athanor.migrate.operations import Operations
from athanor.migrate.runtime import MigrationContext
from athanor.migrate.script import ScriptDirectory
from athanor.migrate.util import CommandError

__all__ = [
    "CommandError",
    "Config",
    "MigrationContext",
    "Operations",
    "ScriptDirectory",
    "context",
    "op",
]
