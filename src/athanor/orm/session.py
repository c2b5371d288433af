"""The Session: a unit of work, an identity map and a transaction over one or more engines.

A session begins its transaction on first use (``autobegin``), flushes pending changes before
queries (``autoflush``), and expires every object on commit so the next access reloads it
(``expire_on_commit``).  A flush that fails rolls the database transaction back at once and
leaves the session refusing work until ``rollback()`` (``PendingRollbackError``), so nothing
half-written is ever committed.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from enum import Enum
from operator import attrgetter, itemgetter
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypedDict, TypeVar, Unpack, overload

from athanor import exc as sa_exc
from athanor.engine.connection import Connection
from athanor.engine.engine import Engine, LeanCommitFailed
from athanor.event.registry import Dispatch, EventTarget
from athanor.orm import exc as orm_exc
from athanor.orm.attributes import QueryableAttribute, set_committed_value
from athanor.orm.base import (
    MAPPER_KEY,
    NO_CHANGES,
    NO_VALUE,
    STATE_KEY,
    _fresh_committed,
    _new_state,
    _sessions,
    class_mapper,
    instance_state,
    state_str,
)
from athanor.orm.bulk_persistence import execute_orm_dml, shape_groups, update_rows_by_primary_key
from athanor.orm.execute_state import execute_with_listeners
from athanor.orm.loading import (
    DirectLoad,
    LoadingPlan,
    from_statement_result,
    load_on_pk,
    load_scalar_attributes,
    orm_selection,
    plan_for,
)
from athanor.orm.mapper import EntityClause, Mapper
from athanor.orm.n_plus_one import ENV_KEY_BYTES, session_mode
from athanor.orm.state import (
    IdentityMap,
    InstanceState,
    _DeletedState,
    _make_state,
    commit_states,
    expire_states,
)
from athanor.orm.strategies import lazy_load
from athanor.orm.unitofwork import (
    UOWTransaction,
    commit_new_object,
    flush_new_object,
    insert_new_object,
    new_object_plan,
)
from athanor.orm.writeonly import QUERY_COLLECTIONS
from athanor.sql.dml import DMLStatement, insert
from athanor.sql.elements import ClauseElement
from athanor.sql.lambdas import StatementLambdaElement
from athanor.sql.selectable import FromStatement, Select
from athanor.util.collections import IdentitySet
from athanor.util.gc_pause import gc_paused

if TYPE_CHECKING:
    from athanor.engine.transaction import Transaction
    from athanor.orm.query import Query

_T = TypeVar("_T")
_counter = itertools.count(1)
_weakref = weakref.ref
_state_of = itemgetter(0)
_transaction_of = itemgetter(1)
_key_of = attrgetter("key")

_NO_ARGUMENTS: Mapping[str, Any] = {}
_ENVIRON: dict[Any, Any] | None = getattr(os.environ, "_data", None)
"""The process environment's own dict (which ``os.environ`` updates in place), if it has one."""
_NO_DELETES: dict[Any, Any] = {}
"""What a session has for ``_deleted`` until its first delete(): shared by all, never written."""
_NO_SAVEPOINTS: dict[Any, Any] = {}
"""What an outermost SessionTransaction has for ``_savepoints``; only savepoints write theirs."""

ACTIVE = "active"
DEACTIVE = "deactive"
_JOIN_MODES = ("conservative_savepoint", "create_savepoint", "control_fully", "rollback_only")
"""The ``join_transaction_mode`` values: how a session uses a connection already in a
transaction."""
CLOSED = "closed"

_SESSION_EVENTS: dict[str, tuple[str, ...]] = {
    "before_flush": ("session", "flush_context", "instances"),
    "after_flush": ("session", "flush_context"),
    "after_flush_postexec": ("session", "flush_context"),
    "after_begin": ("session", "transaction", "connection"),
    "before_commit": ("session",),
    "after_commit": ("session",),
    "after_rollback": ("session",),
    "after_soft_rollback": ("session", "previous_transaction"),
    "before_attach": ("session", "instance"),
    "after_attach": ("session", "instance"),
    "after_transaction_create": ("session", "transaction"),
    "after_transaction_end": ("session", "transaction"),
    "transient_to_pending": ("session", "instance"),
    "pending_to_transient": ("session", "instance"),
    "pending_to_persistent": ("session", "instance"),
    "persistent_to_deleted": ("session", "instance"),
    "deleted_to_detached": ("session", "instance"),
    "persistent_to_detached": ("session", "instance"),
    "detached_to_persistent": ("session", "instance"),
    "loaded_as_persistent": ("session", "instance"),
    "deleted_to_persistent": ("session", "instance"),
    "persistent_to_transient": ("session", "instance"),
    "do_orm_execute": ("orm_execute_state",),
    "after_bulk_update": ("update_context",),
    "after_bulk_delete": ("delete_context",),
}


def _reads_mapped(statement: Select) -> bool:
    """Whether a select reads mapped attributes or the tables of mapped classes (or their
    aliases), which makes its columns ORM columns."""
    if any(isinstance(origin, QueryableAttribute) for origin in statement._raw_origins):
        return True
    froms = [f for raw in statement._raw_columns for f in raw._from_objects]
    return any(
        "_mapped_entity" in vars(f) or "_aliased_entity" in vars(f)
        for f in (*froms, *statement._from_obj)
    )


class UnboundExecutionError(sa_exc.InvalidRequestError):
    """The session has no engine to run a statement on."""


class SessionTransactionOrigin(Enum):
    """What began a :class:`SessionTransaction` (its ``origin``)."""

    AUTOBEGIN = 0
    """The session's first use (or add()) began it."""
    BEGIN = 1
    """``Session.begin()``, or ``begin_nested()`` on a session with none begun."""
    BEGIN_NESTED = 2
    """``Session.begin_nested()``: a savepoint."""
    SUBTRANSACTION = 3
    """A flush, for whoever listens to transactions beginning and ending."""


