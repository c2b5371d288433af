"""``relationship()``: links between mapped classes, their join conditions and lazy loading.

Join conditions are worked out when the mappers are configured (after every class of the
registry exists, so targets may be named as strings).  A relationship with no foreign-key
path between its tables fails there with a message that names the relationship, both tables
and the fix.
"""

from __future__ import annotations

import enum
import warnings
import weakref
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from athanor import exc as sa_exc
from athanor.orm.attributes import (
    CollectionAttributeImpl,
    InstrumentedAttribute,
    QueryableAttribute,
    ScalarObjectAttributeImpl,
)
from athanor.orm.base import NO_VALUE, _mapper_or_none, instance_state, state_str
from athanor.orm.collections import collection_factory
from athanor.orm.interfaces import MapperProperty
from athanor.orm.state import InstanceState
from athanor.sql import operators
from athanor.sql.elements import (
    BinaryExpression,
    BindParameter,
    BooleanClauseList,
    ClauseElement,
    ColumnClause,
    ColumnElement,
    Grouping,
    UnaryExpression,
    and_,
    coerce_column,
)
from athanor.sql.schema import Column, Table
from athanor.sql.selectable import (
    FromClause,
    Join,
    _base_column,
    _SelectBase,
    copy_with_children,
)

if TYPE_CHECKING:
    from athanor.orm.mapper import Mapper


class RelationshipDirection(enum.Enum):
    """Which side holds the foreign key: :attr:`RelationshipProperty.direction`."""

    ONETOMANY = 1
    MANYTOONE = 2
    MANYTOMANY = 3


ONETOMANY = RelationshipDirection.ONETOMANY
MANYTOONE = RelationshipDirection.MANYTOONE
MANYTOMANY = RelationshipDirection.MANYTOMANY

_CASCADES = {
    "save-update",
    "merge",
    "delete",
    "delete-orphan",
    "expunge",
    "refresh-expire",
    "all",
    "none",
}
_LAZY = {
    "select",
    True,
    "raise",
    "raise_on_sql",
    "noload",
    "write_only",
    "dynamic",
    "joined",
    "selectin",
    "subquery",
    "immediate",
    False,
    None,
}


class CascadeOptions(frozenset[str]):
    """The parsed ``cascade=`` of a relationship (``"all"`` expanded)."""

    def __new__(cls, spec: str | Sequence[str]) -> CascadeOptions:
        names = [s.strip() for s in (spec.split(",") if isinstance(spec, str) else spec)]
        names = [n for n in names if n]
        unknown = [n for n in names if n not in _CASCADES]
        if unknown:
            raise sa_exc.ArgumentError(
                f"Invalid cascade option(s) {', '.join(map(repr, unknown))}; valid options: "
                f"{', '.join(sorted(_CASCADES))}"
            )
        values = set(names)
        if "all" in values:
            values |= {"save-update", "merge", "delete", "expunge", "refresh-expire"}
            values.discard("all")
        values.discard("none")
        if "delete-orphan" in values and "delete" not in values:
            raise sa_exc.ArgumentError(
                "cascade 'delete-orphan' needs 'delete' too; use cascade='all, delete-orphan'"
            )
        return super().__new__(cls, values)

    @property
    def delete(self) -> bool:
        return "delete" in self

    @property
    def delete_orphan(self) -> bool:
        return "delete-orphan" in self


class _Backref:
    def __init__(self, name: str, kwargs: dict[str, Any]) -> None:
        self.name = name
        self.kwargs = kwargs


def backref(name: str, **kwargs: Any) -> Any:
    """A ``backref=`` with arguments for the relationship created on the other class."""
    return _Backref(name, kwargs)


