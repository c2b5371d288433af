"""Rows of a result: :class:`Row`, a tuple with attribute access, and :class:`RowMapping`.

A row is a real ``tuple`` subclass, so indexing, slicing, unpacking, equality and hashing are
the C implementations of ``tuple``.  Attribute access (``row.name``) goes through descriptors
that are defined once per result *shape* on a subclass shared by every row of that shape:
:func:`row_class` builds (and caches) that subclass, so rows carry no per-row key data.
"""

from __future__ import annotations

import importlib
from collections.abc import (
    Callable,
    Hashable,
    ItemsView,
    Iterator,
    KeysView,
    Mapping,
    Sequence,
    ValuesView,
)
from operator import itemgetter
from typing import TYPE_CHECKING, Any, ClassVar, Generic, NoReturn, cast

from athanor import exc
from athanor.util.typevars import TP


def _find_item_descriptor() -> Callable[[int, str | None], Any]:
    """The C descriptor ``namedtuple`` uses to read a tuple item without a Python-level call."""
    try:
        found: Callable[[int, str | None], Any] = importlib.import_module(
            "_collections"
        )._tuplegetter
    except (ImportError, AttributeError):  # pragma: no cover - other Python implementations
        return lambda index, doc: property(itemgetter(index), doc=doc)
    return found


_item_descriptor = _find_item_descriptor()

AMBIGUOUS = None
"""Key map value of a key that names more than one column of a result (indexing a row with
it fails, so the common path of a lookup needs no check)."""

_ROW_CLASS_CACHE_SIZE = 1000


def ambiguous_column_error(key: object) -> exc.AmbiguousColumnError:
    """The error raised when ``key`` names more than one column of a result."""
    return exc.AmbiguousColumnError(
        f"Ambiguous column name {key!r}: more than one column of this result has that key; "
        "use the column's position, or label the columns so that their keys differ"
    )


def no_such_column_error(key: object) -> exc.NoSuchColumnError:
    """The error raised when a row has no column for ``key``."""
    return exc.NoSuchColumnError(f"No column named {key!r} in this row")


class Row(tuple[Any, ...], Generic[TP]):
    """One result row: a named tuple whose names are the result's column keys.

    ``row.name`` and ``row._mapping["name"]`` (or ``row._mapping[column]``) read by key;
    everything else (``row[0]``, ``row[1:]``, ``a, b = row``, ``row == (1, "x")``, ``hash``)
    is plain ``tuple`` behaviour.  For type checkers ``Row[tuple[int, str]]`` is a row of an
    int and a str column; ``row._t`` / ``row._tuple()`` give that tuple type.
    """

    __slots__ = ()

    _fields: ClassVar[tuple[str, ...]] = ()
    """The column keys of this row, in column order (duplicates kept)."""
    _keymap: ClassVar[Mapping[object, int | None]] = {}
    """Key string or key object -> column position (:data:`AMBIGUOUS` when not unique)."""

    @property
    def _mapping(self) -> RowMapping:
        """A read-only mapping view of this row keyed by column key and column object."""
        return RowMapping(self)

    @property
    def _t(self) -> TP:
        """This row as a plain tuple."""
        return cast(TP, tuple(self))

    def _tuple(self) -> TP:
        """This row as a plain tuple."""
        return cast(TP, tuple(self))

    def _asdict(self) -> dict[str, Any]:
        """A new dict of column key -> value (a repeated key keeps its last column)."""
        return dict(zip(self._fields, self, strict=False))

    if TYPE_CHECKING:
        # Column keys become attributes of each result shape's Row class at run time.
        def __getattr__(self, name: str) -> Any: ...

    def __reduce__(self) -> tuple[Any, ...]:
        # Row classes are made at run time, so pickle by keys; key objects are not kept.
        return (_unpickle_row, (self._fields, tuple(self)))


def _unpickle_row(fields: tuple[str, ...], values: tuple[Any, ...]) -> Row:
    return row_class(fields)(values)


def _ambiguous_property(key: str) -> property:
    def get(row: Row) -> NoReturn:
        raise ambiguous_column_error(key)

    return property(get)


def _stand_in(key: object) -> Hashable | None:
    """The structural stand-in of a key object (see :class:`KeyMap`), or None."""
    method = getattr(key, "_result_stand_in", None)
    if method is None:
        return None
    found: Hashable | None = method()
    return found


class KeyMap(dict[object, int | None]):
    """Key string or key object -> column position, resolving equally shaped columns too.

    A compiled statement (and its row class) is shared by every statement of the same shape,
    so the column objects of a new ``alias()`` or subquery are not the ones the map was built
    from.  Such objects have a structural stand-in (equal for the same column of equally
    shaped statements) that the map also holds; an exact lookup stays a plain dict access.
    """

    __slots__ = ()

    def __missing__(self, key: object) -> int | None:
        stand_in = _stand_in(key)
        if stand_in is None:
            raise KeyError(key)
        return dict.__getitem__(self, stand_in)

    def __contains__(self, key: object) -> bool:
        if dict.__contains__(self, key):
            return True
        stand_in = _stand_in(key)
        return stand_in is not None and dict.__contains__(self, stand_in)


