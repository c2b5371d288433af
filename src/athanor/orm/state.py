"""Instance state: which session an object belongs to, its identity, and its changes since load.

One small :class:`InstanceState` per mapped object, stored in the object's ``__dict__`` under
``_sa_instance_state``.  It holds the object weakly; the session's :class:`IdentityMap` holds
persistent objects weakly too, except modified ones, which it keeps alive until they are
flushed.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from athanor.orm import base
from athanor.orm.base import NO_CHANGES, NO_VALUE, STATE_KEY, _sessions

Dict = dict

if TYPE_CHECKING:
    from athanor.orm.mapper import Mapper
    from athanor.orm.session import Session

IdentityKey = tuple[type, tuple[Any, ...], Any]


class History(NamedTuple):
    """What changed in one attribute since it was loaded: added, unchanged and deleted values
    (a part with no values is ``()`` for a single-valued attribute)."""

    added: Sequence[Any]
    unchanged: Sequence[Any]
    deleted: Sequence[Any]

    def has_changes(self) -> bool:
        """Whether anything was added or deleted."""
        return bool(self.added or self.deleted)

    def empty(self) -> bool:
        """Whether the attribute has no value and no changes."""
        return not (self.added or self.unchanged or self.deleted)

    def non_deleted(self) -> list[Any]:
        """Added plus unchanged values."""
        return [*self.added, *self.unchanged]

    def non_added(self) -> list[Any]:
        """Unchanged plus deleted values."""
        return [*self.unchanged, *self.deleted]

    def sum(self) -> list[Any]:
        """Every value the history mentions."""
        return [*self.added, *self.unchanged, *self.deleted]


HISTORY_BLANK = History((), (), ())


_make_state = weakref.ref.__new__
"""``_make_state(InstanceState, obj)``: a bare state, one C call (the slots are then set by
the caller, as :func:`new_state` does)."""


class InstanceState(weakref.ref):  # type: ignore[type-arg]
    """The ORM's bookkeeping for one mapped object (``athanor.inspect(obj)`` returns it).

    The state is itself the weak reference to its object (``state()`` is the object) and
    the identity map's entry for it, so a mapped object costs the garbage collector three
    containers (object, ``__dict__``, state) plus its identity key, not five.  Equality and
    hashing are by identity, not by the referent as for a plain ``weakref.ref``.
    """

    __slots__ = (
        "_expired_names",
        "_info",
        "committed_state",
        "deleted",
        "expired",
        "key",
        "load_context",
        "mapper",
        "modified",
        "pending_appends",
        "session_id",
    )

    mapper: Mapper
    key: IdentityKey | None
    session_id: int | None
    committed_state: Mapping[str, Any]
    """The value each attribute changed since load had before (``NO_VALUE``: none).  It may
    be shared with other states and read-only (:data:`NO_CHANGES`; for new objects given the
    same attributes, the one their mapper keeps): :meth:`_own_committed` gives the state a
    copy of its own to change."""
    modified: bool
    expired: bool
    deleted: bool
    pending_appends: Dict[str, list[Any]] | None
    _info: Dict[Any, Any] | None
    _expired_names: Any
    """What was expired since the expired attributes last loaded on access: the names of
    :attr:`expired_attributes` (as loaded since or not), :data:`_EVERY_ATTRIBUTE` after the
    whole object was, None (or left unset, as a new or loaded state leaves it) when none."""
    _set_later = ("_expired_names",)
    """The fields the places that make states leave unset (read with a default), so that a
    loaded object costs no store for what few objects ever use."""
    load_context: Any
    """What the query that loaded this object asked of attribute access (raiseload, N+1)."""

    __hash__ = object.__hash__
    __eq__ = object.__eq__
    __ne__ = object.__ne__
    is_instance = True
    """What ``inspect()`` gave: the state of a mapped object (not a class or mapper)."""

    def __new__(cls, obj: Any, mapper: Mapper) -> InstanceState:
        return new_state(obj, mapper)

    def __init__(self, obj: Any, mapper: Mapper) -> None:
        """Set up by :meth:`__new__` (``weakref.ref.__init__`` would take ``mapper`` for a
        callback)."""

    # --- pickling: the state is rebuilt around the unpickled object ---------------------------

    def __reduce__(self) -> tuple[Any, ...]:
        data = {
            "mapper_class": self.mapper.class_,
            "key": self.key,
            "committed_state": dict(self.committed_state),
            "expired": self.expired,
            "info": self._info,
        }
        obj = self()
        for fn in self.mapper.dispatch.pickle:
            fn(obj, data)
        return (_unpickle_state, (obj, data))

    @property
    def obj(self) -> InstanceState:
        """A callable returning the object (the state itself), as in ``state.obj()``."""
        return self

    # --- lifecycle ----------------------------------------------------------------------------

    @property
    def class_(self) -> type:
        """The mapped class."""
        return self.mapper.class_

    @property
    def transient(self) -> bool:
        """Not in a session and never saved."""
        return self.key is None and self.session_id is None

    @property
    def pending(self) -> bool:
        """Added to a session, not flushed yet."""
        return self.key is None and self.session_id is not None

    @property
    def persistent(self) -> bool:
        """In a session with a database identity."""
        return self.key is not None and self.session_id is not None and not self.deleted

    @property
    def was_deleted(self) -> bool:
        """Deleted by a flush (the object may since have been detached by the commit)."""
        return self.deleted or self._was_deleted

    _was_deleted = False
    """Whether a commit detached the object after its DELETE: the class of such a state
    (:class:`_DeletedState`) says so, so that no other state pays a field for it."""

    @property
    def detached(self) -> bool:
        """Has a database identity but belongs to no session."""
        return self.key is not None and self.session_id is None

    @property
    def has_identity(self) -> bool:
        """Whether the object has a database identity."""
        return self.key is not None

    @property
    def identity_key(self) -> IdentityKey | None:
        """``(class, primary key tuple, identity token)`` or None."""
        return self.key

    @property
    def identity_token(self) -> Any:
        """The ``identity_token`` the object was loaded with (part of its identity key)."""
        return None if self.key is None else self.key[2]

    @property
    def identity(self) -> tuple[Any, ...] | None:
        """The primary key tuple, or None before the first flush."""
        return None if self.key is None else self.key[1]

    @property
    def session(self) -> Session | None:
        """The session the object belongs to, or None."""
        return None if self.session_id is None else _sessions.get(self.session_id)

    @property
    def async_session(self) -> Any:
        """The AsyncSession proxying the owning session, if any."""
        session = self.session
        return None if session is None else getattr(session, "_proxied_by", None)

    @property
    def object(self) -> Any:
        """The mapped object (None if it was garbage collected)."""
        return self()

    @property
    def dict(self) -> Dict[str, Any]:
        """The object's ``__dict__``."""
        obj = self.object
        found: Dict[str, Any] = {} if obj is None else obj.__dict__
        return found

    @property
    def info(self) -> Dict[Any, Any]:
        """A dict for user data attached to this state."""
        if self._info is None:
            self._info = {}
        return self._info

    @property
    def mapper_class(self) -> type:
        return self.mapper.class_

    @property
    def attrs(self) -> _AttributeStates:
        """Per-attribute views: ``inspect(obj).attrs.name.history``."""
        return _AttributeStates(self)

    @property
    def unloaded(self) -> set[str]:
        """Names of attributes with no loaded value."""
        d = self.dict
        mapper = self.mapper
        found = {key for key in mapper._attribute_keys if key not in d}
        # A synonym has no value of its own: it always counts as unloaded.
        found.update(mapper.synonyms.keys())
        return found

    @property
    def expired_attributes(self) -> set[str]:
        """Names of the attributes expired and not loaded since, as SQLAlchemy counts them:
        every mapped attribute once the whole object was expired, the column attributes named
        to a partial expire; none once an expired attribute loaded on access (which loads the
        expired columns).  A deferred column never loaded is not expired."""
        names = getattr(self, "_expired_names", None)
        if names is _EVERY_ATTRIBUTE:
            names = self.mapper._props
        elif names is None:
            if not self.expired:
                return set()
            # Expired by a flush that read no server-generated value back: the columns the
            # object's load fetches that it has not.
            names = [key for key, _ in self.mapper._load_columns]
        d = self.dict
        return {key for key in names if key not in d}

    def _expired_loaded(self, key: str | None) -> None:
        """After ``key`` (None: the whole object, as ``Session.get()`` does) loaded on access:
        if it was expired, the load fetched the expired columns too, and nothing is expired."""
        names = getattr(self, "_expired_names", None)
        if names is not None and (key is None or names is _EVERY_ATTRIBUTE or key in names):
            self._expired_names = None

    def _relationships_reset(self) -> None:
        """After a load replacing the object's values (``populate_existing``) unloaded its
        relationships: they load afresh on access, no longer counting as expired."""
        if getattr(self, "_expired_names", None) is not None:
            self._expired_names = self.expired_attributes.difference(self.mapper._relationship_keys)

    @property
    def unmodified(self) -> set[str]:
        """Names of the mapped attributes without uncommitted changes, loaded or not."""
        return set(self.mapper._props).difference(self.committed_state)

    def unmodified_intersection(self, keys: Iterable[str]) -> set[str]:
        """Those of ``keys`` that name mapped attributes without uncommitted changes."""
        return set(keys).intersection(self.mapper._props).difference(self.committed_state)

    # --- change tracking ----------------------------------------------------------------------

    def _own_committed(self) -> Dict[str, Any]:
        """:attr:`committed_state` to change: the state's own dict, made from the shared one
        first if need be."""
        committed = self.committed_state
        if isinstance(committed, dict):
            return committed
        own = self.committed_state = dict(committed)
        return own

    def _modified_event(self, obj: Any) -> None:
        """Note that ``obj`` changed: its session keeps it alive until the next flush."""
        if not self.modified:
            self.modified = True
            if self.session_id is not None and self.key is not None:
                session = _sessions.get(self.session_id)
                if session is not None:
                    session.identity_map._modified[self] = obj

    def _commit_all(self) -> None:
        """Forget the changes: the current values are now the database's."""
        self.committed_state = NO_CHANGES
        self.modified = False
        self.expired = False
        self.pending_appends = None

    def _expire(self, dict_: Dict[str, Any], keys: Any = None) -> None:
        """Drop loaded values (all mapped attributes, or ``keys``) so they load again on access."""
        if keys is None:
            expire_states((self,))
            return
        columns = self.mapper._column_keys
        names = self.expired_attributes
        for key in keys:
            dict_.pop(key, None)
            if key in self.committed_state:
                self._own_committed().pop(key)
            if key in columns:
                names.add(key)
        self._expired_names = names
        self.expired = True
        listeners = self.mapper.dispatch.expire
        if listeners:
            obj = self.object
            if obj is not None:
                for fn in listeners:
                    fn(obj, set(keys))

    def _history(self, key: str) -> History:
        from athanor.orm.attributes import attribute_history

        obj = self.object
        if obj is None:
            return HISTORY_BLANK
        return attribute_history(obj, key)

    def __repr__(self) -> str:
        status = (
            "transient"
            if self.transient
            else "pending"
            if self.pending
            else "deleted"
            if self.deleted
            else "persistent"
            if self.persistent
            else "detached"
        )
        return f"<InstanceState of {self.mapper.class_.__name__} {status} key={self.key}>"