class RelationshipProperty(MapperProperty):
    """A mapped link from one class to another (or to itself)."""

    is_relationship = True
    _dependency_processor = None
    loads_replaced = False

    def __init__(
        self,
        argument: Any = None,
        secondary: Any = None,
        *,
        uselist: bool | None = None,
        collection_class: Any = None,
        primaryjoin: Any = None,
        secondaryjoin: Any = None,
        back_populates: str | None = None,
        backref: Any = None,
        foreign_keys: Any = None,
        remote_side: Any = None,
        order_by: Any = False,
        cascade: str = "save-update, merge",
        passive_deletes: bool | str = False,
        passive_updates: bool = True,
        viewonly: bool = False,
        post_update: bool = False,
        lazy: Any = "select",
        single_parent: bool = False,
        innerjoin: bool = False,
        join_depth: int | None = None,
        info: dict[Any, Any] | None = None,
        doc: str | None = None,
        overlaps: str | None = None,
        active_history: bool = False,
        sync_backref: bool | None = None,
        **kw: Any,
    ) -> None:
        super().__init__(info)
        self._dataclass_kw = {
            name: kw.pop(name)
            for name in ("init", "repr", "default", "default_factory", "compare", "kw_only")
            if name in kw
        }
        for name in (
            "distinct_target_key",
            "omit_join",
            "query_class",
            "enable_typechecks",
            "cascade_backrefs",
            "comparator_factory",
            "bake_queries",
        ):
            kw.pop(name, None)
        if kw:
            raise TypeError(f"relationship() got unexpected argument(s): {', '.join(kw)}")
        if lazy not in _LAZY:
            raise sa_exc.ArgumentError(
                f"Unknown lazy={lazy!r}; use 'select', 'raise', 'raise_on_sql', 'noload', "
                "'write_only', 'dynamic', 'joined' or 'selectin'"
            )
        if back_populates and backref:
            raise sa_exc.ArgumentError("relationship() takes back_populates or backref, not both")
        self.argument = argument
        self.secondary = secondary
        self.uselist = uselist
        self.collection_class = collection_class
        self.primaryjoin_arg = primaryjoin
        self.secondaryjoin_arg = secondaryjoin
        self.back_populates = back_populates
        self.backref = backref
        self.foreign_keys_arg = foreign_keys
        self.remote_side_arg = remote_side
        self.order_by_arg = order_by
        self.cascade = CascadeOptions("" if viewonly else cascade)
        self.passive_deletes = passive_deletes
        self.passive_updates = passive_updates
        self.viewonly = viewonly
        self.post_update = post_update
        self.lazy = "select" if lazy is True else "noload" if lazy is False else lazy
        self.single_parent = single_parent
        self.innerjoin = innerjoin
        self.join_depth = join_depth
        """How many levels deep an eager default (``lazy="joined"`` / ``"selectin"``) of a
        self-referential relationship loads; None: such a relationship does not load eagerly
        on its own."""
        self.doc = doc
        self.overlaps = overlaps
        self.active_history = active_history
        if sync_backref and viewonly:
            raise sa_exc.ArgumentError(
                "relationship(viewonly=True, sync_backref=True): a viewonly relationship is "
                "not kept in step with the other side; drop one of the two"
            )
        self.sync_backref_arg = sync_backref
        self.sync_backref = sync_backref is not False
        """Whether changes made through the other side of the link show here at once (set
        when the link is configured: by default, unless either side is viewonly)."""
        self._reverse_property: RelationshipProperty | None = None
        self._configured = False
        self.direction: RelationshipDirection | None = None
        self.mapper: Mapper
        self.target: Any = None
        self.pairs: list[tuple[ColumnElement, ColumnElement]] = []
        self.secondary_parent_pairs: list[tuple[ColumnElement, ColumnElement]] = []
        self.secondary_target_pairs: list[tuple[ColumnElement, ColumnElement]] = []
        self.primary_extra: list[ColumnElement] = []
        """The primaryjoin's criteria beyond its column pairs (a many-to-many's
        ``secondary.c.kind == "close"``, a viewonly one-to-many's ``Child.name.like("x%")``):
        every load, join and comparison along it applies them as well."""
        self.secondary_extra: list[ColumnElement] = []
        """The same for the secondaryjoin."""
        self._parent_join_columns: list[ColumnElement] = []
        self.extra_reads_parent = False
        """Whether the primaryjoin's criteria beyond the column pairs read a column of the
        parent (``Child.score > Parent.id * 10``): loading the targets of many parents at
        once cannot then go by the key columns alone, so it joins the parents' rows."""
        self.extra_parent_columns: list[ColumnElement] = []
        """The parent's columns those criteria read beyond :attr:`local_columns`
        (``Parent.kind`` in ``Child.kind == Parent.kind``): a lazy load binds their values
        as well."""
        self.primaryjoin: ColumnElement | None = None
        self.secondaryjoin: ColumnElement | None = None
        self.order_by: list[ColumnElement] | bool = False
        self._annotation_uselist: bool | None = None
        self._annotation_collection: Any = None

    # --- instrumentation -------------------------------------------------------------------

    def instrument(self, class_: type) -> None:
        setattr(class_, self.key, InstrumentedAttribute(class_, self.key, self, None))

    def _comparator_for(self, attr: QueryableAttribute[Any]) -> Any:
        return _RelationshipComparator(self)

    def _clause_element(self, attr: QueryableAttribute[Any]) -> ClauseElement:
        self.parent._check_configure()
        assert self.primaryjoin is not None
        return self.primaryjoin

    def _comparator_operate(
        self, attr: QueryableAttribute[Any], op: Any, *other: Any, **kw: Any
    ) -> ColumnElement:
        return _RelationshipComparator(self).operate(op, *other)

    # --- configuration ---------------------------------------------------------------------

    def _resolve(self, value: Any, what: str) -> Any:
        if isinstance(value, str):
            registry = self.parent.registry
            if registry is None:
                raise sa_exc.InvalidRequestError(
                    f"relationship {self}: {what} {value!r} is a name, but the mapper has no "
                    "registry to look it up in; pass the class itself"
                )
            return registry._resolve_name(value, self, what)
        if (
            callable(value)
            and not isinstance(value, type | ClauseElement | Table)
            and not hasattr(value, "__clause_element__")
        ):
            return value()
        return value

    def _columns(self, value: Any, what: str) -> list[ColumnElement]:
        value = self._resolve(value, what)
        if value is None:
            return []
        if not isinstance(value, list | tuple | set | frozenset):
            value = [value]
        return [coerce_column(_column_of(self._resolve(v, what))) for v in value]

    def post_configure(self) -> None:
        if self._configured:
            return
        target = self._resolve(self.argument, "target class")
        mapper = _mapper_or_none(target)
        if mapper is None:
            raise sa_exc.ArgumentError(
                f"relationship {self} needs a mapped class as its target, got {target!r}"
            )
        self.mapper = mapper
        self.target = mapper.local_table
        secondary = self._resolve(self.secondary, "secondary table")
        if isinstance(secondary, str):
            secondary = self.parent.local_table.metadata.tables.get(secondary)
        if secondary is not None and (
            isinstance(secondary, Join) or not isinstance(secondary, FromClause)
        ):
            raise sa_exc.ArgumentError(
                f"relationship {self}: secondary={secondary!r} is not a table; a join or "
                "other selectable as the secondary is not supported, so map the link through "
                "one association table (or a viewonly relationship to a class mapped to the "
                "join)"
            )
        self.secondary = secondary
        self._foreign_keys = set(self._columns(self.foreign_keys_arg, "foreign_keys"))
        self._remote_side = set(self._columns(self.remote_side_arg, "remote_side"))
        primaryjoin = self._resolve(self.primaryjoin_arg, "primaryjoin")
        secondaryjoin = self._resolve(self.secondaryjoin_arg, "secondaryjoin")
        self._setup_join(self._read_join(primaryjoin), self._read_join(secondaryjoin))
        self._check_cascades()
        order_by = self.order_by_arg
        if order_by is not False and order_by is not None:
            self.order_by = self._columns(order_by, "order_by")
        if self.uselist is None:
            # ``Mapped["Child"]`` (no collection) on the one-to-many side: one-to-one;
            # ``WriteOnlyMapped["Child"]`` is a collection all the same.
            annotated = self._annotation_uselist
            if annotated is None or self.lazy in ("write_only", "dynamic"):
                annotated = self.direction != MANYTOONE
            self.uselist = annotated
        if self.lazy in ("write_only", "dynamic"):
            from athanor.orm.writeonly import query_collection_impl

            impl: Any = query_collection_impl(self)
        elif self.uselist:
            self.collection_class = self.collection_class or self._annotation_collection
            impl = CollectionAttributeImpl(
                self.key, self, collection_factory(self.collection_class)
            )
        else:
            impl = ScalarObjectAttributeImpl(self.key, self)
        self.impl = impl
        self.loads_replaced = self.lazy not in ("noload", "raise", "raise_on_sql") and (
            self.active_history or self.direction != MANYTOONE or self.cascade.delete_orphan
        )
        """Whether assigning to the unloaded attribute loads the value it replaces first."""
        attr = getattr(self.parent.class_, self.key)
        attr.impl = impl
        impl.dispatch = dispatch = attr.dispatch
        impl._early_listeners = frozenset((*dispatch.append, *dispatch.remove, *dispatch.set))
        self._configured = True
        if self.cascade.delete_orphan:
            mapper._orphan_parents = (*mapper._orphan_parents, self)
        self._setup_reverse()

    def _setup_reverse(self) -> None:
        if self.back_populates:
            other = self.mapper._props.get(self.back_populates)
            if not isinstance(other, RelationshipProperty):
                raise sa_exc.InvalidRequestError(
                    f"relationship {self} has back_populates={self.back_populates!r}, but "
                    f"{self.mapper.class_.__name__} has no relationship of that name; add "
                    f"{self.back_populates} = relationship(back_populates={self.key!r}) "
                    f"to {self.mapper.class_.__name__}"
                )
            self._reverse_property = other
            other._reverse_property = self
            _settle_sync(self, other)
        elif self.backref:
            name, kwargs = (
                (self.backref.name, dict(self.backref.kwargs))
                if isinstance(self.backref, _Backref)
                else (self.backref, {})
            )
            if name in self.mapper._props:
                raise sa_exc.ArgumentError(
                    f"Error creating backref {name!r} on relationship {self}: "
                    f"{self.mapper.class_.__name__} already has a property of that name"
                )
            if self.secondary is not None:
                kwargs.setdefault("secondary", self.secondary)
                if self.secondaryjoin is not None and self.primaryjoin_arg is not None:
                    kwargs.setdefault("primaryjoin", self.secondaryjoin)
                    kwargs.setdefault("secondaryjoin", self.primaryjoin)
            elif self.primaryjoin_arg is not None:
                kwargs.setdefault("primaryjoin", self.primaryjoin)
            if self._foreign_keys and "foreign_keys" not in kwargs:
                kwargs["foreign_keys"] = list(self._foreign_keys)
            if (
                self.parent.local_table is self.target
                and "remote_side" not in kwargs
                and self.direction == ONETOMANY
            ):
                kwargs["remote_side"] = [p for p, _ in self.pairs]
            kwargs.setdefault("viewonly", self.viewonly)
            other = RelationshipProperty(self.parent.class_, back_populates=self.key, **kwargs)
            self.mapper._add_property(name, other)
            self._reverse_property = other
            other.post_configure()
            _settle_sync(self, other)

    def _check_cascades(self) -> None:
        cascade = self.cascade
        if cascade.delete_orphan and not self.single_parent and self.direction != ONETOMANY:
            kind = "many-to-one" if self.direction == MANYTOONE else "many-to-many"
            raise sa_exc.ArgumentError(
                f"relationship {self} is {kind}, so one {self.mapper.class_.__name__} may have "
                "several parents through it, and delete-orphan cascade cannot tell when it has "
                "none left; put the cascade on the one-to-many side, or pass "
                "single_parent=True to allow one parent at a time"
            )
        if self.passive_deletes == "all" and cascade.delete:
            raise sa_exc.ArgumentError(
                f"relationship {self}: passive_deletes='all' leaves the related rows alone when "
                "the parent is deleted, which contradicts its delete cascade; use "
                "passive_deletes=True (the database deletes them) or drop the delete cascade"
            )

    def _read_join(self, condition: Any) -> ColumnElement | None:
        """A join condition as plain columns; the columns it marks with ``foreign()`` /
        ``remote()`` count as given in ``foreign_keys=`` / ``remote_side=``."""
        if condition is None:
            return None
        sides: dict[str, list[ColumnElement]] = {"foreign": [], "remote": []}
        plain = unmarked(_read_sides(coerce_column(condition), sides))
        self._foreign_keys.update(unmarked(c) for c in sides["foreign"])
        self._remote_side.update(unmarked(c) for c in sides["remote"])
        return plain  # type: ignore[no-any-return]

    def _fk_pairs(
        self, referencing: Any, referenced: Any
    ) -> list[tuple[ColumnElement, ColumnElement]]:
        """(referenced column, foreign key column) pairs from ``referencing`` to ``referenced``."""
        pairs = []
        for col in referencing.c:
            if self._foreign_keys and col not in self._foreign_keys:
                continue
            # A subquery's column (a polymorphic union's) has the foreign keys of its origin.
            for fk in getattr(_base_column(col), "foreign_keys", ()):
                try:
                    target = fk.column
                except sa_exc.NoReferenceError:
                    continue
                if target.table is referenced:
                    pairs.append((target, col))
        if not pairs and self._foreign_keys:
            pk = list(referenced.primary_key)
            declared = [c for c in self._foreign_keys if getattr(c, "table", None) is referencing]
            if len(pk) == 1 and len(declared) == 1:
                pairs.append((pk[0], declared[0]))
        return pairs

    def _no_path_error(self, left: Any, right: Any, via: str = "") -> sa_exc.NoForeignKeysError:
        pk = list(left.primary_key)
        target_col = f"{left.name}.{pk[0].name}" if len(pk) == 1 else f"{left.name}.<key>"
        if self.back_populates:
            other = f" (and {self.mapper.class_.__name__}.{self.back_populates})"
        else:
            other = ""
        return sa_exc.NoForeignKeysError(
            f"Could not determine the join condition of relationship {self}{other}: there are no "
            f"foreign keys linking the tables {left.name!r} and {right.name!r}{via}. Give the "
            f"referencing column a foreign key, e.g. mapped_column(ForeignKey({target_col!r})) "
            f"on the column of {right.name!r} that points at {left.name!r}, or pass "
            "foreign_keys=[...] (and primaryjoin=... if the tables have no foreign key at all) "
            "to relationship()"
        )

    def _setup_join(
        self, primaryjoin: ColumnElement | None, secondaryjoin: ColumnElement | None
    ) -> None:
        parent_table = self.parent.local_table
        target_table = self.target
        if self.secondary is not None:
            self.direction = MANYTOMANY
            secondary = self.secondary
            if primaryjoin is not None:
                self.secondary_parent_pairs = _eq_pairs(primaryjoin, parent_table, secondary)
            else:
                self.secondary_parent_pairs = self._fk_pairs(secondary, parent_table)
            if secondaryjoin is not None:
                self.secondary_target_pairs = _eq_pairs(secondaryjoin, target_table, secondary)
            else:
                self.secondary_target_pairs = self._fk_pairs(secondary, target_table)
                if parent_table is target_table and primaryjoin is None:
                    raise sa_exc.AmbiguousForeignKeysError(
                        f"relationship {self} joins {parent_table.name!r} to itself through "
                        f"{secondary.name!r}; pass primaryjoin= and secondaryjoin= to say which "
                        "column of the secondary table points at the parent and which at the child"
                    )
            if not self.secondary_parent_pairs:
                raise self._no_path_error(
                    parent_table, secondary, f" (via secondary {secondary.name!r})"
                )
            if not self.secondary_target_pairs:
                raise self._no_path_error(
                    target_table, secondary, f" (via secondary {secondary.name!r})"
                )
            self.primaryjoin = (
                primaryjoin
                if primaryjoin is not None
                else and_(*[p == s for p, s in self.secondary_parent_pairs])
            )
            self.secondaryjoin = (
                secondaryjoin
                if secondaryjoin is not None
                else and_(*[t == s for t, s in self.secondary_target_pairs])
            )
            self.primary_extra = _beyond_pairs(self.primaryjoin, self.secondary_parent_pairs)
            self.secondary_extra = _beyond_pairs(self.secondaryjoin, self.secondary_target_pairs)
            return
        if primaryjoin is not None:
            self._setup_from_primaryjoin(primaryjoin)
            return
        parent_table, target_table = self._linked_tables(parent_table, target_table)
        one_to_many = self._fk_pairs(target_table, parent_table)
        many_to_one = (
            self._fk_pairs(parent_table, target_table) if parent_table is not target_table else []
        )
        if parent_table is target_table:
            if not one_to_many:
                raise self._no_path_error(parent_table, target_table)
            remote = self._remote_side
            if remote and all(any(r is ref for ref, _ in one_to_many) for r in remote):
                self.direction = MANYTOONE
                self.pairs = [(fk, ref) for ref, fk in one_to_many]
            else:
                self.direction = ONETOMANY
                self.pairs = list(one_to_many)
        elif one_to_many and many_to_one:
            raise sa_exc.AmbiguousForeignKeysError(
                f"Could not determine the join condition of relationship {self}: "
                f"{parent_table.name!r} and {target_table.name!r} have foreign keys pointing at "
                "each other; pass foreign_keys=[...] to say which columns this relationship uses"
            )
        elif one_to_many:
            self._check_single_path(one_to_many, target_table, parent_table)
            self.direction = ONETOMANY
            self.pairs = list(one_to_many)
        elif many_to_one:
            self._check_single_path(many_to_one, parent_table, target_table)
            self.direction = MANYTOONE
            self.pairs = [(fk, ref) for ref, fk in many_to_one]
        elif self._guess_one_to_many():
            raise self._no_path_error(parent_table, target_table)
        else:
            raise self._no_path_error(target_table, parent_table)
        self.primaryjoin = and_(*[p == t for p, t in self.pairs])

    def _linked_tables(self, parent_table: Any, target_table: Any) -> tuple[Any, Any]:
        """For joined-table inheritance: the tables of the two classes (each class's own table
        first, then its parents') that a foreign key links, e.g. ``company`` and ``employee``
        for a relationship to ``Engineer``."""
        parents = self.parent._persist_tables[::-1]
        targets = self.mapper._persist_tables[::-1]
        if len(parents) == 1 and len(targets) == 1:
            return parent_table, target_table
        for p in parents:
            for t in targets:
                if p is not t and (self._fk_pairs(t, p) or self._fk_pairs(p, t)):
                    return p, t
        return parent_table, target_table

    def _guess_one_to_many(self) -> bool:
        return bool(self._annotation_uselist) or self.uselist is True

    def _check_single_path(
        self, pairs: list[tuple[ColumnElement, ColumnElement]], referencing: Any, referenced: Any
    ) -> None:
        fk_cols = {id(fk) for _, fk in pairs}
        if len(fk_cols) > len({id(ref) for ref, _ in pairs}):
            names = ", ".join(sorted(f"{referencing.name}.{fk.name}" for _, fk in pairs))  # type: ignore[attr-defined]
            raise sa_exc.AmbiguousForeignKeysError(
                f"Could not determine the join condition of relationship {self}: there are "
                f"several foreign key paths from {referencing.name!r} to {referenced.name!r} "
                f"({names}); pass foreign_keys=[...] naming the column this relationship uses"
            )

    def _setup_from_primaryjoin(self, primaryjoin: ColumnElement) -> None:
        parent_table = self.parent.local_table
        target_table = self.target
        pairs: list[tuple[ColumnElement, ColumnElement]] = []
        direction = None
        for first, second in _binary_eqs(primaryjoin):
            left, right = first, second
            lt, rt = getattr(left, "table", None), getattr(right, "table", None)
            if parent_table is target_table:
                remote = self._remote_side
                if any(left is r for r in remote) or (
                    not remote and _is_foreign(left, right, self._foreign_keys)
                ):
                    left, right = right, left
                pairs.append((left, right))
                if direction is None:
                    local_is_fk = _is_foreign(left, right, self._foreign_keys)
                    direction = MANYTOONE if local_is_fk else ONETOMANY
                continue
            if lt is target_table and rt is parent_table:
                left, right = right, left
                lt, rt = rt, lt
            if lt is parent_table and rt is target_table:
                pairs.append((left, right))
                if direction is None:
                    direction = (
                        MANYTOONE if _is_foreign(left, right, self._foreign_keys) else ONETOMANY
                    )
        self.pairs = pairs
        self.primaryjoin = primaryjoin
        self.primary_extra = _beyond_pairs(primaryjoin, pairs)
        if not pairs:
            direction = self._direction_without_pairs(primaryjoin)
        self.direction = direction
        read = [
            c for extra in self.primary_extra for c in _columns_in(extra) if not self._on_target(c)
        ]
        self.extra_reads_parent = bool(read)
        local = self.local_columns
        extra_columns: list[ColumnElement] = []
        for column in read:
            if not any(column is c for c in (*local, *extra_columns)):
                extra_columns.append(column)
        self.extra_parent_columns = extra_columns

    def _direction_without_pairs(self, primaryjoin: ColumnElement) -> RelationshipDirection:
        """A viewonly relationship whose primaryjoin equates no columns
        (``foreign(Child.name).like(Parent.prefix + "%")``): its direction from the side the
        ``foreign()`` columns are on; its parent's columns in the condition are what it
        loads by."""
        columns = _columns_in(primaryjoin)
        self._parent_join_columns = [c for c in columns if not self._on_target(c)]
        if (
            not self.viewonly
            or not self._parent_join_columns
            or not any(map(self._on_target, columns))
        ):
            parent_table, target_table = self.parent.local_table, self.target
            raise sa_exc.ArgumentError(
                f"relationship {self}: the primaryjoin {primaryjoin} compares no column of "
                f"{parent_table.name!r} with a column of {target_table.name!r}; a condition "
                "without such an equality is supported for viewonly=True relationships, and "
                "needs columns of both tables"
            )
        foreign_on_target = any(self._on_target(c) for c in self._foreign_keys)
        return ONETOMANY if foreign_on_target or not self._foreign_keys else MANYTOONE

    def _on_target(self, column: ColumnElement) -> bool:
        """Whether ``column`` of the primaryjoin is on the target's side (self-referential:
        marked remote, or a target column of the pairs)."""
        if self.parent.local_table is self.target:
            return any(column is c for c in self._remote_side) or any(
                column is t for _, t in self.pairs
            )
        return getattr(column, "table", None) in self.mapper._persist_tables

    def adapted_extra(
        self,
        near: Callable[[ColumnElement], ColumnElement | None],
        far: Callable[[ColumnElement], ColumnElement | None],
    ) -> list[ColumnElement]:
        """A one-to-many's or many-to-one's ``primary_extra`` with the parent's columns
        replaced by ``near`` and the target's by ``far`` (None keeps a column)."""
        if not self.primary_extra:
            return []

        def side(column: ColumnElement) -> ColumnElement | None:
            return far(column) if self._on_target(column) else near(column)

        return [replace_columns(e, side) for e in self.primary_extra]

    @property
    def sync_pairs(self) -> list[tuple[ColumnElement, ColumnElement]]:
        """(source, destination) column pairs copied on flush (referenced -> foreign key)."""
        if self.direction == MANYTOONE:
            return [(t, p) for p, t in self.pairs]
        return list(self.pairs)

    @property
    def local_columns(self) -> list[ColumnElement]:
        if self.direction == MANYTOMANY:
            return [p for p, _ in self.secondary_parent_pairs]
        if not self.pairs:
            return list(self._parent_join_columns)
        return [p for p, _ in self.pairs]

    @property
    def remote_side(self) -> list[ColumnElement]:
        if self.direction == MANYTOMANY:
            return [s for _, s in self.secondary_parent_pairs + self.secondary_target_pairs]
        return [t for _, t in self.pairs]

    @property
    def entity(self) -> Mapper:
        return self.mapper

    @property
    def class_(self) -> type:
        return self.mapper.class_

    # --- loading ------------------------------------------------------------------------------

    def _parent_values(
        self, state: InstanceState, instance: Any, cols: Sequence[ColumnElement] | None = None
    ) -> list[Any] | None:
        """The values of ``cols`` (:attr:`local_columns` by default) in ``instance``, loaded
        if expired; None when one is not a mapped column or a new object lacks it."""
        mapper = self.parent
        d = instance.__dict__
        if cols is None:
            cols = self.local_columns
        values = []
        for col in cols:
            key = mapper._col_to_key.get(col)
            if key is None:
                return None
            if key not in d:
                if state.key is None:
                    return None
                getattr(instance, key)
            values.append(d.get(key))
        return values

    def _identity_of_target(self, values: list[Any], token: Any = None) -> Any:
        """The target's identity key when the foreign key values name its primary key
        (``token``: the ``identity_token`` the parent was loaded with)."""
        pk = self.mapper.primary_key
        refs = [t for _, t in self.pairs]
        if len(refs) != len(pk):
            return None
        ordered = []
        for col in pk:
            for (_, t), v in zip(self.pairs, values, strict=True):
                if t is col:
                    ordered.append(v)
                    break
            else:
                return None
        return self.mapper.identity_key_from_primary_key(tuple(ordered), token)

    def follow_parent_key(
        self, parent_state: InstanceState, parent: Any
    ) -> list[tuple[InstanceState, Any]]:
        """The flush changed the key this one-to-many's children refer to, and with
        ``passive_updates=True`` the database carried it into their rows (ON UPDATE
        CASCADE): the children loaded in the parent's collection take the new value as
        their unchanged one.  Children not in a loaded collection are left as they are.
        Returns the children whose primary key this changed (their identity follows)."""
        if self.direction != ONETOMANY or not self.passive_updates or self.viewonly:
            return []
        d = parent.__dict__
        value = d.get(self.key)
        if value is None or value is NO_VALUE or self.lazy in ("write_only", "dynamic"):
            return []
        from_keys = parent_state.mapper._col_to_key
        new_values = [(child_col, d.get(from_keys.get(col, ""))) for col, child_col in self.pairs]
        rekeyed = []
        for item in value._sa_items() if self.uselist else (value,):
            child = instance_state(item)
            mapper = child.mapper
            changed = False
            for child_col, new_value in new_values:
                key = mapper._col_to_key.get(child_col)
                if key is not None and key not in child.committed_state:
                    changed |= key in mapper._pk_keys and item.__dict__.get(key) != new_value
                    item.__dict__[key] = new_value
            if changed and child.key is not None:
                rekeyed.append((child, item))
        return rekeyed

    def _passive_current(self, state: InstanceState, instance: Any) -> Any:
        """The current many-to-one target if it is known without SQL, else NO_VALUE."""
        if self.direction != MANYTOONE or state.session_id is None:
            return NO_VALUE
        values = self._parent_values_no_load(instance)
        if values is None:
            return NO_VALUE
        if all(v is None for v in values):
            return None
        key = self._identity_of_target(values, state.key[2] if state.key else None)
        session = state.session
        if key is None or session is None:
            return NO_VALUE
        found = session.identity_map.get_object(key)
        return NO_VALUE if found is None else found

    def _parent_values_no_load(self, instance: Any) -> list[Any] | None:
        d = instance.__dict__
        values = []
        for col in self.local_columns:
            key = self.parent._col_to_key.get(col)
            if key is None or key not in d:
                return None
            values.append(d[key])
        return values

    def _load_pending_scalar(self, state: InstanceState, instance: Any) -> Any:
        return None

    def _lazy_load(self, state: InstanceState, instance: Any) -> Any:
        from athanor.orm.strategies import lazy_load

        return lazy_load(self, state, instance)


