"""Row and RowMapping: tuple behaviour, access by key, key objects, ambiguity, pickling."""

from __future__ import annotations

import pickle
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from athanor import exc
from athanor.engine.row import RMKeyView, Row, RowMapping, row_class

values = st.one_of(
    st.none(), st.integers(), st.text(max_size=5), st.floats(allow_nan=False), st.booleans()
)
key_names = st.one_of(
    st.text(min_size=1, max_size=8),
    st.sampled_from(
        [
            "id",
            "count",
            "index",
            "keys",
            "_mapping",
            "_fields",
            "__init__",
            "__getattr__",
            "__classcell__",
            "__qualname__",
            "__slots__",
            "count(*)",
        ]
    ),
)


@st.composite
def rows_and_values(draw: st.DrawFn) -> tuple[type[Row], tuple[Any, ...]]:
    data = tuple(draw(st.lists(values, max_size=8)))
    keys = draw(st.lists(key_names, min_size=len(data), max_size=len(data)))
    return row_class(keys), data


@given(rows_and_values(), st.integers(-10, 10), st.integers(-10, 10), st.integers(-3, 3))
def test_row_behaves_like_the_tuple_it_wraps(
    shape: tuple[type[Row], tuple[Any, ...]], start: int, stop: int, step: int
) -> None:
    cls, data = shape
    row = cls(data)
    assert isinstance(row, tuple)
    assert isinstance(row, Row)
    assert row == data
    assert data == row
    assert (row != data) is False
    assert hash(row) == hash(data)
    assert len(row) == len(data)
    assert list(row) == list(data)
    assert tuple(row) == data
    assert row[:] == data[:]
    if step:
        assert row[start:stop:step] == data[start:stop:step]
    for index in range(-len(data), len(data)):
        assert row[index] == data[index]
    assert row + ("extra",) == (*data, "extra")  # noqa: RUF005 - tuple concatenation
    assert repr(row) == repr(data)
    assert row._tuple() == data
    assert row._t == data
    assert type(row._tuple()) is tuple
    assert {row: 1}[data] == 1
    assert sorted([row, data]) == [data, data]


@given(rows_and_values())
def test_every_unique_key_reads_its_column(shape: tuple[type[Row], tuple[Any, ...]]) -> None:
    cls, data = shape
    row = cls(data)
    keys = row._fields
    assert len(keys) == len(data)
    for index, key in enumerate(keys):
        if keys.count(key) == 1:
            assert row._mapping[key] == data[index]
            if not (key.startswith("__") or (key.startswith("_") and hasattr(Row, key))):
                assert getattr(row, key) == data[index]
        else:
            with pytest.raises(exc.InvalidRequestError, match="Ambiguous"):
                row._mapping[key]
    assert list(row._mapping) == list(keys)
    assert len(row._mapping) == len(data)
    assert list(row._mapping.values()) == list(data)


@given(rows_and_values())
def test_rows_survive_pickling(shape: tuple[type[Row], tuple[Any, ...]]) -> None:
    cls, data = shape
    copy = pickle.loads(pickle.dumps(cls(data)))
    assert copy == data
    assert copy._fields == cls._fields


def test_attribute_access_mapping_and_helpers() -> None:
    row = row_class(["id", "name"])((1, "ada"))
    assert row.id == 1
    assert row.name == "ada"
    assert row._fields == ("id", "name")
    assert row._asdict() == {"id": 1, "name": "ada"}
    assert row._mapping["name"] == "ada"
    assert dict(row._mapping) == {"id": 1, "name": "ada"}
    assert row._mapping == {"id": 1, "name": "ada"}
    assert row._mapping != {"id": 2, "name": "ada"}
    assert repr(row._mapping) == "{'id': 1, 'name': 'ada'}"
    assert "id" in row._mapping
    assert "nope" not in row._mapping
    assert row._mapping.get("nope", 7) == 7
    assert list(row._mapping.items()) == [("id", 1), ("name", "ada")]
    assert row._mapping.keys() == ["id", "name"]
    idnum, name = row
    assert (idnum, name) == (1, "ada")
    with pytest.raises(AttributeError):
        _ = row.nope  # type: ignore[attr-defined]
    with pytest.raises(exc.NoSuchColumnError, match="nope") as caught:
        row._mapping["nope"]
    assert isinstance(caught.value, KeyError)
    with pytest.raises(exc.NoSuchColumnError):
        row._mapping[0]
    with pytest.raises(TypeError):
        row["id"]  # type: ignore[call-overload]


