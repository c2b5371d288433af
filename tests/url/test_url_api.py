"""URL objects: create, immutable updates, rendering and masking, connect arguments."""

from __future__ import annotations

import copy
import pickle

import pytest

from athanor.exc import ArgumentError, NoSuchModuleError
from athanor.url import URL, make_url, mask_password_in_text

PG = "postgresql+psycopg://app:s3cr%40t@db.example:5432/appdb?sslmode=require&opt=a&opt=b"


def test_create_sets_every_part() -> None:
    url = URL.create(
        "postgresql+psycopg",
        username="app",
        password="s3cr@t",
        host="db.example",
        port=5432,
        database="appdb",
        query={"sslmode": "require", "opt": ["a", "b"]},
    )
    assert url == make_url(PG)
    assert url.query == {"sslmode": "require", "opt": ("a", "b")}
    assert url.render_as_string(hide_password=False) == PG


def test_create_accepts_positional_arguments_and_digit_string_port() -> None:
    url = URL.create("mysql", "u", "p", "h", "3306", "d")
    assert (url.username, url.password, url.host, url.port, url.database) == (
        "u",
        "p",
        "h",
        3306,
        "d",
    )


def test_create_normalizes_empty_user_and_host_and_bracketed_ipv6() -> None:
    url = URL.create("postgresql", username="", host="")
    assert url.username is None
    assert url.host is None
    assert URL.create("postgresql", host="[::1]").host == "::1"


def test_query_canonical_form() -> None:
    url = URL.create("sqlite", query={"one": ["x"], "none": [], "two": ("a", "b")})
    assert dict(url.query) == {"one": "x", "two": ("a", "b")}
    assert url.normalized_query == {"one": ("x",), "two": ("a", "b")}


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"drivername": 5}, TypeError, "drivername must be a string"),
        ({"drivername": ""}, ArgumentError, "no dialect name"),
        ({"drivername": "pg-sql"}, ArgumentError, "invalid dialect name 'pg-sql'"),
        ({"username": 5}, TypeError, "username must be a string or None, got int"),
        ({"password": b"x"}, TypeError, "password must be a string or None, got bytes"),
        ({"host": 1.0}, TypeError, "host must be a string or None"),
        ({"database": 0}, TypeError, "database must be a string or None"),
        ({"port": 70000}, ArgumentError, "between 0 and 65535, got 70000"),
        ({"port": -1}, ArgumentError, "between 0 and 65535, got -1"),
        ({"port": "abc"}, ArgumentError, "between 0 and 65535, got 'abc'"),
        ({"port": True}, TypeError, "port must be an integer or None, got bool"),
        ({"port": 5432.0}, TypeError, "port must be an integer or None, got float"),
        ({"query": {"a": 5}}, TypeError, "query value for 'a' must be a string"),
        ({"query": {"a": ["x", 5]}}, TypeError, "query value for 'a'"),
        ({"query": {5: "x"}}, TypeError, "query keys must be strings"),
        ({"query": [("a", "b")]}, TypeError, "query must be a mapping"),
        ({"password": "p\udcff"}, ArgumentError, "password contains a lone surrogate"),
        ({"query": {"a": ["x", "\ud800"]}}, ArgumentError, "value for 'a' contains a lone"),
        ({"query": {"\ud800": "x"}}, ArgumentError, "query key contains a lone"),
    ],
)
def test_create_rejects_bad_parts(
    kwargs: dict[str, object], error: type[Exception], message: str
) -> None:
    arguments: dict[str, object] = {"drivername": "postgresql", **kwargs}
    with pytest.raises(error, match=message):
        URL.create(**arguments)  # type: ignore[arg-type]


def test_url_is_immutable() -> None:
    url = make_url(PG)
    with pytest.raises(AttributeError, match="immutable"):
        url.host = "other"
    with pytest.raises(AttributeError, match="immutable"):
        del url.host
    with pytest.raises(TypeError):
        url.query["sslmode"] = "disable"  # type: ignore[index]
    assert url.host == "db.example"
    assert url.query["sslmode"] == "require"