class _DeletedState(InstanceState):
    """The state of an object whose DELETE was committed (what a commit turns it into)."""

    __slots__ = ()
    _was_deleted = True


def commit_states(states: Iterable[InstanceState]) -> None:
    """:meth:`InstanceState._commit_all` for each of ``states`` with anything to forget, in
    one loop rather than a call per object (what a flush does to the objects it wrote)."""
    for state in states:
        # modified first: most written objects are, and it is the cheapest to read.
        if state.modified or state.committed_state or state.pending_appends is not None:
            state.committed_state = NO_CHANGES
            state.modified = False
            state.expired = False
            state.pending_appends = None


def expire_states(states: Iterable[InstanceState]) -> None:
    """Drop every mapped attribute's value from the objects of ``states`` (and their changes),
    so that each loads again on access: what a commit does to all of a session's objects, in
    one loop rather than a call per object (what a mapper says is read once per run of its
    objects)."""
    mapper: Mapper | None = None
    keys: Sequence[str] = ()
    drop: Callable[[list[Dict[str, Any]]], None] = _no_drop
    listeners: Any = None
    # Of a run of objects nobody listens to the expiry of: their __dicts__, whose values
    # are then dropped by the mapper's _dropper(), in one pass over them.
    dicts: list[Dict[str, Any]] = []
    for state in states:
        obj = state()
        if obj is None:
            continue
        if state.mapper is not mapper:
            if dicts:
                drop(dicts)
                dicts = []
            mapper = state.mapper
            keys = mapper._attribute_keys
            drop = _dropper(mapper)
            listeners = mapper.dispatch.expire
        state.committed_state = NO_CHANGES
        state.modified = False
        state.pending_appends = None
        state.expired = True
        state._expired_names = _EVERY_ATTRIBUTE
        if listeners:
            d = obj.__dict__
            for key in keys:
                d.pop(key, None)
            for fn in listeners:
                fn(obj, None)
        else:
            dicts.append(obj.__dict__)
    if dicts:
        drop(dicts)


