"""The pre-2.0 home of ``declarative_base()`` and ``declared_attr`` (now in ``athanor.orm``),
of the concrete-table mixins ``ConcreteBase`` and ``AbstractConcreteBase``, and of
``DeferredReflection``."""

from athanor.ext.declarative.deferred_reflection import DeferredReflection
from athanor.orm.decl_api import (
    AbstractConcreteBase,
    ConcreteBase,
    DeclarativeMeta,
    as_declarative,
    declarative_base,
    declared_attr,
    has_inherited_table,
)
from athanor.orm.properties import synonym_for

__all__ = [
    "AbstractConcreteBase",
    "ConcreteBase",
    "DeclarativeMeta",
    "DeferredReflection",
    "as_declarative",
    "declarative_base",
    "declared_attr",
    "has_inherited_table",
    "synonym_for",
]
