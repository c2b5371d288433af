"""ORM helpers that work on classes and instances (``identity_key``), as ``athanor.orm.util``."""

from __future__ import annotations

from typing import Any

from athanor import exc as sa_exc
from athanor.orm.aliased import aliased
from athanor.orm.base import MAPPER_KEY, class_mapper, instance_state, object_mapper
from athanor.orm.loading import merge_frozen_result
from athanor.orm.relationships import with_parent
from athanor.orm.session import Session, _normalize_ident
from athanor.sql.selectable import Join

__all__ = [
    "aliased",
    "class_mapper",
    "create_session",
    "identity_key",
    "join",
    "merge_frozen_result",
    "merge_result",
    "object_mapper",
    "outerjoin",
    "was_deleted",
    "with_parent",
]


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


def join(
    left: Any, right: Any, onclause: Any = None, isouter: bool = False, full: bool = False
) -> Join:
    """``left JOIN right`` where either side may be a mapped or aliased class and
    ``onclause`` a relationship attribute (``join(User, Address, User.addresses)``), whose
    ON clause (through its secondary table, for many-to-many) is then used."""
    steps = None
    orm_target = getattr(type(onclause), "_orm_join_target", None)
    if orm_target is not None:
        steps = orm_target(onclause, right)
    if steps is None:
        return Join(left, right, onclause, isouter=isouter, full=full)
    joined: Any = left
    for target, on in steps:
        joined = Join(joined, target, on, isouter=isouter, full=full)
    result: Join = joined
    return result


def outerjoin(left: Any, right: Any, onclause: Any = None, full: bool = False) -> Join:
    """``left LEFT OUTER JOIN right``, as :func:`join` reads its arguments."""
    return join(left, right, onclause, isouter=True, full=full)


def was_deleted(obj: Any) -> bool:
    """Whether ``obj`` was deleted by a flush (it stays so until it is made transient)."""
    return bool(instance_state(obj).was_deleted)


def create_session(bind: Any = None, **kwargs: Any) -> Session:
    """A :class:`Session` with the legacy defaults: no autoflush and no expiry on commit
    (either may be given)."""
    kwargs.setdefault("autoflush", False)
    kwargs.setdefault("expire_on_commit", False)
    return Session(bind=bind, **kwargs)


def _is_mapped_object(value: Any) -> bool:
    return value is not None and getattr(type(value), MAPPER_KEY, None) is not None


def merge_result(query: Any, iterator: Any, load: bool = True) -> list[Any]:
    """The legacy form of :func:`~athanor.orm.loading.merge_frozen_result`: the objects
    (or rows) of ``iterator`` merged into ``query``'s session."""
    session: Session = query.session
    autoflush = session.autoflush
    session.autoflush = False
    try:
        merged: list[Any] = []
        for item in iterator:
            if _is_mapped_object(item):
                merged.append(session.merge(item, load=load))
            elif isinstance(item, tuple) or hasattr(item, "_mapping"):
                merged.append(
                    tuple(session.merge(v, load=load) if _is_mapped_object(v) else v for v in item)
                )
            else:
                merged.append(item)
        return merged
    finally:
        session.autoflush = autoflush
