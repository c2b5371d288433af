"""The unit of work: writing a session's new, changed and deleted objects in a safe order.

Mappers are sorted by their dependencies (many-to-one targets first) with ``graphlib``; rows of
a self-referential table are sorted parents first.  Per mapper, INSERTs of the same shape go out
as one executemany (a multi-row ``INSERT ... RETURNING`` where the database has RETURNING, so
generated keys and server defaults come back in one round trip), UPDATEs are grouped by the
columns they change, DELETEs are batched.  Foreign keys are copied from parent objects to
children just before the children are written.
"""

from __future__ import annotations

import graphlib
import warnings
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from itertools import filterfalse, repeat
from operator import attrgetter, itemgetter
from typing import TYPE_CHECKING, Any, NamedTuple, cast

from athanor import exc as sa_exc
from athanor.engine.engine import Engine, LeanCommitFailed
from athanor.event import registry as event_registry
from athanor.orm import exc as orm_exc
from athanor.orm.attributes import _same
from athanor.orm.base import NO_VALUE, STATE_KEY
from athanor.orm.polymorphic import hierarchy_runs
from athanor.orm.relationships import MANYTOMANY, MANYTOONE, ONETOMANY, RelationshipProperty
from athanor.orm.state import IdentityKey, InstanceState
from athanor.orm.strategies import load_by_values
from athanor.orm.writeonly import QUERY_COLLECTIONS
from athanor.sql.compiler import ValueRows
from athanor.sql.dml import delete, insert, update
from athanor.sql.elements import BindParameter, and_
from athanor.sql.schema import DefaultExecutionContext

if TYPE_CHECKING:
    from athanor.engine.connection import Connection
    from athanor.orm.mapper import Mapper
    from athanor.orm.session import Session, SessionTransaction


_mapper_of = attrgetter("mapper")
_key_of = attrgetter("key")
_dict_of = attrgetter("__dict__")
_state_of = itemgetter(0)
_object_of = itemgetter(1)


def _fire(mapper: Mapper, name: str, connection: Any, obj: Any) -> None:
    for fn in getattr(mapper.dispatch, name):
        fn(mapper, connection, obj)


