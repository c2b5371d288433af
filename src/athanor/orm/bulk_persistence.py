"""ORM-enabled INSERT, UPDATE and DELETE: ``insert(User)`` & co. run through a Session.

- ``session.execute(insert(User), [dicts])`` is a bulk INSERT: the dicts use attribute names,
  rows go out as executemany batches and no objects are made; with ``.returning(User)`` the
  rows come back as objects placed in the identity map.  Upserts from the dialect packages work
  the same way.
- ``session.execute(update(User), [dicts])`` is a bulk UPDATE by primary key.
- ``update(User).where(...)`` / ``delete(User).where(...)`` keep the objects already in the
  session right according to the ``synchronize_session`` execution option: ``"evaluate"``
  (run the WHERE clause in Python over the identity map), ``"fetch"`` (learn the matched keys
  with RETURNING, or a SELECT first where the database has no RETURNING for the statement),
  ``"auto"`` (evaluate when the criteria and the loaded attributes allow it, else fetch; the
  default) or ``False``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from athanor import exc as sa_exc
from athanor.engine.result import ChunkedIteratorResult, CursorResult, Result
from athanor.orm import exc as orm_exc
from athanor.orm.base import STATE_KEY
from athanor.orm.evaluator import Evaluator, UnevaluatableError, UnloadedAttribute, evaluator
from athanor.orm.loading import LoadingPlan, plan_for
from athanor.orm.mapper import EntityClause, Mapper
from athanor.orm.relationships import replace_columns
from athanor.orm.unitofwork import _update_statement
from athanor.sql.dml import (
    Delete,
    DMLStatement,
    Insert,
    Update,
    dml_extra_froms,
    insert,
    update,
)
from athanor.sql.elements import BinaryExpression, ColumnElement, and_, tuple_
from athanor.sql.schema import Column
from athanor.sql.selectable import FromClause, select

if TYPE_CHECKING:
    from athanor.engine.connection import Connection
    from athanor.orm.session import Session

SYNCHRONIZE_MODES = ("auto", "evaluate", "fetch", False)


def execute_orm_dml(
    session: Session,
    statement: DMLStatement,
    params: Any,
    options: Mapping[str, Any],
    bind_arguments: Mapping[str, Any] | None,
) -> Any:
    """Run an INSERT/UPDATE/DELETE made for a mapped class, keeping the session in step."""
    entity = statement._entity
    assert isinstance(entity, EntityClause)
    mapper = entity.mapper
    many = isinstance(params, list | tuple)
    if params and any(p.is_composite for p in mapper._props.values()):
        expand = _expand_composites
        params = [expand(mapper, r) for r in params] if many else expand(mapper, params)
    joined = len(mapper._persist_tables) > 1
    if joined and isinstance(statement, Insert) and _plain_insert(statement):
        bind = session.get_bind(mapper, clause=statement, **(bind_arguments or {}))
        rows = list(params) if many else [params or {}]
        return _insert_joined(session, session._connection_for_bind(bind), mapper, statement, rows)
    if joined and isinstance(statement, Update) and not many and _spans_tables(mapper, statement):
        bind = session.get_bind(mapper, clause=statement, **(bind_arguments or {}))
        conn = session._connection_for_bind(bind)
        return _update_joined_tables(session, conn, mapper, statement, params, options)
    if joined and not (isinstance(statement, Update) and many):
        statement = _joined_subclass_statement(mapper, statement)
    if mapper.single and mapper.polymorphic_on is not None and not isinstance(statement, Insert):
        # Only the rows of this class and its subclasses, as its queries.
        statement = statement.where(  # type: ignore[attr-defined]
            mapper.polymorphic_on.in_(mapper._identities())
        )
    bind = session.get_bind(mapper, clause=statement, **(bind_arguments or {}))
    conn = session._connection_for_bind(bind)
    if isinstance(statement, Insert):
        return _insert(session, conn, mapper, statement, params, options)
    if isinstance(statement, Update) and many:
        return _update_by_primary_key(session, conn, mapper, statement, params, options)
    assert isinstance(statement, Update | Delete)
    return _update_or_delete(session, conn, mapper, statement, params, options)


def _expand_composites(mapper: Mapper, row: Mapping[str, Any]) -> Mapping[str, Any]:
    """A parameter dict with each composite attribute's value given as its column
    attributes' values."""
    if not any(getattr(mapper._props.get(k), "is_composite", False) for k in row):
        return row
    expanded: dict[str, Any] = {}
    for key, value in row.items():
        prop = mapper._props.get(key)
        if getattr(prop, "is_composite", False):
            expanded.update(prop._bulk_values(value))  # type: ignore[union-attr]
        else:
            expanded[key] = value
    return expanded


