"""Loader strategies for relationships: lazy loading (``lazy="select"``) and its variants.

A lazy load runs one SELECT built once per relationship with bound parameters for the
parent's key values; a many-to-one whose target is already in the identity map needs no SQL.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from athanor import exc as sa_exc
from athanor.orm import exc as orm_exc
from athanor.orm.base import LAZY_LOADED_FROM, RELATIONSHIP_LOAD, state_str
from athanor.orm.relationships import MANYTOMANY, MANYTOONE, RelationshipProperty, replace_columns
from athanor.orm.state import InstanceState
from athanor.orm.strategy_options import filters_target
from athanor.sql.elements import BindParameter, ColumnElement, and_
from athanor.util.concurrency import in_greenlet

if TYPE_CHECKING:
    from athanor.sql.selectable import Select


def detached_error(state: InstanceState, key: str, action: str) -> orm_exc.DetachedInstanceError:
    """The error for loading ``key`` of an object that belongs to no session."""
    return orm_exc.DetachedInstanceError(
        f"Instance {state_str(state)} is not bound to a Session; {action} of attribute "
        f"{key!r} cannot proceed. The object left its session (closed, or expunged) before "
        f"{key!r} was loaded (commit() expires every attribute unless the session was made with "
        "expire_on_commit=False). Fix: load what you need while the session is open (an eager "
        f"loader such as selectinload({state.class_.__name__}.{key}) for relationships), create "
        "the session with expire_on_commit=False, keep the session open, or attach the object "
        "again with session.add(obj) / session.merge(obj)"
    )


def require_async_bridge(session: Any, state: InstanceState, key: str, relationship: bool) -> None:
    """Refuse, before any I/O, to load ``key`` with an async engine from outside the bridge
    (plain attribute access in async code), naming the attribute and the ways to load it."""
    bind = session.get_bind(state.mapper)
    if not getattr(bind.dialect, "is_async", False) or in_greenlet():
        return
    name = f"{state.class_.__name__}.{key}"
    if relationship:
        what = f"Lazy load of relationship {name!r}"
        fixes = (
            f"load it in the query with selectinload({name}), read it with "
            f"'await obj.awaitable_attrs.{key}' (mix AsyncAttrs into the base class), or map "
            'it with lazy="raise" to catch such access early'
        )
    else:
        what = f"Loading expired attribute {name!r}"
        fixes = (
            f"reload it with 'await session.refresh(obj)', read it with "
            f"'await obj.awaitable_attrs.{key}', or make the session with "
            "expire_on_commit=False so commit() does not expire it"
        )
    raise sa_exc.MissingGreenlet(
        f"{what} of {state_str(state)} needs a query, and in asyncio code plain attribute "
        f"access cannot wait for one: {fixes}; code that relies on implicit loading can run "
        "under 'await session.run_sync(fn)'"
    )


def _lazy_statement(prop: RelationshipProperty) -> tuple[Select, list[str]]:
    cached: tuple[Select, list[str]] | None = prop.__dict__.get("_lazy_stmt")
    if cached is not None:
        return cached
    from athanor.sql.selectable import select

    entity = prop.mapper._entity
    names: list[str] = []
    binds: dict[Any, BindParameter] = {}
    if prop.direction == MANYTOMANY:
        assert prop.secondaryjoin is not None
        crit = []
        for i, (_, sec) in enumerate(prop.secondary_parent_pairs):
            name = f"lazy_{i}"
            names.append(name)
            crit.append(sec == BindParameter(name, None, sec.type))
        crit += prop.primary_extra
        stmt = select(entity).join(prop.secondary, prop.secondaryjoin).where(and_(*crit))
        names_local = names
    else:
        for i, col in enumerate([*prop.local_columns, *prop.extra_parent_columns]):
            name = f"lazy_{i}"
            names.append(name)
            binds[col] = BindParameter(name, None, col.type)

        def swap(col: ColumnElement) -> ColumnElement | None:
            return binds.get(col)

        assert prop.primaryjoin is not None
        stmt = select(entity).where(replace_columns(prop.primaryjoin, swap))
        names_local = names
    if prop.order_by:
        stmt = stmt.order_by(*prop.order_by)  # type: ignore[misc]
    elif prop.mapper._order_by_default is not None:
        stmt = stmt.order_by(*prop.mapper._order_by_default)
    result = (stmt, names_local)
    prop.__dict__["_lazy_stmt"] = result
    return result


def _joins_a_collection(prop: RelationshipProperty, stmt: Select, has_options: bool) -> bool:
    """Whether the lazy load ``stmt`` of ``prop`` joins an eager collection (through its
    options or the target's mapping), so that its rows must be made unique; remembered on
    ``prop`` for its plain lazy statement (``_lazy_unique``)."""
    from athanor.orm.loading import plan_for

    unique = plan_for(stmt).requires_unique
    if not has_options:
        prop.__dict__["_lazy_unique"] = unique
    return unique


def lazy_load(
    prop: RelationshipProperty, state: InstanceState, instance: Any, named: bool = False
) -> Any:
    """The value of relationship ``prop`` for ``instance``, loaded now; ``named``: asked for
    by name (``session.refresh(obj, ["rel"])``), which loads even a lazy="raise"/"noload"
    relationship."""
    lazy = prop.lazy
    context = state.load_context
    if context is not None:
        lazy = context.overrides.get(prop, lazy)
    if named and lazy in ("noload", "raise", "raise_on_sql"):
        lazy = "select"
    if lazy == "noload":
        return [] if prop.uselist else None
    if lazy == "raise":
        raise sa_exc.InvalidRequestError(
            f"{prop} is not available due to lazy='raise' or raiseload(); load it with an "
            f"eager loader (selectinload({prop}) / joinedload({prop})) in the query"
        )
    if lazy == "write_only":
        raise sa_exc.InvalidRequestError(
            f"{prop} is a write-only collection (lazy='write_only'); use "
            f"obj.{prop.key}.select() to read it, .add() / .remove() to change it"
        )
    session = state.session
    if session is None:
        raise detached_error(state, prop.key, "lazy load operation")
    values = prop._parent_values(state, instance)
    if values is None or all(v is None for v in values):
        return [] if prop.uselist else None
    options = context.lazy_options.get(prop, ()) if context is not None else ()
    token = state.key[2] if state.key is not None else None
    if prop.direction == MANYTOONE and not (options and filters_target(prop, options)):
        key = prop._identity_of_target(values, token)
        if key is not None:
            found = session.identity_map.get_object(key)
            if found is not None:
                return found
    if lazy == "raise_on_sql":
        raise sa_exc.InvalidRequestError(
            f"{prop} is not available due to lazy='raise_on_sql' (loading it needs SQL); load "
            f"it with an eager loader such as selectinload({prop})"
        )
    require_async_bridge(session, state, prop.key, relationship=True)
    if prop.extra_parent_columns:
        extra = prop._parent_values(state, instance, prop.extra_parent_columns)
        if extra is None:
            return [] if prop.uselist else None
        values = values + extra
    stmt, names = _lazy_statement(prop)
    if options:
        stmt = stmt.options(*options)
    params = dict(zip(names, values, strict=True))
    # Related objects of an object loaded with an identity_token share that token.
    run_options = (
        RELATIONSHIP_LOAD if token is None else {**RELATIONSHIP_LOAD, "identity_token": token}
    )
    if session.dispatch.do_orm_execute:
        # For ORMExecuteState.lazy_loaded_from.
        run_options = {**run_options, LAZY_LOADED_FROM: state}
    result = session.execute(stmt, params, execution_options=run_options)
    unique = None if options else prop.__dict__.get("_lazy_unique")
    if unique is None:
        unique = _joins_a_collection(prop, stmt, bool(options))
    if unique:
        result = result.unique()
    items = result.scalars().all()
    if context is not None:
        context.lazy_loaded(prop)
    if prop.uselist:
        return items
    return items[0] if items else None


def load_by_values(session: Any, prop: RelationshipProperty, values: list[Any]) -> list[Any]:
    """The objects ``prop`` relates to a parent whose local columns, then its
    ``extra_parent_columns``, hold ``values`` (not necessarily the parent's current ones: a
    flush changing them loads by the old ones)."""
    stmt, names = _lazy_statement(prop)
    params = dict(zip(names, values, strict=True))
    result = session.execute(stmt, params, execution_options=RELATIONSHIP_LOAD)
    return list(result.scalars().unique())
