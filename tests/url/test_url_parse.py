"""Parsing URL strings: every form the tutorials use, and every kind of bad input."""

from __future__ import annotations

from typing import Any

import pytest

from athanor.exc import ArgumentError
from athanor.url import URL, make_url

# (url string, drivername, username, password, host, port, database, query)
Form = tuple[str, str, str | None, str | None, str | None, int | None, str | None, dict[str, Any]]
FORMS: list[Form] = [
    ("sqlite://", "sqlite", None, None, None, None, None, {}),
    ("sqlite:///", "sqlite", None, None, None, None, "", {}),
    ("sqlite:///:memory:", "sqlite", None, None, None, None, ":memory:", {}),
    ("sqlite:///./app.db", "sqlite", None, None, None, None, "./app.db", {}),
    ("sqlite:///example.db", "sqlite", None, None, None, None, "example.db", {}),
    ("sqlite:////abs/path.db", "sqlite", None, None, None, None, "/abs/path.db", {}),
    ("sqlite+aiosqlite:///./app.db", "sqlite+aiosqlite", None, None, None, None, "./app.db", {}),
    ("sqlite+aiosqlite:///:memory:", "sqlite+aiosqlite", None, None, None, None, ":memory:", {}),
    (
        "postgresql+psycopg://user:pass@host:5432/dbname",
        "postgresql+psycopg",
        "user",
        "pass",
        "host",
        5432,
        "dbname",
        {},
    ),
    (
        "postgresql+asyncpg://app:secret@db:5432/appdb",
        "postgresql+asyncpg",
        "app",
        "secret",
        "db",
        5432,
        "appdb",
        {},
    ),
    (
        "mysql+pymysql://app:secret@localhost:3306/appdb",
        "mysql+pymysql",
        "app",
        "secret",
        "localhost",
        3306,
        "appdb",
        {},
    ),
    (
        "mysql+pymysql://app:secret@localhost/appdb?charset=utf8mb4",
        "mysql+pymysql",
        "app",
        "secret",
        "localhost",
        None,
        "appdb",
        {"charset": "utf8mb4"},
    ),
    (
        "postgresql://user:password@localhost/dbname",
        "postgresql",
        "user",
        "password",
        "localhost",
        None,
        "dbname",
        {},
    ),
    ("postgresql://primary/dbname", "postgresql", None, None, "primary", None, "dbname", {}),
    ("postgresql:///dbname", "postgresql", None, None, None, None, "dbname", {}),
    (
        "mariadb+pymysql://u@h/d",
        "mariadb+pymysql",
        "u",
        None,
        "h",
        None,
        "d",
        {},
    ),
    ("postgresql://h", "postgresql", None, None, "h", None, None, {}),
    ("postgresql://h:0/d", "postgresql", None, None, "h", 0, "d", {}),
    ("postgresql://h:65535/d", "postgresql", None, None, "h", 65535, "d", {}),
    ("postgresql://:5433/d", "postgresql", None, None, None, 5433, "d", {}),
    (
        "postgresql://h?sslmode=require",
        "postgresql",
        None,
        None,
        "h",
        None,
        None,
        {"sslmode": "require"},
    ),
    # Percent-encoded reserved characters in user name and password are decoded.
    (
        "postgresql://us%40er%3Ax:p%40ss%3Aw%2Fo%25rd@h/d",
        "postgresql",
        "us@er:x",
        "p@ss:w/o%rd",
        "h",
        None,
        "d",
        {},
    ),
    # A raw "@" or ":" in a password still parses: user info ends at the last "@".
    ("mysql://u:p@ss:w@h/d", "mysql", "u", "p@ss:w", "h", None, "d", {}),
    ("postgresql://user:@h/d", "postgresql", "user", "", "h", None, "d", {}),
    ("postgresql://@h/d", "postgresql", None, None, "h", None, "d", {}),
    # IPv6 hosts, with and without port, and with a zone id.
    ("postgresql://u:p@[::1]:5432/d", "postgresql", "u", "p", "::1", 5432, "d", {}),
    ("postgresql://[2001:db8::7]/d", "postgresql", None, None, "2001:db8::7", None, "d", {}),
    ("postgresql://[fe80::1%25eth0]:1/d", "postgresql", None, None, "fe80::1%eth0", 1, "d", {}),
    # A host may be a percent-encoded socket directory.
    (
        "postgresql://%2Fvar%2Frun%2Fpostgresql/d",
        "postgresql",
        None,
        None,
        "/var/run/postgresql",
        None,
        "d",
        {},
    ),
    # Databases with slashes, dots and encoded "?".
    ("postgresql://h/a/b.c", "postgresql", None, None, "h", None, "a/b.c", {}),
    ("sqlite:///dir.v2/my app.db", "sqlite", None, None, None, None, "dir.v2/my app.db", {}),
    ("postgresql://h/what%3Fdb", "postgresql", None, None, "h", None, "what?db", {}),
    # Repeated keys become tuples; blank values and "+" decode like a form.
    (
        "postgresql://h/d?a=1&b=x+y&a=2&c=&e",
        "postgresql",
        None,
        None,
        "h",
        None,
        "d",
        {"a": ("1", "2"), "b": "x y", "c": "", "e": ""},
    ),
    ("postgresql://h/d?k=%26%3D%2B&&", "postgresql", None, None, "h", None, "d", {"k": "&=+"}),
    (
        "postgresql://h?host=/var/run/postgresql",
        "postgresql",
        None,
        None,
        "h",
        None,
        None,
        {"host": "/var/run/postgresql"},
    ),
    ("  sqlite:///x.db\n", "sqlite", None, None, None, None, "x.db", {}),
]


