"""The dialect registry: which module implements ``backend+driver`` for a URL.

Driver modules are imported only when a URL asks for them, so a missing optional driver
costs nothing until it is used, and then the error names the extra to install.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from athanor import exc
from athanor.url.url import canonical_backend

if TYPE_CHECKING:
    from athanor.engine.default import DefaultDialect
    from athanor.url import URL

_REGISTRY: dict[str, str] = {
    "sqlite.pysqlite": "athanor.dialects.sqlite.pysqlite",
    "sqlite.aiosqlite": "athanor.dialects.sqlite.aiosqlite",
    "postgresql.psycopg": "athanor.dialects.postgresql.psycopg",
    "postgresql.psycopg_async": "athanor.dialects.postgresql.psycopg_async",
    "postgresql.asyncpg": "athanor.dialects.postgresql.asyncpg",
    "mysql.pymysql": "athanor.dialects.mysql.pymysql",
    "mysql.asyncmy": "athanor.dialects.mysql.asyncmy",
    "mysql.aiomysql": "athanor.dialects.mysql.aiomysql",
}
"""``backend.driver`` -> module whose ``dialect`` attribute is the dialect class."""


def register(key: str, module: str) -> None:
    """Make ``backend.driver`` load the ``dialect`` class of ``module`` (third-party drivers)."""
    _REGISTRY[key] = module


def resolve_key(url: URL) -> str:
    """The registry key (``"postgresql.psycopg"``) a URL names, with defaults applied."""
    backend = canonical_backend(url)
    driver = url.get_driver_name()
    key = f"{backend}.{driver}"
    if key not in _REGISTRY:
        drivers = sorted(k.split(".", 1)[1] for k in _REGISTRY if k.startswith(backend + "."))
        raise exc.NoSuchModuleError(
            f"Unknown driver {driver!r} for {backend}; available drivers: {', '.join(drivers)}"
        )
    return key


def load_dialect_class(key: str) -> type[DefaultDialect]:
    """Import and return the dialect class registered under ``key``."""
    module = importlib.import_module(_REGISTRY[key])
    dialect_class: type[DefaultDialect] = module.dialect
    return dialect_class