def relationship(argument: Any = None, secondary: Any = None, **kw: Any) -> Any:
    """A mapped link to another class: many-to-one, one-to-many, one-to-one or many-to-many.

    The target may be a class, a class name as a string (resolved when the mappers are
    configured) or a callable returning one.  Directions come from the foreign keys between
    the tables (or ``foreign_keys=`` / ``primaryjoin=``).
    """
    return RelationshipProperty(argument, secondary, **kw)


def dynamic_loader(argument: Any = None, **kw: Any) -> Any:
    """A ``lazy="dynamic"`` relationship."""
    kw["lazy"] = "dynamic"
    return RelationshipProperty(argument, **kw)


class _JoinSide(ColumnElement):
    """A column of a relationship's join condition marked as its foreign or remote side
    (what :func:`foreign` and :func:`remote` give); the relationship reads the marks and
    drops them when it is configured, so they never reach SQL."""

    __visit_name__ = "join_side"

    def __init__(self, element: Any, side: str) -> None:
        self.element = coerce_column(element)
        self.side = side
        self.type = self.element.type

    _cache_attrs = (("element", "element"), ("side", "plain"))

    @property
    def _from_objects(self) -> list[FromClause]:
        return self.element._from_objects


def foreign(expr: Any) -> Any:
    """Mark a column of a ``primaryjoin=`` as the foreign (referencing) side of the link,
    for join conditions between columns that have no foreign key (as ``foreign_keys=``)."""
    return _JoinSide(expr, "foreign")


