"""MySQL/MariaDB ``insert()`` with ``ON DUPLICATE KEY UPDATE`` (upserts)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from athanor import exc
from athanor.sql import dml
from athanor.sql.elements import CacheAttrs, ClauseElement, ColumnElement
from athanor.sql.selectable import ColumnCollection


class _Inserted(dml._ValuesReference):
    """The row proposed for insertion; its columns render as ``VALUES(column)``."""

    _is_values_ref: ClassVar[bool] = True


class OnDuplicateClause(ClauseElement):
    """``ON DUPLICATE KEY UPDATE col = value, ...``."""

    __visit_name__ = "on_duplicate_key_update"
    _cache_attrs: ClassVar[CacheAttrs] = (("update", dml.named_elements_key),)

    def __init__(self, table: Any, update: list[tuple[str, ColumnElement]]) -> None:
        self.update = update


class Insert(dml.Insert):
    """``INSERT`` with :meth:`on_duplicate_key_update`."""

    _is_upsert = True

    @property
    def inserted(self) -> ColumnCollection:
        """The row proposed for insertion (``VALUES(col)``), for use in the update values."""
        return dml.values_reference(self.table, "inserted", _Inserted)

    excluded = inserted

    def on_duplicate_key_update(self, *args: Any, **kwargs: Any) -> Insert:
        """Update the existing row instead when a unique key would be duplicated."""
        if args and kwargs:
            raise exc.ArgumentError("Give either a dict / list of pairs or keywords, not both")
        if len(args) > 1:
            raise exc.ArgumentError("on_duplicate_key_update() takes one dict or list of pairs")
        items: Any = args[0] if args else kwargs
        pairs = items.items() if isinstance(items, Mapping) else items
        update = [
            (
                key := dml._column_key(self.table, name),
                dml._value_element(self.table, key, value, unique=True),
            )
            for name, value in pairs
        ]
        if not update:
            raise exc.ArgumentError("on_duplicate_key_update() needs at least one column")
        new = self._generate()
        new._post_values_clause = OnDuplicateClause(self.table, update)
        return new


def insert(table: Any) -> Insert:
    """A MySQL INSERT that can take ``ON DUPLICATE KEY UPDATE``."""
    return Insert(table)


__all__ = ["Insert", "OnDuplicateClause", "insert"]