def test_set_returns_a_changed_copy() -> None:
    url = make_url(PG)
    changed = url.set(host="replica", port=6432, database="other", password="new")
    assert (changed.host, changed.port, changed.database, changed.password) == (
        "replica",
        6432,
        "other",
        "new",
    )
    assert (changed.drivername, changed.username, changed.query) == (
        url.drivername,
        url.username,
        url.query,
    )
    assert url == make_url(PG)


def test_set_none_keeps_a_part_and_empty_clears_user_or_query() -> None:
    url = make_url(PG)
    assert url.set(username=None, query=None) == url
    assert url.set(username="").username is None
    assert url.set(query={}).query == {}
    assert url.set(drivername="postgresql+asyncpg").get_driver_name() == "asyncpg"


def test_update_query_dict_replaces_or_appends() -> None:
    url = make_url("postgresql://h/d?a=1&b=2")
    assert url.update_query_dict({"a": "3", "c": ["4", "5"]}).query == {
        "a": "3",
        "b": "2",
        "c": ("4", "5"),
    }
    assert url.update_query_dict({"a": ["3", "4"]}, append=True).query == {
        "a": ("1", "3", "4"),
        "b": "2",
    }
    assert url.update_query_dict({"b": []}).query == {"a": "1"}
    assert url.query == {"a": "1", "b": "2"}


def test_update_query_pairs_groups_repeated_keys() -> None:
    url = make_url("postgresql://h/d?a=1&b=2")
    assert url.update_query_pairs([("a", "3"), ("a", "4"), ("c", "5")]).query == {
        "a": ("3", "4"),
        "b": "2",
        "c": "5",
    }
    assert url.update_query_pairs([("a", "3")], append=True).query == {"a": ("1", "3"), "b": "2"}
    with pytest.raises(TypeError, match="query pairs must be"):
        url.update_query_pairs([("a", 3)])  # type: ignore[list-item]


def test_update_query_string() -> None:
    url = make_url("mysql://h/d?charset=latin1")
    assert url.update_query_string("charset=utf8mb4&x=1").query == {
        "charset": "utf8mb4",
        "x": "1",
    }
    assert url.update_query_string("?charset=utf8", append=True).query == {
        "charset": ("latin1", "utf8")
    }


def test_difference_update_query() -> None:
    url = make_url("postgresql://h/d?a=1&b=2&a=3")
    assert url.difference_update_query(["a", "missing"]).query == {"b": "2"}
    assert url.difference_update_query(iter(["b"])).query == {"a": ("1", "3")}
    assert url.query == {"a": ("1", "3"), "b": "2"}


@pytest.mark.parametrize(
    ("text", "backend_name", "driver"),
    [
        ("postgresql://h/d", "postgresql", "psycopg"),
        ("postgres://h/d", "postgres", "psycopg"),
        ("postgresql+asyncpg://h/d", "postgresql", "asyncpg"),
        ("mariadb://h/d", "mariadb", "pymysql"),
        ("mysql://h/d", "mysql", "pymysql"),
        ("sqlite:///x.db", "sqlite", "pysqlite"),
        ("sqlite://", "sqlite", "pysqlite"),
        ("mariadb+pymysql://h/d", "mariadb", "pymysql"),
        ("sqlite+aiosqlite://", "sqlite", "aiosqlite"),
    ],
)
def test_backend_and_driver_names(text: str, backend_name: str, driver: str) -> None:
    url = make_url(text)
    assert url.get_backend_name() == backend_name
    assert url.get_driver_name() == driver


def test_driver_name_of_an_unknown_database_names_the_known_ones() -> None:
    with pytest.raises(NoSuchModuleError, match="known databases: mysql, postgresql"):
        make_url("oracle://h/d").get_driver_name()