class UOWTransaction:
    """One flush: the objects to write, the order to write them in, and what was written."""

    secondary_key_changes: list[tuple[RelationshipProperty, list[Any], list[Any]]] | None = None
    """``passive_updates=False`` many-to-manys whose parent's key this flush changes: the
    old and new key values the association rows are updated from and to."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.saves: dict[InstanceState, Any] = {}
        self.deletes: dict[InstanceState, Any] = {}
        self.fk_sync: dict[InstanceState, list[tuple[RelationshipProperty, Any]]] = {}
        self.secondary_ops: dict[tuple[Any, str], dict[tuple[int, int], dict[str, Any]]] = {}
        self.secondary_parent_deletes: list[tuple[RelationshipProperty, Any]] = []
        self.inserted: list[tuple[InstanceState, Any]] = []
        self.generated: dict[InstanceState, list[str]] = {}
        """Of inserted objects: the attribute keys the database filled in (see also
        ``generated_runs``)."""
        self.generated_runs: list[tuple[list[tuple[InstanceState, Any]], list[str]]] = []
        """Inserted objects that share the keys the database filled in, with those keys: the
        usual record, one per INSERT rather than one per object; ``generated`` holds objects
        whose keys differ or that ``refresh_flush`` listeners are told about one by one."""
        self.updated: list[InstanceState] = []
        self.rekeyed: list[tuple[InstanceState, Any]] = []
        """Updated objects whose primary key changed: the session keys them anew."""
        self.generated_early: dict[InstanceState, list[str]] = {}
        self.deleted: list[tuple[InstanceState, Any]] = []
        self.expire_after: list[tuple[Any, list[str]]] = []
        self.defaulted: dict[InstanceState, list[str]] = {}
        self.plain = False
        """Whether no object of the flush has relationships (no cascades or collections)."""
        self.save_mappers: set[Mapper] = set()
        """The mappers of the objects to save, as collected (kept up to date when plain)."""
        self.only_new = False
        """Whether the objects to save, as collected, are all new (pending) ones."""
        self.keyed_into: dict[IdentityKey, InstanceState] | None = None
        """The session's identity map (its dict), when the session lets the flush enter the
        objects it inserts there itself: see :meth:`_inserted_rows`."""
        self.keyed_all = True
        """Whether every object inserted was entered in ``keyed_into`` (when set)."""

    _attributes: dict[Any, Any] | None = None

    @property
    def attributes(self) -> dict[Any, Any]:
        """A dictionary for flush listeners to keep their own data in for this flush
        (``before_flush`` to ``after_flush_postexec``); made on first use."""
        if self._attributes is None:
            self._attributes = {}
        return self._attributes

    def is_deleted(self, state: InstanceState) -> bool:
        """Whether this flush deletes the object of ``state``."""
        return state in self.deletes

    # --- collecting ---------------------------------------------------------------------------

    def collect(self) -> None:
        session = self.session
        saves = self.saves
        saves.update(session._new)
        deleted = session._deleted
        for state, obj in list(session.identity_map._modified.items()):
            if state not in deleted:
                saves[state] = obj
        self.deletes.update(deleted)
        # Pending objects have no identity: with nothing else to save, every save is an INSERT.
        self.only_new = len(saves) == len(session._new)
        self.save_mappers = {state.mapper for state in saves}
        if any(m._relationships for m in self.save_mappers):
            for state, obj in [(s, o) for s, o in saves.items() if s.mapper._relationships]:
                self._cascade_saves(state, obj)
                if state.key is not None and state.committed_state:
                    carried = _carried_keys(state.mapper)
                    if carried:
                        self._carry_key_change(state, obj, carried)
        else:
            self.plain = not any(s.mapper._relationships for s in self.deletes)
        for state, obj in list(self.deletes.items()):
            self._prepare_delete(state, obj)
        if not self.plain:
            self._collection_changes()

    def _cascade_saves(self, state: InstanceState, obj: Any) -> None:
        d = obj.__dict__
        for rel in state.mapper._relationships:
            if rel.viewonly or "save-update" not in rel.cascade or rel.key not in d:
                continue
            value = d[rel.key]
            items = list(value._sa_items()) if rel.uselist else ([] if value is None else [value])
            for item in items:
                child = item.__dict__.get(STATE_KEY)
                if child is None or child.session_id is None:
                    _warn_not_in_session(item, rel)

    def _carry_key_change(
        self, state: InstanceState, obj: Any, carried: list[RelationshipProperty]
    ) -> None:
        """``passive_updates=False`` (the relationships ``carried``): when this flush changes
        the key a one-to-many's children refer to, each child (loaded now if need be, by the
        old key) gets the new value, as a database without ON UPDATE CASCADE would not do."""
        committed = state.committed_state
        d = obj.__dict__
        for rel in carried:
            pairs = rel.secondary_parent_pairs if rel.direction == MANYTOMANY else rel.pairs
            keys = [state.mapper._col_to_key.get(col) for col, _ in pairs]
            if not any(
                k is not None and k in committed and not _same(committed[k], d.get(k)) for k in keys
            ):
                continue
            if rel.direction == MANYTOMANY:
                # the association rows name the parent: UPDATE them after the parent's row
                if self.secondary_key_changes is None:
                    self.secondary_key_changes = []
                old = [
                    _old_value(state, d, col, k) for (col, _), k in zip(pairs, keys, strict=True)
                ]
                self.secondary_key_changes.append((rel, old, [d.get(k) for k in keys]))
                continue
            if rel.key in d:
                value = d[rel.key]
                items = list(value._sa_items()) if rel.uselist else [value]
            else:
                by = [*zip((col for col, _ in rel.pairs), keys, strict=True)]
                by += [(col, state.mapper._col_to_key.get(col)) for col in rel.extra_parent_columns]
                old = [_old_value(state, d, col, k) for col, k in by]
                items = load_by_values(self.session, rel, old)
            for item in items:
                child = None if item is None else item.__dict__[STATE_KEY]
                if child is not None and child not in self.deletes:
                    self.saves.setdefault(child, item)
                    self.fk_sync.setdefault(child, []).append((rel, obj))

    def _prepare_delete(self, state: InstanceState, obj: Any) -> None:
        d = obj.__dict__
        for rel in state.mapper._relationships:
            if rel.viewonly:
                continue
            if rel.direction == MANYTOMANY:
                self.secondary_parent_deletes.append((rel, obj))
                continue
            if rel.direction != ONETOMANY or rel.cascade.delete or rel.passive_deletes:
                continue
            value = d[rel.key] if rel.key in d else getattr(obj, rel.key)
            if rel.lazy in QUERY_COLLECTIONS:
                items = value._sa_persisted_items()
            else:
                items = list(value._sa_items()) if rel.uselist else [] if value is None else [value]
            for item in items:
                child = item.__dict__[STATE_KEY]
                if child in self.deletes:
                    continue
                self.saves.setdefault(child, item)
                self.fk_sync.setdefault(child, []).append((rel, None))

    def _collection_changes(self) -> None:
        """Turn collection histories into foreign-key writes, secondary rows and orphan deletes.

        Collections of objects being deleted count too: a child taken out of a parent that is
        then deleted is still an orphan.  Additions are gathered before removals are judged, so
        a child moved to another parent in the same flush is never taken for an orphan.
        """
        owners = [(s, o) for s, o in self.saves.items() if s.mapper._relationships]
        owners += [(s, o) for s, o in self.deletes.items() if s.mapper._relationships]
        removed: list[tuple[RelationshipProperty, Any]] = []
        session_id = self.session.hash_key
        for state, obj in owners:
            deleting = state in self.deletes
            d = obj.__dict__
            for rel in state.mapper._relationships:
                if rel.viewonly or rel.key not in state.committed_state:
                    continue
                if rel.direction == MANYTOONE:
                    # single_parent delete-orphan: the object replaced lost its only parent
                    if not deleting and "delete-orphan" in rel.cascade:
                        history = rel.impl.history(state, d)  # type: ignore[union-attr]
                        removed.extend((rel, item) for item in history.deleted)
                    continue
                history = rel.impl.history(state, d)  # type: ignore[union-attr]
                if rel.direction == ONETOMANY:
                    removed.extend((rel, item) for item in history.deleted)
                    if deleting:
                        continue
                    for item in history.added:
                        if item is None:  # a one-to-one set to None: nothing added
                            continue
                        child = item.__dict__[STATE_KEY]
                        if child.session_id != session_id:
                            _warn_not_in_session(item, rel)
                        elif child not in self.deletes:
                            self.saves.setdefault(child, item)
                            self.fk_sync.setdefault(child, []).append((rel, obj))
                elif not deleting:
                    reverse = rel._reverse_property
                    for item in history.added:
                        if item.__dict__[STATE_KEY].session_id != session_id:
                            _warn_not_in_session(item, rel)
                            continue
                        self._secondary(rel, reverse, obj, item, "insert")
                    for item in history.deleted:
                        self._secondary(rel, reverse, obj, item, "delete")
        for rel, item in removed:
            child = item.__dict__[STATE_KEY]
            if child in self.deletes or self._has_new_parent(rel, child, item):
                continue
            if rel.direction == MANYTOONE or rel.cascade.delete_orphan:
                self._delete_orphan(child, item)
            else:
                self.saves.setdefault(child, item)
                self.fk_sync.setdefault(child, []).append((rel, None))

    def _has_new_parent(self, rel: RelationshipProperty, child: InstanceState, item: Any) -> bool:
        """Whether a child removed from ``rel`` now belongs to another parent that stays."""
        if any(src is not None for _, src in self.fk_sync.get(child, ())):
            return True
        reverse = rel._reverse_property
        if reverse is None or reverse.direction != MANYTOONE:
            return False
        parent = item.__dict__.get(reverse.key)
        if parent is None or parent is NO_VALUE:
            return False
        return parent.__dict__[STATE_KEY] not in self.deletes

    def _delete_orphan(self, child: InstanceState, item: Any) -> None:
        """Delete a child that lost its parent, cascading like ``Session.delete``."""
        self.saves.pop(child, None)
        session = self.session
        if child.key is None:
            session._new.pop(child, None)
            return
        session.delete(item)
        for state, obj in list(session._deleted.items()):
            if state not in self.deletes:
                self.deletes[state] = obj
                self.saves.pop(state, None)
                self._prepare_delete(state, obj)

    def _secondary(
        self, rel: RelationshipProperty, reverse: Any, parent: Any, child: Any, kind: str
    ) -> None:
        if reverse is not None and id(reverse) < id(rel):
            rel, parent, child = reverse, child, parent
        ops = self.secondary_ops.setdefault((rel, kind), {})
        ops[(id(parent), id(child))] = {"parent": parent, "child": child}

    # --- ordering -----------------------------------------------------------------------------

    def _mapper_order(self, mappers: Iterable[Mapper]) -> list[Mapper]:
        involved = set(mappers)
        if len(involved) == 1:
            return list(involved)
        sorter: graphlib.TopologicalSorter[Any] = graphlib.TopologicalSorter()
        by_table: dict[Any, list[Mapper]] = {}
        for m in involved:
            for table in m._persist_tables:
                by_table.setdefault(table, []).append(m)
        for mapper in involved:
            sorter.add(mapper)
            own = mapper._persist_tables
            for table in own:
                for fk in table.foreign_keys:
                    try:
                        target = fk.column.table
                    except sa_exc.NoReferenceError:
                        continue
                    if fk.use_alter or (target in own and target is not table):
                        continue
                    for other in by_table.get(target, ()):
                        # Rows within one hierarchy are ordered row by row (hierarchy_runs).
                        if other.base_mapper is not mapper.base_mapper:
                            sorter.add(mapper, other)
            for rel in mapper._relationships:
                if rel.viewonly or rel.post_update or rel.mapper.base_mapper is mapper.base_mapper:
                    continue
                for other in involved:
                    if other is not rel.mapper and not other.isa(rel.mapper):
                        continue
                    if rel.direction == MANYTOONE:
                        sorter.add(mapper, other)
                    elif rel.direction == ONETOMANY:
                        sorter.add(other, mapper)
        try:
            return list(sorter.static_order())
        except graphlib.CycleError as error:
            cycle = " -> ".join(str(m.class_.__name__) for m in error.args[1])
            raise sa_exc.CircularDependencyError(
                f"Circular dependency between mappers {cycle}: rows of these tables depend on "
                "each other; set post_update=True on one of the relationships in the cycle so "
                "its foreign key is written by a second UPDATE"
            ) from None

    def _row_levels(self, mapper: Mapper, states: list[InstanceState]) -> list[list[InstanceState]]:
        if len(states) < 2 or not mapper._relationships:
            return [states]
        self_refs = [
            r
            for r in mapper._relationships
            if r.mapper is mapper
            and not r.viewonly
            and not r.post_update
            and r.direction != MANYTOMANY
        ]
        if not self_refs:
            return [states]
        members = {id(s): s for s in states}
        sorter: graphlib.TopologicalSorter[int] = graphlib.TopologicalSorter()
        for state in states:
            sorter.add(id(state))
            d = self.saves.get(state, self.deletes.get(state)).__dict__
            for rel in self_refs:
                value = d.get(rel.key)
                if value is None or value is NO_VALUE:
                    continue
                items = list(value._sa_items()) if rel.uselist else [value]
                for item in items:
                    other = item.__dict__.get(STATE_KEY)
                    if other is None or id(other) not in members or other is state:
                        continue
                    if rel.direction == MANYTOONE:
                        sorter.add(id(state), id(other))
                    else:
                        sorter.add(id(other), id(state))
        levels: list[list[InstanceState]] = []
        try:
            sorter.prepare()
        except graphlib.CycleError:
            raise sa_exc.CircularDependencyError(
                f"Rows of {mapper.class_.__name__} reference each other in a cycle; set "
                "post_update=True on the self-referential relationship"
            ) from None
        while sorter.is_active():
            ready = sorter.get_ready()
            levels.append([members[i] for i in ready])
            sorter.done(*ready)
        order = {id(s): n for n, s in enumerate(states)}
        return [sorted(level, key=lambda s: order[id(s)]) for level in levels]

    # --- execution ----------------------------------------------------------------------------

    def execute(self) -> None:
        # Saves of a plain flush are the ones collected; cascades may have added others.
        mappers = set(self.save_mappers) if self.plain else set(map(_mapper_of, self.saves))
        if self.plain and not self.deletes and len(mappers) == 1:
            # Saves only, of one mapper without relationships: nothing to order by dependency,
            # no secondary rows, no post-updates.  Outside any inheritance hierarchy (the
            # common small flush) the general pass below reduces to one _save.
            (mapper,) = mappers
            if not mapper.base_mapper._subclass_mappers:
                if self.only_new:
                    # New objects only (a plain mapper has no rows to order among them).
                    self._insert_rows(self._connection(mapper), mapper, list(self.saves.items()))
                else:
                    self._save(mapper, list(self.saves))
                return
        mappers.update(map(_mapper_of, self.deletes))
        for rel, _ in self.secondary_ops:
            mappers.add(rel.parent)
        order = self._mapper_order(mappers)
        done: set[Mapper] = set()
        for mapper in order:
            if mapper in done:
                continue
            if not mapper.base_mapper._subclass_mappers:
                if len(order) == 1 and not self.deletes:
                    states = list(self.saves)
                else:
                    states = [s for s in self.saves if s.mapper is mapper and s not in self.deletes]
                if states:
                    self._save(mapper, states)
                continue
            # An inheritance hierarchy: its objects are written in the order they were added,
            # in runs of one class, rows referenced by others of the hierarchy first.
            family = {m for m in order if m.base_mapper is mapper.base_mapper}
            done |= family
            states = [s for s in self.saves if s.mapper in family and s not in self.deletes]
            for run in hierarchy_runs(states, self.saves):
                self._save(run[0].mapper, run)
        if any(rel.post_update for m in mappers for rel in m._relationships):
            self._post_updates()
        self._run_secondary()
        if any(rel.post_update for s in self.deletes for rel in s.mapper._relationships):
            self._unlink_post_updates()
        done.clear()
        for mapper in reversed(order):
            if mapper in done:
                continue
            if not mapper.base_mapper._subclass_mappers:
                states = [s for s in self.deletes if s.mapper is mapper]
                if states:
                    self._delete(mapper, states)
                continue
            family = {m for m in order if m.base_mapper is mapper.base_mapper}
            done |= family
            states = [s for s in self.deletes if s.mapper in family]
            for run in reversed(hierarchy_runs(states, self.deletes, deleting=True)):
                self._delete(run[0].mapper, run)

    def _connection(self, mapper: Mapper) -> Connection:
        return self.session._connection_for_bind(self.session.get_bind(mapper))

    def _sync(self, state: InstanceState, obj: Any) -> None:
        d = obj.__dict__
        mapper = state.mapper
        for rel in mapper._relationships:
            if rel.direction != MANYTOONE or rel.viewonly or rel.post_update:
                continue
            if rel.key not in state.committed_state and not (state.key is None and rel.key in d):
                continue
            target = d.get(rel.key)
            if target is NO_VALUE:
                continue
            self._copy_keys(state, obj, rel, target, reverse=True)
        for rel, source in self.fk_sync.get(state, ()):
            if not rel.post_update:
                self._copy_keys(state, obj, rel, source, reverse=False)

    def _post_updates(self) -> None:
        """Write foreign keys of ``post_update=True`` relationships with a second UPDATE."""
        for state, obj in self.saves.items():
            mapper = state.mapper
            if state in self.deletes or not (
                any(rel.post_update for rel in mapper._relationships)
                or any(rel.post_update for rel, _ in self.fk_sync.get(state, ()))
            ):
                continue
            d = obj.__dict__
            before = {k: d.get(k, NO_VALUE) for k, _ in mapper._table_columns}
            for rel in mapper._relationships:
                if not rel.post_update or rel.direction != MANYTOONE or rel.viewonly:
                    continue
                if rel.key in state.committed_state or rel.key in d:
                    target = d.get(rel.key)
                    if target is not NO_VALUE:
                        self._copy_keys(state, obj, rel, target, reverse=True)
            for rel, source in self.fk_sync.get(state, ()):
                if rel.post_update:
                    self._copy_keys(state, obj, rel, source, reverse=False)
            changed = {
                col.key: d[k]
                for k, col in mapper._table_columns
                if k in d and before[k] is not d[k] and not col.primary_key
            }
            if not changed:
                continue
            assert state.key is not None
            params = dict(changed)
            for i, value in enumerate(state.key[1]):
                params[f"pk__{i}"] = value
            stmt = _update_statement(mapper, tuple(sorted(changed)), False)
            self._connection(mapper).execute(stmt, params)

    def _unlink_post_updates(self) -> None:
        """Before the DELETEs: an UPDATE sets to NULL the ``post_update=True`` many-to-one
        foreign keys of the rows to delete, which may point at rows deleted first (the cycle
        post_update breaks)."""
        for state, obj in self.deletes.items():
            if state.key is None:
                continue
            mapper = state.mapper
            d = obj.__dict__
            columns: list[str] = [
                str(col.key)
                for rel in mapper._relationships
                if rel.post_update and rel.direction == MANYTOONE and not rel.viewonly
                for col, _ in rel.pairs
                if d.get(mapper._col_to_key.get(col, ""), NO_VALUE) is not None
            ]
            if not columns:
                continue
            params: dict[str, Any] = dict.fromkeys(columns)
            for i, value in enumerate(state.key[1]):
                params[f"pk__{i}"] = value
            stmt = _update_statement(mapper, tuple(sorted(columns)), False)
            self._connection(mapper).execute(stmt, params)

    def _copy_keys(
        self, state: InstanceState, obj: Any, rel: RelationshipProperty, source: Any, reverse: bool
    ) -> None:
        dest_mapper = state.mapper
        source_mapper = rel.mapper if reverse else rel.parent
        for src_col, dst_col in rel.sync_pairs:
            dst_key = dest_mapper._col_to_key.get(dst_col)
            if dst_key is None:
                continue
            if source is None:
                if dst_col.primary_key:
                    continue
                value = None
            else:
                src_key = source_mapper._col_to_key[src_col]
                sd = source.__dict__
                value = sd[src_key] if src_key in sd else getattr(source, src_key)
            _set_value(state, obj.__dict__, dst_key, value)

    def _save(self, mapper: Mapper, states: list[InstanceState]) -> None:
        if any(map(_key_of, states)):
            inserts = [s for s in states if s.key is None]
            updates = [s for s in states if s.key is not None]
        else:
            inserts, updates = states, []
        connection = self._connection(mapper)
        saves = self.saves
        for level in self._row_levels(mapper, inserts) if inserts else ():
            self._insert_rows(
                connection, mapper, list(zip(level, map(saves.__getitem__, level), strict=True))
            )
        if updates:
            rows = []
            for state in updates:
                obj = self.saves[state]
                self._sync(state, obj)
                rows.append((state, obj))
            views = mapper._persist_views
            for n, view in enumerate(views):
                self._emit_updates(connection, view, rows, n == 0, n == len(views) - 1)

    def _insert_rows(
        self, connection: Connection, mapper: Mapper, rows: list[tuple[InstanceState, Any]]
    ) -> None:
        """INSERT the new objects of ``rows`` (``(state, object)`` pairs, in the order to
        write them), with their ``before_insert`` / ``after_insert`` events."""
        sync = bool(mapper._relationships or self.fk_sync)
        fire = bool(mapper.dispatch.before_insert)
        for state, obj in rows if sync or fire else ():
            if sync:
                self._sync(state, obj)
            if fire:
                _fire(mapper, "before_insert", connection, obj)
        views = mapper._persist_views
        for n, view in enumerate(views):
            self._emit_inserts(connection, view, rows, n == len(views) - 1)
        if mapper.dispatch.after_insert:
            for _, obj in rows:
                _fire(mapper, "after_insert", connection, obj)

    def _insert_params(
        self,
        mapper: Mapper,
        plan: list[tuple[str, str, bool, Any]],
        track: bool,
        state: InstanceState,
        obj: Any,
    ) -> dict[str, Any]:
        """The INSERT parameters of ``obj`` by ``plan`` (``_insert_plan(mapper)``), Python-side
        defaults set on the object too; with ``track``, the defaulted keys are noted for the
        ``refresh_flush`` event."""
        d = obj.__dict__
        params: dict[str, Any] = {}
        defaulted: list[str] | None = [] if track else None
        for key, col_key, none_skips, default in plan:
            if key in d:
                value = d[key]
                if value is not None or not none_skips:
                    params[col_key] = value
                    continue
                # None for a column with a default: the default applies, as if unset.
            if default is None:
                continue
            if default is _VERSION:
                value = d[key] = mapper.version_id_generator(None)
                params[col_key] = value
                continue
            if default.is_callable:
                arg = default.arg
                value = arg(DefaultExecutionContext(params)) if default._takes_context else arg()
            else:
                value = default.arg
            d[key] = value
            params[col_key] = value
            if defaulted is not None:
                defaulted.append(key)
        if defaulted:
            self.defaulted[state] = defaulted
        return params

    def _emit_inserts(
        self,
        connection: Connection,
        mapper: Mapper,
        rows: list[tuple[InstanceState, Any]],
        last: bool = True,
    ) -> None:
        """INSERT the rows of ``mapper``'s table; ``last`` says whether it is the object's own
        table (a joined-inheritance parent table comes first and completes nothing)."""
        table = mapper.local_table
        can_return = bool(getattr(connection.dialect, "insert_returning", False))
        plan, track = _insert_plan(mapper), bool(mapper.dispatch.refresh_flush)
        # Parallel to rows (no tuple per object: objects that live through the flush are what
        # the garbage collector's full passes scan).
        plain_params = _plain_params_builder(mapper, plan)
        shapes: list[Any] | None = None
        all_params: Sequence[Mapping[str, Any]]
        if plain_params is not None:
            dicts = list(map(_dict_of, map(_object_of, rows)))
            plain_values = _plain_values_builder(mapper, plan)
            value_rows = None if plain_values is None else plain_values(dicts)
            if value_rows is not None:
                all_params, odd = value_rows, False
            else:
                all_params, odd = plain_params(dicts)
        else:
            all_params = [self._insert_params(mapper, plan, track, s, o) for s, o in rows]
            odd = True
        if odd:
            # Parameters follow the plan's column order, so equal key sets mean equal shapes.
            shapes = list(map(dict.keys, cast("list[dict[str, Any]]", all_params)))
            if shapes.count(shapes[0]) == len(shapes):
                shapes = None
        start = 0
        while start < len(rows):
            if shapes is None:  # one shape for all
                shape, end = tuple(all_params[0]), len(rows)
            else:
                first = shapes[start]
                shape, end = tuple(first), start + 1
                while end < len(rows) and shapes[end] == first:
                    end += 1
            group, params = rows[start:end], all_params[start:end]
            start = end
            found = _insert_shape(mapper, shape)
            missing_pk, wanted, plain, returning, by_lastrowid, given = found
            if (
                by_lastrowid
                and len(group) >= COUNTED_KEYS_MIN
                and connection.dialect.insert_keys_counted is not None
                and len(mapper._pk_keys) == 1
            ):
                counted = _insert_counting_keys(connection, mapper, found, params)
                if counted:
                    done = group[: len(counted)]
                    generated = list(mapper._pk_keys)
                    self._record_inserted(done, generated, last)
                    self._inserted_rows(mapper, done, last, given.union(generated), counted)
                    group, params = group[len(counted) :], params[len(counted) :]
                    if not group:
                        continue
            if len(group) == 1 or (missing_pk and not (wanted and can_return)):
                # One INSERT per row: a single row, or keys the cursor reports one at a time.
                for row_params, one in zip(params, group, strict=True):
                    generated = _insert_one(connection, mapper, one[1], row_params, found)
                    self._record_inserted([one], generated, last)
                    self._inserted_rows(mapper, [one], last, given.union(generated))
            elif wanted and can_return:
                keys = None
                result = connection.execute(returning, params)
                col_keys = [mapper._col_to_key.get(col) for col in wanted]
                generated = [k for k in col_keys if k is not None]  # shared: never mutated
                only = generated[0] if len(col_keys) == 1 and generated else None
                # One value read back (a generated key): values, not rows.
                returned: list[Any] = result.scalars().all() if only else result.all()
                if len(returned) != len(group):
                    raise orm_exc.FlushError(
                        f"INSERT into {table.name!r} returned {len(returned)} rows for "
                        f"{len(group)} objects"
                    )
                self._record_inserted(group, generated, last)
                if only is not None:
                    # The usual generated value is the key itself, stored with the identity.
                    if (only,) == mapper._pk_keys:
                        keys = returned
                    else:
                        for obj, value in zip(map(_object_of, group), returned, strict=True):
                            obj.__dict__[only] = value
                else:
                    unmapped = len(generated) != len(col_keys)
                    for (_, obj), row in zip(group, returned, strict=True):
                        values: Any = row
                        if unmapped:
                            values = [
                                v for k, v in zip(col_keys, row, strict=True) if k is not None
                            ]
                        obj.__dict__.update(zip(generated, values, strict=True))
                self._inserted_rows(mapper, group, last, given.union(generated), keys)
            else:
                connection.execute(plain, params)
                self._record_inserted(group, None, last)
                self._inserted_rows(mapper, group, last, given)

    def _record_inserted(
        self, group: list[tuple[InstanceState, Any]], generated: list[str] | None, last: bool
    ) -> None:
        """Note the inserted objects of ``group`` and the attribute keys the database filled in;
        keys filled by a joined-inheritance parent table wait for the object's own table."""
        if not last:
            if generated:
                self.generated_early.update(dict.fromkeys(map(_state_of, group), generated))
            return
        self.inserted.extend(group)
        if self.generated_early:
            for state, _ in group:
                early = self.generated_early.pop(state, None)
                if early:
                    self.generated[state] = early + (generated or [])
                elif generated:
                    self.generated[state] = generated
        elif generated:
            if group[0][0].mapper.dispatch.refresh_flush:
                self.generated.update(dict.fromkeys(map(_state_of, group), generated))
            else:
                self.generated_runs.append((group, generated))

    def _inserted_rows(
        self,
        mapper: Mapper,
        rows: list[tuple[InstanceState, Any]],
        last: bool,
        filled: frozenset[str],
        keys: list[Any] | None = None,
    ) -> None:
        """:func:`_key_inserted` for rows of the flush; on the object's own table (``last``),
        ``refresh_flush`` fires for each object once it has its key.

        When nothing looks at the objects before the flush ends (the session sets
        :attr:`keyed_into` only for a flush of new objects without relationships or
        deletes, that nobody listens to; no ``after_insert`` or ``refresh_flush`` listener
        here), the loop that keys them also enters them in the identity map, which the
        session would otherwise do in a pass of its own over the same objects (a failed
        flush takes them out again: :meth:`undo`)."""
        refresh = mapper.dispatch.refresh_flush if last else None
        keyed_into = self.keyed_into
        if keyed_into is not None and (refresh or mapper.dispatch.after_insert or not last):
            keyed_into = None
            if last:
                self.keyed_all = False
        _key_inserted(
            mapper, rows, filled, self._refresh_flushed if refresh else None, keys, keyed_into
        )

    def _refresh_flushed(self, mapper: Mapper, state: InstanceState, obj: Any) -> None:
        """Fire ``refresh_flush`` for an inserted object with the attributes this flush set
        (Python-side defaults) or read back (other than the key)."""
        pk_keys = mapper._pk_keys
        generated = [k for k in self.generated.get(state, ()) if k not in pk_keys]
        attrs = self.defaulted.pop(state, []) + generated
        if attrs:
            for fn in mapper.dispatch.refresh_flush:
                fn(obj, self, attrs)

    def _emit_updates(
        self,
        connection: Connection,
        mapper: Mapper,
        rows: list[tuple[InstanceState, Any]],
        first: bool = True,
        last: bool = True,
    ) -> None:
        """UPDATE the changed rows of ``mapper``'s table; ``first``/``last`` say whether this is
        the first/last table of a joined-inheritance object (events fire once per object)."""
        table = mapper.local_table
        vcol = mapper.version_id_col
        vkey = mapper._col_to_key.get(vcol) if vcol is not None else None
        groups: dict[tuple[Any, ...], list[tuple[InstanceState, Any, dict[str, Any]]]] = {}
        key_names: set[str] | None = mapper.__dict__.get("_pk_names")
        if key_names is None:
            key_names = mapper.__dict__["_pk_names"] = {str(c.key) for c in table.primary_key}
        for state, obj in rows:
            d = obj.__dict__
            committed = state.committed_state
            changed: dict[str, Any] = {}
            for key, col in mapper._table_columns:
                if key in committed and key != vkey:
                    new = d.get(key, NO_VALUE)
                    if new is NO_VALUE:
                        continue
                    old = committed[key]
                    if old is NO_VALUE or not _same(old, new):
                        changed[col.key] = new
            if not changed and not (first and mapper.dispatch.before_update):
                self.updated.append(state)
                continue
            if first:
                _fire(mapper, "before_update", connection, obj)
            for key, col in mapper._table_columns:
                if key in committed and key != vkey and col.key not in changed:
                    new = d.get(key, NO_VALUE)
                    old = committed[key]
                    if new is not NO_VALUE and (old is NO_VALUE or not _same(old, new)):
                        changed[col.key] = new
            if not changed:
                self.updated.append(state)
                continue
            expire = []
            for key, col in mapper._table_columns:
                onupdate = col.onupdate
                if col.key in changed or (onupdate is None and col.server_onupdate is None):
                    continue
                # the server writes it (a trigger, a computed column, a SQL expression):
                # its new value is read on next access
                if onupdate is None or onupdate.is_clause_element or onupdate.is_sequence:
                    expire.append(key)
                    continue
                arg = onupdate.arg
                value = (
                    (arg(DefaultExecutionContext(changed)) if onupdate._takes_context else arg())
                    if onupdate.is_callable
                    else arg
                )
                d[key] = value
                changed[col.key] = value
                if mapper.dispatch.refresh_flush:
                    self.defaulted.setdefault(state, []).append(key)
            old_version = None
            if vcol is not None and vkey is not None:
                old_version = committed.get(vkey, d.get(vkey, NO_VALUE))
                if old_version is NO_VALUE:
                    old_version = getattr(obj, vkey)
                new_version = mapper.version_id_generator(old_version)
                changed[vcol.key] = new_version
                d[vkey] = new_version
            params = dict(changed)
            assert state.key is not None
            for i, value in enumerate(state.key[1]):
                params[f"pk__{i}"] = value
            if vcol is not None:
                params["ver__old"] = old_version
            if not key_names.isdisjoint(changed):
                self.rekeyed.append((state, obj))
            if expire:
                self.expire_after.append((obj, expire))
            shape = (tuple(sorted(changed)), vcol is not None)
            groups.setdefault(shape, []).append((state, obj, params))
        for (columns, versioned), group in groups.items():
            stmt = _update_statement(mapper, columns, versioned)
            batch = [p for _, _, p in group]
            result = connection.execute(stmt, batch if len(batch) > 1 else batch[0])
            if (
                result.rowcount is not None
                and result.rowcount >= 0
                and result.rowcount != len(group)
            ):
                raise orm_exc.StaleDataError(
                    f"UPDATE statement on table {table.name!r} expected to update {len(group)} "
                    f"row(s); {result.rowcount} were matched. The row was deleted or (with a "
                    "version_id_col) changed by another transaction since it was loaded"
                )
            for state, obj, _ in group:
                self.updated.append(state)
                attrs = self.defaulted.pop(state, None)
                if attrs:
                    for fn in mapper.dispatch.refresh_flush:
                        fn(obj, self, attrs)
        if last and mapper.dispatch.after_update:
            # every object saved fires it, a changed row or not, once all its UPDATEs ran
            for _, obj in rows:
                _fire(mapper, "after_update", connection, obj)

    def _run_secondary(self) -> None:
        for rel, old, new in self.secondary_key_changes or ():
            sec_cols = [s for _, s in rel.secondary_parent_pairs]
            stmt = (
                update(rel.secondary)
                .where(and_(*[c == v for c, v in zip(sec_cols, old, strict=True)]))
                .values({c.key: v for c, v in zip(sec_cols, new, strict=True)})
            )
            self._connection(rel.parent).execute(stmt)
        for rel, obj in self.secondary_parent_deletes:
            # the keys may be expired (a deleted object committed earlier): _value_of loads them
            crit = [
                sec_col == _value_of(rel.parent, obj, parent_col)
                for parent_col, sec_col in rel.secondary_parent_pairs
            ]
            connection = self._connection(rel.parent)
            connection.execute(delete(rel.secondary).where(and_(*crit)))
        for kind in ("delete", "insert"):
            for (rel, op_kind), pairs in self.secondary_ops.items():
                if op_kind != kind or not pairs:
                    continue
                rows = []
                for pair in pairs.values():
                    parent, child = pair["parent"], pair["child"]
                    row: dict[str, Any] = {}
                    for parent_col, sec_col in rel.secondary_parent_pairs:
                        row[sec_col.key] = _value_of(rel.parent, parent, parent_col)
                    for target_col, sec_col in rel.secondary_target_pairs:
                        row[sec_col.key] = _value_of(rel.mapper, child, target_col)
                    rows.append(row)
                connection = self._connection(rel.parent)
                if kind == "insert":
                    connection.execute(insert(rel.secondary), rows if len(rows) > 1 else rows[0])
                else:
                    cols = [c for _, c in rel.secondary_parent_pairs + rel.secondary_target_pairs]
                    stmt = delete(rel.secondary).where(
                        and_(*[c == BindParameter(f"k__{c.key}", None, c.type) for c in cols])
                    )
                    connection.execute(stmt, [{f"k__{k}": v for k, v in r.items()} for r in rows])

    def _delete(self, mapper: Mapper, states: list[InstanceState]) -> None:
        connection = self._connection(mapper)
        vcol = mapper.version_id_col
        vkey = mapper._col_to_key.get(vcol) if vcol is not None else None
        persistent = [s for s in states if s.key is not None]
        for level in reversed(self._row_levels(mapper, persistent)) if persistent else ():
            params = []
            for state in level:
                obj = self.deletes[state]
                _fire(mapper, "before_delete", connection, obj)
                assert state.key is not None
                row = {f"pk__{i}": v for i, v in enumerate(state.key[1])}
                if vkey is not None:
                    current = state.committed_state.get(vkey, obj.__dict__.get(vkey, NO_VALUE))
                    if current is NO_VALUE:
                        current = getattr(obj, vkey)
                    row["ver__old"] = current
                params.append(row)
            for view in reversed(mapper._persist_views):
                self._emit_delete(connection, view, params)
            for state in level:
                obj = self.deletes[state]
                self.deleted.append((state, obj))
                _fire(mapper, "after_delete", connection, obj)

    def _emit_delete(
        self, connection: Connection, mapper: Mapper, params: list[dict[str, Any]]
    ) -> None:
        """DELETE the rows of ``mapper``'s table with the keys (and versions) in ``params``."""
        table = mapper.local_table
        vcol = mapper.version_id_col
        crit = [
            c == BindParameter(f"pk__{i}", None, c.type) for i, c in enumerate(mapper.primary_key)
        ]
        if vcol is not None:
            crit.append(vcol == BindParameter("ver__old", None, vcol.type))
        result = connection.execute(
            delete(table).where(and_(*crit)), params if len(params) > 1 else params[0]
        )
        if vcol is not None and result.rowcount is not None and 0 <= result.rowcount != len(params):
            raise orm_exc.StaleDataError(
                f"DELETE statement on table {table.name!r} expected to delete {len(params)} "
                f"row(s); {result.rowcount} were matched (changed or deleted by another "
                "transaction since it was loaded)"
            )

    def undo(self) -> None:
        """After a failed flush: forget keys this flush gave to objects that were pending (and
        the identity map entries it made for them)."""
        keyed_into = self.keyed_into
        for state, obj in self.inserted:
            if keyed_into is not None and keyed_into.get(state.key) is state:  # type: ignore[arg-type]
                del keyed_into[state.key]  # type: ignore[arg-type]
            state.key = None
            for key in self.generated.get(state, ()):
                obj.__dict__.pop(key, None)
        for group, generated in self.generated_runs:
            for obj in map(_object_of, group):
                d = obj.__dict__
                for key in generated:
                    d.pop(key, None)