_EVERY_ATTRIBUTE: Any = object()
"""What :attr:`InstanceState._expired_names` holds once the whole object was expired."""


def _no_drop(dicts: list[Dict[str, Any]]) -> None:
    """Where :func:`expire_states` starts, before its first object's mapper gives the
    function that drops values (nothing to drop yet)."""


def _dropper(mapper: Mapper) -> Callable[[list[Dict[str, Any]]], None]:
    r"""A function that removes the values of ``mapper``'s attributes from each of the
    ``__dict__``\ s it is given (where present), made once per set of attribute keys.

    One pass over the dicts deleting the keys by name, written as straight-line code, where
    a loop over the keys (or a pass per key) costs several times as much for the many
    objects a commit expires; a dict without one of the keys goes key by key."""
    keys = mapper._attribute_keys
    cached = mapper.__dict__.get("_dropper")
    if cached is not None and cached[0] is keys:
        found: Callable[[list[Dict[str, Any]]], None] = cached[1]
        return found
    # Keys are written as literals (repr), so any attribute name is safe here.
    lines = ["def drop(dicts):", "    for d in dicts:", "        try:"]
    lines += [f"            del d[{key!r}]" for key in keys] or ["            pass"]
    lines += [
        "        except KeyError:",
        "            for key in keys:",
        "                pop(d, key, None)",
    ]
    namespace: dict[str, Any] = {"keys": keys, "pop": dict.pop}
    exec("\n".join(lines), namespace)
    found = namespace["drop"]
    mapper.__dict__["_dropper"] = (keys, found)
    return found


