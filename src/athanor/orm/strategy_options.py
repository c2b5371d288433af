"""Loader options: how a query loads relationships and columns (``.options(...)``).

An option is a path of links, each a relationship and the strategy for it; chaining
(``selectinload(User.posts).joinedload(Post.tags)``) appends links.  Column directives
(``defer``, ``undefer``, ``undefer_group``, ``load_only``, ``with_expression``) apply to the
entity at the end of the path (``selectinload(User.posts).load_only(Post.title)``).  The
loading plan of a statement turns its options, merged with the ``relationship(lazy=...)``
defaults, into a tree (see :mod:`athanor.orm.eager`).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

from athanor import exc as sa_exc
from athanor.orm import exc as orm_exc
from athanor.orm.mapper import EntityClause, Mapper
from athanor.orm.properties import ColumnProperty
from athanor.orm.relationships import RelationshipProperty
from athanor.sql.elements import coerce_column, coerce_where

STRATEGIES = frozenset(
    {
        "joined",
        "selectin",
        "subquery",
        "immediate",
        "select",
        "noload",
        "raise",
        "raise_on_sql",
        "contains",
    }
)
"""Strategy names a link may carry; ``"default"`` (``defaultload``) keeps the relationship's own.
``"contains"`` (``contains_eager``) fills the relationship from columns the query selects."""

OPTION_NAMES = {
    "joined": "joinedload",
    "selectin": "selectinload",
    "subquery": "subqueryload",
    "immediate": "immediateload",
    "select": "lazyload",
    "noload": "noload",
    "raise": "raiseload",
    "raise_on_sql": "raiseload",
    "contains": "contains_eager",
}
"""The loader option function setting each strategy, for messages."""

WILDCARD = "*"
"""``lazyload("*")``: the strategy for every relationship no other option names."""


def _prop_of(attr: Any) -> RelationshipProperty:
    prop = None if isinstance(attr, str) else getattr(attr, "prop", None)
    if not isinstance(prop, RelationshipProperty):
        raise sa_exc.ArgumentError(
            f"Loader options take relationship attributes such as User.posts; got {attr!r}"
        )
    prop.parent._check_configure()
    return prop


ColumnDirective = tuple[str, tuple[ColumnProperty, ...], Any]
"""``(kind, column properties, argument)``: ``("defer", (prop,), raiseload)`` and so on."""


def _column_prop_of(attr: Any, option: str) -> tuple[ColumnProperty | RelationshipProperty, Any]:
    """The column property ``attr`` names, and the aliased entity when it is an attribute
    of an aliased class (``ua.name``), else None.  A relationship is returned as well: naming
    one is an error of the statement that runs the option (see :func:`check_options`)."""
    from athanor.orm.aliased import aliased_attribute

    prop = getattr(attr, "prop", None)
    alias = None
    found = aliased_attribute(attr) if prop is None else None
    if found is not None:
        alias, key = found
        prop = alias.mapper._props.get(key)
    if not isinstance(prop, ColumnProperty | RelationshipProperty):
        raise sa_exc.ArgumentError(
            f"{option}() takes column attributes such as User.name; got {attr!r}"
        )
    prop.parent._check_configure()
    return prop, alias


class Load:
    """A loader option: a path of (relationship, strategy) links, built by chaining.

    ``Load(User).selectinload(User.posts)`` and ``selectinload(User.posts)`` are the same.
    """

    columns: tuple[ColumnDirective, ...] = ()
    nested: tuple[Load, ...] = ()
    """Options relative to the end of this path (``selectinload(A.b).options(...)``)."""

    root: type | None = None
    """The class of ``Load(User)``: what the path starts from, and what a ``"*"`` column
    option without a path applies to (None: every entity of the query)."""

    alias: Any = None
    """The aliased entity column options without a path apply to (``Load(ua)``,
    ``load_only(ua.name)``); None: every entity of their class."""

    def __init__(self, entity: Any = None) -> None:
        self.links: tuple[tuple[Any, str, tuple[tuple[str, Any], ...]], ...] = ()
        """(relationship property or ``"*"``, strategy, keyword arguments) per step."""
        if entity is not None:
            from athanor.orm.aliased import AliasedEntity, entity_of

            clause = entity_of(entity)
            self.root = clause.mapper.class_
            if isinstance(clause, AliasedEntity):
                self.alias = clause

    def options(self, *options: Any) -> Load:
        """Options for the objects at the end of this path, each written from there:
        ``selectinload(User.posts).options(joinedload(Post.tags), defer(Post.body))``."""
        target = None
        if self.links and not isinstance(self.links[-1][0], str):
            prop, _, kw = self.links[-1]
            of_type = dict(kw).get("of_type")
            target = (prop if of_type is None else of_type).mapper.class_
        for option in options:
            if getattr(option, "subclasses", None) is not None:
                continue  # selectin_polymorphic(), for the objects this path loads
            if not isinstance(option, Load):
                raise sa_exc.ArgumentError(f"Load.options() takes loader options, got {option!r}")
            first = option.links[0][0] if option.links else None
            if (
                target is not None
                and isinstance(first, RelationshipProperty)
                and not issubclass(target, first.parent.class_)
            ):
                raise sa_exc.ArgumentError(
                    f"Loader option {self}.options({option}): {first} does not belong to "
                    f"{target.__name__}, the target of {self.links[-1][0]}"
                )
        new = self._copy()
        new.nested = (*self.nested, *options)
        return new

    def selectin_polymorphic(self, classes: Any) -> Load:
        """Load the subclass columns of ``classes`` for the objects at the end of this path
        with a SELECT ... IN per subclass (``selectin_polymorphic()`` chained)."""
        if not self.links or isinstance(self.links[-1][0], str):
            raise sa_exc.ArgumentError(
                "selectin_polymorphic() chains after a relationship loader option, e.g. "
                "selectinload(Company.employees).selectin_polymorphic([Manager])"
            )
        from athanor.orm.polymorphic import selectin_polymorphic

        prop, _, kw = self.links[-1]
        target = dict(kw).get("of_type") or prop.mapper.class_
        return self.options(selectin_polymorphic(target, classes))

    def _copy(self) -> Load:
        new = Load.__new__(Load)
        new.__dict__.update(self.__dict__)
        return new

    def _then(self, attr: Any, strategy: str, **kw: Any) -> Load:
        if isinstance(attr, str) and attr == WILDCARD:
            if strategy in ("default", "contains"):
                raise sa_exc.ArgumentError(f"'*' can't be used with {strategy} loading")
            new = self._copy()
            new.links = (*self.links, (WILDCARD, strategy, ()))
            return new
        named = getattr(attr, "prop", None)
        if isinstance(named, ColumnProperty):
            return self._column_named(named, strategy)
        prop = _prop_of(attr)
        target = getattr(attr, "target", None)
        if target is not None and strategy not in ("contains", "default"):
            from athanor.orm.aliased import entity_of

            kw["of_type"] = entity_of(target)
        if self.links and isinstance(self.links[-1][0], str):
            raise sa_exc.ArgumentError(f"Loader option {self}: nothing can follow '*'")
        if self.links:
            previous = self.links[-1][0]
            if not issubclass(prop.parent.class_, previous.mapper.class_):
                raise sa_exc.ArgumentError(
                    f"Loader option path {self}: {prop} does not belong to "
                    f"{previous.mapper.class_.__name__}, the target of {previous}"
                )
        if self.columns:
            for kind, _, arg in self.columns:
                if kind == "misused":
                    raise orm_exc.LoaderStrategyException(arg)
            raise sa_exc.ArgumentError(
                f"Loader option {self}: a relationship option can't follow column options"
            )
        criteria = getattr(attr, "criteria", ())
        if criteria:
            kw["criteria"] = criteria
        new = self._copy()
        new.links = (*self.links, (prop, strategy, tuple(sorted(kw.items()))))
        return new

    def _column_named(self, prop: ColumnProperty, strategy: str) -> Load:
        """This option after a relationship loader named column attribute ``prop``: unchanged
        for ``defaultload()``, else carrying the error a statement running it raises."""
        new = self._copy()
        if strategy != "default":
            option = OPTION_NAMES[strategy]
            new.columns = (
                *self.columns,
                (
                    "misused",
                    (),
                    f"{option}() loads relationships; {prop} is a column attribute, loaded "
                    f"with its object: leave it out, or say how it loads with "
                    f"defer({prop}) or undefer({prop})",
                ),
            )
        return new

    def _column_option(
        self,
        kind: str,
        named: Sequence[tuple[ColumnProperty | RelationshipProperty, Any]],
        arg: Any,
    ) -> Load:
        misused = [
            (
                "misused",
                (),
                f"{kind}() takes column attributes such as User.name; {prop} is a "
                f"relationship: leave it out, or load it with a relationship loader option "
                f"such as selectinload({prop})",
            )
            for prop, _ in named
            if isinstance(prop, RelationshipProperty)
        ]
        props = tuple(prop for prop, _ in named if isinstance(prop, ColumnProperty))
        alias = self.alias
        if not self.links:
            for _, owner in named:
                if owner is not None and alias is not None and owner is not alias:
                    raise sa_exc.ArgumentError(
                        f"Loader option {self}: {kind}() names attributes of two different "
                        "aliases; give each alias an option of its own"
                    )
                alias = owner if owner is not None else alias
        if self.links:
            target = self.links[-1][0].mapper.class_
            for prop in props:
                if not issubclass(target, prop.parent.class_):
                    raise sa_exc.ArgumentError(
                        f"Loader option {self}: {prop} does not belong to {target.__name__}, "
                        f"the target of {self.links[-1][0]}"
                    )
        new = self._copy()
        new.columns = (*self.columns, *misused, (kind, props, arg))
        new.alias = alias
        return new

    def _wildcard_owner(self) -> type | None:
        """The class a ``"*"`` column option applies to: the end of the path, or the root."""
        return None if self.links else self.root

    def defer(self, attr: Any, *, raiseload: bool = False) -> Load:
        """Leave column ``attr`` out of the SELECT; it loads on access (or raises).

        ``defer("*")`` defers every column but the primary key; columns other options name
        (``undefer``, ``load_only``) still load, whatever the order of the options."""
        if isinstance(attr, str) and attr == WILDCARD:
            return self._column_option("defer_all", (), (raiseload, self._wildcard_owner()))
        return self._column_option("defer", [_column_prop_of(attr, "defer")], raiseload)

    def undefer(self, attr: Any) -> Load:
        """Load a deferred column ``attr`` (``"*"``: every column) with the object."""
        if isinstance(attr, str) and attr == WILDCARD:
            return self._column_option("undefer_all", (), (False, self._wildcard_owner()))
        return self._column_option("undefer", [_column_prop_of(attr, "undefer")], None)

    def undefer_group(self, name: str) -> Load:
        """Load the deferred columns of group ``name`` with the object."""
        return self._column_option("undefer_group", (), name)

    def load_only(self, *attrs: Any, raiseload: bool = False) -> Load:
        """Load only these columns (and the primary key); the others defer (or raise)."""
        named = [_column_prop_of(a, "load_only") for a in attrs]
        return self._column_option("load_only", named, raiseload)

    def with_expression(self, attr: Any, expression: Any) -> Load:
        """Fill the ``query_expression()`` attribute ``attr`` with ``expression`` in this query."""
        prop, alias = _column_prop_of(attr, "with_expression")
        if not isinstance(prop, ColumnProperty) or not prop.is_query_expression:
            raise sa_exc.ArgumentError(
                f"with_expression() needs an attribute mapped with query_expression(); {prop} "
                "is not one"
            )
        return self._column_option("expression", [(prop, alias)], coerce_column(expression))

    def joinedload(self, attr: Any, *, innerjoin: bool = False) -> Load:
        """Load ``attr`` in the same SELECT with a LEFT OUTER (or inner) JOIN."""
        return self._then(attr, "joined", innerjoin=innerjoin)

    def selectinload(self, attr: Any, *, recursion_depth: int | None = None) -> Load:
        """Load ``attr`` for all loaded parents with a second SELECT ... WHERE key IN (...).

        ``recursion_depth`` (self-referential relationships): load that many more levels
        below the first, each with one more SELECT (-1: until a level finds nothing)."""
        if recursion_depth is None:
            return self._then(attr, "selectin")
        return self._then(attr, "selectin", recursion_depth=recursion_depth)

    def subqueryload(self, attr: Any) -> Load:
        """Load ``attr`` with a second SELECT joined to the original query as a subquery."""
        return self._then(attr, "subquery")

    def immediateload(self, attr: Any, *, recursion_depth: int | None = None) -> Load:
        """Load ``attr`` with one SELECT per parent as the parents are loaded
        (``recursion_depth`` as for :meth:`selectinload`)."""
        if recursion_depth is None:
            return self._then(attr, "immediate")
        return self._then(attr, "immediate", recursion_depth=recursion_depth)

    def lazyload(self, attr: Any) -> Load:
        """Load ``attr`` when it is first accessed (one SELECT per parent)."""
        return self._then(attr, "select")

    def noload(self, attr: Any) -> Load:
        """Never load ``attr``: it reads as empty (or None)."""
        return self._then(attr, "noload")

    def raiseload(self, attr: Any, *, sql_only: bool = False) -> Load:
        """Raise when ``attr`` is accessed unloaded (``sql_only``: only when SQL is needed)."""
        return self._then(attr, "raise_on_sql" if sql_only else "raise")

    def contains_eager(self, attr: Any, alias: Any = None) -> Load:
        """Fill ``attr`` from the columns of its target that the query already joins and selects.

        The target is the related class, ``alias`` or the ``of_type()`` entity of ``attr``.
        """
        from athanor.orm.aliased import entity_of

        target = alias if alias is not None else getattr(attr, "target", None)
        return self._then(attr, "contains", alias=None if target is None else entity_of(target))

    def defaultload(self, attr: Any) -> Load:
        """Keep ``attr``'s own strategy; used to reach options further along a path."""
        return self._then(attr, "default")

    def _ck(self, ctx: Any) -> Hashable:
        nested = tuple(o._ck(ctx) for o in self.nested)
        if not self.columns:
            return ("LOAD", self.links, nested) if nested else ("LOAD", self.links)
        directives = tuple(
            (kind, props, arg._ck(ctx) if kind == "expression" else arg)
            for kind, props, arg in self.columns
        )
        if self.alias is not None:
            return ("LOAD", self.links, directives, nested, self.alias)
        return ("LOAD", self.links, directives, nested)

    def __repr__(self) -> str:
        parts = [f"{strategy}load({prop})" for prop, strategy, _ in self.links]
        parts += [
            f"{kind}({', '.join(map(str, props))})"
            for kind, props, _ in self.columns
            if kind != "misused"
        ]
        if self.nested:
            parts.append(f"options({', '.join(map(repr, self.nested))})")
        return ".".join(parts) or f"Load({'' if self.root is None else self.root.__name__})"


