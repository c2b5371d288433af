"""MySQL/MariaDB full-text search: ``match(col, ..., against="words")``."""

from __future__ import annotations

from typing import Any, ClassVar

from athanor import exc
from athanor.sql import types as sqltypes
from athanor.sql.elements import CacheAttrs, ColumnElement, coerce_bind, coerce_column

_MODES = {
    "boolean": "IN BOOLEAN MODE",
    "natural": "IN NATURAL LANGUAGE MODE",
}


class match(ColumnElement[float]):  # noqa: N801 - SQLAlchemy's name
    """``MATCH (col, ...) AGAINST (against [modifiers])``: the relevance of the columns (which
    need a FULLTEXT index) to ``against``; true in a WHERE clause when above zero.

    ``in_boolean_mode()``, ``in_natural_language_mode()`` and ``with_query_expansion()``
    return copies with the search modifier added."""

    __visit_name__ = "mysql_match"

    def __init__(self, *columns: Any, against: Any) -> None:
        if not columns:
            raise exc.ArgumentError("match() needs at least one column to search")
        self.columns = tuple(coerce_column(c) for c in columns)
        self.against = coerce_bind(against, None)
        self.mode: str | None = None
        self.expansion = False
        self.type = sqltypes.Float()

    _cache_attrs: ClassVar[CacheAttrs] = (
        ("columns", "elements"),
        ("against", "element"),
        ("mode", "plain"),
        ("expansion", "plain"),
    )

    @property
    def _from_objects(self) -> list[Any]:
        return [f for c in self.columns for f in c._from_objects]

    def _with(self, mode: str | None = None, expansion: bool = False) -> match:
        new = self._generate()
        if mode is not None:
            if self.mode not in (None, mode) or (mode == "boolean" and self.expansion):
                raise exc.ArgumentError(
                    "match(): IN BOOLEAN MODE cannot be combined with another search modifier"
                )
            new.mode = mode
        if expansion:
            if self.mode == "boolean":
                raise exc.ArgumentError(
                    "match(): WITH QUERY EXPANSION cannot be combined with IN BOOLEAN MODE"
                )
            new.expansion = True
        return new

    def in_boolean_mode(self) -> match:
        """``IN BOOLEAN MODE``: ``+word -word "phrase" word*`` operators in ``against``."""
        return self._with(mode="boolean")

    def in_natural_language_mode(self) -> match:
        """``IN NATURAL LANGUAGE MODE`` (the default when no modifier is given)."""
        return self._with(mode="natural")

    def with_query_expansion(self) -> match:
        """``WITH QUERY EXPANSION``: search again with words from the best matches."""
        return self._with(expansion=True)

    def modifiers(self) -> str:
        """The search modifier text after the searched-for value."""
        parts = [_MODES[self.mode]] if self.mode else []
        if self.expansion:
            parts.append("WITH QUERY EXPANSION")
        return " ".join(parts)
