"""The base of every mapped attribute definition (columns, relationships, synonyms)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from athanor import exc as sa_exc
from athanor.sql.elements import ClauseElement, ColumnElement, ColumnOperators

if TYPE_CHECKING:
    from athanor.orm.attributes import AttributeImpl, QueryableAttribute
    from athanor.orm.mapper import Mapper


class MapperProperty:
    """One mapped attribute of a mapper: how it is stored, loaded, compared and flushed."""

    key: str
    parent: Mapper
    impl: AttributeImpl | None = None
    is_column = False
    is_relationship = False
    is_synonym = False
    is_composite = False
    doc: str | None = None

    def __init__(self, info: dict[Any, Any] | None = None) -> None:
        self._info = info

    @property
    def info(self) -> dict[Any, Any]:
        """A dict for user data about this attribute."""
        if self._info is None:
            self._info = {}
        return self._info

    @property
    def class_attribute(self) -> QueryableAttribute[Any]:
        """The class-level attribute (``User.name``)."""
        attr: QueryableAttribute[Any] = getattr(self.parent.class_, self.key)
        return attr

    def set_parent(self, mapper: Mapper, key: str) -> None:
        """Attach to ``mapper`` under ``key``."""
        self.parent = mapper
        self.key = key

    def instrument(self, class_: type) -> None:
        """Put the descriptor for this attribute on ``class_``."""

    def post_configure(self) -> None:
        """Resolve late arguments once every mapper of the registry exists."""

    def _clause_element(self, attr: QueryableAttribute[Any]) -> ClauseElement:
        raise sa_exc.InvalidRequestError(
            f"{attr} is not a SQL expression; it cannot be used where a column is expected"
        )

    def _comparator_for(self, attr: QueryableAttribute[Any]) -> Any:
        return None

    def _comparator_operate(
        self, attr: QueryableAttribute[Any], op: Any, *other: Any, **kw: Any
    ) -> ColumnElement:
        element = self._clause_element(attr)
        assert isinstance(element, ColumnElement)
        return element.operate(op, *other, **kw)

    def __repr__(self) -> str:
        parent = getattr(self, "parent", None)
        owner = parent.class_.__name__ if parent is not None else "?"
        return f"{owner}.{getattr(self, 'key', '?')}"

    def __str__(self) -> str:
        return self.__repr__()


class PropComparator(ColumnOperators):
    """How a mapped attribute builds SQL expressions at class level (``User.name == "x"``).

    Subclasses given as ``comparator_factory=`` redefine operators; ``self.prop`` is the
    mapped property and ``self.__clause_element__()`` its SQL expression.
    """

    __hash__ = object.__hash__

    def __init__(
        self, prop: MapperProperty, parentmapper: Any = None, adapt_to_entity: Any = None
    ) -> None:
        self.prop = prop
        self._parententity = parentmapper
        self._adapt_to_entity = adapt_to_entity

    @property
    def property(self) -> MapperProperty:
        """The mapped property this comparator is for."""
        return self.prop

    def __clause_element__(self) -> ClauseElement:
        return self.prop._clause_element(self.prop.class_attribute)

    def operate(self, op: Any, *other: Any, **kwargs: Any) -> ColumnElement:
        element = self.__clause_element__()
        assert isinstance(element, ColumnElement)
        return element.operate(op, *other, **kwargs)

    def reverse_operate(self, op: Any, other: Any, **kwargs: Any) -> ColumnElement:
        element = self.__clause_element__()
        assert isinstance(element, ColumnElement)
        return element.reverse_operate(op, other, **kwargs)


class UserDefinedOption:
    """An option for ``select(...).options()`` that the ORM carries without acting on it:
    its ``payload`` is for ``do_orm_execute`` listeners
    (``ORMExecuteState.user_defined_options``)."""

    propagate_to_loaders = False
    """Whether the relationship and column loads of the query's objects carry it too."""

    def __init__(self, payload: Any = None) -> None:
        self.payload = payload

    def _ck(self, ctx: Any) -> Any:
        # Loading ignores the option: statements differing only in payloads share a plan.
        return ("USER_OPTION", type(self))
