"""ORM events: what mappers, instances, attributes and sessions fire, with their arguments.

Listen as with Core events: ``event.listen(User, "before_insert", fn)`` (or on ``Mapper`` for
every mapper), ``event.listen(User.email, "set", fn, retval=True)``, and
``event.listen(session_or_Session_or_sessionmaker, "before_flush", fn)``.  A target nobody
listens to pays one empty-tuple check.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

MAPPER_EVENTS: dict[str, tuple[str, ...]] = {
    "before_insert": ("mapper", "connection", "target"),
    "after_insert": ("mapper", "connection", "target"),
    "before_update": ("mapper", "connection", "target"),
    "after_update": ("mapper", "connection", "target"),
    "before_delete": ("mapper", "connection", "target"),
    "after_delete": ("mapper", "connection", "target"),
    "mapper_configured": ("mapper", "class_"),
    "before_mapper_configured": ("mapper", "class_"),
    "instrument_class": ("mapper", "class_"),
    # the mapper holds its properties; configuration (relationships) comes later
    "after_mapper_constructed": ("mapper", "class_"),
    # once per configuration run, listened to on the Mapper class itself
    "before_configured": (),
    "after_configured": (),
    # instance events, fired by the mapper of the instance's class
    "init": ("target", "args", "kwargs"),
    "init_failure": ("target", "args", "kwargs"),
    "load": ("target", "context"),
    "refresh": ("target", "context", "attrs"),
    "refresh_flush": ("target", "flush_context", "attrs"),
    "expire": ("target", "attrs"),
    "pickle": ("target", "state_dict"),
    "unpickle": ("target", "state_dict"),
}

ATTRIBUTE_EVENTS: dict[str, tuple[str, ...]] = {
    "set": ("target", "value", "oldvalue", "initiator"),
    "append": ("target", "value", "initiator"),
    "remove": ("target", "value", "initiator"),
    "bulk_replace": ("target", "values", "initiator"),
    "init_scalar": ("target", "value", "dict_"),
    "init_collection": ("target", "collection", "collection_adapter"),
    "dispose_collection": ("target", "collection", "collection_adapter"),
    "modified": ("target", "initiator"),
}

_RETURNS_VALUE = {"set", "append", "init_scalar"}
_PASSES_VALUE = {"remove"}
"""Events whose listeners are fired in a chain as the value-returning ones are, but whose
return values mean nothing: each listener is given the removed item, whatever it returns."""


def adapt_attribute_listener(
    identifier: str, fn: Callable[..., Any], retval: bool
) -> Callable[..., Any]:
    """Make every ``set``/``append`` listener return the value to store (its own or the input)
    and every ``remove`` listener return the removed item."""
    if identifier not in _PASSES_VALUE and (identifier not in _RETURNS_VALUE or retval):
        return fn

    def keep_value(target: Any, value: Any, *args: Any) -> Any:
        fn(target, value, *args)
        return value

    return keep_value


class MapperEvents:
    """Names and arguments of mapper events (``before_insert(mapper, connection, target)`` ...)."""

    events = MAPPER_EVENTS


class InstanceEvents:
    """Names and arguments of instance events (``load(target, context)`` ...)."""

    events = {
        k: MAPPER_EVENTS[k]
        for k in (
            "init",
            "init_failure",
            "load",
            "refresh",
            "refresh_flush",
            "expire",
            "pickle",
            "unpickle",
        )
    }


class AttributeEvents:
    """Names and arguments of attribute events (``set(target, value, oldvalue, initiator)`` ...)."""

    events = ATTRIBUTE_EVENTS


class SessionEvents:
    """Names and arguments of session events (``before_flush(session, context, instances)``)."""

    @property
    def events(self) -> dict[str, tuple[str, ...]]:
        from athanor.orm.session import _SESSION_EVENTS

        return _SESSION_EVENTS