def flush_new_object(tx: SessionTransaction, state: InstanceState, obj: Any) -> bool:
    """Write a flush whose only change is one new object, without a :class:`UOWTransaction`
    (see :func:`new_object_plan`); False (nothing done) when the object needs the general
    unit of work."""
    mapper = state.mapper
    plan = None if state.key is not None else new_object_plan(mapper)
    if plan is None:
        return False
    write_new_object(tx._connection_for_bind(tx.session.get_bind(mapper)), plan, state, obj)
    return True


class NewObjectPlan:
    """How to write one new object of a mapper without a unit of work, worked out once:
    its INSERT parameters as a function of the object's ``__dict__`` and, per shape of
    those parameters, the statement and how the generated values come back
    (:class:`RowRoute`, for the dialect last written to)."""

    __slots__ = ("columns", "generation", "mapper", "params", "routes")

    def __init__(
        self, mapper: Mapper, params: Callable[[dict[str, Any]], dict[str, Any]] | None
    ) -> None:
        self.mapper = mapper
        self.columns = mapper._table_columns
        self.generation = event_registry.generation
        self.params = params
        self.routes: tuple[Callable[[], Any] | None, dict[tuple[str, ...], RowRoute]] = (None, {})


def new_object_plan(mapper: Mapper) -> NewObjectPlan | None:
    """The plan for a flush whose only change is one new object of ``mapper``; None when it
    needs the general unit of work: the mapper has relationships (or a delete-orphan one
    owning its objects), inheritance, Python-side defaults or a version counter, or insert
    listeners.  Kept on the mapper until its columns or any listeners change."""
    if mapper._orphan_parents or mapper.base_mapper._subclass_mappers:
        return None
    plan: NewObjectPlan | None = mapper.__dict__.get("_new_object_plan")
    if (
        plan is None
        or plan.columns is not mapper._table_columns
        or plan.generation != event_registry.generation
    ):
        events = mapper.dispatch
        params = None
        if not (
            mapper._relationships
            or events.before_insert
            or events.after_insert
            or events.refresh_flush
        ):
            params = _plain_row_builder(mapper, _insert_plan(mapper))
        plan = mapper.__dict__["_new_object_plan"] = NewObjectPlan(mapper, params)
    return plan if plan.params is not None else None