def _plain_insert(statement: Insert) -> bool:
    """Whether ``statement`` is ``insert(Class)`` (optionally ``.returning(...)``) taking its
    rows from the parameters."""
    return not (
        statement._values
        or statement._multi_values
        or statement._select is not None
        or statement._is_upsert
        or statement._post_values_clause is not None
    )


def _insert_joined(
    session: Session,
    conn: Connection,
    mapper: Mapper,
    statement: Insert,
    rows: list[Mapping[str, Any]],
) -> Any:
    """Bulk INSERT of joined-table subclass rows: one INSERT per table, parent tables first,
    each row's new primary key (generated by the first table) copied to the others; with
    ``returning(...)`` the new rows are read back in the order of ``rows``."""
    discriminator = _discriminator_value(mapper)
    views = mapper._persist_views
    pk_keys = mapper._pk_keys
    data = [dict(row) for row in rows]
    _check_keys(mapper, data, "insert()")
    for row in data:
        if discriminator is not None:
            key = mapper._polymorphic_key
            assert key is not None
            row.setdefault(key, discriminator[1])
    for n, view in enumerate(views):
        keys = {k for k, _ in view._table_columns}
        table_rows = [
            column_params(view, {k: v for k, v in r.items() if k in keys}, "insert()") for r in data
        ]
        if n == 0 and any(k not in r for r in data for k in pk_keys):
            # The first table generates the keys: one row at a time, reading each new key.
            for row, values in zip(data, table_rows, strict=True):
                result = conn.execute(insert(view.local_table), values)
                row.update(zip(pk_keys, result.inserted_primary_key, strict=True))
            continue
        for group in shape_groups(table_rows):
            conn.execute(insert(view.local_table), list(group) if len(group) > 1 else group[0])
    if not statement._returning_raw:
        return _no_rows(len(data))
    new_keys = [tuple(row[k] for k in pk_keys) for row in data]
    pk = list(mapper.primary_key)
    match = pk[0].in_([k[0] for k in new_keys]) if len(pk) == 1 else tuple_(*pk).in_(new_keys)
    found = session.execute(
        select(*statement._returning_raw, *pk).select_from(mapper._entity).where(match)
    ).all()
    width = len(statement._returning_raw)
    by_key = {tuple(row[width:]): tuple(row[:width]) for row in found}
    plan = plan_for(select(*statement._returning_raw))
    ordered = [by_key[key] for key in new_keys if key in by_key]

    def chunks(yield_per: int | None) -> Iterator[list[tuple[Any, ...]]]:
        yield ordered

    return ChunkedIteratorResult(plan.metadata, chunks)


