"""``athanor.sql.naming``: naming conventions for constraints and indexes.

A name wrapped in :class:`conv` is final: a ``MetaData(naming_convention=...)`` template is
not applied to it (migrations write reflected names so).
"""

from athanor.sql.schema import DEFAULT_NAMING_CONVENTION, conv

__all__ = ["DEFAULT_NAMING_CONVENTION", "conv"]
