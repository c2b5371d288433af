"""The pre-2.0 home of ``declarative_base()`` and ``declared_attr`` (now in ``athanor.orm``)."""

from athanor.orm.decl_api import DeclarativeMeta, declarative_base, declared_attr

__all__ = ["DeclarativeMeta", "declarative_base", "declared_attr"]