def _joined_subclass_statement(mapper: Mapper, statement: DMLStatement) -> DMLStatement:
    """An UPDATE or DELETE of a joined-table subclass as one statement on the subclass's own
    table (its SET values name that table's columns; a DELETE leaves the parent tables' rows
    to a ``delete()`` of the parent class or ON DELETE CASCADE): its parent tables' copies of
    the primary key read as the table's own key columns, and criteria on other parent columns
    select the keys with a subquery of the parent tables.  An INSERT would need a statement
    per table: refused."""
    table = mapper.local_table
    name = mapper.class_.__name__
    if isinstance(statement, Insert):
        raise sa_exc.InvalidRequestError(
            f"ORM-enabled insert({name}) takes a list of parameter dicts here: a {name} row "
            f"spans the tables {', '.join(t.name for t in mapper._persist_tables)}, written "
            f"by one INSERT each (session.execute(insert({name}), [{{...}}, ...])); "
            "values(), upserts and from_select() would need one statement for all of them"
        )
    own_key = _own_key(mapper)
    local: list[ColumnElement] = []
    parents: list[ColumnElement] = []
    where: tuple[ColumnElement, ...] = statement._where  # type: ignore[attr-defined]
    for given in where:
        criterion, tables = _criterion_tables(given, own_key)
        if tables <= {table}:
            local.append(criterion)
        elif table in tables:
            raise sa_exc.InvalidRequestError(
                f"{type(statement).__name__.lower()}({name}): the criterion {criterion} mixes "
                f"columns of {table.name!r} with columns of its parent tables; split it into "
                "criteria that each name one of them, or update the rows by primary key"
            )
        else:
            parents.append(criterion)
    if parents:
        parent_from = mapper.inherits._inheritance_join() if mapper.inherits else table
        base_key = list(mapper.primary_key)
        keys = select(*base_key).select_from(parent_from).where(*parents)
        own = [own_key.get(id(c), c) for c in base_key]
        match = own[0].in_(keys) if len(own) == 1 else tuple_(*own).in_(keys)
        local.append(match)
    new = statement._generate()
    new._where = tuple(local)  # type: ignore[attr-defined]
    return new


def _own_key(mapper: Mapper) -> dict[int, ColumnElement]:
    """Each of a joined-table subclass's key columns, and each parent table's copy of the key,
    by id() -> the subclass table's own key column."""
    own_key: dict[int, ColumnElement] = {id(c): c for c in mapper.local_table.primary_key}
    pairs = [
        pair
        for sub in mapper.iterate_to_root()
        if sub.inherit_condition is not None
        for pair in _column_pairs(sub.inherit_condition)
    ]
    for a, b in pairs:
        if id(a) in own_key:
            own_key.setdefault(id(b), own_key[id(a)])
        elif id(b) in own_key:
            own_key.setdefault(id(a), own_key[id(b)])
    return own_key


def _criterion_tables(
    given: ColumnElement, own_key: dict[int, ColumnElement]
) -> tuple[ColumnElement, set[Any]]:
    """``given`` reading the subclass table's key for any copy of it, and the tables it reads."""
    criterion = replace_columns(given, lambda col: own_key.get(id(col)))
    tables = {getattr(c, "table", None) for c in _columns_in(criterion)}
    tables.discard(None)
    return criterion, tables


def _spans_tables(mapper: Mapper, statement: Update) -> bool:
    """Whether an UPDATE of a joined-table subclass needs a statement per table: it sets a
    parent table's columns, or one criterion reads its own table and a parent table."""
    if statement._other_values:
        return True
    own_key = _own_key(mapper)
    table = mapper.local_table
    for given in statement._where:
        tables = _criterion_tables(given, own_key)[1]
        if table in tables and len(tables) > 1:
            return True
    return False