class SessionTransaction:
    """A session's transaction (``session.begin()``) or savepoint (``session.begin_nested()``)."""

    _savepoints: dict[Any, Transaction] = _NO_SAVEPOINTS
    """A savepoint's SAVEPOINT per bind (its own dict); the outermost transaction has none."""

    def __init__(
        self,
        session: Session,
        parent: SessionTransaction | None = None,
        nested: bool = False,
        origin: SessionTransactionOrigin = SessionTransactionOrigin.AUTOBEGIN,
    ) -> None:
        self.session = session
        self.parent = parent
        self.nested = nested
        self.origin = origin
        self._state = ACTIVE
        self._failure: BaseException | None = None
        self._connections: dict[Any, tuple[Connection, Transaction | None, bool]] = {}
        self._new: dict[InstanceState, Any] = {}
        self._deleted: dict[InstanceState, Any] = {}
        self._added: dict[InstanceState, Any] = {}
        if session.dispatch.after_transaction_create:
            session._fire("after_transaction_create", session, self)
        if nested:
            # Its SAVEPOINT on each connection is begun when the connection is first used
            # in it (as SQLAlchemy's is), with after_begin then.
            self._savepoints = {}

    _key_switches: list[tuple[InstanceState, Any, Any]] | None = None
    """Objects whose primary key a flush of this transaction changed, with their old keys
    (restored on rollback)."""
    _rollback_only: list[Transaction] | None = None
    """Outer transactions of joined connections that a rollback rolls back and a commit
    leaves alone (``join_transaction_mode="rollback_only"``)."""
    _expiry_follows = False
    """Whether the flush under way is :meth:`commit`'s, with every object's expiry to follow
    and no event to tell of anything in between: the flush then leaves the objects it wrote
    to forget their changes in that expiry (see :attr:`_written`)."""
    _written: dict[InstanceState, Any] | None = None
    """The objects written by such a flush, which still hold their changes: they forget them
    in the expiry after the COMMIT, or here if the COMMIT fails."""

    @property
    def _root(self) -> SessionTransaction:
        tx = self
        while tx.parent is not None:
            tx = tx.parent
        return tx

    @property
    def is_active(self) -> bool:
        return self._state == ACTIVE

    def _connection_for_bind(self, bind: Any) -> Connection:
        root = self if self.parent is None else self._root
        entry = root._connections.get(bind)
        if entry is not None:
            if self.nested and bind not in self._savepoints:
                self._begin_savepoints(bind, entry[0], ())
            return entry[0]
        if isinstance(bind, Engine):
            conn = bind.connect()
            owned = True
        elif isinstance(bind, Connection):
            conn = bind
            owned = False
        else:
            raise UnboundExecutionError(f"Cannot use {bind!r} as a Session bind")
        try:
            trans = self._join(bind, conn) if conn._transaction is not None else conn._begin_root()
        except BaseException:
            if owned:  # not yet in _connections, so nothing else would return it
                conn.close()
            raise
        root._connections[bind] = (conn, trans, owned)
        if self.nested or self.session.dispatch.after_begin:
            self._begin_savepoints(bind, conn, (root,))
        return conn

    def _begin_savepoints(
        self, bind: Any, conn: Connection, begun: tuple[SessionTransaction, ...]
    ) -> None:
        """Begin on ``conn`` the SAVEPOINT of this savepoint and of each enclosing one that
        has none there yet, outermost first; after_begin fires for ``begun`` (the outermost
        transaction, when ``conn`` is new to it), then for each savepoint begun."""
        session = self.session
        if session.dispatch.after_begin:
            for each in begun:
                session._fire("after_begin", session, each, conn)
        chain: list[SessionTransaction] = []
        tx: SessionTransaction | None = self
        while tx is not None and tx.nested and bind not in tx._savepoints:
            chain.append(tx)
            tx = tx.parent
        for nested in reversed(chain):
            nested._savepoints[bind] = conn.begin_nested()
            if session.dispatch.after_begin:
                session._fire("after_begin", session, nested, conn)

    def _join(self, bind: Any, conn: Connection) -> Transaction | None:
        """The transaction this session ends on ``conn``, which is already in one begun
        outside the session, as the session's ``join_transaction_mode`` says: a SAVEPOINT of
        its own, the outer transaction itself, or none to commit (only to roll back)."""
        mode = self.session.join_transaction_mode
        if mode == "create_savepoint" or (
            mode == "conservative_savepoint" and conn._nested_transaction is not None
        ):
            return conn.begin_nested()
        if mode == "control_fully":
            return conn._transaction
        outer = conn._transaction
        assert outer is not None  # only called for a connection in a transaction
        root = self._root
        if root._rollback_only is None:
            root._rollback_only = []
        root._rollback_only.append(outer)
        return None

    def connection(self, bind: Any = None) -> Connection:
        return self._connection_for_bind(bind if bind is not None else self.session.get_bind())

    # --- ending --------------------------------------------------------------------------------

    def commit(self) -> None:
        """Commit (flushing first); for a savepoint, release it."""
        session = self.session
        if self._state == DEACTIVE:
            raise session._pending_rollback_error(self)
        if self._state != ACTIVE:
            raise sa_exc.InvalidRequestError("This transaction is already closed")
        if self.nested:
            if session.dispatch.before_commit:
                session._fire("before_commit", session)
            session.flush()
            if self._state == DEACTIVE:
                raise session._pending_rollback_error(self)
            for sp in self._savepoints.values():
                sp.commit()
            parent = self.parent
            assert parent is not None
            parent._new.update(self._new)
            parent._deleted.update(self._deleted)
            parent._added.update(self._added)
            if self._key_switches:
                parent._key_switches = (parent._key_switches or []) + self._key_switches
            if session.dispatch.after_commit:
                session._fire("after_commit", session)
            self._end()
            return
        while session._transaction is not None and session._transaction is not self:
            session._transaction.commit()
        if session.dispatch.before_commit:
            session._fire("before_commit", session)
        self._expiry_follows = session.expire_on_commit and not session.dispatch._listened
        try:
            session.flush()
        finally:
            self._expiry_follows = False
        try:
            for _, trans, _ in self._connections.values():
                if trans is not None and trans.is_active:
                    trans.commit()
            self._close_connections()
        except BaseException:
            if self._written is not None:
                commit_states(self._written)
            raise
        finally:
            self._written = None
        if self._deleted:
            for state in self._deleted:
                state.session_id = None
                state.deleted = False
                state.__class__ = _DeletedState
            if session.dispatch.deleted_to_detached:
                for obj in list(self._deleted.values()):
                    session._fire("deleted_to_detached", session, obj)
            self._deleted.clear()
        self._new.clear()
        self._detach()
        if session.dispatch.after_commit:
            session._fire("after_commit", session)
        identity_map = session.identity_map
        if session.expire_on_commit and (identity_map._modified or identity_map.has_objects()):
            session._expire_everything()
        if session.dispatch.after_transaction_end:
            self._announce_end()

    def rollback(self, _capture: BaseException | None = None, _closing: bool = False) -> None:
        """Roll back (to the savepoint), restoring the session's objects to match
        (``_closing``: for ``Session.close()``, which leaves joined outer transactions be)."""
        session = self.session
        if self._state == CLOSED:
            return
        if self.nested:
            if self._state == ACTIVE:
                for sp in self._savepoints.values():
                    if sp.is_active:
                        sp.rollback()
            for state in self._added:
                if state.key is None and session._new.pop(state, None) is not None:
                    state.session_id = None
            rolled_back = self._state == DEACTIVE  # by the failed flush, which said so
            self._restore()
            if session.dispatch.after_rollback and not rolled_back:
                session._fire("after_rollback", session)
            self._end()
            session._fire("after_soft_rollback", session, self)
            return
        rolled_back = self._state == DEACTIVE  # by the failed flush, which said so
        while session._transaction is not None and session._transaction is not self:
            session._transaction._restore()
            session._transaction._end()
        self._rollback_all(joined=not _closing)
        self._restore()
        for state, obj in list(session._new.items()):
            state.session_id = None
            session._fire("pending_to_transient", session, obj)
        session._new.clear()
        session._deleted.clear()
        self._detach()
        dispatch = session.dispatch
        if dispatch.after_rollback and not _closing and not rolled_back:
            session._fire("after_rollback", session)
        self._announce_end()
        if dispatch.after_soft_rollback and not _closing:
            session._fire("after_soft_rollback", session, self)

    def _restore(self) -> None:
        session = self.session
        for state, obj, old in reversed(self._key_switches or ()):
            if state.key is not None:
                session.identity_map.discard(state.key, obj)
            state.key = old
            session.identity_map._dict[old] = state
        self._key_switches = None
        dispatch = session.dispatch
        for state, obj in self._new.items():
            if state.key is not None:
                session.identity_map.discard(state.key, obj)
            state.key = None
            state.session_id = None
            state.deleted = False
            if dispatch.persistent_to_transient:
                session._fire("persistent_to_transient", session, obj)
        for state, obj in self._deleted.items():
            state.deleted = False
            if state.key is not None:
                session.identity_map.add(state.key, obj)
                state.session_id = session.hash_key
                if dispatch.deleted_to_persistent:
                    session._fire("deleted_to_persistent", session, obj)
        for state in list(session._deleted):
            if state.key is not None:
                session._deleted.pop(state, None)
        self._new.clear()
        self._deleted.clear()
        session._expire_everything()

    def _flush_failed(self, error: BaseException) -> None:
        """A flush failed: roll the database back now (after_rollback tells of it then, as
        SQLAlchemy's does); require rollback() before more work."""
        if self.nested:
            for sp in self._savepoints.values():
                if sp.is_active:
                    with contextlib.suppress(Exception):
                        sp.rollback()
        else:
            self._rollback_all()
        self._state = DEACTIVE
        self._failure = error
        session = self.session
        if session.dispatch.after_rollback:
            session._fire("after_rollback", session)

    def _rollback_all(self, joined: bool = True) -> None:
        """Roll back every connection's transaction (and, with ``joined``, the joined outer
        ones of ``rollback_only``), then let the connections go."""
        transactions = list(map(_transaction_of, self._connections.values()))
        if joined and self._rollback_only:
            transactions += self._rollback_only
        for trans in transactions:
            if trans is not None and (trans.is_active or trans._deactivated):
                # Not contextlib.suppress(): an object and two calls per rollback.
                try:  # noqa: SIM105
                    trans.rollback()
                except Exception:  # the connections are released below all the same
                    pass
        self._close_connections()

    def _close_connections(self) -> None:
        for conn, _, owned in self._connections.values():
            if owned:
                conn.close()
        self._connections.clear()
        self._rollback_only = None

    def _end(self) -> None:
        self._detach()
        self._announce_end()

    def _detach(self) -> None:
        """Close this transaction and make its parent (or none) the session's current one."""
        self._state = CLOSED
        session = self.session
        if session._transaction is self:
            session._transaction = self.parent

    def _announce_end(self) -> None:
        """Fire after_transaction_end: the last event of a transaction, after commit/rollback's."""
        session = self.session
        if session.dispatch.after_transaction_end:
            session._fire("after_transaction_end", session, self)

    def close(self) -> None:
        if self._state != CLOSED:
            self.rollback()

    def __enter__(self) -> SessionTransaction:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._state == CLOSED:
            return
        if exc_type is None:
            try:
                self.commit()
            except BaseException:
                if self._state != CLOSED:
                    self.rollback()
                raise
        else:
            self.rollback()


class SessionOptions(TypedDict, total=False):
    """The keyword options of ``Session()``, typed for callers; their defaults and meaning
    are those of ``Session._set_options``."""

    autoflush: bool
    future: bool
    expire_on_commit: bool
    autobegin: bool
    twophase: bool
    binds: Mapping[Any, Any] | None
    enable_baked_queries: bool
    info: dict[Any, Any] | None
    query_cls: Any
    autocommit: bool
    join_transaction_mode: str
    close_resets_only: bool
    n_plus_one: str | None


_SESSION_OPTIONS = tuple(SessionOptions.__annotations__)


class _IdentityMapOnFirstUse:
    """``Session.identity_map``: an :class:`IdentityMap` made on first use and stored as the
    session's own attribute, which Python finds first from then on (this descriptor has no
    ``__set__``).  A session that writes one new object its caller no longer holds and
    closes never needs one: the usual request of a web application pays for none."""

    @overload
    def __get__(self, session: None, owner: type[Any]) -> _IdentityMapOnFirstUse: ...

    @overload
    def __get__(self, session: Session, owner: type[Any] | None = None) -> IdentityMap: ...

    def __get__(
        self, session: Session | None, owner: type[Any] | None = None
    ) -> IdentityMap | _IdentityMapOnFirstUse:
        if session is None:
            return self
        made = session.__dict__["identity_map"] = IdentityMap()
        return made


