"""Write-only and dynamic collections: relationships too large to load whole.

``lazy="write_only"`` (``WriteOnlyMapped[list[X]]``) gives a :class:`WriteOnlyCollection`: it is
read only through explicit statements (``.select()``), its changes (``.add()``, ``.remove()``)
wait for the next flush, and ``.insert()`` / ``.update()`` / ``.delete()`` make bulk statements
limited to the parent's rows.  ``lazy="dynamic"`` (``DynamicMapped[list[X]]``) gives an
:class:`AppenderQuery`, a legacy :class:`~athanor.orm.query.Query` over the parent's rows with
``append()`` / ``remove()`` / ``extend()``.  Pending changes live in the parent's
``committed_state`` until the flush writes them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any, Generic, SupportsIndex, TypeVar

from athanor import exc as sa_exc
from athanor.orm.attributes import _event_token, _RelationshipImpl
from athanor.orm.base import (
    OP_APPEND,
    OP_REMOVE,
    OP_REPLACE,
    class_mapper,
    instance_state,
    state_str,
)
from athanor.orm.query import Query
from athanor.orm.relationships import (
    MANYTOMANY,
    MANYTOONE,
    RelationshipProperty,
    object_value_bind,
    replace_columns,
)
from athanor.orm.state import HISTORY_BLANK, History
from athanor.sql.dml import Delete, Insert, Update, delete, insert, update
from athanor.sql.elements import ColumnElement, and_
from athanor.sql.selectable import Select, select

if TYPE_CHECKING:
    from athanor.orm.state import InstanceState

_T = TypeVar("_T")

QUERY_COLLECTIONS = ("write_only", "dynamic")
"""``lazy=`` values whose collections are never loaded whole."""


class _Pending:
    """Items added to and removed from one parent's collection since the last flush."""

    __slots__ = ("added", "removed")

    def __init__(self) -> None:
        self.added: list[Any] = []
        self.removed: list[Any] = []


def _drop(items: list[Any], item: Any) -> bool:
    for i, x in enumerate(items):
        if x is item:
            del items[i]
            return True
    return False


class QueryCollectionAttributeImpl(_RelationshipImpl):
    """The attribute of a write-only or dynamic collection: a writer object, never a list."""

    collection = True

    def __init__(self, key: str, prop: RelationshipProperty, writer_class: Any) -> None:
        super().__init__(key, prop)
        self.writer_class = writer_class

    def get_missing(self, instance: Any, dict_: dict[str, Any]) -> Any:
        writer = self.writer_class(self, instance)
        dict_[self.key] = writer
        return writer

    def pending(self, state: InstanceState) -> _Pending | None:
        found: _Pending | None = state.committed_state.get(self.key)
        return found

    def _queue(self, instance: Any) -> _Pending:
        """The parent's queue of changes, created with the writer object (which save-update
        cascades through)."""
        state = instance_state(instance)
        dict_ = instance.__dict__
        if self.key not in dict_:
            self.get_missing(instance, dict_)
        found = self.pending(state)
        if found is None:
            found = state._own_committed()[self.key] = _Pending()
        state._modified_event(instance)
        return found

    def append(self, instance: Any, item: Any, initiator: Any, op: Any = OP_APPEND) -> None:
        """Queue ``item`` for addition at the next flush (with backref and cascade)."""
        if item is None:
            raise sa_exc.ArgumentError(
                f"Cannot add None to the collection {self.prop}; collections hold objects"
            )
        state = instance_state(instance)
        instance_state(item)
        if self.validator is not None:
            item = self.validator(instance, self.key, item, initiator)
        # The other side is set between the listeners registered before the relationship was
        # configured and those registered since, as for a list collection (fire_append).
        listened = self.dispatch.append
        if listened:
            token = _event_token(self, initiator, op, op)
            item = self._fire_part("append", state, item, True, token)
        reverse = self.reverse
        if reverse is not None and initiator is not reverse:
            reverse.append_backref(item, instance, self, op)
        if listened:
            item = self._fire_part("append", state, item, False, token)
        pending = self._queue(instance)
        if not _drop(pending.removed, item) and not any(x is item for x in pending.added):
            pending.added.append(item)
        if initiator is None:
            self._cascade_into_session(state, item)

    def remove(self, instance: Any, item: Any, initiator: Any, op: Any = OP_REMOVE) -> None:
        """Queue ``item`` for removal at the next flush (with backref)."""
        state = instance_state(instance)
        if self.validator is not None:
            self.validator.removed(instance, self.key, item, initiator)
        pending = self._queue(instance)
        if not _drop(pending.added, item) and not any(x is item for x in pending.removed):
            pending.removed.append(item)
        # As in append(): the other side is unset between the early and the later listeners.
        listened = self.dispatch.remove
        if listened:
            token = _event_token(self, initiator, op, op)
            self._fire_part("remove", state, item, True, token)
        reverse = self.reverse
        if reverse is not None and initiator is not reverse:
            reverse.remove_backref(item, instance, self, op)
        if listened:
            self._fire_part("remove", state, item, False, token)

    def append_backref(self, target: Any, value: Any, initiator: Any, op: Any = OP_REPLACE) -> None:
        self.append(target, value, initiator, op)

    def remove_backref(self, target: Any, value: Any, initiator: Any, op: Any = OP_REPLACE) -> None:
        self.remove(target, value, initiator, op)

    def set(self, instance: Any, value: Any, initiator: Any) -> None:
        state = instance_state(instance)
        if state.key is not None:
            raise sa_exc.InvalidRequestError(
                f"Collection assignment is not supported for {self.prop} "
                f"(lazy={self.prop.lazy!r}) on the persistent {state_str(state)}; use "
                f"obj.{self.key}.add() / .remove(), or bulk statements such as "
                f"obj.{self.key}.delete()"
            )
        for item in list(self._queue(instance).added):
            self.remove(instance, item, initiator)
        for item in value:
            self.append(instance, item, initiator)

    def delete(self, instance: Any) -> None:
        raise sa_exc.InvalidRequestError(
            f"Cannot delete the collection {self.prop}; remove its items or use "
            f"obj.{self.key}.delete()"
        )

    def history(self, state: InstanceState, dict_: dict[str, Any]) -> History:
        pending = self.pending(state)
        if pending is None:
            return HISTORY_BLANK
        return History(list(pending.added), [], list(pending.removed))