def _update_joined_tables(
    session: Session,
    conn: Connection,
    mapper: Mapper,
    statement: Update,
    params: Any,
    options: Mapping[str, Any],
) -> Any:
    """``update(Manager).where(...).values(...)`` setting columns of several of a joined-table
    subclass's tables, or with criteria mixing them: the keys of the matching rows are
    selected first, then each table with values gets an UPDATE of those keys (so criteria on
    columns being set see the old values, as in one UPDATE)."""
    name = mapper.class_.__name__
    if statement._returning:
        raise sa_exc.InvalidRequestError(
            f"update({name}) setting columns of several tables returns no rows; select the "
            "rows afterwards, or update the tables one by one with returning()"
        )
    sync = _synchronize_mode(options)
    tables = {t.name: t for t in mapper._persist_tables}
    by_table: dict[Any, dict[str, Any]] = {mapper.local_table: dict(statement._values or {})}
    for qualified, value in (statement._other_values or {}).items():
        table_name, key = qualified.split(".", 1)
        by_table.setdefault(tables[table_name], {})[key] = value
    for table, values in by_table.items():
        for key, value in values.items():
            foreign = {c.table for c in _columns_in(value) if c.table is not table}
            if foreign:
                raise sa_exc.InvalidRequestError(
                    f"update({name}): the value for {table.name}.{key} reads columns of "
                    f"{', '.join(sorted(t.name for t in foreign))}; each table is updated by "
                    "a statement of its own, whose values can read only that table"
                )
    base_key = list(mapper.primary_key)
    keys = conn.execute(
        select(*base_key).select_from(mapper._inheritance_join()).where(*statement._where),
        params,
    ).all()
    if not keys:
        return _no_rows(0)
    for view in mapper._persist_views:
        table_values = by_table.get(view.local_table)
        if not table_values:
            continue
        own = list(view.primary_key)
        for start in range(0, len(keys), _KEY_CHUNK):
            chunk = [tuple(k) for k in keys[start : start + _KEY_CHUNK]]
            match = own[0].in_([k[0] for k in chunk]) if len(own) == 1 else tuple_(*own).in_(chunk)
            conn.execute(update(view.local_table).values(table_values).where(match))
    if sync is not False:
        binds: Mapping[str, Any] = params or {}
        setters = {
            mapper._col_to_key.get(table.c[key], key): _value_evaluator(mapper, value, binds)
            for table, values in by_table.items()
            for key, value in values.items()
        }
        for obj in _objects_by_key(session, mapper, keys):
            computed = _computed(obj, setters)
            _set_committed(obj, computed)
            stale = [k for k in setters if k not in computed]
            if stale:
                obj.__dict__[STATE_KEY]._expire(obj.__dict__, stale)
    return _no_rows(len(keys))


_KEY_CHUNK = 500
"""Most keys in the IN list of one UPDATE of a multi-table ORM update."""


def _column_pairs(condition: ColumnElement) -> list[tuple[Any, Any]]:
    """The ``a = b`` column pairs of an inherit condition."""
    clauses = getattr(condition, "clauses", None) or (condition,)
    return [
        (c.left, c.right)
        for c in clauses
        if isinstance(c, BinaryExpression)
        and isinstance(c.left, Column)
        and isinstance(c.right, Column)
    ]


def _columns_in(element: Any) -> list[Any]:
    """The table columns inside ``element``, outside its subqueries."""
    if isinstance(element, Column):
        return [element]
    if element.is_select or isinstance(element, FromClause):
        return []
    return [c for child in element.get_children() for c in _columns_in(child)]


def _returning_plan(statement: DMLStatement) -> tuple[LoadingPlan, Any] | None:
    """The loading plan for ``returning(User, ...)``, or None when it returns no entity."""
    raw = statement._returning_raw
    if not any(isinstance(r, EntityClause) for r in raw):
        return None
    shape = select(*raw)
    return plan_for(shape), shape


def _discriminator_value(mapper: Mapper) -> tuple[str, Any] | None:
    """(column key, value) of the discriminator new rows of ``mapper`` get, or None."""
    key = mapper._polymorphic_key
    prop = mapper._props.get(key) if key is not None else None
    if mapper.polymorphic_identity is None or prop is None:
        return None
    return str(prop.columns[0].key), mapper.polymorphic_identity  # type: ignore[attr-defined]


def column_params(mapper: Mapper, row: Mapping[str, Any], what: str) -> dict[str, Any]:
    """``row`` keyed by attribute names re-keyed by the table's column keys."""
    table_columns = mapper.local_table.c
    translated: dict[str, Any] = {}
    for key, value in row.items():
        prop = mapper._props.get(key)
        columns = getattr(prop, "columns", None)
        if columns and not prop.is_expression:  # type: ignore[union-attr]
            translated[columns[0].key] = value
        elif key in table_columns:
            translated[key] = value
        else:
            raise sa_exc.InvalidRequestError(
                f"{what}: {mapper.class_.__name__} has no column attribute {key!r} "
                f"(parameter dict {dict(row)!r})"
            )
    return translated