def new_state(
    obj: Any,
    mapper: Mapper,
    key: IdentityKey | None = None,
    session_id: int | None = None,
    load_context: Any = None,
    committed: Mapping[str, Any] = NO_CHANGES,
) -> InstanceState:
    """The state of ``obj``: a new (transient) object of ``mapper`` (with ``committed``, the
    attributes set since it was made), or with ``key``, ``session_id`` and ``load_context``
    one a query just loaded into that session.

    The loader of :mod:`athanor.orm.loading` sets the same fields itself, without a call per
    object: a field added here is added there too."""
    state: InstanceState = _make_state(InstanceState, obj)
    state.mapper = mapper
    state.key = key
    state.session_id = session_id
    state.committed_state = committed
    state.modified = committed is not NO_CHANGES
    state.expired = False
    state.deleted = False
    state.pending_appends = None
    state._info = None
    state.load_context = load_context
    return state


def _unpickle_state(obj: Any, data: dict[str, Any]) -> InstanceState:
    """A detached object's state, rebuilt around the unpickled ``obj``."""
    from athanor.orm.base import class_mapper

    state = new_state(obj, class_mapper(data["mapper_class"], configure=False))
    state.key = data["key"]
    state.committed_state = data["committed_state"]
    state.expired = data["expired"]
    state._info = data["info"]
    for fn in state.mapper.dispatch.unpickle:
        fn(obj, data)
    return state


base._state_class = InstanceState


class AttributeState:
    """One attribute of one object: its value, loaded value and history."""

    __slots__ = ("key", "state")

    def __init__(self, state: InstanceState, key: str) -> None:
        self.state = state
        self.key = key

    @property
    def value(self) -> Any:
        """The current value (loads it if needed)."""
        return getattr(self.state.object, self.key)

    @property
    def loaded_value(self) -> Any:
        """The value in ``__dict__``, or NO_VALUE when not loaded."""
        return self.state.dict.get(self.key, NO_VALUE)

    @property
    def history(self) -> History:
        """Changes since the value was loaded (does not load anything)."""
        return self.state._history(self.key)

    def load_history(self) -> History:
        """The history, loading the value first if needed."""
        getattr(self.state.object, self.key)
        return self.state._history(self.key)


class _AttributeStates:
    __slots__ = ("_state",)

    def __init__(self, state: InstanceState) -> None:
        self._state = state

    def __getattr__(self, key: str) -> AttributeState:
        mapper = self._state.mapper
        if key not in mapper._attribute_keys and not (
            key in mapper._props and mapper._props[key].is_composite
        ):
            raise AttributeError(f"{self._state.class_.__name__} has no mapped attribute {key!r}")
        return AttributeState(self._state, key)

    def __getitem__(self, key: str) -> AttributeState:
        try:
            return self.__getattr__(key)
        except AttributeError as error:
            raise KeyError(key) from error

    def __iter__(self) -> Iterator[AttributeState]:
        return (AttributeState(self._state, k) for k in self._state.mapper._attribute_keys)

    def __len__(self) -> int:
        return len(self._state.mapper._attribute_keys)

    def keys(self) -> list[str]:
        return list(self._state.mapper._attribute_keys)