def check_options(options: Sequence[Any]) -> None:
    """Raise for a loader option of ``options`` that names an attribute its strategy cannot
    load: the statement carrying it cannot run."""
    for option in options:
        if isinstance(option, Load):
            for kind, _, arg in option.columns:
                if kind == "misused":
                    raise orm_exc.LoaderStrategyException(arg)
            check_options(option.nested)


def expand_options(options: Sequence[Any]) -> list[Any]:
    """``options`` with ``Load(...).options(...)`` groups that have no path of their own
    replaced by what they hold."""
    found: list[Any] = []
    for option in options:
        if isinstance(option, Load) and option.nested and not option.links:
            found.extend(expand_options(option.nested))
            if option.columns:
                plain = Load.__new__(Load)
                plain.links, plain.columns, plain.alias = (), option.columns, option.alias
                found.append(plain)
        else:
            found.append(option)
    return found


def joinedload(attr: Any, *, innerjoin: bool = False) -> Load:
    """Load ``attr`` in the same SELECT with a LEFT OUTER (``innerjoin=True``: inner) JOIN."""
    return Load().joinedload(attr, innerjoin=innerjoin)


def selectinload(attr: Any, *, recursion_depth: int | None = None) -> Load:
    """Load ``attr`` for all loaded parents with one more SELECT ... WHERE key IN (...)."""
    return Load().selectinload(attr, recursion_depth=recursion_depth)


