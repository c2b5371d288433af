"""ORM helpers that work on classes and instances (``identity_key``), as ``athanor.orm.util``."""

from __future__ import annotations

from typing import Any

from athanor import exc as sa_exc
from athanor.orm.aliased import aliased
from athanor.orm.base import class_mapper, instance_state, object_mapper
from athanor.orm.relationships import with_parent
from athanor.orm.session import _normalize_ident

__all__ = ["aliased", "class_mapper", "identity_key", "object_mapper", "with_parent"]


def identity_key(
    class_: type | None = None,
    ident: Any = None,
    *,
    instance: Any = None,
    row: Any = None,
    identity_token: Any = None,
) -> tuple[type, tuple[Any, ...], Any]:
    """The identity-map key ``(class, primary key tuple, identity token)`` of a primary key
    (``identity_key(User, 5)``), of an object (``instance=``) or of a row (``row=``)."""
    if instance is not None:
        state = instance_state(instance)
        if state.key is not None:
            return state.key
        mapper = object_mapper(instance)
        return mapper.identity_key_from_instance(instance)
    if class_ is None:
        raise sa_exc.ArgumentError("identity_key() needs a class with ident= or row=, or instance=")
    mapper = class_mapper(class_)
    if row is not None:
        values = tuple(row._mapping[c] for c in mapper.primary_key)
        return (mapper._identity_class, values, identity_token)
    if ident is None:
        raise sa_exc.ArgumentError("identity_key() needs the primary key: identity_key(User, 5)")
    key = ident if isinstance(ident, tuple) else _normalize_ident(mapper, ident)
    return (mapper._identity_class, key, identity_token)