class Session(EventTarget):
    """Manages persistence operations for ORM-mapped objects (``with Session(engine) as s:``)."""

    _event_signatures = _SESSION_EVENTS
    _shared_dispatch = True
    _async_provider: Callable[[], Any] | None = None
    """A weak reference to the AsyncSession driving this session, if one does."""

    # The defaults of the constructor's options: a session keeps its own value only for an
    # option given another one, so the usual session is quick to make.
    autoflush: bool = True
    expire_on_commit: bool = True
    autobegin: bool = True
    twophase: bool = False
    join_transaction_mode: str = "conservative_savepoint"
    _binds: Mapping[Any, Any] = _NO_ARGUMENTS
    _query_cls: Any = None
    _transaction: SessionTransaction | None = None
    _flushing = False
    _n_plus_one: str | None = None
    _deleted: dict[InstanceState, Any] = _NO_DELETES
    """The objects marked for deletion (a dict of the session's own from its first delete())."""
    _autobegun = False
    """add() (or delete()) began the transaction while no session event was listened to: the
    session is in a transaction, whose SessionTransaction is made only when something needs
    it (a connection, a flush, get_transaction()), so that the usual add-then-commit makes none."""
    identity_map = _IdentityMapOnFirstUse()
    """The persistent objects of the session by identity key (made on first use: a session's
    own ``identity_map`` in its ``__dict__`` once there)."""

    def __init__(self, bind: Any = None, **options: Unpack[SessionOptions]) -> None:
        """A session on ``bind`` (an Engine or a Connection); the options are those of
        :meth:`_set_options`, all keyword arguments.

        Options are read by a second method only when given: a session made with none
        does not pay for the defaults of a dozen keyword parameters."""
        if options:
            self._set_options(**options)
        elif _ENVIRON is None or ENV_KEY_BYTES in _ENVIRON:
            # The environment is read on every new session; without the call when unset.
            self._n_plus_one = session_mode(None)
        self.bind = bind
        self.hash_key = key = next(_counter)
        refs = _sessions.refs
        refs[key] = _weakref(self)
        if len(refs) >= _sessions.sweep_at:
            _sessions.sweep()
        self._new: dict[InstanceState, Any] = {}
        # The dispatch is the class's (see __init_subclass__) until listeners of this very
        # session give it one of its own.

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Give each Session class its own dispatch, shared by its sessions as their
        ``dispatch``: no per-session store for it."""
        super().__init_subclass__(**kwargs)
        cls._class_dispatch = cls.dispatch = Dispatch(cls)

    def _set_options(
        self,
        *,
        autoflush: bool = True,
        future: bool = True,
        expire_on_commit: bool = True,
        autobegin: bool = True,
        twophase: bool = False,
        binds: Mapping[Any, Any] | None = None,
        enable_baked_queries: bool = True,
        info: dict[Any, Any] | None = None,
        query_cls: Any = None,
        autocommit: bool = False,
        join_transaction_mode: str = "conservative_savepoint",
        close_resets_only: bool = True,
        n_plus_one: str | None = None,
        **unknown: Any,
    ) -> None:
        """The options of a new session; each left at its default is the class's value.

        ``n_plus_one="warn" | "log" | "raise"`` reports repeated lazy loads (see README)."""
        if unknown:
            raise TypeError(
                f"Session() got unexpected keyword argument(s) {', '.join(map(repr, unknown))}; "
                f"its options are {', '.join(_SESSION_OPTIONS)}"
            )
        if autocommit:
            raise sa_exc.ArgumentError(
                "autocommit=True is not supported (it was removed in SQLAlchemy 2.0); use "
                "the default autobegin behaviour and call commit()"
            )
        if join_transaction_mode != "conservative_savepoint":
            if join_transaction_mode not in _JOIN_MODES:
                raise sa_exc.ArgumentError(
                    f"join_transaction_mode={join_transaction_mode!r} is not one of "
                    f"{', '.join(map(repr, _JOIN_MODES))}"
                )
            self.join_transaction_mode = join_transaction_mode
        if autoflush is not True:
            self.autoflush = autoflush
        if expire_on_commit is not True:
            self.expire_on_commit = expire_on_commit
        if autobegin is not True:
            self.autobegin = autobegin
        if twophase is not False:
            self.twophase = twophase
        if binds:
            self._binds = {_bind_key(key): value for key, value in binds.items()}
        if info:
            self.info = dict(info)
        if query_cls is not None:
            self._query_cls = query_cls
        if n_plus_one is not None or _ENVIRON is None or ENV_KEY_BYTES in _ENVIRON:
            self._n_plus_one = session_mode(n_plus_one)

    @property
    def info(self) -> dict[Any, Any]:
        """A dict of your own data about this session (made on first use)."""
        info: dict[Any, Any] | None = self.__dict__.get("_info")
        if info is None:
            info = self.__dict__["_info"] = {}
        return info

    @info.setter
    def info(self, value: dict[Any, Any]) -> None:
        self.__dict__["_info"] = value

    def _fire(self, name: str, *args: Any) -> None:
        for fn in getattr(self.dispatch, name):
            fn(*args)

    # --- context management -------------------------------------------------------------------

    def __enter__(self: _T) -> _T:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if (
            self._transaction is None
            and not self._autobegun
            and not self._new
            and not self._deleted
            and "identity_map" not in self.__dict__
        ):
            return  # what close() comes to: nothing begun, held or to detach
        self.close()

    # --- binds and connections ----------------------------------------------------------------

    @classmethod
    def object_session(cls, instance: Any) -> Session | None:
        """The session ``instance`` belongs to, or None (as :func:`object_session`)."""
        return object_session(instance)

    @classmethod
    def identity_key(cls, *args: Any, **kwargs: Any) -> Any:
        """An identity key (as :func:`athanor.orm.util.identity_key`)."""
        from athanor.orm.util import identity_key

        return identity_key(*args, **kwargs)

    def get_bind(
        self, mapper: Any = None, *, clause: Any = None, bind: Any = None, **kw: Any
    ) -> Any:
        """The engine or connection for ``mapper`` / ``clause``: ``binds=`` first, then ``bind``."""
        if bind is not None:
            return bind
        if self._binds:
            if mapper is not None:
                mapper_obj = mapper if isinstance(mapper, Mapper) else class_mapper(mapper)
                for key in (mapper_obj.class_, mapper_obj.local_table):
                    found = self._binds.get(key)
                    if found is not None:
                        return found
                for klass in mapper_obj.class_.__mro__:
                    found = self._binds.get(klass)
                    if found is not None:
                        return found
            if clause is not None:
                for table in _tables_of(clause):
                    found = self._binds.get(table)
                    if found is None:
                        for key, value in self._binds.items():
                            key_mapper = getattr(key, "__mapper__", None)
                            if key_mapper is not None and key_mapper.local_table is table:
                                found = value
                                break
                    if found is not None:
                        return found
        if self.bind is not None:
            return self.bind
        raise UnboundExecutionError(
            "This Session is not bound to an engine or connection; create it with "
            "Session(engine) or sessionmaker(bind=engine), or pass binds={Model: engine}"
        )

    def _connection_for_bind(self, bind: Any) -> Connection:
        tx = self._transaction
        if tx is None:
            tx = self._autobegin_t()
        elif tx._state != ACTIVE:
            raise self._pending_rollback_error(tx)
        return tx._connection_for_bind(bind)

    def connection(
        self, bind_arguments: Mapping[str, Any] | None = None, execution_options: Any = None
    ) -> Connection:
        """The Connection of this session's transaction (beginning it if needed)."""
        bind = self.get_bind(**(bind_arguments or {}))
        conn = self._connection_for_bind(bind)
        if execution_options:
            conn = conn.execution_options(**execution_options)
        return conn

    def _autobegin_t(self) -> SessionTransaction:
        if not self.autobegin:
            raise sa_exc.InvalidRequestError(
                "Autobegin is disabled on this Session; call session.begin() first"
            )
        self._autobegun = False
        self._transaction = SessionTransaction(self)
        return self._transaction

    def _begin_on_attach(self) -> None:
        """Placing an object in the session begins its transaction (without a connection yet),
        as SQLAlchemy's does: a SessionTransaction now when session events are listened to,
        else only the mark of one (see ``_autobegun``)."""
        if self.dispatch._listened or not self.autobegin:
            self._autobegin_t()  # raises without autobegin
        else:
            self._autobegun = True

    def _pending_rollback_error(self, tx: SessionTransaction) -> sa_exc.PendingRollbackError:
        failing = tx
        while failing is not None and failing._failure is None:
            failing = failing.parent  # type: ignore[assignment]
        original = failing._failure if failing is not None else None
        return sa_exc.PendingRollbackError(
            "This Session's transaction has been rolled back due to a previous exception "
            "during flush. To begin a new transaction with this Session, first issue "
            f"Session.rollback(). Original exception was: {original}"
        )

    def _check_active(self) -> None:
        tx = self._transaction
        if tx is not None and tx._state != ACTIVE:
            raise self._pending_rollback_error(tx)

    # --- transactions -------------------------------------------------------------------------

    def begin(self) -> SessionTransaction:
        """Begin a transaction explicitly (``with session.begin():`` commits at the end)."""
        if self._transaction is not None or self._autobegun:
            raise sa_exc.InvalidRequestError(
                "A transaction is already begun on this Session; use begin_nested() for a "
                "SAVEPOINT, or commit()/rollback() first"
            )
        self._transaction = SessionTransaction(self, origin=SessionTransactionOrigin.BEGIN)
        return self._transaction

    def begin_nested(self) -> SessionTransaction:
        """A SAVEPOINT (``with session.begin_nested():`` releases it, or rolls back to it)."""
        self._check_active()
        if self._transaction is None:
            # Begun explicitly (so even without autobegin), as begin() would.
            self._autobegun = False
            self._transaction = SessionTransaction(self, origin=SessionTransactionOrigin.BEGIN)
        self.flush()
        self._transaction = SessionTransaction(
            self,
            parent=self._transaction,
            nested=True,
            origin=SessionTransactionOrigin.BEGIN_NESTED,
        )
        return self._transaction

    def commit(self) -> None:
        """Flush, then commit the transaction (the outermost one); expires objects by default."""
        tx = self._transaction
        if tx is None:
            own = self.__dict__
            identity_map: IdentityMap | None = own.get("identity_map")  # None: none made yet
            if (
                not self.dispatch._listened
                and self.autobegin
                and not self._deleted
                and (identity_map is None or not identity_map._modified)
                and (not self._new or self._commit_new_object())
            ):
                # No transaction begun, no session event listened to, and nothing to write
                # or one new object, now written and committed: the whole transaction,
                # without a SessionTransaction.  (The object written may have made the map.)
                self._autobegun = False
                if (
                    self.expire_on_commit
                    and (identity_map := own.get("identity_map")) is not None
                    and identity_map.has_objects()
                ):
                    self._expire_everything()
                return
            tx = self._autobegin_t()
        (tx if tx.parent is None else tx._root).commit()

    def _commit_new_object(self) -> bool:
        """Write the session's one new object (see :func:`new_object_plan`) on a connection
        of its own and commit; False (nothing done) when it needs the general path.

        A failure leaves the session as the general path would: after a failed INSERT the
        database transaction is rolled back and the session needs ``rollback()``
        (``PendingRollbackError``); after a failed COMMIT the transaction, the connection
        and the written object stay the session's until it rolls back."""
        new = self._new
        if len(new) != 1:
            return False
        ((state, obj),) = new.items()
        if state.key is not None:
            return False
        bind = self.bind
        if bind is None or self._binds or type(self).get_bind is not _get_bind:
            mapper = state.mapper
            if new_object_plan(mapper) is None:
                return False
            bind = self.get_bind(mapper)
        if not isinstance(bind, Engine):
            return False
        try:
            done: bool | LeanCommitFailed = commit_new_object(bind, state, obj)
        except LeanCommitFailed as commit_failed:
            done = commit_failed
        except BaseException as error:
            self._autobegin_t()._flush_failed(error)
            raise
        if done is True:
            new.clear()
            # A collected object's entry would count for none (see IdentityMap): the map
            # gets the object only while its caller still holds it (this frame lets go).
            obj = None
            if state() is not None:
                self.identity_map.keep(state.key, state)  # type: ignore[arg-type]
            if not self.expire_on_commit:
                state._commit_all()
            return True
        identity_map = self.identity_map
        if done:
            # The COMMIT failed (outside the except clause: the failure is raised as is).
            identity_map.keep(state.key, state)  # type: ignore[arg-type]
            new.clear()
            self._keep_failed_commit(bind, done.connection, done.transaction, state, obj)
            raise done.failure
        try:
            connection = insert_new_object(bind, state, obj)
        except BaseException as error:
            self._autobegin_t()._flush_failed(error)
            raise
        if connection is None:
            return False
        identity_map.keep(state.key, state)  # type: ignore[arg-type]
        new.clear()
        transaction = connection._transaction
        assert transaction is not None
        try:
            transaction.commit()
            connection.close()
        except BaseException:
            self._keep_failed_commit(bind, connection, transaction, state, obj)
            raise
        if not self.expire_on_commit:
            state._commit_all()
        # Else the expiry that follows the commit forgets the object's changes, if the object
        # is still around (nothing else can see them meanwhile: nobody listens).
        return True

    def _keep_failed_commit(
        self,
        bind: Engine,
        connection: Connection,
        transaction: Transaction,
        state: InstanceState,
        obj: Any,
    ) -> None:
        """After :meth:`_commit_new_object`'s COMMIT failed: the transaction, the connection
        and the written object are the session's until it rolls back."""
        state._commit_all()
        tx = self._autobegin_t()
        tx._connections[bind] = (connection, transaction, True)
        tx._new[state] = obj

    def rollback(self) -> None:
        """Roll back the whole transaction; the session works again afterwards."""
        tx = self._transaction
        if tx is None:
            for state in self._new:
                state.session_id = None
            self._new.clear()
            self._deleted.clear()
            self._autobegun = False
            return
        tx._root.rollback()

    def close(self) -> None:
        """Release the connection (rolling back), and detach every object."""
        tx = self._transaction
        if tx is None:
            # Else nothing to detach or release (a session closed after its commit).
            identity_map: IdentityMap | None = self.__dict__.get("identity_map")
            if (
                self._new
                or self._deleted
                or (
                    identity_map is not None
                    and (identity_map._modified or identity_map.has_objects())
                )
            ):
                self.expunge_all()
            self._autobegun = False
            return
        self.expunge_all()
        if (
            tx.parent is None
            and tx._state != CLOSED
            and not (tx._new or tx._deleted or tx._key_switches)
            and not self.dispatch._listened
        ):
            # Nothing written to restore, nobody listening: what rollback() comes to then.
            tx._rollback_all(joined=False)
            tx._state = CLOSED
        else:
            tx._root.rollback(_closing=True)
        self._transaction = None

    def reset(self) -> None:
        """The same as :meth:`close`."""
        self.close()

    def invalidate(self) -> None:
        """Invalidate the connections in use (for a connection known to be broken), then close."""
        tx = self._transaction
        if tx is not None:
            for conn, _, _ in tx._root._connections.values():
                with contextlib.suppress(Exception):
                    conn.invalidate()
        self.close()

    def in_transaction(self) -> bool:
        return self._transaction is not None or self._autobegun

    def in_nested_transaction(self) -> bool:
        return self._transaction is not None and self._transaction.nested

    def get_transaction(self) -> SessionTransaction | None:
        tx = self._transaction
        if tx is None:
            return self._autobegin_t() if self._autobegun else None
        return tx._root

    def get_nested_transaction(self) -> SessionTransaction | None:
        tx = self._transaction
        return tx if tx is not None and tx.nested else None

    @property
    def is_active(self) -> bool:
        tx = self._transaction
        return tx is None or tx._state == ACTIVE

    # --- statements ----------------------------------------------------------------------------

    def execute(
        self,
        statement: Any,
        params: Any = None,
        *,
        execution_options: Mapping[str, Any] | None = None,
        bind_arguments: Mapping[str, Any] | None = None,
        **kw: Any,
    ) -> Any:
        """Run a statement; ``select(User)`` gives User objects, Core statements give rows.

        ``do_orm_execute`` listeners see it first (and may change or answer it)."""
        if not isinstance(statement, ClauseElement):
            raise sa_exc.ObjectNotExecutableError(statement)
        if isinstance(statement, StatementLambdaElement):
            statement = statement._resolved()
        if self.dispatch.do_orm_execute:
            return execute_with_listeners(
                self, statement, params, execution_options, bind_arguments
            )
        return self._execute_now(statement, params, execution_options, bind_arguments)

    def _execute_now(
        self,
        statement: Any,
        params: Any,
        execution_options: Mapping[str, Any] | None,
        bind_arguments: Mapping[str, Any] | None,
    ) -> Any:
        """Run ``statement`` (what :meth:`execute` does once its listeners are done)."""
        tx = self._transaction
        if tx is not None and tx._state != ACTIVE:
            raise self._pending_rollback_error(tx)
        selected = orm_selection(statement)
        if selected is not None:
            if execution_options is None and bind_arguments is None:
                direct = self._direct_select(statement, params)
                if direct is not None:
                    return direct.run()
            options = statement._execution_options
            if execution_options:
                options = {**options, **execution_options}
            if (
                self.autoflush
                and (self._new or self._deleted or self.identity_map._modified)
                and not self._flushing
                and options.get("autoflush", True)
            ):
                self._autoflush()
            if bind_arguments or self._binds or type(self).get_bind is not Session.get_bind:
                if isinstance(selected, Mapper):
                    # bind_arguments may name the mapper or clause itself (do_orm_execute)
                    bind = self.get_bind(**{"mapper": selected, **(bind_arguments or {})})
                else:
                    bind = self.get_bind(**{"clause": statement, **(bind_arguments or {})})
            else:
                bind = self.bind  # (what get_bind gives then; None raises there)
                if bind is None:
                    bind = self.get_bind(selected)
            # The connection of the session's transaction, when there is one for this bind
            # already (else begun through _connection_for_bind).
            tx = self._transaction
            entry = None
            if tx is not None and tx.parent is None and tx._state == ACTIVE:
                entry = tx._connections.get(bind)
            conn = entry[0] if entry is not None else self._connection_for_bind(bind)
            result = conn.execute(statement, params, execution_options=execution_options)
            # The plan the statement was compiled with (found with the compiled form, not
            # looked up again by the statement's key), unless a before_execute listener ran
            # another statement.
            context = result.context
            plan = context.compiled.plan if context.invoked_statement is statement else None
            if not isinstance(plan, LoadingPlan):
                plan = plan_for(statement)
            return plan.result(self, result, options, statement)
        if isinstance(statement, FromStatement):
            return self._execute_from_statement(
                statement, params, execution_options, bind_arguments
            )
        if (
            self.autoflush
            and not self._flushing
            and isinstance(statement, Select | DMLStatement)
            and (execution_options or _NO_ARGUMENTS).get(
                "autoflush", statement._execution_options.get("autoflush", True)
            )
        ):
            self._autoflush()
        if isinstance(statement, DMLStatement) and statement._entity is not None:
            options = statement._execution_options
            if execution_options:
                options = {**options, **execution_options}
            return execute_orm_dml(self, statement, params, options, bind_arguments)
        bind = self.get_bind(**{"clause": statement, **(bind_arguments or {})})
        conn = self._connection_for_bind(bind)
        result = conn.execute(statement, params, execution_options=execution_options)
        if isinstance(statement, Select) and _reads_mapped(statement):
            # Rows of mapped classes' columns are keyed as the ORM names them (count, not the
            # count_1 of the SQL), as selected_columns is.
            result._rekey([names.key for names in statement._result_names()])
        return result

    def _direct_select(self, statement: Any, params: Any) -> DirectLoad | None:
        """``select(Entity)`` straight to the cursor and the plain loader, when nothing would
        tell the difference from :meth:`execute`: no ``do_orm_execute`` listener, no flush
        due, the session's bind already in its (outermost, active) transaction, no bind
        chosen per mapper, and no options (see also ``Connection.direct_select`` and
        ``LoadingPlan.direct_loader``).  None: run it the general way."""
        tx = self._transaction
        if (
            tx is None
            or tx.parent is not None
            or tx._state != ACTIVE
            or type(statement) is not Select
            or self.dispatch.do_orm_execute
            or self._binds
            or type(self).get_bind is not Session.get_bind
            or (
                self.autoflush
                and not self._flushing
                and (self._new or self._deleted or self.identity_map._modified)
            )
        ):
            return None
        entry = tx._connections.get(self.bind)
        if entry is None:
            return None
        select = entry[0].direct_select(statement, params)
        if select is None:
            return None
        plan = getattr(select.compiled, "plan", None)
        if not isinstance(plan, LoadingPlan):
            return None
        load = plan.direct_loader(self, select.metadata.processors)
        if load is None:
            return None
        return DirectLoad(self, plan, select, load)

    def _execute_from_statement(
        self,
        statement: FromStatement,
        params: Any,
        execution_options: Mapping[str, Any] | None,
        bind_arguments: Mapping[str, Any] | None,
    ) -> Any:
        options = {**statement.element._execution_options, **(execution_options or {})}
        if self.autoflush and not self._flushing and options.get("autoflush", True):
            self._autoflush()
        mapper = next(
            (raw.mapper for raw in statement._raw_columns if isinstance(raw, EntityClause)), None
        )
        if mapper is None:
            bind = self.get_bind(clause=statement.element, **(bind_arguments or {}))
        else:
            bind = self.get_bind(mapper, **(bind_arguments or {}))
        conn = self._connection_for_bind(bind)
        result = conn.execute(statement.element, params, execution_options=execution_options)
        return from_statement_result(self, statement, result, options)

    def scalars(self, statement: Any, params: Any = None, **kw: Any) -> Any:
        """Run a statement and return its first column (ORM objects for ``select(User)``)."""
        if not kw and orm_selection(statement) is not None:
            direct = self._direct_select(statement, params)
            if direct is not None:
                return direct.run(scalars=True)
        return self.execute(statement, params, **kw).scalars()

    def scalar(self, statement: Any, params: Any = None, **kw: Any) -> Any:
        """Run a statement and return the first column of the first row."""
        return self.scalars(statement, params, **kw).first()

    def query(self, *entities: Any, **kw: Any) -> Query[Any]:
        """A legacy :class:`Query` for ``entities``."""
        from athanor.orm.query import Query

        cls = self._query_cls or Query
        query: Query[Any] = cls(entities, self)
        return query

    # --- flushing ------------------------------------------------------------------------------

    def _autoflush(self) -> None:
        if self._new or self._deleted or self.identity_map._modified:
            try:
                self.flush()
            except sa_exc.StatementError as error:
                error.add_detail(
                    "raised as a result of Query-invoked autoflush; consider using a "
                    "session.no_autoflush block if this flush is occurring prematurely"
                ) if hasattr(error, "add_detail") else None
                raise

    @property
    @contextlib.contextmanager
    def no_autoflush(self) -> Iterator[Session]:
        """A block in which queries do not flush first."""
        previous = self.autoflush
        self.autoflush = False
        try:
            yield self
        finally:
            self.autoflush = previous

    def flush(self, objects: Sequence[Any] | None = None) -> None:
        """Write pending changes to the database (inside the transaction, without committing)."""
        if self._flushing:
            raise sa_exc.InvalidRequestError("Session is already flushing")
        if not (self._new or self._deleted or self.identity_map._modified):
            return
        tx = self._transaction
        if tx is not None and tx._state != ACTIVE:
            raise self._pending_rollback_error(tx)
        self._flushing = True
        try:
            if not self._flush_new_object():
                with gc_paused():  # a flush of many objects keys each one in the identity map
                    self._flush(objects)
        finally:
            self._flushing = False

    def _flush(self, objects: Sequence[Any] | None) -> None:
        uow = UOWTransaction(self)
        if self.dispatch.before_flush:
            self._fire("before_flush", self, uow, objects)
        uow.collect()
        if not (uow.saves or uow.deletes or uow.secondary_ops or uow.secondary_parent_deletes):
            for state in list(self.identity_map._modified):
                state._commit_all()
            self.identity_map._modified.clear()
            return
        tx = self._transaction
        if tx is None:
            tx = self._autobegin_t()
        # The flush runs in a subtransaction of the session's for whoever listens to
        # transactions beginning and ending (as SQLAlchemy's flush does).
        dispatch = self.dispatch
        sub = None
        if dispatch.after_transaction_create or dispatch.after_transaction_end:
            sub = SessionTransaction(self, tx, origin=SessionTransactionOrigin.SUBTRANSACTION)
        identity_map = self.identity_map
        if (
            uow.only_new
            and uow.plain
            and not uow.deletes
            and not (dispatch.after_flush or dispatch.pending_to_persistent)
        ):
            # Nothing looks at the objects between their INSERT and their entering the
            # identity map: the INSERTs enter them there (UOWTransaction.keyed_into).
            identity_map.make_room(len(uow.saves))
            uow.keyed_into = identity_map._dict
        try:
            uow.execute()
            if dispatch.after_flush:
                self._fire("after_flush", self, uow)
        except BaseException as error:
            uow.undo()
            tx._flush_failed(error)
            if sub is not None:
                sub._end()
                if dispatch.after_soft_rollback:
                    self._fire("after_soft_rollback", self, sub)
            raise
        inserted = uow.inserted
        if inserted:
            if uow.keyed_into is None or not uow.keyed_all:  # else keyed by the INSERTs
                found = identity_map._dict
                identity_map.make_room(len(inserted))
                # A loop reads each slot cheaper than attrgetter through map() would.
                for state, _ in inserted:
                    found[state.key] = state  # type: ignore[index]
            new = self._new
            if len(new) != len(inserted):
                for state, _ in inserted:
                    del new[state]
                tx._new.update(inserted)
            elif tx._new:
                new.clear()  # every pending object was inserted
                tx._new.update(inserted)
            else:
                # Every pending object was inserted, the first in this transaction: the
                # transaction takes the session's dict of them rather than a copy.
                tx._new, self._new = new, {}
        if self.dispatch.pending_to_persistent:
            for _, obj in uow.inserted:
                self._fire("pending_to_persistent", self, obj)
        for state, obj in uow.deleted:
            self._row_deleted(tx, state, obj)
        for state, obj in uow.rekeyed:
            self._rekey(tx, state, obj)
        if tx._expiry_follows:
            tx._written = uow.saves
        else:
            commit_states(uow.saves)
        for obj, keys in uow.expire_after:
            for key in keys:
                obj.__dict__.pop(key, None)
            obj.__dict__[STATE_KEY].expired = True
        identity_map._modified.clear()
        if dispatch.after_flush_postexec:
            self._fire("after_flush_postexec", self, uow)
        if sub is not None:
            sub._end()

    def _flush_new_object(self) -> bool:
        """A flush whose only change is one new object, with no flush event listened to:
        what :meth:`_flush` does, without a unit of work (see :func:`flush_new_object`);
        False (nothing done) when it takes the general one."""
        new = self._new
        dispatch = self.dispatch
        if (
            len(new) != 1
            or self._deleted
            or self.identity_map._modified
            or dispatch.before_flush
            or dispatch.after_flush
            or dispatch.after_flush_postexec
            or dispatch.pending_to_persistent
            or dispatch.after_transaction_create
            or dispatch.after_transaction_end
        ):
            return False
        ((state, obj),) = new.items()
        tx = self._transaction
        if tx is None:
            tx = self._autobegin_t()
        try:
            if not flush_new_object(tx, state, obj):
                return False
        except BaseException as error:
            tx._flush_failed(error)
            raise
        self._new_object_flushed(state)
        tx._new[state] = obj
        return True

    def _new_object_flushed(self, state: InstanceState) -> None:
        """The session's one new object, of ``state``, was written: it is persistent now."""
        key = state.key
        assert key is not None  # written with its identity
        self.identity_map.keep(key, state)
        self._new.clear()
        if state.committed_state or state.modified or state.pending_appends is not None:
            state._commit_all()

    def _rekey(self, tx: SessionTransaction, state: InstanceState, obj: Any) -> None:
        """The flush changed the primary key of ``obj``: its identity follows (and goes back
        if ``tx`` rolls back)."""
        old = state.key
        assert old is not None
        mapper = state.mapper
        pk = tuple(obj.__dict__.get(k) for k in mapper._pk_keys)
        key = mapper.identity_key_from_primary_key(pk, old[2])
        if key != old:
            self.identity_map.discard(old, obj)
            state.key = key
            self.identity_map._dict[key] = state
            if tx._key_switches is None:
                tx._key_switches = []
            tx._key_switches.append((state, obj, old))
            for rel in mapper._relationships:
                for child_state, child in rel.follow_parent_key(state, obj):
                    self._rekey(tx, child_state, child)

    def _row_deleted(self, tx: SessionTransaction, state: InstanceState, obj: Any) -> None:
        """The row of ``obj`` is gone: the object is deleted now and detached at commit."""
        if state.key is not None:
            self.identity_map.discard(state.key, obj)
        self.identity_map._modified.pop(state, None)
        self._deleted.pop(state, None)
        state.deleted = True
        state._commit_all()
        tx._deleted[state] = obj
        if self.dispatch.persistent_to_deleted:
            self._fire("persistent_to_deleted", self, obj)

    # --- objects -------------------------------------------------------------------------------

    def add(self, instance: Any, _warn: bool = True) -> None:
        """Place an object in the session; it is INSERTed (or UPDATEd) at the next flush."""
        try:
            d = instance.__dict__
        except AttributeError:
            raise orm_exc.UnmappedInstanceError(instance) from None
        state: InstanceState | None = d.get(STATE_KEY)
        if state is None:
            state = _new_state(instance)
        mapper = state.mapper
        registry = mapper.registry
        if registry is not None and registry._new_mappers:
            mapper._check_configure()
        if (
            state.key is None
            and state.session_id is None
            and not mapper._relationships
            and not self.dispatch._listened
        ):
            # A new object with nothing to cascade, nobody listening: it just becomes pending.
            tx = self._transaction
            if tx is not None:
                tx._added[state] = instance
            else:
                self._begin_on_attach()
            self._new[state] = instance
            state.session_id = self.hash_key
            return
        self._save_or_update_state(state, instance)

    def add_all(self, instances: Iterable[Any]) -> None:
        """Add each object of ``instances``."""
        objects = list(instances)
        # New objects get their state here (the declarative constructor leaves that to the
        # first use): no garbage collections over the many objects being made meanwhile.
        with gc_paused():
            dispatch = self.dispatch
            if dispatch.before_attach or dispatch.transient_to_pending or dispatch.after_attach:
                for instance in objects:
                    self.add(instance)
                return
            self._add_new(objects)

    def _add_new(self, objects: list[Any]) -> None:
        """:meth:`add` for each of ``objects`` when nobody listens to attach events: a new
        object without a state yet (as the declarative constructor leaves it) of a class
        without relationships becomes pending here with a state made in place, which is what
        :meth:`add` does for it, without the calls; any other object goes through :meth:`add`.
        """
        new = self._new
        tx = self._transaction
        if tx is None and objects:
            self._begin_on_attach()
            tx = self._transaction
        # Only a savepoint reads what was added during it (to expunge it on rollback).
        added = tx._added if tx is not None and tx.nested else None
        session_id = self.hash_key
        plain_class: type | None = None
        mapper: Any = None
        # Per class: the keys of the __dict__ of the first new object seen, in order, and the
        # committed state the mapper keeps for objects with those keys, which each such object
        # shares (see InstanceState.committed_state).  Keys compare as a tuple: cheaper than
        # as a set, and objects made by one constructor call store them in the same order.
        usual_of: dict[type, tuple[tuple[str, ...], Mapping[str, Any]]] = {}
        usual_keys: tuple[str, ...] | None = None
        usual: Mapping[str, Any] = NO_CHANGES
        for instance in objects:
            cls = type(instance)
            if cls is not plain_class:
                mapper = _plain_new_mapper(cls)
                if mapper is None:
                    self.add(instance)
                    continue
                plain_class = cls
                usual_keys, usual = usual_of.get(cls, (None, NO_CHANGES))
            d = instance.__dict__
            # The fields new_state() sets, and the values stored before the object had a
            # state counted as set since it was made (see _new_state).
            keys = tuple(d)
            if keys == usual_keys:  # (which have no state among them)
                committed = usual
            else:
                if STATE_KEY in d:
                    self.add(instance)
                    continue
                committed = _fresh_committed(mapper, keys)
                if usual_keys is None and not isinstance(committed, dict):  # else not to share
                    usual_keys, usual = usual_of[cls] = (keys, committed)
            state = d[STATE_KEY] = _make_state(InstanceState, instance)
            state.mapper = mapper
            state.key = None
            state.session_id = session_id
            state.committed_state = committed
            state.modified = committed is not NO_CHANGES
            state.expired = False
            state.deleted = False
            state.pending_appends = None
            state._info = None
            state.load_context = None
            new[state] = instance
            if added is not None:
                added[state] = instance

    def _save_or_update_cascade(self, instance: Any) -> None:
        state = instance_state(instance)
        if state.session_id == self.hash_key:
            return
        self._save_or_update_state(state, instance)

    def _save_or_update_state(self, state: InstanceState, instance: Any) -> None:
        if self._transaction is None:
            self._begin_on_attach()
        if state.session_id == self.hash_key:
            if state in self._deleted:
                self._deleted.pop(state)
            elif state.deleted:
                raise sa_exc.InvalidRequestError(
                    f"Instance {state_str(state)} has been deleted (its DELETE was flushed); "
                    "use make_transient() to insert it again as a new row"
                )
            return
        if state.session_id is not None:
            other = _sessions.get(state.session_id)
            if other is not None:
                raise sa_exc.InvalidRequestError(
                    f"Object {state_str(state)} is already attached to session "
                    f"{state.session_id} (this is {self.hash_key}); expunge it from the other "
                    "session first, or use session.merge(obj) to copy its state into this one"
                )
        if self.dispatch.before_attach:
            self._fire("before_attach", self, instance)
        if state.key is None:
            self._new[state] = instance
            state.session_id = self.hash_key
            if self._transaction is not None:
                self._transaction._added[state] = instance
            if self.dispatch.transient_to_pending:
                self._fire("transient_to_pending", self, instance)
        else:
            if state.was_deleted:
                raise sa_exc.InvalidRequestError(
                    f"Instance {state_str(state)} has been deleted; use make_transient() to "
                    "insert it again as a new row"
                )
            existing = self.identity_map.get_object(state.key)
            if existing is not None and existing is not instance:
                raise sa_exc.InvalidRequestError(
                    f"Can't attach instance {state_str(state)}; another instance with key "
                    f"{state.key} is already present in this session; use session.merge(obj)"
                )
            self.identity_map.add(state.key, instance)
            state.session_id = self.hash_key
            if state.modified:
                self.identity_map._modified[state] = instance
            if self.dispatch.detached_to_persistent:
                self._fire("detached_to_persistent", self, instance)
        if self.dispatch.after_attach:
            self._fire("after_attach", self, instance)
        self._cascade(state, instance, "save-update", self._save_or_update_cascade)

    def _cascade(
        self, state: InstanceState, instance: Any, cascade: str, fn: Any, load: bool = False
    ) -> None:
        d = instance.__dict__
        for rel in state.mapper._relationships:
            if cascade not in rel.cascade:
                continue
            if rel.key in d:
                value = d[rel.key]
            elif load and state.key is not None and not rel.passive_deletes:
                value = getattr(instance, rel.key)
            else:
                continue
            if value is None:
                continue
            if load and rel.lazy in QUERY_COLLECTIONS and not rel.passive_deletes:
                items = value._sa_persisted_items()
            else:
                items = list(value._sa_items()) if rel.uselist else [value]
            for item in items:
                fn(item)

    def delete(self, instance: Any) -> None:
        """Mark an object for deletion at the next flush (cascading along ``delete`` cascades)."""
        state = instance_state(instance)
        if state.key is None:
            raise sa_exc.InvalidRequestError(f"Instance {state_str(state)} is not persisted")
        if state.session_id != self.hash_key:
            self._save_or_update_state(state, instance)
        elif self._transaction is None:
            self._begin_on_attach()
        if state in self._deleted:
            return
        related: list[Any] = []
        with self.no_autoflush:
            self._cascade(state, instance, "delete", related.append, load=True)
        deleted = self._deleted
        if deleted is _NO_DELETES:
            deleted = self._deleted = {}
        deleted[state] = instance
        for item in related:
            self._delete_cascade(item)

    def _delete_cascade(self, instance: Any) -> None:
        state = instance_state(instance)
        if state.key is None:
            if state.session_id == self.hash_key:
                self.expunge(instance)
            return
        self.delete(instance)

    def get(
        self,
        entity: Any,
        ident: Any,
        *,
        options: Any = None,
        populate_existing: bool = False,
        with_for_update: Any = None,
        identity_token: Any = None,
        execution_options: Any = None,
        bind_arguments: Any = None,
    ) -> Any:
        """The object with primary key ``ident``: from the identity map (no SQL) or loaded."""
        mapper = _ready_mappers.get(entity)
        if mapper is not None and type(ident) in _SCALAR_IDENTS:
            # The common case, kept short: a configured class and a single-column key.
            state = self.identity_map._dict.get((mapper._identity_class, (ident,), identity_token))
            if state is not None and not state.expired and not populate_existing:
                obj = state()
                if (
                    obj is not None
                    and with_for_update is None
                    and (mapper._identity_class is entity or isinstance(obj, entity))
                    and not (self._deleted and state in self._deleted)
                ):
                    return obj
        if mapper is None:
            mapper = entity.__dict__.get("__mapper__") if isinstance(entity, type) else None
            if mapper is None:
                mapper = class_mapper(entity) if not isinstance(entity, Mapper) else entity
            else:
                mapper._check_configure()
            if isinstance(entity, type) and mapper.class_ is entity:
                _ready_mappers[entity] = mapper
        if type(ident) is not tuple:
            ident = _normalize_ident(mapper, ident)
        obj = self.identity_map.get_object((mapper._identity_class, ident, identity_token))
        if obj is not None and not isinstance(obj, mapper.class_):
            return None
        if obj is not None and not populate_existing and with_for_update is None:
            state = obj.__dict__[STATE_KEY]
            if state.expired:
                try:
                    load_scalar_attributes(state, obj, None)
                except orm_exc.ObjectDeletedError:
                    return None
            if state in self._deleted:
                return None
            return obj
        if len(ident) != len(mapper.primary_key):
            raise sa_exc.InvalidRequestError(
                f"Incorrect number of values in identifier formed from argument {ident!r}; "
                f"{mapper.class_.__name__} has {len(mapper.primary_key)} primary key column(s)"
            )
        if any(v is None for v in ident):
            return None
        opts = dict(execution_options or {})
        if populate_existing:
            opts["populate_existing"] = True
        if identity_token is not None:
            opts["identity_token"] = identity_token
        if self.autoflush and not self._flushing:
            self._autoflush()
        return load_on_pk(self, mapper, ident, opts or None, options or (), with_for_update)

    def get_one(self, entity: Any, ident: Any, **kw: Any) -> Any:
        """Like :meth:`get` but raises NoResultFound when there is no such row."""
        found = self.get(entity, ident, **kw)
        if found is None:
            raise sa_exc.NoResultFound(f"No row was found when one was required ({ident!r})")
        return found

    def refresh(
        self,
        instance: Any,
        attribute_names: Iterable[str] | None = None,
        with_for_update: Any = None,
    ) -> None:
        """Reload an object's attributes from the database now (the named ones only when
        ``attribute_names`` is given, relationships among them included), locking its row
        when ``with_for_update`` asks for it."""
        state = instance_state(instance)
        if state.session_id != self.hash_key or state.key is None:
            raise sa_exc.InvalidRequestError(
                f"Could not refresh instance {state_str(state)}: it is not persistent in this "
                "session"
            )
        names = None if attribute_names is None else list(attribute_names)
        cascaded = self._refresh_expire_cascade(state, instance) if names is None else []
        state._expire(instance.__dict__, names)
        if not state.committed_state:  # no change left that the refresh did not replace
            self.identity_map._modified.pop(state, None)
            state.modified = False
        self._expire_cascaded(cascaded)
        try:
            load_scalar_attributes(state, instance, None, with_for_update, names is None, names)
        except orm_exc.ObjectDeletedError as error:
            raise sa_exc.InvalidRequestError(
                f"Could not refresh instance {state_str(state)}"
            ) from error
        # A relationship named explicitly loads now (so that an async refresh() can load it),
        # even one mapped or loaded with lazy="raise"; a write-only one has nothing to load.
        named = set(names or ())
        for prop in state.mapper._relationships if named else ():
            if prop.key in named and prop.lazy not in QUERY_COLLECTIONS:
                set_committed_value(instance, prop.key, lazy_load(prop, state, instance, True))

    def expire(self, instance: Any, attribute_names: Iterable[str] | None = None) -> None:
        """Make attributes load again from the database on next access."""
        state = instance_state(instance)
        cascaded = []
        if attribute_names is None:
            self.identity_map._modified.pop(state, None)
            cascaded = self._refresh_expire_cascade(state, instance)
        state._expire(instance.__dict__, None if attribute_names is None else list(attribute_names))
        self._expire_cascaded(cascaded)

    def _refresh_expire_cascade(self, state: InstanceState, instance: Any) -> list[Any]:
        """The objects reached from ``instance`` along ``refresh-expire`` cascades (through
        loaded relationships only), gathered before expiring unloads them."""
        found: list[Any] = []
        seen = {id(instance)}
        stack = [(state, instance)]

        def visit(item: Any) -> None:
            if id(item) not in seen:
                seen.add(id(item))
                found.append(item)
                stack.append((instance_state(item), item))

        while stack:
            current, obj = stack.pop()
            self._cascade(current, obj, "refresh-expire", visit)
        return found

    def _expire_cascaded(self, objects: list[Any]) -> None:
        """Expire cascaded persistent objects of this session; pending ones leave it."""
        for obj in objects:
            state = instance_state(obj)
            if state.session_id != self.hash_key:
                continue
            if state.key is not None:
                self.identity_map._modified.pop(state, None)
                state._expire(obj.__dict__)
            elif state in self._new:
                self.expunge(obj)

    def expire_all(self) -> None:
        """Expire every object in the session."""
        self._expire_everything()

    def _expire_everything(self) -> None:
        identity_map = self.identity_map
        if identity_map._dict:
            expire_states(list(identity_map._dict.values()))
        identity_map._modified.clear()

    def expunge(self, instance: Any) -> None:
        """Remove an object from the session (it becomes detached, or transient if pending)."""
        state = instance_state(instance)
        if state.session_id != self.hash_key:
            raise sa_exc.InvalidRequestError(
                f"Instance {state_str(state)} is not present in this Session"
            )
        event = (
            "pending_to_transient"
            if state in self._new
            else "deleted_to_detached"
            if state.deleted or state in self._deleted
            else "persistent_to_detached"
        )
        self._expunge_state(state, instance)
        if getattr(self.dispatch, event):
            self._fire(event, self, instance)
        self._cascade(state, instance, "expunge", self._expunge_cascade)

    def _expunge_cascade(self, instance: Any) -> None:
        state = instance_state(instance)
        if state.session_id == self.hash_key:
            self.expunge(instance)

    def _expunge_state(self, state: InstanceState, instance: Any) -> None:
        self._new.pop(state, None)
        self._deleted.pop(state, None)
        self.identity_map._modified.pop(state, None)
        if state.key is not None:
            self.identity_map.discard(state.key, instance)
        state.session_id = None

    def expunge_all(self) -> None:
        """Remove every object from the session."""
        dispatch = self.dispatch
        if dispatch.persistent_to_detached or dispatch.pending_to_transient:
            self._announce_expunge_all()
        identity_map = self.identity_map
        for state in identity_map._dict.values():
            state.session_id = None
        for state in self._new:
            state.session_id = None
        for state in self._deleted:
            state.session_id = None
        if self._transaction is not None:
            tx: SessionTransaction | None = self._transaction
            while tx is not None:
                for state in tx._deleted:
                    state.session_id = None
                tx = tx.parent
        identity_map._dict.clear()
        identity_map._modified.clear()
        self._new.clear()
        self._deleted.clear()

    def _announce_expunge_all(self) -> None:
        """Fire the transitions :meth:`expunge_all` makes: pending objects become transient,
        persistent ones detached."""
        pending = list(self._new.values())
        persistent = [state.object for state in list(self.identity_map._dict.values())]
        for obj in pending:
            self._fire("pending_to_transient", self, obj)
        for obj in persistent:
            if obj is not None:
                self._fire("persistent_to_detached", self, obj)

    def merge(self, instance: Any, load: bool = True, options: Any = None) -> Any:
        """Copy the state of ``instance`` onto the session's object with the same identity.

        ``load=False`` trusts that ``instance`` (and what it cascades to) matches its row:
        nothing is loaded or compared, and the copy starts without changes; so ``instance``
        must be detached or persistent elsewhere, with no unflushed changes.
        """
        if self.autoflush and not self._flushing:
            self._autoflush()
        with self.no_autoflush:  # what the merge loads must not flush its half-built objects
            return self._merge(instance, load, {}, options)

    def _merge(self, instance: Any, load: bool, seen: dict[int, Any], options: Any = None) -> Any:
        if id(instance) in seen:
            return seen[id(instance)]
        state = instance_state(instance)
        mapper = state.mapper
        mapper._check_configure()
        if state.session_id == self.hash_key:
            return instance
        d = instance.__dict__
        key = state.key
        if not load:
            if key is None:
                raise sa_exc.InvalidRequestError(
                    f"merge(load=False) of {state_str(state)}: the object was never flushed "
                    "(transient), so there is no row it could stand for; flush it first, or "
                    "merge it with load=True"
                )
            if state.modified:
                raise sa_exc.InvalidRequestError(
                    f"merge(load=False) of {state_str(state)}: the object has unflushed "
                    "changes, which load=False would take for the row's values; flush them "
                    "first, or merge it with load=True"
                )
        elif key is None:
            pk = tuple(d.get(k) for k in mapper._pk_keys)
            if all(v is not None for v in pk):
                key = mapper._identity_key(pk)
        merged = None
        if key is not None:
            merged = self.identity_map.get_object(key)
            if merged is None and load:
                merged = self.get(mapper.class_, key[1], options=options)
        if merged is None:
            merged = object.__new__(mapper.class_)
            instance_state(merged).key = None if load else key
            self.add(merged)
        seen[id(instance)] = merged
        # load=False: the values are the row's, so they are stored as loaded (no history)
        assign = setattr if load else set_committed_value
        for prop_key in mapper._column_keys:
            if prop_key in d:
                assign(merged, prop_key, d[prop_key])
        for rel in mapper._relationships:
            if "merge" not in rel.cascade or rel.key not in d or rel.lazy in QUERY_COLLECTIONS:
                continue
            value = d[rel.key]
            if rel.uselist:
                assign(merged, rel.key, [self._merge(v, load, seen) for v in value])
            else:
                assign(merged, rel.key, None if value is None else self._merge(value, load, seen))
        return merged

    def is_modified(self, instance: Any, include_collections: bool = True) -> bool:
        """Whether any attribute of ``instance`` has a net change."""
        state = instance_state(instance)
        d = instance.__dict__
        for key in state.committed_state:
            prop = state.mapper._props.get(key)
            impl = getattr(prop, "impl", None)
            if impl is None or (impl.collection and not include_collections):
                continue
            if impl.history(state, d).has_changes():
                return True
        return False

    @property
    def new(self) -> IdentitySet:
        """Objects added and not flushed yet."""
        return IdentitySet(self._new.values())

    @property
    def dirty(self) -> IdentitySet:
        """Persistent objects with attributes set or collections changed since the last flush,
        whether or not a value differs now (:meth:`is_modified` tells net changes)."""
        return IdentitySet(
            obj for state, obj in self.identity_map._modified.items() if state not in self._deleted
        )

    @property
    def deleted(self) -> IdentitySet:
        """Objects marked for deletion and not flushed yet."""
        return IdentitySet(self._deleted.values())

    def __contains__(self, instance: Any) -> bool:
        state = instance_state(instance)
        return state.session_id == self.hash_key and (
            state in self._new or (state.key is not None and state.key in self.identity_map)
        )

    def __iter__(self) -> Iterator[Any]:
        return iter(list(self._new.values()) + self.identity_map.values())

    def enable_relationship_loading(self, obj: Any) -> None:
        raise NotImplementedError("enable_relationship_loading() is not supported")

    # --- bulk operations -----------------------------------------------------------------------

    def bulk_insert_mappings(
        self,
        mapper: Any,
        mappings: Iterable[Mapping[str, Any]],
        return_defaults: bool = False,
        render_nulls: bool = False,
    ) -> None:
        """INSERT rows given as dicts of attribute values, without creating objects."""
        mapper = mapper if isinstance(mapper, Mapper) else class_mapper(mapper)
        rows = list(mappings)
        if not rows:
            return
        conn = self._connection_for_bind(self.get_bind(mapper))
        table = mapper.local_table
        translate = _key_translation(mapper)
        for group in shape_groups(rows):
            params = (
                group
                if translate is None
                else [{translate.get(k, k): v for k, v in r.items()} for r in group]
            )
            if return_defaults:
                missing = [c for c in mapper.primary_key if c.key not in params[0]]
                if missing and getattr(conn.dialect, "insert_returning", False):
                    stmt = insert(table).returning(*missing, sort_by_parameter_order=True)
                    result = conn.execute(stmt, params)
                    for row, returned in zip(group, result.all(), strict=True):
                        if isinstance(row, dict):
                            for col, value in zip(missing, returned, strict=True):
                                row[mapper._col_to_key[col]] = value
                    continue
            conn.execute(insert(table), params if len(params) > 1 else params[0])

    def bulk_update_mappings(self, mapper: Any, mappings: Iterable[Mapping[str, Any]]) -> None:
        """UPDATE rows given as dicts holding the primary key and the changed values."""
        mapper = mapper if isinstance(mapper, Mapper) else class_mapper(mapper)
        rows = list(mappings)
        if not rows:
            return
        conn = self._connection_for_bind(self.get_bind(mapper))
        update_rows_by_primary_key(conn, mapper, rows, "bulk_update_mappings()")

    def bulk_save_objects(
        self,
        objects: Iterable[Any],
        return_defaults: bool = False,
        update_changed_only: bool = True,
        preserve_order: bool = True,
    ) -> None:
        """INSERT new objects and UPDATE changed persistent ones, without session bookkeeping."""
        inserts: dict[Mapper, list[dict[str, Any]]] = {}
        updates: dict[Mapper, list[dict[str, Any]]] = {}
        for obj in objects:
            state = instance_state(obj)
            mapper = state.mapper
            d = obj.__dict__
            if state.key is None:
                row = {k: d[k] for k in mapper._column_keys if k in d}
                inserts.setdefault(mapper, []).append(row)
            else:
                keys = (
                    [k for k in mapper._column_keys if k in state.committed_state]
                    if update_changed_only
                    else [k for k in mapper._column_keys if k in d]
                )
                row = {k: d[k] for k in keys if k in d}
                for k in mapper._pk_keys:
                    row[k] = state.key[1][mapper._pk_keys.index(k)]
                updates.setdefault(mapper, []).append(row)
                state._commit_all()
        for mapper, rows in inserts.items():
            self.bulk_insert_mappings(mapper, rows, return_defaults=return_defaults)
        for mapper, rows in updates.items():
            self.bulk_update_mappings(mapper, rows)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.hash_key}>"


