"""Names shared by every ORM module: ``Mapped``, sentinels, and the way from an object to its state.

An instance's state lives in ``obj.__dict__["_sa_instance_state"]`` (web frameworks skip keys
starting with ``_sa`` when they serialise objects); attribute values live in ``obj.__dict__``
under their attribute names, so reading a loaded attribute is one dict lookup.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

from athanor.orm import exc as orm_exc

if TYPE_CHECKING:
    from athanor.orm.attributes import InstrumentedAttribute
    from athanor.orm.mapper import Mapper
    from athanor.orm.session import Session
    from athanor.orm.state import InstanceState

_T = TypeVar("_T")

STATE_KEY = "_sa_instance_state"
MAPPER_KEY = "__mapper__"

LOAD_KIND = "_orm_load"
"""Execution option marking a statement the ORM runs to load something for objects it
already has (``ORMExecuteState.is_relationship_load`` / ``is_column_load``)."""
RELATIONSHIP_LOAD = {LOAD_KIND: "relationship"}
LAZY_LOADED_FROM = "_orm_lazy_loaded_from"
"""The execution option naming the state whose relationship a lazy load loads."""
"""The execution options of lazy and eager relationship loads."""
COLUMN_LOAD = {LOAD_KIND: "column"}
"""The execution options of loads of deferred or expired columns."""
LOADED_MAPPER = "_orm_loaded_mapper"
"""The execution option naming the mapper whose columns a column load loads, given when
``do_orm_execute`` listeners are there to be told (``ORMExecuteState.bind_mapper``)."""


class _Symbol:
    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name

    def __reduce__(self) -> str:
        return self.name


NO_VALUE: Any = _Symbol("NO_VALUE")
"""An attribute that has no value in ``__dict__`` (never set, or expired)."""

NO_CHANGES: Mapping[str, Any] = MappingProxyType({})
"""The committed state of every object without changes: shared and read-only, so that
loading or committing an object makes no dict for it (see
``InstanceState.committed_state``)."""

NEVER_SET = NO_VALUE

NO_KEY: Any = _Symbol("NO_KEY")
"""The identity key of an object that has none (not persistent)."""

OP_APPEND: Any = _Symbol("APPEND")
"""The operation of an attribute event's ``initiator``: an object added to a collection."""
OP_REMOVE: Any = _Symbol("REMOVE")
"""The operation of an attribute event's ``initiator``: an object taken from a collection."""
OP_REPLACE: Any = _Symbol("REPLACE")
"""The operation of an attribute event's ``initiator``: a scalar attribute set."""
OP_BULK_REPLACE: Any = _Symbol("BULK_REPLACE")
"""The operation of an attribute event's ``initiator``: a whole collection assigned."""
OP_MODIFIED: Any = _Symbol("MODIFIED")
"""The operation of an attribute event's ``initiator``: ``flag_modified()``."""
EXT_CONTINUE: Any = _Symbol("EXT_CONTINUE")
"""What an extension hook returns to let the next one run."""
EXT_STOP: Any = _Symbol("EXT_STOP")
"""What an extension hook returns to stop the hooks after it."""
EXT_SKIP: Any = _Symbol("EXT_SKIP")
"""What an extension hook returns to skip the default behaviour."""


class Mapped(Generic[_T]):
    """The annotation of a mapped attribute: ``name: Mapped[str] = mapped_column(...)``.

    At class level the attribute becomes an :class:`InstrumentedAttribute` (a SQL expression);
    on instances it is the plain value.
    """

    __slots__ = ()

    if TYPE_CHECKING:

        @overload
        def __get__(self, instance: None, owner: Any) -> InstrumentedAttribute[_T]: ...

        @overload
        def __get__(self, instance: object, owner: Any) -> _T: ...

        def __get__(self, instance: object | None, owner: Any) -> Any: ...

        def __set__(self, instance: Any, value: Any) -> None: ...

        def __delete__(self, instance: Any) -> None: ...


class WriteOnlyMapped(Mapped[_T]):
    """The annotation of a ``lazy="write_only"`` collection."""

    __slots__ = ()


class DynamicMapped(Mapped[_T]):
    """The annotation of a ``lazy="dynamic"`` collection."""

    __slots__ = ()


