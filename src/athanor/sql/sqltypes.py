"""``athanor.sql.sqltypes``: the generic column types, under the module path code written for
SQLAlchemy imports them from (``from athanor.sql.sqltypes import String``)."""

from athanor.types import *  # noqa: F403
from athanor.types import __all__ as _type_names

__all__ = list(_type_names)