_SCALAR_IDENTS = frozenset({int, str})
_ready_mappers: dict[Any, Mapper] = {}
"""Configured mappers by class, for the identity-map fast path of :meth:`Session.get`."""


def _normalize_ident(mapper: Mapper, ident: Any) -> tuple[Any, ...]:
    if isinstance(ident, Mapping):
        try:
            return tuple(ident[k] for k in mapper._pk_keys)
        except KeyError as error:
            raise sa_exc.InvalidRequestError(
                f"Incomplete primary key dictionary {dict(ident)!r}: needs "
                f"{', '.join(mapper._pk_keys)}"
            ) from error
    if isinstance(ident, list):
        return tuple(ident)
    return (ident,)


def _bind_key(key: Any) -> Any:
    if isinstance(key, Mapper):
        return key.class_
    return key


def _tables_of(clause: Any) -> list[Any]:
    if isinstance(clause, DMLStatement):
        return [clause.table]
    if isinstance(clause, Select):
        found: list[Any] = []
        for f in clause.get_final_froms():
            found.extend(getattr(f, "_hide_froms", []))
            found.append(f)
        return found
    return []


def _key_translation(mapper: Mapper) -> dict[str, str] | None:
    mapping = {k: str(c.key) for k, c in mapper._table_columns if k != c.key}
    return mapping or None