def shape_groups(rows: Sequence[Mapping[str, Any]]) -> Iterator[Sequence[Mapping[str, Any]]]:
    """Runs of consecutive rows with the same keys (each run is one executemany)."""
    start = 0
    while start < len(rows):
        shape = rows[start].keys()
        end = start + 1
        while end < len(rows) and rows[end].keys() == shape:
            end += 1
        yield rows[start:end]
        start = end


def _insert(
    session: Session,
    conn: Connection,
    mapper: Mapper,
    statement: Insert,
    params: Any,
    options: Mapping[str, Any],
) -> Any:
    returning = _returning_plan(statement)
    discriminator = _discriminator_value(mapper)
    if not isinstance(params, list | tuple):
        single = None if params is None else column_params(mapper, params, "insert()")
        if single is not None and discriminator is not None:
            single.setdefault(*discriminator)
        result = conn.execute(statement, single, execution_options=options)
        if returning is None:
            return result
        plan, shape = returning
        return plan.result(session, result, options, shape)
    rows = [column_params(mapper, row, "insert()") for row in params]
    if discriminator is not None:
        for row in rows:
            row.setdefault(*discriminator)
    if returning is not None:
        statement = statement._generate()
        statement._sort_by_parameter_order = True
    results = [
        conn.execute(statement, group if len(group) > 1 else group[0], execution_options=options)
        for group in shape_groups(rows)
    ]
    if len(results) == 1 and returning is None:
        return results[0]
    if returning is None:
        if statement._returning_raw:
            # returning(User.id, ...) of mixed-key dicts: each batch's rows, in order.
            return _chain(results[0]._metadata, results)
        return _no_rows(sum(r.rowcount for r in results))
    plan, shape = returning
    built = [plan.result(session, r, options, shape) for r in results]
    return built[0] if len(built) == 1 else _chain(plan.metadata, built)


def _chain(metadata: Any, results: Sequence[Result]) -> Result:
    """One result over the rows of several results (a bulk insert of mixed-key dicts)."""

    def chunks(yield_per: int | None) -> Iterator[list[tuple[Any, ...]]]:
        for result in results:
            yield [tuple(row) for row in result]

    return ChunkedIteratorResult(metadata, chunks)


def update_rows_by_primary_key(
    conn: Connection, mapper: Mapper, rows: Sequence[Mapping[str, Any]], what: str
) -> int:
    """UPDATE each row (attribute-keyed dicts holding the primary key); returns rows matched.

    A joined-table subclass's rows are updated table by table, each table getting the values
    of the attributes it holds."""
    views = mapper._persist_views
    if len(views) == 1:
        return _update_table_rows(conn, mapper, rows, what)
    _check_keys(mapper, rows, what)
    matched = 0
    for view in views:
        keys = {k for k, _ in view._table_columns} | set(mapper._pk_keys)
        part = [{k: v for k, v in row.items() if k in keys} for row in rows]
        matched = max(matched, _update_table_rows(conn, view, part, what))
    return matched


def _check_keys(mapper: Mapper, rows: Sequence[Mapping[str, Any]], what: str) -> None:
    """Refuse a parameter dict naming an attribute none of ``mapper``'s tables holds."""
    held = {k for view in mapper._persist_views for k, _ in view._table_columns}
    held |= set(mapper._pk_keys)
    for row in rows:
        unknown = [k for k in row if k not in held]
        if unknown:
            raise sa_exc.InvalidRequestError(
                f"{what}: {mapper.class_.__name__} has no column attribute {unknown[0]!r} "
                f"(parameter dict {dict(row)!r})"
            )