def remote(expr: Any) -> Any:
    """Mark a column of a ``primaryjoin=`` as the remote (related object's) side of the
    link, e.g. the parent's key of a self-referential many-to-one (as ``remote_side=``)."""
    return _JoinSide(expr, "remote")


def _read_sides(expr: ClauseElement, sides: dict[str, list[ColumnElement]]) -> Any:
    """``expr`` without its :class:`_JoinSide` marks, the marked columns added to ``sides``."""
    if isinstance(expr, _JoinSide):
        inner = _read_sides(expr.element, sides)
        sides[expr.side].append(inner)
        return inner
    if isinstance(expr, _SelectBase):
        return expr
    return copy_with_children(expr, lambda child: _read_sides(child, sides))


def _settle_sync(one: RelationshipProperty, other: RelationshipProperty) -> None:
    """Each side of a link mirrors the other's changes unless it says ``sync_backref=False``
    or (left at the default) either side is viewonly."""
    viewonly = one.viewonly or other.viewonly
    for rel in (one, other):
        if rel.sync_backref_arg is None:
            rel.sync_backref = not viewonly


def _column_of(value: Any) -> Any:
    from athanor.orm.properties import ColumnProperty, MappedColumn

    if isinstance(value, MappedColumn):
        return value.column
    if isinstance(value, ColumnProperty):
        return value.columns[0]
    return value