def write_new_object(
    connection: Connection, plan: NewObjectPlan, state: InstanceState, obj: Any
) -> None:
    """INSERT ``obj``, a new object of ``plan``'s mapper, on ``connection``, and give it its
    identity key (and None for the columns nothing filled in)."""
    params, route = _new_object_row(plan, obj, connection.dialect)
    _write_routed(connection, plan.mapper, route, state, obj.__dict__, params)


def _write_routed(
    connection: Connection,
    mapper: Mapper,
    route: RowRoute,
    state: InstanceState,
    d: dict[str, Any],
    params: dict[str, Any],
) -> None:
    """INSERT the new object of ``state`` (its ``__dict__`` ``d``) with ``params`` as
    ``route`` says, and give it its identity key."""
    _identify_new(mapper, route, state, d, _write_row(connection, mapper, route, d, params))


def commit_new_object(engine: Engine, state: InstanceState, obj: Any) -> bool:
    """INSERT ``obj``, the one new object of its session (of ``state``), and commit, as a
    transaction of its own through the engine's committer for the object's route (see
    ``Engine._insert_committer``): True once done, the object given its identity key; False
    (nothing done) when that does not serve (no plan, see :func:`new_object_plan`; the
    committer declines), for :func:`insert_new_object`.

    What it needs is kept in the engine's ``_lean_cache`` per mapper (see
    :func:`_lean_entry`), valid while the listeners and the mapper's columns are those it
    was made for.  A failed INSERT is raised as from :func:`insert_new_object`; after a
    failed COMMIT the object has its identity key and ``LeanCommitFailed`` is raised."""
    mapper = state.mapper
    d = obj.__dict__
    found = engine._lean_cache.get(mapper)
    if (
        found is None
        or found[0] != event_registry.generation
        or found[1] is not mapper._table_columns
        or mapper._orphan_parents
        or mapper.base_mapper._subclass_mappers
    ):
        found = _lean_entry(engine, mapper, d)
        if found is None:
            return False
    params = found[2](d)
    if params.keys() != found[3]:
        found = _lean_entry(engine, mapper, d)
        if found is None:
            return False
    _, _, _, _, commit_insert, key, identity_class, route = found
    if commit_insert is None:
        return False
    if key is None:
        # A route filling more than a single generated key: the object takes what the
        # INSERT gave before the COMMIT (also when that fails).
        def accept(pk: tuple[Any, ...] | None, row: Any) -> None:
            _identify_new(mapper, route, state, d, _store_generated(mapper, route, d, pk, row))

        return commit_insert(params, accept) is not None
    try:
        values = commit_insert(params)
    except LeanCommitFailed as failed:
        # What _store_generated and _identify_new do for a route of one generated key.
        value = d[key] = failed.values[0]
        state.key = (identity_class, (value,), None)
        raise
    if values is None:
        return False
    value = d[key] = values[0]
    state.key = (identity_class, (value,), None)
    return True