_TRUE_BY_DEFAULT = frozenset(("autoflush", "expire_on_commit"))
"""The options a sessionmaker always holds whose default is True."""


class sessionmaker:  # noqa: N801 - SQLAlchemy's name
    """A factory of configured Sessions (``SessionLocal = sessionmaker(bind=engine)``)."""

    def __init__(
        self,
        bind: Any = None,
        *,
        class_: type[Session] = Session,
        autoflush: bool = True,
        expire_on_commit: bool = True,
        info: dict[Any, Any] | None = None,
        **kw: Any,
    ) -> None:
        kw.pop("future", None)
        kw["bind"] = bind
        kw["autoflush"] = autoflush
        kw["expire_on_commit"] = expire_on_commit
        if info is not None:
            kw["info"] = info
        self.kw = kw
        self.class_ = type(class_.__name__, (class_,), {})

    @classmethod
    def _event_redirect(cls, target: Any, identifier: str) -> Any:
        return target.class_ if isinstance(target, sessionmaker) else Session

    def __call__(self, **local_kw: Any) -> Any:
        for key, value in self.kw.items():
            if key == "info" and "info" in local_kw:
                local_kw["info"] = {**value, **local_kw["info"]}
            elif value is not True or key not in _TRUE_BY_DEFAULT:
                # An option at its default is left out: a Session given no options is
                # quicker to make.
                local_kw.setdefault(key, value)
        return self.class_(**local_kw)

    def configure(self, **new_kw: Any) -> None:
        """Change the arguments of sessions made from now on."""
        self.kw.update(new_kw)

    @contextlib.contextmanager
    def begin(self) -> Iterator[Session]:
        """A new session with a transaction that commits at the end of the block."""
        with self() as session, session.begin():
            yield session

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.kw.items())
        return f"{type(self).__name__}(class_={self.class_.__name__!r}, {args})"