def _is_foreign(col: ColumnElement, other: ColumnElement, declared: set[ColumnElement]) -> bool:
    if declared:
        return col in declared
    return any(getattr(fk, "column", None) is other for fk in getattr(col, "foreign_keys", ()))


def _binary_eqs(expr: ColumnElement) -> list[tuple[ColumnElement, ColumnElement]]:
    found: list[tuple[ColumnElement, ColumnElement]] = []
    if isinstance(expr, Grouping):
        return _binary_eqs(expr.element)  # type: ignore[arg-type]
    if isinstance(expr, BooleanClauseList) and expr.operator is operators.and_:
        for clause in expr.clauses:
            found.extend(_binary_eqs(clause))
    elif (
        isinstance(expr, BinaryExpression)
        and expr.operator is operators.eq
        and isinstance(expr.left, Column)
        and isinstance(expr.right, Column)
    ):
        found.append((expr.left, expr.right))
    return found


def _columns_in(expr: ClauseElement) -> list[ColumnElement]:
    """The table columns ``expr`` reads, each once, in order."""
    found: dict[int, ColumnElement] = {}

    def note(column: ColumnElement) -> None:
        found.setdefault(id(column), column)

    replace_columns(expr, note)
    return list(found.values())


def _beyond_pairs(
    expr: ColumnElement, pairs: list[tuple[ColumnElement, ColumnElement]]
) -> list[ColumnElement]:
    """The AND-ed criteria of ``expr`` other than the equalities of ``pairs``."""
    while isinstance(expr, Grouping):
        expr = expr.element  # type: ignore[assignment]
    if isinstance(expr, BooleanClauseList) and expr.operator is operators.and_:
        return [c for clause in expr.clauses for c in _beyond_pairs(clause, pairs)]
    for left, right in _binary_eqs(expr):
        if any({id(left), id(right)} == {id(a), id(b)} for a, b in pairs):
            return []
    return [expr]