def _lean_entry(engine: Engine, mapper: Mapper, d: dict[str, Any]) -> tuple[Any, ...] | None:
    """What :func:`commit_new_object` keeps per mapper in ``engine``'s ``_lean_cache``, made
    for the parameters of an object whose ``__dict__`` is ``d``: the event generation and
    the mapper's columns it is valid for, the plan's row builder, the parameter names, the
    engine's committer, the attribute of the single generated key (None for a route that
    fills more), the mapper's identity class and the route; None when the mapper has no
    plan."""
    plan = new_object_plan(mapper)
    if plan is None:
        return None
    params = plan.params(d)  # type: ignore[misc]
    route = _route_of(plan, params, engine.dialect)
    found = engine._lean_cache[mapper] = (
        plan.generation,
        plan.columns,
        plan.params,
        frozenset(params),
        engine._insert_committer(route.statement, params),
        route.key_only,
        mapper._identity_class,
        route,
    )
    return found


def insert_new_object(engine: Engine, state: InstanceState, obj: Any) -> Connection | None:
    """:func:`write_new_object` on a Connection of ``engine``'s own, in a transaction begun
    for it and left open, for the caller to commit: the Connection; None (nothing done) when
    the object has no plan (see :func:`new_object_plan`).  After a failure the connection is
    rolled back and returned before the error is raised."""
    plan = new_object_plan(state.mapper)
    if plan is None:
        return None
    connection = engine.connect()
    try:
        connection._begin_root()
        write_new_object(connection, plan, state, obj)
    except BaseException:
        engine._end_connection(connection)
        raise
    return connection


