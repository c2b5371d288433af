"""The pre-2.0 home of ``declarative_base()`` and ``declared_attr`` (now in ``athanor.orm``),
and of the concrete-table mixins ``ConcreteBase`` and ``AbstractConcreteBase``."""

from athanor.orm.decl_api import (
    AbstractConcreteBase,
    ConcreteBase,
    DeclarativeMeta,
    declarative_base,
    declared_attr,
    has_inherited_table,
)

__all__ = [
    "AbstractConcreteBase",
    "ConcreteBase",
    "DeclarativeMeta",
    "declarative_base",
    "declared_attr",
    "has_inherited_table",
]