def _eq_pairs(
    expr: ColumnElement, table: Any, secondary: Any
) -> list[tuple[ColumnElement, ColumnElement]]:
    pairs = []
    for first, second in _binary_eqs(expr):
        left, right = first, second
        if getattr(left, "table", None) is secondary:
            left, right = right, left
        if getattr(left, "table", None) is table and getattr(right, "table", None) is secondary:
            pairs.append((left, right))
    return pairs


def replace_columns(
    expr: ClauseElement, replace: Callable[[ColumnElement], ColumnElement | None]
) -> Any:
    """A copy of ``expr`` with columns swapped by ``replace`` (None keeps a column): table
    columns and the columns of subqueries and aliases."""
    if isinstance(expr, ColumnClause) and expr.table is not None:
        found = replace(expr)
        return expr if found is None else found
    if isinstance(expr, BinaryExpression):
        new = expr._generate()
        new.left = replace_columns(expr.left, replace)
        new.right = replace_columns(expr.right, replace)
        return new
    if isinstance(expr, BooleanClauseList):
        new_list = expr._generate()
        new_list.clauses = tuple(replace_columns(c, replace) for c in expr.clauses)
        return new_list
    if isinstance(expr, Grouping | UnaryExpression):
        new_el = expr._generate()
        new_el.element = replace_columns(expr.element, replace)
        return new_el
    column = getattr(expr, "marked_column", None)
    if column is not None:
        # A column marked with an inheriting class (``Manager.id + 1``): once replaced (by an
        # alias's column, a bound value) it is the replacement, which the mark no longer fits.
        new = replace_columns(column, replace)
        return expr if new is column else new
    return copy_with_children(expr, lambda child: replace_columns(child, replace))


