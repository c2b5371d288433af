"""Loader options: how a query loads relationships (``.options(selectinload(User.posts))``).

An option is a path of links, each a relationship and the strategy for it; chaining
(``selectinload(User.posts).joinedload(Post.tags)``) appends links.  The loading plan of a
statement turns its options, merged with the ``relationship(lazy=...)`` defaults, into a tree
(see :mod:`athanor.orm.eager`).
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from athanor import exc as sa_exc
from athanor.orm.relationships import RelationshipProperty

STRATEGIES = frozenset(
    {"joined", "selectin", "subquery", "immediate", "select", "noload", "raise", "raise_on_sql"}
)
"""Strategy names a link may carry; ``"default"`` (``defaultload``) keeps the relationship's own."""


def _prop_of(attr: Any) -> RelationshipProperty:
    prop = getattr(attr, "prop", None)
    if not isinstance(prop, RelationshipProperty):
        raise sa_exc.ArgumentError(
            f"Loader options take relationship attributes such as User.posts; got {attr!r}"
        )
    prop.parent._check_configure()
    return prop


class Load:
    """A loader option: a path of (relationship, strategy) links, built by chaining.

    ``Load(User).selectinload(User.posts)`` and ``selectinload(User.posts)`` are the same.
    """

    def __init__(self, entity: Any = None) -> None:
        self.links: tuple[tuple[RelationshipProperty, str, tuple[tuple[str, Any], ...]], ...] = ()

    def _then(self, attr: Any, strategy: str, **kw: Any) -> Load:
        prop = _prop_of(attr)
        if self.links:
            previous = self.links[-1][0]
            if not issubclass(prop.parent.class_, previous.mapper.class_):
                raise sa_exc.ArgumentError(
                    f"Loader option path {self}: {prop} does not belong to "
                    f"{previous.mapper.class_.__name__}, the target of {previous}"
                )
        new = Load.__new__(Load)
        new.links = (*self.links, (prop, strategy, tuple(sorted(kw.items()))))
        return new

    def joinedload(self, attr: Any, *, innerjoin: bool = False) -> Load:
        """Load ``attr`` in the same SELECT with a LEFT OUTER (or inner) JOIN."""
        return self._then(attr, "joined", innerjoin=innerjoin)

    def selectinload(self, attr: Any) -> Load:
        """Load ``attr`` for all loaded parents with a second SELECT ... WHERE key IN (...)."""
        return self._then(attr, "selectin")

    def subqueryload(self, attr: Any) -> Load:
        """Load ``attr`` with a second SELECT joined to the original query as a subquery."""
        return self._then(attr, "subquery")

    def immediateload(self, attr: Any) -> Load:
        """Load ``attr`` with one SELECT per parent as the parents are loaded."""
        return self._then(attr, "immediate")

    def lazyload(self, attr: Any) -> Load:
        """Load ``attr`` when it is first accessed (one SELECT per parent)."""
        return self._then(attr, "select")

    def noload(self, attr: Any) -> Load:
        """Never load ``attr``: it reads as empty (or None)."""
        return self._then(attr, "noload")

    def raiseload(self, attr: Any, *, sql_only: bool = False) -> Load:
        """Raise when ``attr`` is accessed unloaded (``sql_only``: only when SQL is needed)."""
        return self._then(attr, "raise_on_sql" if sql_only else "raise")

    def defaultload(self, attr: Any) -> Load:
        """Keep ``attr``'s own strategy; used to reach options further along a path."""
        return self._then(attr, "default")

    def _ck(self, ctx: Any) -> Hashable:
        return ("LOAD", self.links)

    def __repr__(self) -> str:
        return ".".join(f"{strategy}load({prop})" for prop, strategy, _ in self.links)


def joinedload(attr: Any, *, innerjoin: bool = False) -> Load:
    """Load ``attr`` in the same SELECT with a LEFT OUTER (``innerjoin=True``: inner) JOIN."""
    return Load().joinedload(attr, innerjoin=innerjoin)


def selectinload(attr: Any) -> Load:
    """Load ``attr`` for all loaded parents with one more SELECT ... WHERE key IN (...)."""
    return Load().selectinload(attr)


def subqueryload(attr: Any) -> Load:
    """Load ``attr`` with one more SELECT that joins the original query as a subquery."""
    return Load().subqueryload(attr)


def immediateload(attr: Any) -> Load:
    """Load ``attr`` with one SELECT per parent right after the parents are loaded."""
    return Load().immediateload(attr)


def lazyload(attr: Any) -> Load:
    """Load ``attr`` on first access (overrides an eager ``relationship(lazy=...)``)."""
    return Load().lazyload(attr)


def noload(attr: Any) -> Load:
    """Do not load ``attr``: it reads as an empty collection or None."""
    return Load().noload(attr)


def raiseload(attr: Any, *, sql_only: bool = False) -> Load:
    """Accessing unloaded ``attr`` raises (with ``sql_only=True`` only if SQL would run)."""
    return Load().raiseload(attr, sql_only=sql_only)


def defaultload(attr: Any) -> Load:
    """Keep ``attr``'s strategy while chaining options for its target's relationships."""
    return Load().defaultload(attr)