class _CollectionWriter(Generic[_T]):
    """What write-only and dynamic collections share: the parent's criteria and the queue."""

    def __init__(self, impl: QueryCollectionAttributeImpl, instance: Any) -> None:
        self._impl = impl
        self.instance = instance
        prop = impl.prop
        assert isinstance(prop, RelationshipProperty)
        self._prop = prop

    def __reduce_ex__(self, protocol: SupportsIndex) -> Any:
        return (_writer_for, (type(self.instance), self._prop.key, self.instance))

    def _criteria(self) -> ColumnElement:
        """The WHERE clause selecting the parent's rows of the target table (its parameters
        read the parent's key when the statement executes, after the autoflush)."""
        prop, instance = self._prop, self.instance
        if prop.direction == MANYTOMANY:
            crit = [
                sec == object_value_bind(instance, prop.parent, local)
                for local, sec in prop.secondary_parent_pairs
            ]
            crit += prop.primary_extra + prop.secondary_extra
            keys = [(target, sec) for target, sec in prop.secondary_target_pairs]
            return and_(*[target.in_(select(sec).where(and_(*crit))) for target, sec in keys])
        binds = {
            col: object_value_bind(instance, prop.parent, col)
            for col in [*prop.local_columns, *prop.extra_parent_columns]
        }
        assert prop.primaryjoin is not None
        criteria: ColumnElement = replace_columns(prop.primaryjoin, binds.get)
        return criteria

    def _sa_items(self) -> list[Any]:
        """The items added since the last flush (what save-update cascades along)."""
        pending = self._impl.pending(instance_state(self.instance))
        return list(pending.added) if pending is not None else []

    def _sa_persisted_items(self) -> list[Any]:
        """Every item: the rows in the database (loaded now) with the pending changes applied."""
        state = instance_state(self.instance)
        session = state.session
        pending = self._impl.pending(state)
        rows: list[Any] = []
        if session is not None and state.key is not None:
            with session.no_autoflush:
                rows = list(session.scalars(self._select()))
        if pending is None:
            return rows
        removed = {id(x) for x in pending.removed}
        known = {id(x) for x in rows}
        return [x for x in rows if id(x) not in removed] + [
            x for x in pending.added if id(x) not in known
        ]

    def _select(self) -> Select:
        prop = self._prop
        stmt = select(prop.mapper.class_).where(self._criteria())
        if prop.order_by:
            stmt = stmt.order_by(*prop.order_by)  # type: ignore[misc]
        return stmt

    def add(self, item: _T) -> None:
        """Add ``item``; it joins the collection in the database at the next flush."""
        self._impl.append(self.instance, item, None)

    def add_all(self, items: Iterable[_T]) -> None:
        """Add each of ``items`` (written at the next flush)."""
        for item in items:
            self._impl.append(self.instance, item, None)

    def remove(self, item: _T) -> None:
        """Take ``item`` out of the collection at the next flush."""
        self._impl.remove(self.instance, item, None)