def unmarked(expr: ClauseElement, found: list[Any] | None = None) -> Any:
    """``expr`` with the columns marked with an inheriting class (``Manager.id`` in
    ``Manager.id + 1``) back to plain columns, outside subqueries (statements of their own);
    ``found`` collects the marked columns met.

    A relationship's join condition relates tables, whichever class's attributes it was
    written with (``primaryjoin="Manager.id == Report.manager_id"``); the ORM compile step
    turns the marks of a statement into FROM objects and criteria this way.
    """
    column = getattr(expr, "marked_column", None)
    if column is not None:
        if found is not None:
            found.append(expr)
        return column
    if isinstance(expr, _SelectBase):
        return expr
    return copy_with_children(expr, lambda child: unmarked(child, found))


class _RelationshipComparator:
    """SQL comparisons on a relationship (``Post.author == user``, ``User.posts.any(...)``)."""

    def __init__(self, prop: RelationshipProperty) -> None:
        self.prop = prop

    def operate(self, op: Any, *other: Any) -> ColumnElement:
        prop = self.prop
        prop.parent._check_configure()
        if op in (operators.eq, operators.ne) and prop.direction == MANYTOONE:
            (value,) = other
            if value is None:
                crit = and_(*[p.is_(None) for p, _ in prop.pairs])
            else:
                crit = and_(*[p == object_value_bind(value, prop.mapper, t) for p, t in prop.pairs])
            return crit if op is operators.eq else ~crit
        if op in (operators.eq, operators.ne) and len(other) == 1 and other[0] is None:
            # A collection (or a one-to-one kept on the other side) "is None" when no
            # related row exists.
            exists = _related_exists(prop, None, {})
            return ~exists if op is operators.eq else exists
        raise sa_exc.InvalidRequestError(
            f"Comparing the relationship {prop} with {op} is not supported yet; compare its "
            "columns instead"
        )

    def any(self, criterion: Any = None, **kwargs: Any) -> ColumnElement:
        """EXISTS a related row of this collection (matching ``criterion`` and ``attr=value``)."""
        if not self.prop.uselist:
            raise sa_exc.InvalidRequestError(
                f"any() tests a collection; {self.prop} refers to one object, use has()"
            )
        return _related_exists(self.prop, criterion, kwargs)

    def has(self, criterion: Any = None, **kwargs: Any) -> ColumnElement:
        """EXISTS the related object (matching ``criterion`` and ``attr=value``)."""
        if self.prop.uselist:
            raise sa_exc.InvalidRequestError(
                f"has() tests a reference to one object; {self.prop} is a collection, use any()"
            )
        return _related_exists(self.prop, criterion, kwargs)

    def contains(self, other: Any) -> ColumnElement:
        """Whether this collection holds the object ``other``."""
        prop = self.prop
        prop.parent._check_configure()
        if not prop.uselist:
            raise sa_exc.InvalidRequestError(
                f"contains() tests a collection; {prop} refers to one object, compare it with =="
            )
        if prop.direction == MANYTOMANY:
            secondary = prop.secondary
            crit = [p == s for p, s in prop.secondary_parent_pairs]
            crit += [
                s == object_value_bind(other, prop.mapper, t)
                for t, s in prop.secondary_target_pairs
            ]
            crit += prop.primary_extra + prop.secondary_extra
            return _exists_from([secondary], crit)

        def bound(column: ColumnElement) -> ColumnElement:
            return object_value_bind(other, prop.mapper, column)

        return and_(
            *[p == bound(t) for p, t in prop.pairs], *prop.adapted_extra(lambda c: None, bound)
        )