def _update_table_rows(
    conn: Connection, mapper: Mapper, rows: Sequence[Mapping[str, Any]], what: str
) -> int:
    """UPDATE the rows of ``mapper``'s table (one table) by primary key."""
    pk_keys = mapper._pk_keys
    matched = 0
    for group in shape_groups(rows):
        params = []
        for row in group:
            missing = [k for k in pk_keys if k not in row]
            if missing:
                raise sa_exc.InvalidRequestError(
                    f"{what}: row {dict(row)!r} lacks the primary key attribute(s) "
                    f"{', '.join(missing)}"
                )
            p = column_params(mapper, {k: v for k, v in row.items() if k not in pk_keys}, what)
            for i, k in enumerate(pk_keys):
                p[f"pk__{i}"] = row[k]
            params.append(p)
        columns = tuple(sorted(k for k in params[0] if not k.startswith("pk__")))
        if not columns:
            continue
        stmt = _update_statement(mapper, columns, False)
        result = conn.execute(stmt, params if len(params) > 1 else params[0])
        if 0 <= result.rowcount != len(params):
            raise orm_exc.StaleDataError(
                f"{what}: UPDATE statement on table {mapper.local_table.name!r} expected to "
                f"update {len(params)} row(s); {result.rowcount} were matched (a primary key "
                "names no row)"
            )
        matched += max(result.rowcount, 0)
    return matched


def _update_by_primary_key(
    session: Session,
    conn: Connection,
    mapper: Mapper,
    statement: Update,
    params: Sequence[Mapping[str, Any]],
    options: Mapping[str, Any],
) -> Any:
    if statement._where or statement._values or statement._returning:
        raise sa_exc.InvalidRequestError(
            "Bulk UPDATE by primary key (update(User) with a list of parameter dicts) takes no "
            "where(), values() or returning(); each dict holds the primary key and the new "
            "values.  For one UPDATE with criteria, pass a single dict or none."
        )
    sync = _synchronize_mode(options)
    matched = update_rows_by_primary_key(conn, mapper, params, "update()")
    if sync is not False:
        identity_map = session.identity_map
        pk_keys = mapper._pk_keys
        for row in params:
            obj = identity_map.get_object(mapper._identity_key(tuple(row[k] for k in pk_keys)))
            if obj is not None:
                _set_committed(obj, {k: v for k, v in row.items() if k not in pk_keys})
    return _no_rows(matched)


def _no_rows(rowcount: int) -> CursorResult:
    """A result without rows reporting ``rowcount`` (for work done in several statements)."""
    return CursorResult(None, returns_rows=False, rowcount=rowcount)


def _synchronize_mode(options: Mapping[str, Any]) -> Any:
    sync = options.get("synchronize_session", "auto")
    if sync not in SYNCHRONIZE_MODES:
        raise sa_exc.ArgumentError(
            f"synchronize_session must be 'auto', 'evaluate', 'fetch' or False, got {sync!r}"
        )
    return sync


def _set_committed(obj: Any, values: Mapping[str, Any]) -> None:
    """Give ``obj`` the database's new ``values`` (as loaded, not as pending changes)."""
    d = obj.__dict__
    state = d[STATE_KEY]
    for key, value in values.items():
        d[key] = value
        if key in state.committed_state:
            state._own_committed().pop(key)


def _candidates(session: Session, mapper: Mapper) -> list[Any]:
    cls = mapper.class_
    return [
        obj
        for obj in session.identity_map.values()
        if isinstance(obj, cls) and not obj.__dict__[STATE_KEY].deleted
    ]