class _SessionRegistry:
    """Open sessions by their ``hash_key``, held weakly; an instance state names its session
    by that key.

    What a ``WeakValueDictionary`` does, for less per new session: a session adds a plain
    weak reference to :attr:`refs` itself (no callback to make now and to run when it is
    collected), and :meth:`sweep` forgets the references of collected sessions whenever
    ``refs`` has doubled since it last did, so their number stays bounded by the live ones.
    """

    __slots__ = ("refs", "sweep_at")

    def __init__(self) -> None:
        self.refs: dict[int, weakref.ref[Session]] = {}
        self.sweep_at = _SWEEP_MIN

    def sweep(self) -> None:
        """Forget the references of collected sessions (``Session.__init__`` calls it when
        ``refs`` reaches ``sweep_at``)."""
        refs = self.refs
        # A copy, made in one step, to iterate: other threads may add sessions meanwhile.
        for key, ref in refs.copy().items():
            if ref() is None:
                refs.pop(key, None)
        self.sweep_at = max(_SWEEP_MIN, 2 * len(refs))

    def get(self, key: int | None) -> Session | None:
        ref = self.refs.get(key)  # type: ignore[arg-type]
        return None if ref is None else ref()

    def values(self) -> list[Session]:
        return [s for ref in list(self.refs.values()) if (s := ref()) is not None]


_SWEEP_MIN = 64
"""The fewest references the session registry holds before it looks for dead ones."""

_sessions = _SessionRegistry()


def instance_state(obj: Any) -> InstanceState:
    """The state of a mapped instance, created on first use; raises for unmapped objects."""
    try:
        state: InstanceState = obj.__dict__[STATE_KEY]
    except KeyError:
        return _new_state(obj)
    except AttributeError:
        raise orm_exc.UnmappedInstanceError(obj) from None
    return state


def _new_state(obj: Any) -> InstanceState:
    """The state of ``obj``, a mapped object that has none yet, made and stored now."""
    cls = type(obj)
    mapper: Mapper | None = getattr(cls, MAPPER_KEY, None)
    if mapper is None:
        raise orm_exc.UnmappedInstanceError(obj)
    if mapper.class_ is not cls:
        if not isinstance(obj, mapper.class_):
            raise orm_exc.UnmappedInstanceError(obj)
        mapper = mapper._for_class(cls)
    d = obj.__dict__
    # Column values stored before the object had a state (the declarative constructor
    # stores them as they are) were set since the object was made, as if one by one: the
    # committed state of such an object is the one its mapper keeps for objects with those
    # very keys (shared until changed, see InstanceState.committed_state).
    committed = _fresh_committed(mapper, tuple(d)) if d else NO_CHANGES
    # The fields new_state() sets, without its call.
    state: InstanceState = _make_state(_state_class, obj)
    state.mapper = mapper
    state.key = None
    state.session_id = None
    state.committed_state = committed
    state.modified = committed is not NO_CHANGES
    state.expired = False
    state.deleted = False
    state.pending_appends = None
    state._info = None
    state.load_context = None
    d[STATE_KEY] = state
    return state


def _fresh_committed(mapper: Mapper, keys: tuple[str, ...]) -> Mapping[str, Any]:
    """The committed state of a new object of ``mapper`` whose ``__dict__`` has ``keys``: its
    column attributes among them, as never set before (``NO_CHANGES`` for none).  Read-only
    and kept by the mapper, for every such object, when every key is one (bounded: other
    keys could come in any number)."""
    usual = mapper._fresh_committed
    found = usual.get(keys)
    if found is not None:
        return found
    committed = dict.fromkeys(filter(mapper._plain_scalar_impls.__contains__, keys), NO_VALUE)
    if not committed:
        return NO_CHANGES
    if len(committed) == len(keys) and len(usual) < _FRESH_KEYS_MAX:
        found = usual[keys] = MappingProxyType(committed)
        return found
    return committed


_FRESH_KEYS_MAX = 32
"""The most key tuples a mapper keeps the committed state of new objects for."""

_make_state: Any = weakref.ref.__new__
_state_class: Any = None
"""``InstanceState`` (set by :mod:`athanor.orm.state`, which imports this module)."""


def instance_dict(obj: Any) -> dict[str, Any]:
    """The dict holding an instance's attribute values."""
    return obj.__dict__  # type: ignore[no-any-return]


def object_mapper(instance: Any) -> Mapper:
    """The mapper of a mapped instance; raises UnmappedInstanceError otherwise."""
    return instance_state(instance).mapper


def class_mapper(class_: type, configure: bool = True) -> Mapper:
    """The mapper of a mapped class; raises UnmappedClassError otherwise."""
    mapper: Mapper | None = getattr(class_, MAPPER_KEY, None) if isinstance(class_, type) else None
    if mapper is None:
        raise orm_exc.UnmappedClassError(class_)
    mapper = mapper._for_class(class_)
    if configure:
        mapper._check_configure()
    return mapper


def _mapper_or_none(entity: Any) -> Mapper | None:
    if isinstance(entity, type):
        found: Mapper | None = getattr(entity, MAPPER_KEY, None)
        return None if found is None else found._for_class(entity)
    from athanor.orm.mapper import Mapper

    return entity if isinstance(entity, Mapper) else None


def state_str(state: InstanceState) -> str:
    """``<User at 0x...>`` for messages."""
    obj = state()
    return f"<{state.class_.__name__} at 0x{id(obj):x}>"