def _new_object_row(plan: NewObjectPlan, obj: Any, dialect: Any) -> tuple[dict[str, Any], RowRoute]:
    """The INSERT parameters of ``obj`` and the route of their shape on ``dialect``."""
    # new_object_plan() gives only plans with parameters
    params = plan.params(obj.__dict__)  # type: ignore[misc]
    return params, _route_of(plan, params, dialect)


def _route_of(plan: NewObjectPlan, params: dict[str, Any], dialect: Any) -> RowRoute:
    """The route of ``params``' shape on ``dialect``."""
    seen, routes = plan.routes
    if seen is None or seen() is not dialect:
        seen = weakref.ref(dialect)
        routes = {}
        plan.routes = (seen, routes)
    shape = tuple(params)
    route = routes.get(shape)
    if route is None:
        mapper = plan.mapper
        route = routes[shape] = _row_route(mapper, _insert_shape(mapper, shape), dialect)
    return route


def _identify_new(
    mapper: Mapper, route: RowRoute, state: InstanceState, d: dict[str, Any], generated: list[str]
) -> None:
    """Give a new object just inserted its identity key, and None to the columns nothing
    filled in; on failure, forget the ``generated`` values stored in its ``d``."""
    try:
        for key in route.none_keys:
            if key not in d:
                d[key] = None
        pk_keys = mapper._pk_keys
        if len(pk_keys) == 1:
            pk: tuple[Any, ...] = (d.get(pk_keys[0]),)
        else:
            pk = tuple([d.get(k) for k in pk_keys])
        if None in pk:
            raise _null_identity(state)
        state.key = (mapper._identity_class, pk, None)
    except BaseException:
        for key in generated:
            d.pop(key, None)
        raise


class RowRoute(NamedTuple):
    """How a one-row INSERT of one shape runs on one dialect (see :func:`_row_route`)."""

    statement: Any
    returning: bool
    """Whether the generated values come back as a RETURNING row, else as the inserted
    primary key (the cursor's lastrowid)."""
    picks: tuple[tuple[str, int], ...]
    """Attribute key and position in that row (or key) of each generated value."""
    generated: list[str]
    """The attribute keys of ``picks``."""
    none_keys: tuple[str, ...]
    """Attribute keys of columns neither given nor generated, which become None."""
    key_only: str | None
    """The attribute key of the primary key when it is a single column, the one value
    generated (the first of the row or key) and no column becomes None: the object is then
    written by storing that value and making its identity of it."""


def _row_route(
    mapper: Mapper,
    found: tuple[list[Any], list[Any], Any, Any, bool, frozenset[str]],
    dialect: Any,
) -> RowRoute:
    """How a one-row INSERT of the shape ``found`` (by :func:`_insert_shape`) runs on
    ``dialect``: with RETURNING for the values the database generates, unless the only one is
    an autoincrement key the dialect reports as the cursor's lastrowid (the cheaper statement
    without RETURNING), or the dialect has no INSERT ... RETURNING."""
    missing_pk, wanted, plain, returning, by_lastrowid, given = found
    if (
        wanted
        and not (by_lastrowid and not getattr(dialect, "implicit_returning_pk", False))
        and getattr(dialect, "insert_returning", False)  # a property on some dialects
    ):
        col_keys = list(map(mapper._col_to_key.get, wanted))
        picks = tuple((k, i) for i, k in enumerate(col_keys) if k is not None)
        statement, by_returning = returning, True
    else:
        primary_key = list(mapper.primary_key)
        picks = tuple((mapper._col_to_key[c], primary_key.index(c)) for c in missing_pk)
        statement, by_returning = plain, False
    generated = [k for k, _ in picks]
    filled = given.union(generated)
    none_keys = tuple(filterfalse(filled.__contains__, mapper._none_default_keys))
    key_only = None
    if (
        len(picks) == 1
        and picks[0][1] == 0
        and not none_keys
        and mapper._pk_keys == tuple(generated)
    ):
        key_only = generated[0]
    return RowRoute(statement, by_returning, picks, generated, none_keys, key_only)


def _insert_one(
    connection: Connection,
    mapper: Mapper,
    obj: Any,
    params: Mapping[str, Any],
    found: tuple[list[Any], list[Any], Any, Any, bool, frozenset[str]],
) -> list[str]:
    """INSERT one row of ``obj`` with ``params`` (their shape ``found`` by :func:`_insert_shape`)
    and set what the database generated on the object; returns those attribute keys."""
    route = _row_route(mapper, found, connection.dialect)
    return _write_row(connection, mapper, route, obj.__dict__, params)