def test_rows_are_compact_and_immutable() -> None:
    row = row_class(["a"])((1,))
    assert not hasattr(row, "__dict__")
    with pytest.raises(AttributeError):
        row.a = 2  # type: ignore[misc]
    with pytest.raises(TypeError):
        row._mapping["a"] = 2  # type: ignore[index]


def test_column_keys_shadow_tuple_methods_but_not_the_row_api() -> None:
    row = row_class(["count", "index", "_mapping", "_fields", "_other"])((1, 2, 3, 4, 5))
    assert row.count == 1
    assert row.index == 2
    assert isinstance(row._mapping, RowMapping)
    assert row._mapping["_mapping"] == 3
    assert row._fields == ("count", "index", "_mapping", "_fields", "_other")
    assert row._mapping["_fields"] == 4
    assert row._other == 5


def test_ambiguous_key_raises_naming_it_while_positions_work() -> None:
    row = row_class(["a", "b", "a"])((1, 2, 3))
    with pytest.raises(exc.InvalidRequestError, match="'a'"):
        _ = row.a
    with pytest.raises(exc.InvalidRequestError, match="'a'"):
        row._mapping["a"]
    assert row.b == 2
    assert (row[0], row[2]) == (1, 3)
    assert "a" in row._mapping
    assert row._fields == ("a", "b", "a")


class Column:
    """A stand-in for a schema column: any hashable object can be a key object."""

    def __init__(self, name: str) -> None:
        self.name = name


def test_key_objects_index_the_mapping_and_make_their_own_class() -> None:
    id_col, name_col = Column("id"), Column("name")
    cls = row_class(["id", "name"], [(id_col,), (name_col,)])
    row = cls((5, "x"))
    assert row._mapping[id_col] == 5
    assert row._mapping[name_col] == "x"
    assert id_col in row._mapping
    assert Column("id") not in row._mapping
    assert row_class(["id", "name"], [(id_col,), (name_col,)]) is cls
    assert row_class(["id", "name"]) is not cls
    assert row_class(["id", "name"]) is row_class(("id", "name"))


def test_a_key_object_shared_by_two_columns_is_ambiguous() -> None:
    shared = Column("x")
    row = row_class(["a", "b"], [(shared,), (shared,)])((1, 2))
    with pytest.raises(exc.InvalidRequestError, match="Ambiguous"):
        row._mapping[shared]
    assert (row.a, row.b) == (1, 2)


def test_key_view() -> None:
    marker = Column("m")
    view = RMKeyView(["a", "b"], {"a": 0, "b": 1, marker: 0})
    assert list(view) == ["a", "b"]
    assert view == ["a", "b"]
    assert view == ("a", "b")
    assert view != ["b", "a"]
    assert view == {"a", "b"}
    assert "a" in view
    assert marker in view
    assert "c" not in view
    assert len(view) == 2
    assert view & {"a"} == {"a"}
    assert repr(view) == "RMKeyView(['a', 'b'])"


def test_plain_row_base_has_no_keys() -> None:
    row = Row((1, 2))
    assert row == (1, 2)
    assert row._fields == ()
    assert len(row._mapping) == 2


class SQLExpression:
    """Like a SQL column: ``==`` builds an expression whose truth value raises."""

    def __eq__(self, other: object) -> Any:
        return Undecidable()

    __hash__ = object.__hash__


class Undecidable:
    def __bool__(self) -> bool:
        raise TypeError("Boolean value of this clause is not defined")


def test_key_objects_are_never_compared_with_eq() -> None:
    columns = [SQLExpression() for _ in range(6)]
    first = row_class(["a", "b", "c"], [(columns[0],), (columns[1],), (columns[2],)])
    second = row_class(["a", "b", "c"], [(columns[3],), (columns[4],), (columns[5],)])
    assert first is not second
    assert row_class(["a", "b", "c"], [(columns[0],), (columns[1],), (columns[2],)]) is first
    row = second((1, 2, 3))
    assert row._mapping[columns[4]] == 2
    assert columns[0] not in row._mapping
    with pytest.raises(exc.NoSuchColumnError):
        row._mapping[columns[0]]


def test_row_class_cache_is_bounded() -> None:
    from athanor.engine import row as row_module

    for number in range(row_module._ROW_CLASS_CACHE_SIZE + 50):
        row_class([f"cache_test_{number}"])
    assert len(row_module._row_classes) <= row_module._ROW_CLASS_CACHE_SIZE
    assert row_class(["cache_test_x"])(("v",)).cache_test_x == "v"  # type: ignore[attr-defined]