class WriteOnlyCollection(_CollectionWriter[_T]):
    """A collection read through statements and changed through a queue flushed later."""

    def __iter__(self) -> Iterator[_T]:
        raise TypeError(
            f"The write-only collection {self._prop} cannot be iterated; read it with "
            f"session.scalars(obj.{self._prop.key}.select())"
        )

    def __repr__(self) -> str:
        return f"<WriteOnlyCollection {self._prop}>"

    def select(self) -> Select:
        """A SELECT of the target entity limited to this parent's items (and ``order_by``)."""
        return self._select()

    def insert(self) -> Insert:
        """An INSERT of target rows that belong to this parent (one-to-many only)."""
        prop = self._prop
        if prop.direction == MANYTOMANY:
            raise sa_exc.InvalidRequestError(
                f"{prop}.insert() is for one-to-many collections; for many-to-many, insert the "
                f"objects and link them with obj.{prop.key}.add_all(objects)"
            )
        row = {}
        for parent_col, child_col in prop.sync_pairs:
            key = prop.mapper._col_to_key.get(child_col)
            if key is not None:
                row[key] = object_value_bind(self.instance, prop.parent, parent_col)
        return insert(prop.mapper.class_).values(**row)

    def update(self) -> Update:
        """An UPDATE of the target rows limited to this parent's items."""
        stmt: Update = update(self._prop.mapper.class_).where(self._criteria())
        return stmt

    def delete(self) -> Delete:
        """A DELETE of the target rows limited to this parent's items."""
        stmt: Delete = delete(self._prop.mapper.class_).where(self._criteria())
        return stmt


class AppenderQuery(_CollectionWriter[_T], Query[_T]):
    """A legacy Query over the parent's items that can also ``append``/``remove`` them.

    Filtering and the other builders return plain :class:`Query` objects on the same session;
    for a parent outside any session, iteration gives the items appended so far.
    """

    def __init__(self, impl: QueryCollectionAttributeImpl, instance: Any) -> None:
        _CollectionWriter.__init__(self, impl, instance)
        Query.__init__(self, self._prop.mapper.class_, None)
        self._statement = self._select()

    @property
    def session(self) -> Any:
        """The parent's session at the time of use."""
        return instance_state(self.instance).session

    @session.setter
    def session(self, value: Any) -> None:
        if value is not None:
            raise sa_exc.InvalidRequestError("an AppenderQuery always runs in its parent's session")

    def _copy(self, statement: Select | None = None) -> Query[_T]:
        new: Query[_T] = Query.__new__(Query)
        new.__dict__.update(
            {k: v for k, v in self.__dict__.items() if k not in ("_impl", "instance", "_prop")}
        )
        new.session = self.session
        if statement is not None:
            new._statement = statement
        return new

    def __iter__(self) -> Iterator[_T]:
        if self.session is None:
            return iter(self._sa_items())
        return Query.__iter__(self)

    def __repr__(self) -> str:
        return f"<AppenderQuery {self._prop}>"

    def all(self) -> list[_T]:
        return list(self)

    def count(self) -> int:
        if self.session is None:
            return len(self._sa_items())
        return Query.count(self)

    def append(self, item: _T) -> None:
        """Add ``item``; it joins the collection in the database at the next flush."""
        self.add(item)

    def extend(self, items: Iterable[_T]) -> None:
        """Add each of ``items``."""
        self.add_all(items)


def _writer_for(class_: type, key: str, instance: Any) -> Any:
    """A writer for ``instance`` again (after unpickling)."""
    impl = class_mapper(class_).get_property(key).impl
    assert isinstance(impl, QueryCollectionAttributeImpl)
    return impl.writer_class(impl, instance)


def query_collection_impl(prop: RelationshipProperty) -> QueryCollectionAttributeImpl:
    """The attribute implementation for a ``lazy="write_only"`` or ``"dynamic"`` relationship."""
    if prop.direction == MANYTOONE or not prop.uselist:
        raise sa_exc.InvalidRequestError(
            f"On relationship {prop}, lazy={prop.lazy!r} needs a collection (one-to-many or "
            "many-to-many); use lazy='select' or 'raise' for many-to-one and uselist=False"
        )
    writer = WriteOnlyCollection if prop.lazy == "write_only" else AppenderQuery
    return QueryCollectionAttributeImpl(prop.key, prop, writer)