@pytest.mark.parametrize("form", FORMS, ids=[form[0].strip() for form in FORMS])
def test_parse_form(form: Form) -> None:
    text, *parts, query = form
    url = make_url(text)
    assert [url.drivername, url.username, url.password, url.host, url.port, url.database] == parts
    assert dict(url.query) == query
    assert make_url(url.render_as_string(hide_password=False)) == url


@pytest.mark.parametrize(
    "text",
    [
        "sqlite://",
        "sqlite:///:memory:",
        "sqlite:///./app.db",
        "sqlite:////abs/path.db",
        "sqlite+aiosqlite:///./app.db",
        "postgresql+psycopg://user:pass@host:5432/dbname",
        "mysql+pymysql://app:secret@localhost/appdb?charset=utf8mb4",
        "postgresql://u:p@[::1]:5432/d?a=1&a=2",
        "postgresql:///dbname",
    ],
)
def test_common_forms_render_back_unchanged(text: str) -> None:
    assert make_url(text).render_as_string(hide_password=False) == text


def test_make_url_returns_url_objects_unchanged() -> None:
    url = URL.create("sqlite")
    assert make_url(url) is url


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("foo", "could not parse a URL from 'foo'"),
        ("", "could not parse a URL from ''"),
        ("postgresql:/h/d", "could not parse a URL"),
        ("://h/d", "no dialect name"),
        ("pg sql://h", "invalid dialect name 'pg sql'"),
        ("+psycopg://h", "invalid dialect name '+psycopg'"),
        ("postgresql+://h", "invalid dialect name 'postgresql+'"),
        ("postgresql+a+b://h", "invalid dialect name"),
        ("1pg://h", "invalid dialect name '1pg'"),
        ("postgresql://h:abc/d", "port must be an integer between 0 and 65535, got 'abc'"),
        ("postgresql://h:65536/d", "got '65536'"),
        ("postgresql://h:-1/d", "got '-1'"),
        ("postgresql://h:/d", "got ''"),
        ("postgresql://h:1:2/d", "got '1:2'"),
        ("postgresql://h: 5/d", "got ' 5'"),
        ("postgresql://h:\u0665/d", "port must be an integer"),
        ("postgresql://[::1:5432/d", "missing its closing ']'"),
        ("postgresql://[::1]5432/d", "unexpected '5432' after IPv6 host [::1]"),
    ],
)
def test_bad_url_string(text: str, message: str) -> None:
    with pytest.raises(ArgumentError, match=message.replace("[", r"\[").replace("+", r"\+")):
        make_url(text)


@pytest.mark.parametrize("value", [None, 5, b"sqlite://", ["sqlite://"]])
def test_make_url_rejects_non_strings(value: object) -> None:
    with pytest.raises(ArgumentError, match=r"expects a URL string or a URL object, got \w+"):
        make_url(value)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "text",
    [
        "app:hunter2@localhost/db",  # scheme forgotten
        "hunter2 user:hunter2@x://h",  # garbage before ://
    ],
)
def test_parse_errors_do_not_quote_the_password(text: str) -> None:
    with pytest.raises(ArgumentError) as info:
        make_url(text)
    assert "hunter2" not in str(info.value)


@pytest.mark.parametrize("text", ["postgresql://u:hunter/2x@h/d", "postgresql://u:hunter?2x@h/d"])
def test_raw_slash_or_question_mark_in_password_gives_a_hint_not_the_password(text: str) -> None:
    with pytest.raises(ArgumentError, match="percent-encode it") as info:
        make_url(text)
    assert "hunter" not in str(info.value)