def subqueryload(attr: Any) -> Load:
    """Load ``attr`` with one more SELECT that joins the original query as a subquery."""
    return Load().subqueryload(attr)


def immediateload(attr: Any, *, recursion_depth: int | None = None) -> Load:
    """Load ``attr`` with one SELECT per parent right after the parents are loaded."""
    return Load().immediateload(attr, recursion_depth=recursion_depth)


def lazyload(attr: Any) -> Load:
    """Load ``attr`` on first access (overrides an eager ``relationship(lazy=...)``)."""
    return Load().lazyload(attr)


def noload(attr: Any) -> Load:
    """Do not load ``attr``: it reads as an empty collection or None."""
    return Load().noload(attr)


def raiseload(attr: Any, *, sql_only: bool = False) -> Load:
    """Accessing unloaded ``attr`` raises (with ``sql_only=True`` only if SQL would run)."""
    return Load().raiseload(attr, sql_only=sql_only)


def contains_eager(attr: Any, alias: Any = None) -> Load:
    """Fill ``attr`` from the related columns the query joins and selects itself."""
    return Load().contains_eager(attr, alias)


def defaultload(attr: Any) -> Load:
    """Keep ``attr``'s strategy while chaining options for its target's relationships."""
    return Load().defaultload(attr)


def defer(attr: Any, *, raiseload: bool = False) -> Load:
    """Leave column ``attr`` out of the SELECT; it loads on access (``raiseload``: raises)."""
    return Load().defer(attr, raiseload=raiseload)