def test_str_and_repr_mask_the_password() -> None:
    url = make_url(PG)
    masked = "postgresql+psycopg://app:***@db.example:5432/appdb?sslmode=require&opt=a&opt=b"
    assert str(url) == masked
    assert repr(url) == masked
    assert url.render_as_string() == masked
    assert "s3cr" not in f"{url} {url!r} {[url]}"
    assert url.render_as_string(hide_password=False) == PG


def test_rendering_encodes_reserved_characters() -> None:
    url = URL.create(
        "postgresql",
        username="a@b:c",
        password="p/w?#%[] é",
        host="fe80::1%eth0",
        database="db?x%y \n",
        query={"k y": "v&w=+"},
    )
    text = url.render_as_string(hide_password=False)
    assert text == (
        "postgresql://a%40b%3Ac:p%2Fw%3F%23%25%5B%5D%20%C3%A9@[fe80::1%25eth0]"
        "/db%3Fx%25y%20%0A?k+y=v%26w%3D%2B"
    )
    assert make_url(text) == url


def test_equality_and_hash() -> None:
    a = make_url("postgresql://u:p@h/d?x=1&y=2")
    b = make_url("postgresql://u:p@h/d?y=2&x=1")
    assert a == b
    assert hash(a) == hash(b)
    assert len({a, b}) == 1
    assert a != a.set(password="q")
    assert a != make_url("postgresql://u:p@h/d?x=1&y=2&y=3")
    assert a != str(a)
    assert a.query == {"x": "1", "y": "2"}
    assert hash(a.query) == hash(b.query)


def test_pickle_and_copy_round_trip() -> None:
    url = make_url(PG)
    for clone in (pickle.loads(pickle.dumps(url)), copy.copy(url), copy.deepcopy(url)):
        assert clone == url
        assert clone.query == url.query
        assert clone.render_as_string(hide_password=False) == PG


def test_translate_connect_args_defaults() -> None:
    url = make_url(PG)
    assert url.translate_connect_args() == {
        "host": "db.example",
        "database": "appdb",
        "username": "app",
        "password": "s3cr@t",
        "port": 5432,
    }


def test_translate_connect_args_renames_and_drops() -> None:
    url = make_url(PG)
    assert url.translate_connect_args(username="user", database="dbname", port=None) == {
        "host": "db.example",
        "dbname": "appdb",
        "user": "app",
        "password": "s3cr@t",
    }
    assert url.translate_connect_args(["h", "db"]) == {
        "h": "db.example",
        "db": "appdb",
        "username": "app",
        "password": "s3cr@t",
        "port": 5432,
    }


def test_translate_connect_args_leaves_out_missing_and_empty_parts() -> None:
    assert make_url("sqlite://").translate_connect_args() == {}
    assert make_url("sqlite:///").translate_connect_args() == {}
    assert make_url("mysql://root:@h:0").translate_connect_args(username="user") == {
        "host": "h",
        "user": "root",
        "port": 0,
    }


def test_translate_connect_args_rejects_unknown_parts() -> None:
    url = make_url(PG)
    with pytest.raises(TypeError, match="unknown part"):
        url.translate_connect_args(user="user")
    with pytest.raises(TypeError, match="at most 5 names"):
        url.translate_connect_args(["a", "b", "c", "d", "e", "f"])


def test_mask_password_in_text() -> None:
    url = URL.create("postgresql", username="app", password="p@ss w", host="h")
    line = "connect failed for postgresql://app:p%40ss%20w@h (password p@ss w, form p%40ss+w)"
    masked = mask_password_in_text(line, url)
    assert masked == "connect failed for postgresql://app:***@h (password ***, form ***)"
    assert mask_password_in_text("nothing here", url) == "nothing here"
    assert mask_password_in_text("p@ss", make_url("postgresql://h")) == "p@ss"