def _write_row(
    connection: Connection,
    mapper: Mapper,
    route: RowRoute,
    d: dict[str, Any],
    params: Mapping[str, Any],
) -> list[str]:
    """INSERT one row with ``params`` as ``route`` says and store what the database generated
    in the object's ``d``; returns those attribute keys (``route.generated``, not to mutate)."""
    pk, row = connection._insert_row(route.statement, params)
    return _store_generated(mapper, route, d, pk, row)


def _store_generated(
    mapper: Mapper,
    route: RowRoute,
    d: dict[str, Any],
    pk: tuple[Any, ...] | None,
    row: Any,
) -> list[str]:
    """Store what the database generated for a row inserted as ``route`` says (its primary
    key ``pk`` and RETURNING ``row``) in the object's ``d``; returns those attribute keys."""
    values: Any
    if route.returning:
        if row is None:
            raise orm_exc.FlushError(
                f"INSERT into {mapper.local_table.name!r} returned 0 rows for 1 objects"
            )
        values = row
    elif pk is None:
        raise orm_exc.FlushError(
            f"INSERT into {mapper.local_table.name!r} did not insert the row (a conflict the "
            "table's definition ignores)"
        )
    else:
        values = pk
    for key, index in route.picks:
        d[key] = values[index]
    return route.generated


COUNTED_KEYS_MIN = 20
"""Rows of one INSERT shape from which a flush works their generated keys out rather than
reading them back: for fewer, the dialect's check costs more than it saves."""


def _insert_counting_keys(
    connection: Connection,
    mapper: Mapper,
    found: tuple[list[Any], list[Any], Any, Any, bool, frozenset[str]],
    params: Sequence[Mapping[str, Any]],
) -> list[int]:
    """INSERT rows whose only generated value is their table's autoincrement key (``found``
    by :func:`_insert_shape`) without RETURNING, where the dialect vouches for the keys the
    database gives them (``insert_keys_counted``); returns the keys of the rows written, in
    order: all of them, the first only (the others are left to the caller) or none.

    Cheaper than reading the keys back: the rows go as multi-row INSERTs with nothing to
    fetch, and the keys are counted from each statement's ``lastrowid``: its first row's
    key on MySQL/MariaDB; its last row's on SQLite, after a first row inserted alone (with
    RETURNING: its key is then the one written, even where the table's definition says
    ``ON CONFLICT IGNORE``).
    """
    if connection._execution_options or not params[0]:
        # Rows of defaults only are INSERT ... DEFAULT VALUES, one statement per row.
        return []
    dialect = connection.dialect
    table = mapper.local_table
    column = found[0][0]
    plain = found[2]
    from_first = dialect.insert_keys_counted == "first"
    keys: list[int] = []
    if from_first:
        if not dialect.insert_keys_consecutive(connection, table, column):
            return []
        rest = params
    elif not getattr(dialect, "insert_returning", False):
        return []
    else:
        _, row = connection._insert_row(found[3], params[0])
        if row is None:
            raise orm_exc.FlushError(f"INSERT into {table.name!r} returned 0 rows for 1 objects")
        first = row[0]
        if not isinstance(first, int):
            raise orm_exc.FlushError(
                f"A row inserted into {table.name!r} has a NULL identity key after INSERT; give "
                "its primary key a value or make it autoincrement"
            )
        keys.append(first)
        rest = params[1:]
        if not dialect.insert_keys_follow(connection, table, column, first, len(rest)):
            return keys
    steps = connection.execute(plain, rest).context._insert_steps
    for lastrowid, count in steps or ():
        if not isinstance(lastrowid, int) or count <= 0:
            break
        start = lastrowid if from_first else lastrowid - count + 1
        if not from_first and start != keys[-1] + 1:
            break
        keys.extend(range(start, start + count))
    if steps is not None and len(keys) == len(params):
        return keys
    raise orm_exc.FlushError(
        f"INSERT into {table.name!r} did not report the keys of its {len(params)} rows as expected"
    )


def _key_inserted(
    mapper: Mapper,
    rows: list[tuple[InstanceState, Any]],
    filled: frozenset[str],
    refresh: Callable[[Mapper, InstanceState, Any], None] | None,
    keys: list[Any] | None = None,
    keyed_into: dict[IdentityKey, InstanceState] | None = None,
) -> None:
    """Give each inserted object its identity key and None for the columns nothing filled
    in (``filled``: the attribute keys the INSERT gave or read back for every object of
    ``rows``); ``refresh`` is called for each object once it has its key.  ``keys``: the
    values of a single-column primary key the database generated, one per row, not yet
    stored on the objects.  With ``keyed_into`` (an identity map's dict), each object is
    entered there under its key in the same loop."""
    none_keys = list(filterfalse(filled.__contains__, mapper._none_default_keys))
    pk_keys = mapper._pk_keys
    single_pk = pk_keys[0] if len(pk_keys) == 1 else None
    identity_class = mapper._identity_class
    if keys is not None:
        assert single_pk is not None
        if not none_keys and refresh is None:
            # The commonest case: one loop stores each generated key and makes the identity.
            for (state, obj), value in zip(rows, keys, strict=True):
                if value is None:
                    raise _null_identity(state)
                obj.__dict__[single_pk] = value
                state.key = identity = (identity_class, (value,), None)
                if keyed_into is not None:
                    keyed_into[identity] = state
            return
        for obj, value in zip(map(_object_of, rows), keys, strict=True):
            obj.__dict__[single_pk] = value
    if single_pk is not None and not none_keys and refresh is None:
        # The common case, one generated or given key per object and nothing else to do.
        for state, obj in rows:
            value = obj.__dict__.get(single_pk)
            if value is None:
                raise _null_identity(state)
            state.key = identity = (identity_class, (value,), None)
            if keyed_into is not None:
                keyed_into[identity] = state
        return
    for state, obj in rows:
        d = obj.__dict__
        for key in none_keys:
            if key not in d:
                d[key] = None
        pk = (d.get(single_pk),) if single_pk is not None else tuple([d.get(k) for k in pk_keys])
        if None in pk:
            raise _null_identity(state)
        state.key = identity = (identity_class, pk, None)
        if keyed_into is not None:
            keyed_into[identity] = state
        if refresh is not None:
            refresh(mapper, state, obj)


def _null_identity(state: InstanceState) -> orm_exc.FlushError:
    return orm_exc.FlushError(
        f"Instance {state_str_safe(state)} has a NULL identity key after INSERT; give "
        "its primary key a value or make it autoincrement"
    )


def _insert_shape(
    mapper: Mapper, shape: tuple[str, ...]
) -> tuple[list[Any], list[Any], Any, Any, bool, frozenset[str]]:
    """For INSERTs giving the columns ``shape``: the primary key columns the database makes,
    every column to read back, the plain INSERT, the ``INSERT ... RETURNING`` (cached),
    whether the only value to read back is the table's autoincrement key, which a database
    without implicit RETURNING reports as the cursor's lastrowid, and the attribute keys of
    the columns given."""
    cache: dict[tuple[str, ...], Any] = mapper.__dict__.setdefault("_insert_shapes", {})
    found: tuple[list[Any], list[Any], Any, Any, bool, frozenset[str]] | None = cache.get(shape)
    if found is not None:
        return found
    table = mapper.local_table
    present = set(shape)
    missing_pk = [c for c in mapper.primary_key if c.key not in present]
    fetch = [
        c
        for c in table.c
        if c.key not in present
        and c not in missing_pk
        and (
            c.server_default is not None
            or (c.default is not None and (c.default.is_clause_element or c.default.is_sequence))
        )
    ]
    wanted = missing_pk + fetch
    returning = insert(table).returning(*wanted, sort_by_parameter_order=True) if wanted else None
    by_lastrowid = (
        not fetch
        and len(missing_pk) == 1
        and missing_pk[0] is getattr(table, "autoincrement_column", None)
        and missing_pk[0].default is None
        and missing_pk[0].server_default is None
    )
    given = frozenset(
        k
        for c, k in mapper._col_to_key.items()
        if getattr(c, "table", None) is table and c.key in present
    )
    found = cache[shape] = (missing_pk, wanted, insert(table), returning, by_lastrowid, given)
    return found


_VERSION: Any = object()
"""In an insert plan: the column is the mapper's ``version_id_col``."""