def _update_or_delete(
    session: Session,
    conn: Connection,
    mapper: Mapper,
    statement: Update | Delete,
    params: Any,
    options: Mapping[str, Any],
) -> Any:
    sync = _synchronize_mode(options)
    binds: Mapping[str, Any] = params or {}
    is_update = isinstance(statement, Update)
    columns, values = _set_values(mapper, statement) if isinstance(statement, Update) else ({}, {})
    criteria = None
    if sync in ("auto", "evaluate"):
        try:
            criteria = evaluator(mapper, and_(*statement._where), binds)
        except UnevaluatableError as error:
            if sync == "evaluate":
                raise sa_exc.InvalidRequestError(
                    f"Could not evaluate current criteria in Python: {error}. Specify 'fetch' "
                    "or False for the synchronize_session execution option."
                ) from error
            sync = "fetch"
    setters = {key: _value_evaluator(mapper, element, binds) for key, element in values.items()}
    matched: list[Any] = []
    unknown: list[Any] = []
    if criteria is not None:
        for obj in _candidates(session, mapper):
            try:
                if criteria(obj.__dict__):
                    matched.append(obj)
            except UnloadedAttribute:
                unknown.append(obj)
        if unknown and sync == "auto":
            matched, unknown, sync = [], [], "fetch"
    returning = _returning_plan(statement)
    flag = "update_returning" if is_update else "delete_returning"
    fetch_returning = (
        sync == "fetch"
        and not statement._returning
        and bool(getattr(conn.dialect, flag))
        and (
            not dml_extra_froms(statement) or bool(getattr(conn.dialect, f"{flag}_multifrom", True))
        )
    )
    # The key columns of the table the statement writes (a joined subclass's own table).
    key_columns = mapper._persist_views[-1].primary_key
    if sync == "fetch" and not fetch_returning:
        keys = conn.execute(select(*key_columns).where(*statement._where), params)
        matched = _objects_by_key(session, mapper, keys.all())
    new_values = [_computed(obj, setters) for obj in matched]
    run = statement
    if fetch_returning:
        fetched_keys = list(columns)
        run = statement.returning(*key_columns, *columns.values())
    result = conn.execute(run, params, execution_options=options)
    if fetch_returning:
        rows = result.all()
        result.rowcount = len(rows)
        width = len(key_columns)
        matched = _objects_by_key(session, mapper, [row[:width] for row in rows])
        by_key = {tuple(row[:width]): row[width:] for row in rows}
        new_values = [
            dict(zip(fetched_keys, by_key[obj.__dict__[STATE_KEY].key[1]], strict=True))
            for obj in matched
        ]
    if is_update:
        for obj, computed in zip(matched, new_values, strict=True):
            _set_committed(obj, computed)
            stale = [k for k in values if k not in computed]
            if stale:
                obj.__dict__[STATE_KEY]._expire(obj.__dict__, stale)
        for obj in unknown:
            obj.__dict__[STATE_KEY]._expire(obj.__dict__, list(values))
    else:
        _mark_deleted(session, matched)
        for obj in unknown:
            obj.__dict__[STATE_KEY]._expire(obj.__dict__)
    if returning is not None:
        plan, shape = returning
        return plan.result(session, result, {**options, "populate_existing": True}, shape)
    return result


def _set_values(mapper: Mapper, statement: Update) -> tuple[dict[str, Any], dict[str, Any]]:
    """The statement's SET columns and values, both keyed by attribute name."""
    table = mapper.local_table
    columns: dict[str, Any] = {}
    values: dict[str, Any] = {}
    for column_key, value in (statement._values or {}).items():
        column = table.c[column_key]
        key = mapper._col_to_key.get(column, column_key)
        columns[key] = column
        values[key] = value
    return columns, values


def _value_evaluator(mapper: Mapper, element: Any, binds: Mapping[str, Any]) -> Evaluator | None:
    try:
        return evaluator(mapper, element, binds)
    except UnevaluatableError:
        return None


def _computed(obj: Any, setters: Mapping[str, Evaluator | None]) -> dict[str, Any]:
    """The new values of ``obj``'s attributes that Python can compute (the rest expire)."""
    d = obj.__dict__
    computed: dict[str, Any] = {}
    for key, setter in setters.items():
        if setter is None:
            continue
        try:
            computed[key] = setter(d)
        except UnloadedAttribute:
            continue
    return computed


def _objects_by_key(session: Session, mapper: Mapper, rows: Sequence[Any]) -> list[Any]:
    found = []
    for row in rows:
        obj = session.identity_map.get_object(mapper._identity_key(tuple(row)))
        if obj is not None and not obj.__dict__[STATE_KEY].deleted:
            found.append(obj)
    return found


def _mark_deleted(session: Session, objects: list[Any]) -> None:
    tx = session._transaction
    assert tx is not None
    for obj in objects:
        session._row_deleted(tx, obj.__dict__[STATE_KEY], obj)


__all__ = ["SYNCHRONIZE_MODES", "execute_orm_dml", "update_rows_by_primary_key"]
