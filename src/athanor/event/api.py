"""The public event functions: ``listen``, ``listens_for``, ``remove`` and ``contains``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from athanor.event.registry import add_listener, has_listener, propagators, remove_listener

_F = TypeVar("_F", bound=Callable[..., Any])


def listen(target: Any, identifier: str, fn: Callable[..., Any], **options: Any) -> None:
    """Call ``fn`` whenever ``target`` fires ``identifier``.

    Options: ``retval=True`` (the listener's return value replaces the event's arguments where
    the event allows it), ``named=True`` (arguments passed by keyword), ``once=True``,
    ``insert=True`` (run before existing listeners), ``propagate=True`` (on a class: its
    subclasses, including ones defined later, fire the event too); a target may take options
    of its own (a mapped attribute: ``active_history=True``).
    """
    unknown = set(options) - {"retval", "named", "once", "insert", "propagate"}
    own: frozenset[str] = getattr(target, "_listen_options", frozenset())
    if unknown - own:
        raise TypeError(f"listen() got unexpected option(s): {', '.join(sorted(unknown - own))}")
    if unknown:
        target._apply_listen_options({name: options.pop(name) for name in unknown})
    propagate = options.pop("propagate", False)
    for propagator in propagators:
        if propagator.listen(target, identifier, fn, propagate, options):
            return
    add_listener(target, identifier, fn, **options)


def listens_for(target: Any, identifier: str, **options: Any) -> Callable[[_F], _F]:
    """Decorator form of :func:`listen`."""

    def decorate(fn: _F) -> _F:
        listen(target, identifier, fn, **options)
        return fn

    return decorate


def remove(target: Any, identifier: str, fn: Callable[..., Any]) -> None:
    """Stop calling ``fn`` for ``identifier`` on ``target``."""
    for propagator in propagators:
        if propagator.remove(target, identifier, fn):
            return
    remove_listener(target, identifier, fn)


def contains(target: Any, identifier: str, fn: Callable[..., Any]) -> bool:
    """Tell whether ``fn`` listens for ``identifier`` on ``target``."""
    return has_listener(target, identifier, fn)