def build_keymap(
    keys: Sequence[str],
    key_objects: Sequence[Sequence[object]] | None = None,
    by_shape: bool = True,
) -> KeyMap:
    """Map each key and key object (and, ``by_shape``, its stand-in) to its column position;
    keys used twice map to AMBIGUOUS."""
    keymap = KeyMap()
    for index, key in enumerate(keys):
        names: list[object] = [key]
        if key_objects is not None and index < len(key_objects):
            for obj in key_objects[index]:
                names.append(obj)
                stand_in = _stand_in(obj) if by_shape else None
                if stand_in is not None:
                    names.append(stand_in)
        for name in dict.fromkeys(names):
            seen = dict.get(keymap, name, index)
            keymap[name] = index if seen == index else AMBIGUOUS
    return keymap


_row_classes: dict[tuple[object, ...], type[Row]] = {}


def row_class(
    keys: Sequence[str],
    key_objects: Sequence[Sequence[object]] | None = None,
    by_shape: bool = True,
) -> type[Row]:
    """The :class:`Row` subclass for results with these keys (and key objects).

    Classes are cached per shape, so results of the same statement share one class and its
    key map.  A key that names two columns gets a property that raises
    :class:`~athanor.exc.InvalidRequestError`.  Keys that would hide the ``_``-prefixed Row API
    (``_mapping``, ``_fields``, ...) and dunder names get no attribute; ``_mapping`` and
    positions still reach them.  ``by_shape`` also maps each key object's structural stand-in
    (see :class:`KeyMap`).
    """
    fields = tuple(keys)
    objects = tuple(tuple(objs) for objs in key_objects) if key_objects else ()
    cache_key = (fields, objects, by_shape)
    cls = _row_classes.get(cache_key)
    if cls is not None:
        return cls
    keymap = build_keymap(fields, objects, by_shape)
    namespace: dict[str, Any] = {
        "__slots__": (),
        "__module__": __name__,
        "__doc__": Row.__doc__,
        "_fields": fields,
        "_keymap": keymap,
    }
    for key in fields:
        if key.startswith("__") or (key.startswith("_") and hasattr(Row, key)):
            continue
        index = keymap[key]
        namespace[key] = (
            _ambiguous_property(key) if index is AMBIGUOUS else _item_descriptor(index, None)
        )
    cls = type("Row", (Row,), namespace)
    if len(_row_classes) >= _ROW_CLASS_CACHE_SIZE:
        _row_classes.clear()  # rare (many distinct shapes); atomic, unlike evicting one by one
    _row_classes[cache_key] = cls
    return cls


class RowMapping(Mapping[Any, Any]):
    """A read-only mapping view of a :class:`Row`: ``mapping["name"]``, ``mapping[column]``.

    Iterating gives the column keys, as for a dict; ``len`` is the number of columns.
    """

    __slots__ = ("_row",)

    def __init__(self, row: Row) -> None:
        self._row = row

    def __getitem__(self, key: object) -> Any:
        row = self._row
        try:
            return row[row._keymap[key]]  # type: ignore[index]
        except (KeyError, TypeError):
            if key in row._keymap:
                raise ambiguous_column_error(key) from None
            raise no_such_column_error(key) from None

    def __contains__(self, key: object) -> bool:
        return key in self._row._keymap

    def __iter__(self) -> Iterator[str]:
        return iter(self._row._fields)

    def __len__(self) -> int:
        return len(self._row)

    def keys(self) -> RMKeyView:
        """The column keys, as a set-like view."""
        return RMKeyView(self._row._fields, self._row._keymap)

    def values(self) -> ValuesView[Any]:
        """The row's values, in column order."""
        return _RowValuesView(self)

    def items(self) -> ItemsView[Any, Any]:
        """(key, value) pairs in column order."""
        return _RowItemsView(self)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Mapping):
            return NotImplemented
        return dict(self.items()) == dict(other.items())

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return repr(dict(self.items()))


class _RowValuesView(ValuesView[Any]):
    _mapping: RowMapping

    def __iter__(self) -> Iterator[Any]:
        return iter(self._mapping._row)


class _RowItemsView(ItemsView[Any, Any]):
    _mapping: RowMapping

    def __iter__(self) -> Iterator[tuple[Any, Any]]:
        row = self._mapping._row
        return zip(row._fields, row, strict=False)


class RMKeyView(KeysView[str]):
    """The keys of a result or row: iterable in column order, ``in`` also accepts key objects.

    Compares equal to a list (or other sequence) of the same keys in the same order, and to a
    set of the same keys.
    """

    __slots__ = ("_keymap", "_keys")

    def __init__(self, keys: Sequence[str], keymap: Mapping[object, int | None]) -> None:
        self._keys = list(keys)
        self._keymap = keymap

    def __len__(self) -> int:
        return len(self._keys)

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __contains__(self, key: object) -> bool:
        return key in self._keymap

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence) and not isinstance(other, str):
            return self._keys == list(other)
        return super().__eq__(other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"RMKeyView({self._keys!r})"