def undefer(attr: Any) -> Load:
    """Load the deferred column ``attr`` with the object."""
    return Load().undefer(attr)


def undefer_group(name: str) -> Load:
    """Load the deferred columns of group ``name`` with the object."""
    return Load().undefer_group(name)


def load_only(*attrs: Any, raiseload: bool = False) -> Load:
    """Load only the given columns (plus the primary key); the others load on access."""
    return Load().load_only(*attrs, raiseload=raiseload)


def with_expression(attr: Any, expression: Any) -> Load:
    """Fill the ``query_expression()`` attribute ``attr`` with a SQL expression in this query."""
    return Load().with_expression(attr, expression)


class OfType:
    """Among the options of a relationship load: the entity to load the related objects as
    (``selectinload(Company.employees.of_type(with_polymorphic(Employee, "*")))``)."""

    links = ()
    columns = ()

    def __init__(self, entity: Any) -> None:
        self.entity = entity

    def _ck(self, ctx: Any) -> Hashable:
        return ("OF_TYPE", self.entity._ck(ctx))


class LoaderCriteria:
    """``with_loader_criteria(Entity, criteria)``: WHERE criteria added wherever the query (and,
    by default, the relationship loads it starts) selects objects of ``Entity``."""

    def __init__(
        self,
        entity: Any,
        criteria: Any,
        *,
        loader_only: bool = False,
        include_aliases: bool = False,
        propagate_to_loaders: bool = True,
    ) -> None:
        self.entity = entity.class_ if isinstance(entity, Mapper) else entity
        if not isinstance(self.entity, type):
            raise sa_exc.ArgumentError(
                f"with_loader_criteria() takes a mapped class (or a base class / mixin of "
                f"mapped classes), got {entity!r}"
            )
        self.criteria = criteria
        self.loader_only = loader_only
        self.include_aliases = include_aliases
        self.propagate_to_loaders = propagate_to_loaders
        self._made: dict[type, Any] = {}

    _compile_plugin = EntityClause._compile_plugin
    """Selects of plain columns carrying this option compile through the ORM too."""

    def applies_to(self, cls: type) -> bool:
        """Whether objects of mapped class ``cls`` get these criteria."""
        return issubclass(cls, self.entity)

    def criteria_for(self, cls: type) -> Any:
        """The criteria for mapped class ``cls`` (a callable gets ``cls`` once and is kept)."""
        made = self._made.get(cls)
        if made is None:
            value = self.criteria(cls) if callable(self.criteria) else self.criteria
            made = self._made[cls] = coerce_where(value)
        return made

    def _ck(self, ctx: Any) -> Hashable:
        flags = (self.loader_only, self.include_aliases, self.propagate_to_loaders)
        mapped = getattr(self.entity, "__mapper__", None) is not None
        if mapped or not callable(self.criteria):
            return ("CRITERIA", self.entity, flags, self.criteria_for(self.entity)._ck(ctx))
        code = self.criteria.__code__
        cells = tuple(repr(c.cell_contents) for c in self.criteria.__closure__ or ())
        return ("CRITERIA", self.entity, flags, code, cells)

    def __repr__(self) -> str:
        return f"with_loader_criteria({self.entity.__name__})"


def with_loader_criteria(
    entity: Any,
    where_criteria: Any,
    loader_only: bool = False,
    include_aliases: bool = False,
    propagate_to_loaders: bool = True,
    track_closure_variables: bool = True,
) -> LoaderCriteria:
    """Add ``where_criteria`` (or ``lambda cls: ...``) to every load of ``entity`` objects."""
    return LoaderCriteria(
        entity,
        where_criteria,
        loader_only=loader_only,
        include_aliases=include_aliases,
        propagate_to_loaders=propagate_to_loaders,
    )


def filters_target(prop: RelationshipProperty, options: Sequence[Any]) -> bool:
    """Whether loader criteria among ``options`` filter the objects ``prop`` loads, so an
    object already in the identity map is not its value without asking the database."""
    target = prop.mapper.class_
    return any(isinstance(o, LoaderCriteria) and o.applies_to(target) for o in options)