class _ValueAtExecution:
    """Reads one attribute of an object when the statement using it executes.

    Criteria built from an object (write-only collection statements, ``with_parent()``,
    comparisons with an object) send its value as it is after the autoflush, so a pending
    object's new key is what they bind.  The object is held weakly: the compiled-statement
    cache keeps the parameters it was first compiled with and must not keep the object alive;
    once the object is gone, the last value read stands.  Reading None is warned about: a
    comparison with NULL matches no row, which for an object never flushed (autoflush off) is
    rarely what is meant.
    """

    __slots__ = ("key", "last", "ref")

    def __init__(self, obj: Any, key: str) -> None:
        self.ref = weakref.ref(obj)
        self.key = key
        self.last = obj.__dict__.get(key)

    def __call__(self) -> Any:
        obj = self.ref()
        if obj is None:
            return self.last
        value = obj.__dict__.get(self.key, NO_VALUE)
        if value is NO_VALUE:
            # Expired on a persistent object: load it; never set on a new one: NULL.
            value = getattr(obj, self.key) if instance_state(obj).key is not None else None
        if value is None:
            _warn_null_value(obj, self.key)
        self.last = value
        return value


def _warn_null_value(obj: Any, key: str) -> None:
    state = instance_state(obj)
    hint = ""
    if state.key is None:
        hint = "; the object was never flushed (autoflush is off?): flush the session first"
    warnings.warn(
        f"{state_str(state)}.{key} is None when a statement built from the object runs, so it "
        f"sends NULL (a comparison with NULL matches no row){hint}",
        sa_exc.AthanorWarning,
        stacklevel=2,
    )


def object_value_bind(obj: Any, mapper: Mapper, column: ColumnElement) -> BindParameter:
    """``obj``'s value of the attribute for ``column`` as a bound parameter, read when the
    statement executes."""
    key = mapper._col_to_key.get(column)
    if key is None:
        raise sa_exc.ArgumentError(f"{mapper.class_.__name__} has no attribute for {column}")
    return BindParameter(
        None, None, column.type, unique=True, callable_=_ValueAtExecution(obj, key)
    )


def _exists_from(froms: Sequence[Any], criteria: Sequence[ColumnElement]) -> ColumnElement:
    """``EXISTS (SELECT 1 FROM froms WHERE criteria)``, correlated to everything else."""
    from athanor.sql.elements import literal_column
    from athanor.sql.selectable import select

    stmt = select(literal_column("1")).select_from(*froms).where(*criteria)
    return stmt.correlate_except(*froms).exists()


def _related_exists(
    prop: RelationshipProperty,
    criterion: Any,
    kwargs: dict[str, Any],
    source: Any = None,
    target: Any = None,
) -> ColumnElement:
    """EXISTS a row related through ``prop`` (from the aliased ``source``, to ``target`` when
    given by ``of_type()``) matching the criteria; the related rows come from the target's
    whole selectable, so a joined-table subclass brings its parent tables along."""
    prop.parent._check_configure()
    from athanor.orm.aliased import AliasedEntity, entity_of

    mapper = prop.mapper if target is None else _mapper_or_none(target) or prop.mapper
    extra = [] if criterion is None else [coerce_column(criterion, role="criterion")]
    for key, value in kwargs.items():
        if key not in mapper._props:
            raise sa_exc.InvalidRequestError(
                f"{mapper.class_.__name__} has no attribute {key!r} (in {prop}.any()/has())"
            )
        extra.append(getattr(mapper.class_ if target is None else target, key) == value)
    entity = entity_of(target) if target is not None else mapper._entity
    adapt: Callable[[ColumnElement], ColumnElement]
    if isinstance(entity, AliasedEntity):
        adapt = entity.adapt
    elif mapper.local_table is prop.parent.local_table and source is None:
        # Self-referential: the related rows come from an alias so they are not correlated.
        alias = mapper.local_table.alias()
        adapt = alias.corresponding_column
        extra = [replace_columns(e, adapt) for e in extra]
        entity = alias
    else:

        def adapt(col: ColumnElement) -> ColumnElement:
            return col

    def near(col: ColumnElement) -> ColumnElement:
        return col if source is None else source.adapt(col)

    if prop.direction == MANYTOMANY:
        secondary = prop.secondary
        crit = [near(p) == s for p, s in prop.secondary_parent_pairs]
        crit += [adapt(t) == s for t, s in prop.secondary_target_pairs]
        crit += [replace_columns(e, near) for e in prop.primary_extra]
        crit += [replace_columns(e, adapt) for e in prop.secondary_extra]
        return _exists_from([secondary, entity], [*crit, *extra])
    crit = [near(p) == adapt(t) for p, t in prop.pairs]
    crit += prop.adapted_extra(near, adapt)
    return _exists_from([entity], [*crit, *extra])


def with_parent(instance: Any, prop: Any, from_entity: Any = None) -> ColumnElement:
    """Criteria selecting the objects related to ``instance`` through ``prop``
    (``select(Post).where(with_parent(user, User.posts))``); ``from_entity`` names an alias
    of the target to apply them to."""
    state = instance_state(instance)
    mapper = state.mapper
    if isinstance(prop, str):
        prop = mapper._props.get(prop)
    prop = getattr(prop, "prop", prop)
    if not isinstance(prop, RelationshipProperty):
        raise sa_exc.ArgumentError(
            f"with_parent() needs a relationship such as User.posts, got {prop!r}"
        )
    prop.parent._check_configure()
    adapt = getattr(getattr(from_entity, "_entity", from_entity), "adapt", None)

    def far(col: ColumnElement) -> ColumnElement:
        return col if adapt is None else adapt(col)

    if prop.direction == MANYTOMANY:
        secondary = prop.secondary
        crit = [
            s == object_value_bind(instance, prop.parent, p) for p, s in prop.secondary_parent_pairs
        ]
        crit += [far(t) == s for t, s in prop.secondary_target_pairs]
        crit += prop.primary_extra
        crit += [replace_columns(e, far) for e in prop.secondary_extra]
        return _exists_from([secondary], crit)

    def bound(column: ColumnElement) -> ColumnElement:
        return object_value_bind(instance, prop.parent, column)

    return and_(*[far(t) == bound(p) for p, t in prop.pairs], *prop.adapted_extra(bound, far))