def _insert_plan(mapper: Mapper) -> list[tuple[str, str, bool, Any]]:
    """Per column of the mapper's table, what an INSERT needs to know, worked out once:
    attribute key, column key, whether None means "let the database decide", and the
    Python-side default (``_VERSION`` for the version counter, None when there is none)."""
    columns = mapper._table_columns
    cached = mapper.__dict__.get("_insert_plan")
    if cached is not None and cached[0] is columns:
        plan: list[tuple[str, str, bool, Any]] = cached[1]
        return plan
    plan = []
    for key, col in columns:
        default = col.default
        if mapper.version_id_col is not None and col is mapper.version_id_col:
            default = _VERSION
        elif default is not None and (default.is_sequence or default.is_clause_element):
            default = None
        # None for a column with a default lets the default apply (an explicit NULL needs
        # null() or a type that evaluates None).
        none_skips = bool(
            col.primary_key
            or col.server_default is not None
            or (col.default is not None and not col.type.should_evaluate_none)
        )
        plan.append((key, col.key, none_skips, default))
    mapper.__dict__["_insert_plan"] = (columns, plan)
    return plan


ParamsBuilder = Callable[[list[dict[str, Any]]], tuple[list[dict[str, Any]], bool]]


def _plain_params_builder(
    mapper: Mapper, plan: list[tuple[str, str, bool, Any]]
) -> ParamsBuilder | None:
    """For a plan without Python-side defaults: a function made for it that turns objects'
    ``__dict__``s into INSERT parameters (what :meth:`UOWTransaction._insert_params` does, a
    flush's per-object hot spot, as straight-line code) and tells whether any object's
    parameters may have another shape than the usual one; None when the plan has defaults."""
    return _plain_params_functions(mapper, plan)[0]


def _plain_row_builder(
    mapper: Mapper, plan: list[tuple[str, str, bool, Any]]
) -> Callable[[dict[str, Any]], dict[str, Any]] | None:
    """What :func:`_plain_params_builder` gives, for one object's ``__dict__`` at a time."""
    return _plain_params_functions(mapper, plan)[1]


def _plain_params_functions(
    mapper: Mapper, plan: list[tuple[str, str, bool, Any]]
) -> tuple[ParamsBuilder | None, Callable[[dict[str, Any]], dict[str, Any]] | None]:
    """The functions of :func:`_plain_params_builder` and :func:`_plain_row_builder`, made
    together once per plan."""
    cached = mapper.__dict__.get("_plain_params")
    if cached is not None and cached[0] is plan:
        found: tuple[Any, Any] = cached[1]
        return found
    found = (None, None)
    if all(default is None for _, _, _, default in plan):
        # Keys are written as literals (repr), so any column name is safe here.  The usual
        # object has every plain column's value and none of the columns where None means
        # "let the database decide" (the generated key): its parameters are one dict display;
        # any other object goes key by key.
        lines = ["def one(d):", "    p = {}"]
        for key, col_key, none_skips, _ in plan:
            lines.append(f"    if {key!r} in d:")
            if none_skips:
                lines.append(f"        v = d[{key!r}]")
                lines.append("        if v is not None:")
                lines.append(f"            p[{col_key!r}] = v")
            else:
                lines.append(f"        p[{col_key!r}] = d[{key!r}]")
        lines.append("    return p")
        skipping = [key for key, _, none_skips, _ in plan if none_skips]
        usual = ", ".join(f"{c!r}: d[{k!r}]" for k, c, none_skips, _ in plan if not none_skips)
        unusual = " or ".join(f"{k!r} in d" for k in skipping)
        lines.append("def row(d):")
        if skipping:
            lines += [f"    if {unusual}:", "        return one(d)"]
        lines += ["    try:", f"        return {{{usual}}}", "    except KeyError:"]
        lines.append("        return one(d)")
        lines += ["def build(dicts):", "    out = []", "    append = out.append", "    odd = False"]
        lines.append("    for d in dicts:")
        if skipping:
            lines.append(f"        if {unusual}:")
            lines += [
                "            append(one(d))",
                "            odd = True",
                "            continue",
            ]
        lines += ["        try:", f"            append({{{usual}}})"]
        lines += [
            "        except KeyError:",
            "            append(one(d))",
            "            odd = True",
        ]
        lines.append("    return out, odd")
        namespace: dict[str, Any] = {}
        exec("\n".join(lines), namespace)
        found = (namespace["build"], namespace["row"])
    mapper.__dict__["_plain_params"] = (plan, found)
    return found


def _plain_values_builder(
    mapper: Mapper, plan: list[tuple[str, str, bool, Any]]
) -> Callable[[list[dict[str, Any]]], ValueRows | None] | None:
    """For a plan without Python-side defaults: a function turning objects' ``__dict__``s into
    the INSERT's parameter sets as value rows, each picked in one C call, when every object
    has the usual shape (every column where None is a value given, none of the others) and
    None otherwise (:func:`_plain_params_builder` then builds them); None when the plan has
    defaults or no such column."""
    cached = mapper.__dict__.get("_plain_values")
    if cached is not None and cached[0] is plan:
        found: Callable[[list[dict[str, Any]]], ValueRows | None] | None = cached[1]
        return found
    found = None
    usual = [(key, col_key) for key, col_key, none_skips, _ in plan if not none_skips]
    if usual and all(default is None for _, _, _, default in plan):
        col_keys = tuple(col_key for _, col_key in usual)
        getter = itemgetter(*[key for key, _ in usual])
        single = len(usual) == 1
        skipping = [key for key, _, none_skips, _ in plan if none_skips]
        has = dict.__contains__

        def build(dicts: list[dict[str, Any]]) -> ValueRows | None:
            for key in skipping:
                if any(map(has, dicts, repeat(key))):
                    return None
            try:
                values = list(map(getter, dicts))
            except KeyError:
                return None
            return ValueRows(col_keys, [(v,) for v in values] if single else values)

        found = build
    mapper.__dict__["_plain_values"] = (plan, found)
    return found


def _update_statement(mapper: Mapper, columns: tuple[str, ...], versioned: bool) -> Any:
    cache: dict[Any, Any] = mapper.__dict__.setdefault("_update_stmts", {})
    stmt = cache.get((columns, versioned))
    if stmt is None:
        table = mapper.local_table
        crit = [
            c == BindParameter(f"pk__{i}", None, c.type) for i, c in enumerate(mapper.primary_key)
        ]
        if versioned and mapper.version_id_col is not None:
            vcol = mapper.version_id_col
            crit.append(vcol == BindParameter("ver__old", None, vcol.type))
        values = {key: BindParameter(key, None, table.c[key].type) for key in columns}
        stmt = cache[(columns, versioned)] = update(table).where(and_(*crit)).values(values)
    return stmt


def _value_of(mapper: Mapper, obj: Any, col: Any) -> Any:
    key = mapper._col_to_key[col]
    d = obj.__dict__
    return d[key] if key in d else getattr(obj, key)


def _set_value(state: InstanceState, d: dict[str, Any], key: str, value: Any) -> None:
    old = d.get(key, NO_VALUE)
    if old is not NO_VALUE and _same(old, value):
        return
    if state.key is not None and key not in state.committed_state:
        state._own_committed()[key] = old
    d[key] = value


def state_str_safe(state: InstanceState) -> str:
    return f"<{state.class_.__name__}>"


def _warn_not_in_session(item: Any, rel: RelationshipProperty) -> None:
    """An object added to ``rel`` only through the other side of a bidirectional link (which
    does not cascade it into the session) is left out of the flush, with this warning."""
    warnings.warn(
        f"Object of type {type(item).__name__} is not in the session, so adding it along "
        f"{rel} is skipped by this flush; session.add() it (the reverse side of a "
        "bidirectional relationship does not cascade it into the session)",
        sa_exc.AthanorWarning,
        stacklevel=4,
    )


def _old_value(state: InstanceState, d: dict[str, Any], column: Any, key: str | None) -> Any:
    """The value attribute ``key`` (of ``column``) had when loaded: from the history, else,
    for a primary key column set before it was loaded again, from the identity key."""
    old = state.committed_state.get(key, d.get(key)) if key is not None else None
    if old is NO_VALUE and state.key is not None:
        primary_key = state.mapper.primary_key
        old = next((v for c, v in zip(primary_key, state.key[1], strict=True) if c is column), None)
    return old


def _carried_keys(mapper: Any) -> list[RelationshipProperty]:
    """Of a configured mapper, worked out once: its one-to-many relationships with
    ``passive_updates=False`` (which carry a changed primary key to the children)."""
    found: list[RelationshipProperty] | None = mapper.__dict__.get("_uow_carried")
    if found is None:
        found = mapper.__dict__["_uow_carried"] = [
            rel
            for rel in mapper._relationships
            if not rel.passive_updates and not rel.viewonly and rel.direction != MANYTOONE
        ]
    return found