class IdentityMap:
    """One object per database identity in a session, held weakly unless it has changes.

    ``_dict`` maps each identity key to the object's :class:`InstanceState`, which is a
    weak reference to the object.  A collected object's entry stays until :meth:`prune`
    (every reader treats it as absent): a weak reference callback would cost each object
    a call when it is collected.
    """

    __slots__ = ("__weakref__", "_dict", "_modified", "_prune_at")

    def __init__(self) -> None:
        self._dict: Dict[IdentityKey, InstanceState] = {}
        self._modified: Dict[InstanceState, Any] = {}
        self._prune_at = _PRUNE_MIN
        """The size of ``_dict`` from which :meth:`prune_if_grown` prunes it."""

    def has_objects(self) -> bool:
        """Whether an object of the map is alive (what ``len()`` says, stopping at the first
        live one): the entries of collected objects left until :meth:`prune` count for none."""
        # A plain loop: any() over a generator costs a frame more, on every commit.
        for state in self._dict.values():  # noqa: SIM110
            if state() is not None:
                return True
        return False

    def prune_if_grown(self) -> None:
        """:meth:`prune` once the map has doubled since it last did (called where objects
        are added to it), so that its size stays bounded by twice the live objects'."""
        if len(self._dict) >= self._prune_at:
            self.prune()

    def make_room(self, coming: int) -> None:
        """Before the entries of ``coming`` objects that are alive are added in one go (a
        flush's inserted objects): what :meth:`prune_if_grown` would do once they are in,
        without going through them, each of which a prune would find alive."""
        found = self._dict
        if len(found) + coming >= self._prune_at:
            if found:
                self.prune()
            self._prune_at = max(self._prune_at, 2 * (len(found) + coming))

    def prune(self) -> None:
        """Forget the entries of collected objects."""
        found = self._dict
        # A copy, made in one step, to iterate: other threads may add objects meanwhile.
        for key, state in found.copy().items():
            if state() is None and found.get(key) is state:
                del found[key]
        self._prune_at = max(_PRUNE_MIN, 2 * len(found))

    def add(self, key: IdentityKey, obj: Any) -> None:
        self.keep(key, obj.__dict__[STATE_KEY])

    def keep(self, key: IdentityKey, state: InstanceState) -> None:
        """Hold ``state`` under ``key``, pruning collected objects' entries once the map has
        grown enough (:meth:`prune_if_grown`)."""
        found = self._dict
        found[key] = state
        if len(found) >= self._prune_at:
            self.prune()

    def get_object(self, key: IdentityKey) -> Any:
        ref = self._dict.get(key)
        return None if ref is None else ref()

    def discard(self, key: IdentityKey, obj: Any = None) -> None:
        ref = self._dict.get(key)
        if ref is not None and (obj is None or ref() is obj):
            del self._dict[key]

    def __contains__(self, key: object) -> bool:
        ref = self._dict.get(key)  # type: ignore[call-overload]
        return ref is not None and ref() is not None

    def __getitem__(self, key: IdentityKey) -> Any:
        obj = self.get_object(key)
        if obj is None:
            raise KeyError(key)
        return obj

    def get(self, key: IdentityKey, default: Any = None) -> Any:
        obj = self.get_object(key)
        return default if obj is None else obj

    def __len__(self) -> int:
        return sum(1 for ref in list(self._dict.values()) if ref() is not None)

    def keys(self) -> list[IdentityKey]:
        return [k for k, ref in list(self._dict.items()) if ref() is not None]

    def values(self) -> list[Any]:
        return [obj for ref in list(self._dict.values()) if (obj := ref()) is not None]

    def items(self) -> list[tuple[IdentityKey, Any]]:
        return [(k, obj) for k, ref in list(self._dict.items()) if (obj := ref()) is not None]

    def __iter__(self) -> Iterator[IdentityKey]:
        return iter(self.keys())

    def all_states(self) -> list[InstanceState]:
        return [obj.__dict__[STATE_KEY] for obj in self.values()]

    def clear(self) -> None:
        self._dict.clear()
        self._modified.clear()
        self._prune_at = _PRUNE_MIN


_PRUNE_MIN = 64
"""The fewest entries an identity map holds before it looks for collected objects' ones."""
