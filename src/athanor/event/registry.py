"""Listener storage: per-class and per-instance listener tuples, merged for fast dispatch.

Every event-capable class subclasses :class:`EventTarget` and declares the events it fires
with their argument names.  Each instance owns a :class:`Dispatch` whose attribute for an
event is a tuple of callables (empty when nobody listens), so firing code is simply
``for fn in self.dispatch.checkout: fn(...)`` guarded by ``if self.dispatch.checkout``.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from athanor.exc import InvalidRequestError

Listener = Callable[..., Any]

_lock = threading.RLock()

generation = 0
"""Counts listener changes (any target) of the events a cache may cover (all but a class's
``_uncached_events``): code that caches a "nobody listens" fact keeps the generation it saw
and works it out again when this has moved on."""

change_hooks: list[Callable[[], None]] = []
"""Called after every listener change that moves :data:`generation`, for what a cached
"nobody listens" fact put in place and must take back at once rather than at its next use."""


class Dispatch:
    """The merged listeners of one target instance, one tuple attribute per event name.

    A dispatch made with a ``parent`` (an engine's ``execution_options()`` copy) also runs
    the parent's instance listeners, first; its own listeners never reach the parent.
    """

    def __init__(
        self, target: EventTarget | type[EventTarget], parent: Dispatch | None = None
    ) -> None:
        """The dispatch of ``target``; a class as ``target`` makes the dispatch its instances
        share (``EventTarget._shared_dispatch``)."""
        cls = target if isinstance(target, type) else type(target)
        self._target_ref = None if isinstance(target, type) else weakref.ref(target)
        self._instance: dict[str, list[tuple[Listener, Listener]]] = {}
        self._parent = parent
        # Made on the first child only: most targets (sessions, connections) never get one.
        self._children: weakref.WeakSet[Dispatch] | None = None
        self._listened = False
        """Whether any event of the target has a listener: code with a path for when none
        does checks this one flag rather than each event it would fire."""
        if parent is not None:
            with _lock:
                if parent._children is None:
                    parent._children = weakref.WeakSet()
                parent._children.add(self)
        self._refresh(cls)

    if TYPE_CHECKING:
        # Each event's tuple is an instance attribute.  No __getattr__ at run time: Python
        # would route every attribute read through it, and these are read on every operation.
        def __getattr__(self, name: str) -> tuple[Listener, ...]: ...

    def _instance_listeners(self, name: str) -> list[Listener]:
        inherited = self._parent._instance_listeners(name) if self._parent is not None else []
        return inherited + [wrapped for _, wrapped in self._instance.get(name, ())]

    def _refresh(self, cls: type[EventTarget]) -> None:
        """Recompute each event's tuple from class-level and instance-level listeners."""
        self.__dict__.update(_class_merged(cls))
        if self._instance or self._parent is not None:
            for name in cls._event_signatures:
                extra = self._instance_listeners(name)
                if extra:
                    setattr(self, name, getattr(self, name) + tuple(extra))
        self._listened = any(getattr(self, name) for name in cls._event_signatures)
        for child in list(self._children) if self._children is not None else ():
            assert child._target_ref is not None
            target = child._target_ref()
            if target is not None:
                child._refresh(type(target))


_CLASS_REGISTRY: dict[type[Any], dict[str, list[tuple[Listener, Listener]]]] = {}


# Each class's class-level listeners merged along its MRO, per event; cleared on any change.
_MERGED: dict[type[Any], dict[str, tuple[Listener, ...]]] = {}


def _class_listeners(klass: type[Any], name: str) -> list[Listener]:
    return [wrapped for _, wrapped in _CLASS_REGISTRY.get(klass, {}).get(name, ())]


def _class_merged(cls: type[EventTarget]) -> dict[str, tuple[Listener, ...]]:
    merged = _MERGED.get(cls)
    if merged is None:
        with _lock:
            merged = {
                name: tuple(
                    wrapped
                    for klass in reversed(cls.__mro__)
                    for wrapped in _class_listeners(klass, name)
                )
                for name in cls._event_signatures
            }
            _MERGED[cls] = merged
    return merged


def class_listeners(cls: type[EventTarget], name: str) -> tuple[Listener, ...]:
    """The listeners of ``name`` registered on ``cls`` (or a base class of it) itself, for
    events that concern the class as a whole rather than any one of its instances."""
    return _class_merged(cls)[name]


class Propagator(Protocol):
    """A higher layer's handling of ``propagate=True`` for the targets it knows (mapped classes)."""

    def listen(
        self, target: Any, identifier: str, fn: Listener, propagate: bool, options: dict[str, Any]
    ) -> bool:
        """Register ``fn`` and return True if ``target`` is one of this layer's."""

    def remove(self, target: Any, identifier: str, fn: Listener) -> bool:
        """Unregister a listener registered through :meth:`listen`; True if it was one."""


propagators: list[Propagator] = []
"""Consulted by ``event.listen``/``event.remove`` before the plain registry."""


class EventTarget:
    """Mixin for objects that fire events; subclasses set ``_event_signatures``."""

    _event_signatures: ClassVar[dict[str, tuple[str, ...]]] = {}
    _live_instances: ClassVar[weakref.WeakSet[EventTarget]]
    _uncached_events: ClassVar[frozenset[str]] = frozenset()
    """Events whose listeners are only ever looked up when they fire, never cached as a
    "nobody listens" fact: adding or removing one leaves :data:`generation` alone, so the
    listeners every new engine gives its pool do not make others' caches be worked out
    again.  An event leaves this set as soon as some cache covers it."""
    _shared_dispatch: ClassVar[bool] = False
    """Whether instances share one dispatch of their class until they get listeners of their
    own: for targets made very often and rarely listened to (sessions)."""
    _class_dispatch: ClassVar[Dispatch]
    """With ``_shared_dispatch``: the dispatch shared, made by the first instance."""
    dispatch: Dispatch

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._live_instances = weakref.WeakSet()

    def _init_dispatch(self, parent: EventTarget | None = None) -> None:
        """Create this instance's dispatch, joined to ``parent``'s; call from ``__init__``."""
        cls = type(self)
        if parent is None and cls._shared_dispatch:
            shared: Dispatch | None = cls.__dict__.get("_class_dispatch")
            if shared is None:
                with _lock:
                    shared = Dispatch(cls)
                    cls._class_dispatch = shared
            self.dispatch = shared
            return
        self.dispatch = Dispatch(self, parent._own_dispatch() if parent is not None else None)
        with _lock:
            cls._live_instances.add(self)

    def _own_dispatch(self) -> Dispatch:
        """This instance's own dispatch (made now if it shared its class's), for adding
        instance-level listeners to."""
        if self.dispatch._target_ref is None:
            self.dispatch = Dispatch(self)
            with _lock:
                type(self)._live_instances.add(self)
        return self.dispatch

    def __getstate__(self) -> dict[str, Any]:
        """Pickled without its dispatch: listeners are code, not state (an unpickled table
        or metadata starts with no listeners of its own, its class's still apply)."""
        state = self.__dict__.copy()
        state.pop("dispatch", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._init_dispatch()

    @classmethod
    def _event_redirect(cls, target: Any, identifier: str) -> Any:
        """The object that really fires ``identifier`` (an engine hands pool events to its pool)."""
        return target

    @classmethod
    def _adapt_listener(cls, identifier: str, fn: Listener, retval: bool) -> Listener:
        """Wrap ``fn`` so that it matches what firing code expects for ``identifier``."""
        return fn


def _resolve(target: Any, identifier: str) -> tuple[Any, type[EventTarget]]:
    klass = target if isinstance(target, type) else type(target)
    redirect = getattr(klass, "_event_redirect", None)
    if redirect is None:
        raise _no_events(target)
    resolved = redirect(target, identifier)
    resolved_class = resolved if isinstance(resolved, type) else type(resolved)
    if not issubclass(resolved_class, EventTarget):
        raise _no_events(target)
    if identifier not in resolved_class._event_signatures:
        known = ", ".join(sorted(resolved_class._event_signatures))
        raise InvalidRequestError(
            f"No such event {identifier!r} for target {target!r}; events available: {known}"
        )
    return resolved, resolved_class


def _no_events(target: Any) -> Exception:
    return InvalidRequestError(
        f"{target!r} does not fire events; listen on an Engine, a Pool, or their classes"
    )


def _wrap_named(names: tuple[str, ...], fn: Listener) -> Listener:
    def call_named(*args: Any) -> Any:
        return fn(**dict(zip(names, args, strict=False)))

    return call_named


def _wrap_once(fn: Listener) -> Listener:
    done = threading.Event()
    once_lock = threading.Lock()

    def call_once(*args: Any) -> Any:
        with once_lock:
            if done.is_set():
                return None
            done.set()
        return fn(*args)

    return call_once


def add_listener(
    target: Any,
    identifier: str,
    fn: Listener,
    *,
    retval: bool = False,
    named: bool = False,
    once: bool = False,
    insert: bool = False,
) -> None:
    """Register ``fn`` for ``identifier`` on ``target`` (an instance or a class)."""
    resolved, resolved_class = _resolve(target, identifier)
    wrapped = _wrap_named(resolved_class._event_signatures[identifier], fn) if named else fn
    if once:
        wrapped = _wrap_once(wrapped)
    wrapped = resolved_class._adapt_listener(identifier, wrapped, retval)
    entry = (fn, wrapped)
    with _lock:
        if isinstance(resolved, type):
            bucket = _CLASS_REGISTRY.setdefault(resolved, {}).setdefault(identifier, [])
        else:
            bucket = resolved._own_dispatch()._instance.setdefault(identifier, [])
        if insert:
            bucket.insert(0, entry)
        else:
            bucket.append(entry)
        _refresh_affected(resolved, resolved_class, identifier)


def remove_listener(target: Any, identifier: str, fn: Listener) -> None:
    """Unregister ``fn``; raise ``InvalidRequestError`` if it was never registered."""
    resolved, resolved_class = _resolve(target, identifier)
    with _lock:
        if isinstance(resolved, type):
            bucket = _CLASS_REGISTRY.get(resolved, {}).get(identifier, [])
        else:
            bucket = resolved.dispatch._instance.get(identifier, [])
        for index, (original, _wrapped) in enumerate(bucket):
            if original is fn:
                del bucket[index]
                break
        else:
            raise InvalidRequestError(f"No listener {fn!r} for event {identifier!r} on {target!r}")
        _refresh_affected(resolved, resolved_class, identifier)


def has_listener(target: Any, identifier: str, fn: Listener) -> bool:
    """Tell whether ``fn`` is registered for ``identifier`` on ``target``."""
    resolved, _ = _resolve(target, identifier)
    with _lock:
        if isinstance(resolved, type):
            bucket = _CLASS_REGISTRY.get(resolved, {}).get(identifier, [])
        else:
            bucket = resolved.dispatch._instance.get(identifier, [])
        return any(original is fn for original, _ in bucket)


def _refresh_affected(resolved: Any, resolved_class: type[EventTarget], identifier: str) -> None:
    global generation
    _MERGED.clear()
    if identifier not in resolved_class._uncached_events:
        generation += 1
        for hook in change_hooks:
            hook()
    if not isinstance(resolved, type):
        resolved.dispatch._refresh(type(resolved))
        return
    for klass in _all_subclasses(resolved):
        shared = klass.__dict__.get("_class_dispatch")
        if shared is not None:
            shared._refresh(klass)
        for instance in list(klass._live_instances):
            if type(instance) is klass:
                instance.dispatch._refresh(klass)


def _all_subclasses(cls: type[EventTarget]) -> list[type[EventTarget]]:
    found = [cls]
    for sub in cls.__subclasses__():
        found.extend(_all_subclasses(sub))
    return found
