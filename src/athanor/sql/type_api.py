"""``athanor.sql.type_api``: the bases of every type, under the module path code written for
SQLAlchemy imports them from (``from athanor.sql.type_api import TypeEngine``)."""

from athanor.sql.types import (
    BOOLEANTYPE,
    INTEGERTYPE,
    NULLTYPE,
    STRINGTYPE,
    TypeDecorator,
    TypeEngine,
    UserDefinedType,
    to_instance,
)

__all__ = [
    "BOOLEANTYPE",
    "INTEGERTYPE",
    "NULLTYPE",
    "STRINGTYPE",
    "TypeDecorator",
    "TypeEngine",
    "UserDefinedType",
    "to_instance",
]