def object_session(instance: Any) -> Session | None:
    """The session ``instance`` belongs to, or None."""
    return instance_state(instance).session


def make_transient(instance: Any) -> None:
    """Make ``instance`` transient: no session, no identity (it INSERTs again if added)."""
    state = instance_state(instance)
    session = state.session
    if session is not None:
        session._expunge_state(state, instance)
    state.key = None
    state.deleted = False
    state.__class__ = InstanceState
    state.session_id = None


def make_transient_to_detached(instance: Any) -> None:
    """Give a transient ``instance`` the identity of its primary key, as if it were loaded."""
    state = instance_state(instance)
    if state.session_id is not None or state.key is not None:
        raise sa_exc.InvalidRequestError("Given object must be transient")
    state.key = state.mapper.identity_key_from_instance(instance)
    state._commit_all()


def close_all_sessions() -> None:
    """Close every session in memory."""
    for session in list(_sessions.values()):
        session.close()


_ = NO_VALUE


_get_bind = Session.get_bind
Session._class_dispatch = Session.dispatch = Dispatch(Session)


def _plain_new_mapper(cls: type) -> Mapper | None:
    """The mapper of ``cls`` when its new objects need nothing but a state to become pending
    (mapped by that very class, configured, no relationships to cascade along); else None."""
    mapper: Mapper | None = getattr(cls, MAPPER_KEY, None)
    if mapper is None or mapper.class_ is not cls:
        return None
    mapper._check_configure()
    return None if mapper._relationships else mapper
