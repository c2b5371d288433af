"""Database URLs: ``dialect[+driver]://user:password@host:port/database?key=value``.

:class:`URL` is immutable; :func:`make_url` parses a string.  User name, password, host and
database are percent-decoded when parsed and re-encoded when rendered, so
``make_url(url.render_as_string(hide_password=False)) == url`` holds for every URL.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NoReturn, Self
from urllib.parse import quote, quote_plus, unquote

from athanor.exc import ArgumentError, NoSuchModuleError
from athanor.url.query import (
    QueryInput,
    QueryValue,
    check_text,
    freeze_query,
    group_pairs,
    parse_query_string,
    render_query,
    value_tuple,
)

__all__ = ["URL", "make_url", "mask_password_in_text"]

_DRIVERNAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*(?:\+[A-Za-z][A-Za-z0-9_]*)?")
_URL_SHAPE = "dialect[+driver]://user:password@host:port/database?key=value"
_MASK = "***"
# RFC 3986 sub-delimiters: legal as-is in user info and host.  Everything else that is not
# unreserved (":", "@", "/", "?", "#", "[", "]", "%", spaces, non-ASCII) is percent-encoded.
_SUB_DELIMS = "!$&'()*+,;="
_CONNECT_ARG_NAMES = ("host", "database", "username", "password", "port")
# A database keeps "/", ":", "." and non-ASCII readable (/abs/app.db, :memory:); only "%",
# "?" and ASCII spaces and controls are escaped, the last because make_url() strips
# surrounding whitespace (a trailing newline from an environment file).
_ASCII_SPACE = " \t\n\r\f\v"
_DATABASE_ESCAPES = {code: f"%{code:02X}" for code in (*range(0x21), 0x25, 0x3F, 0x7F)}


class URL:
    """An immutable database URL; build one with :meth:`create` or :func:`make_url`.

    ``str()`` and ``repr()`` show the password as ``***``; an empty user name or host is
    stored as ``None``.
    """

    __slots__ = ("_hash", "database", "drivername", "host", "password", "port", "query", "username")

    drivername: str
    username: str | None
    password: str | None
    host: str | None
    port: int | None
    database: str | None
    query: Mapping[str, QueryValue]
    _hash: int | None

    # Positional parameters mirror SQLAlchemy's URL, so positional calls keep working.
    def __init__(
        self,
        drivername: str,
        username: str | None = None,
        password: str | None = None,
        host: str | None = None,
        port: int | str | None = None,
        database: str | None = None,
        query: QueryInput | None = None,
    ) -> None:
        if not isinstance(drivername, str):
            raise TypeError(f"drivername must be a string, got {type(drivername).__name__}")
        _check_drivername(drivername)
        username = _optional_str("username", username) or None
        password = _optional_str("password", password)
        host = _optional_str("host", host) or None
        if host is not None and host.startswith("[") and host.endswith("]"):
            host = host[1:-1] or None
        setattr_ = object.__setattr__
        setattr_(self, "drivername", drivername)
        setattr_(self, "username", username)
        setattr_(self, "password", password)
        setattr_(self, "host", host)
        setattr_(self, "port", _check_port(port))
        setattr_(self, "database", _optional_str("database", database))
        setattr_(self, "query", freeze_query(query))
        setattr_(self, "_hash", None)

    @classmethod
    def create(
        cls,
        drivername: str,
        username: str | None = None,
        password: str | None = None,
        host: str | None = None,
        port: int | str | None = None,
        database: str | None = None,
        query: QueryInput | None = None,
    ) -> Self:
        """Build a URL from its parts, validating each (``port`` may be a digit string)."""
        return cls(drivername, username, password, host, port, database, query)

    def __setattr__(self, name: str, value: object) -> NoReturn:
        raise AttributeError(f"URL is immutable; use url.set({name}=...) for a changed copy")

    def __delattr__(self, name: str) -> NoReturn:
        raise AttributeError("URL is immutable")

    def __reduce__(self) -> tuple[type[URL], tuple[Any, ...]]:
        return type(self), (*self._fields(), dict(self.query))

    def _fields(self) -> tuple[str, str | None, str | None, str | None, int | None, str | None]:
        return (self.drivername, self.username, self.password, self.host, self.port, self.database)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, URL):
            return NotImplemented
        return self._fields() == other._fields() and self.query == other.query

    def __hash__(self) -> int:
        cached: int | None = self._hash
        if cached is None:
            cached = hash((self._fields(), self.query))
            object.__setattr__(self, "_hash", cached)
        return cached

    def __str__(self) -> str:
        return self.render_as_string()

    def __repr__(self) -> str:
        return self.render_as_string()

    def set(
        self,
        drivername: str | None = None,
        username: str | None = None,
        password: str | None = None,
        host: str | None = None,
        port: int | str | None = None,
        database: str | None = None,
        query: QueryInput | None = None,
    ) -> Self:
        """Return a copy with the given parts replaced; ``None`` leaves a part unchanged."""
        return type(self)(
            self.drivername if drivername is None else drivername,
            self.username if username is None else username,
            self.password if password is None else password,
            self.host if host is None else host,
            self.port if port is None else port,
            self.database if database is None else database,
            self.query if query is None else query,
        )

    def update_query_dict(self, query_parameters: QueryInput, append: bool = False) -> Self:
        """Return a copy with these query keys set (or, with ``append``, extended)."""
        updates = {key: value_tuple(key, value) for key, value in query_parameters.items()}
        return self._merge_query(updates, append)

    def update_query_pairs(
        self, key_value_pairs: Iterable[tuple[str, str]], append: bool = False
    ) -> Self:
        """Like :meth:`update_query_dict`; a key repeated in the pairs gets all its values."""
        return self._merge_query(group_pairs(key_value_pairs), append)

    def update_query_string(self, query_string: str, append: bool = False) -> Self:
        """Like :meth:`update_query_pairs` with pairs parsed from ``"a=1&b=2"``."""
        return self._merge_query(group_pairs(parse_query_string(query_string)), append)

    def _merge_query(self, updates: Mapping[str, tuple[str, ...]], append: bool) -> Self:
        merged = dict(self.normalized_query)
        for key, values in updates.items():
            merged[key] = merged.get(key, ()) + values if append else values
        return self.set(query=merged)

    def difference_update_query(self, names: Iterable[str]) -> Self:
        """Return a copy without the named query keys."""
        dropped = set(names)
        query = {key: value for key, value in self.query.items() if key not in dropped}
        return type(self)(*self._fields(), query)

    @property
    def normalized_query(self) -> Mapping[str, tuple[str, ...]]:
        """The query with every value as a tuple, for code that accepts repeated keys."""
        return {
            key: (value,) if isinstance(value, str) else value for key, value in self.query.items()
        }

    def get_backend_name(self) -> str:
        """The database part of the driver name as written: ``"postgresql"``, ``"mariadb"``."""
        return self.drivername.partition("+")[0]

    def get_driver_name(self) -> str:
        """The driver: ``"asyncpg"`` in ``postgresql+asyncpg``, or the database's default
        driver for a bare name (``"pysqlite"``, ``"psycopg"``, ``"pymysql"``)."""
        driver = self.drivername.partition("+")[2]
        return driver or DEFAULT_DRIVERS[canonical_backend(self)]

    def render_as_string(self, hide_password: bool = True) -> str:
        """Render the URL as a string, with the password as ``***`` unless told otherwise."""
        parts = [self.drivername, "://"]
        if self.username is not None or self.password is not None:
            if self.username is not None:
                parts.append(quote(self.username, safe=_SUB_DELIMS))
            if self.password is not None:
                parts.append(":")
                parts.append(_MASK if hide_password else quote(self.password, safe=_SUB_DELIMS))
            parts.append("@")
        if self.host is not None:
            if ":" in self.host:
                parts.append(f"[{quote(self.host, safe=_SUB_DELIMS + ':')}]")
            else:
                parts.append(quote(self.host, safe=_SUB_DELIMS))
        if self.port is not None:
            parts.append(f":{self.port}")
        if self.database is not None:
            parts.append("/")
            parts.append(self.database.translate(_DATABASE_ESCAPES))
        if self.query:
            parts.append("?")
            parts.append(render_query(self.query))
        return "".join(parts)

    def translate_connect_args(
        self, names: Sequence[str] | None = None, **renames: str | None
    ) -> dict[str, str | int]:
        """Return host, database, username, password and port as keyword arguments.

        Parts that are ``None`` or ``""`` are left out.  ``renames`` maps a part to the
        driver's keyword (``username="user"``) or to ``None`` to leave it out; ``names``
        (legacy) gives new names positionally in the order host, database, username,
        password, port.
        """
        unknown = sorted(set(renames).difference(_CONNECT_ARG_NAMES))
        if unknown:
            raise TypeError(
                f"translate_connect_args() got unknown part(s) {', '.join(unknown)}; "
                f"expected {', '.join(_CONNECT_ARG_NAMES)}"
            )
        if names is not None:
            if len(names) > len(_CONNECT_ARG_NAMES):
                raise TypeError(f"translate_connect_args() takes at most 5 names, got {names!r}")
            renames = {**renames, **dict(zip(_CONNECT_ARG_NAMES, names, strict=False))}
        args: dict[str, str | int] = {}
        for part in _CONNECT_ARG_NAMES:
            value = getattr(self, part)
            key = renames.get(part, part)
            if key is not None and value is not None and value != "":
                args[key] = value
        return args


DEFAULT_DRIVERS = {"sqlite": "pysqlite", "postgresql": "psycopg", "mysql": "pymysql"}
"""The driver a URL without ``+driver`` uses, per database."""
BACKEND_ALIASES = {"mariadb": "mysql", "postgres": "postgresql"}


def canonical_backend(url: URL) -> str:
    """The database a URL names, aliases resolved (``mariadb`` is ``mysql``); an unknown name
    raises :class:`~athanor.exc.NoSuchModuleError` listing the known ones."""
    backend = url.get_backend_name()
    backend = BACKEND_ALIASES.get(backend, backend)
    if backend not in DEFAULT_DRIVERS:
        known = ", ".join(sorted(DEFAULT_DRIVERS) + sorted(BACKEND_ALIASES))
        raise NoSuchModuleError(
            f"Unknown database {url.get_backend_name()!r} in URL; known databases: {known}"
        )
    return backend


def make_url(name_or_url: str | URL) -> URL:
    """Return ``name_or_url`` parsed into a :class:`URL` (a URL is returned as is).

    Raises :class:`~athanor.exc.ArgumentError` naming what is wrong with a bad string.
    """
    if isinstance(name_or_url, URL):
        return name_or_url
    if isinstance(name_or_url, str):
        return _parse(name_or_url)
    raise ArgumentError(
        f"make_url() expects a URL string or a URL object, got {type(name_or_url).__name__}"
    )


def mask_password_in_text(text: str, url: URL) -> str:
    """Replace the URL's password, raw or percent-encoded, with ``***`` in ``text``.

    For log lines and error messages that might quote a connection string.  Every occurrence
    is masked, even inside other words, because leaking a password is worse than a garbled
    message.
    """
    password = url.password
    if not password:
        return text
    forms = {password, quote(password, safe=_SUB_DELIMS), quote_plus(password)}
    for form in sorted(forms, key=len, reverse=True):
        text = text.replace(form, _MASK)
    return text


def _parse(text: str) -> URL:
    """Parse ``text`` in four steps: driver name, authority, database, query."""
    text = text.strip(_ASCII_SPACE)
    drivername, sep, rest = text.partition("://")
    if not sep:
        raise ArgumentError(
            f"could not parse a URL from {_redact(text)!r}; expected the form {_URL_SHAPE!r}"
        )
    _check_drivername(drivername)

    # The authority (user info, host, port) runs up to the first "/" or "?".
    end = len(rest)
    for delimiter in "/?":
        found = rest.find(delimiter, 0, end)
        if found != -1:
            end = found
    authority, tail = rest[:end], rest[end:]
    path, has_query, query_text = tail.partition("?")
    database = unquote(path[1:]) if path else None

    # User info ends at the last "@", so a raw "@" in a password still parses.
    userinfo, has_userinfo, hostport = authority.rpartition("@")
    username = password = None
    if has_userinfo:
        user, has_password, secret = userinfo.partition(":")
        username = unquote(user)
        password = unquote(secret) if has_password else None
    try:
        host, port = _split_hostport(hostport)
    except ArgumentError:
        if "@" in tail:
            # The message would quote part of a password holding a raw "/" or "?".
            raise ArgumentError(
                "could not parse the URL's host and port; if the user name or password "
                "contains '/' or '?', percent-encode it (urllib.parse.quote)"
            ) from None
        raise

    query = group_pairs(parse_query_string(query_text)) if has_query else None
    return URL(drivername, username, password, host, port, database, query)


def _split_hostport(hostport: str) -> tuple[str, int | None]:
    """Split ``host:port`` or ``[ipv6]:port`` into a decoded host and a port."""
    if hostport.startswith("["):
        close = hostport.find("]")
        if close == -1:
            raise ArgumentError(f"IPv6 host {hostport!r} in URL is missing its closing ']'")
        host, after = hostport[1:close], hostport[close + 1 :]
        if after and not after.startswith(":"):
            raise ArgumentError(f"unexpected {after!r} after IPv6 host [{host}] in URL")
        port_text = after[1:] if after else None
    else:
        host, has_port, port_text_ = hostport.partition(":")
        port_text = port_text_ if has_port else None
    return unquote(host), None if port_text is None else _parse_port(port_text)


def _parse_port(text: str) -> int:
    if text.isascii() and text.isdigit() and int(text) <= 65535:
        return int(text)
    raise ArgumentError(f"port must be an integer between 0 and 65535, got {text!r}")


def _check_port(port: object) -> int | None:
    if port is None:
        return None
    if isinstance(port, str):
        return _parse_port(port)
    if isinstance(port, bool) or not isinstance(port, int):
        raise TypeError(f"port must be an integer or None, got {type(port).__name__}")
    if not 0 <= port <= 65535:
        raise ArgumentError(f"port must be an integer between 0 and 65535, got {port!r}")
    return port


def _check_drivername(name: str) -> None:
    if not name:
        raise ArgumentError(f"URL has no dialect name; expected the form {_URL_SHAPE!r}")
    if _DRIVERNAME.fullmatch(name) is None:
        raise ArgumentError(
            f"invalid dialect name {_redact(name)!r} in URL; expected letters, digits and '_', "
            "optionally followed by '+driver', as in 'postgresql+psycopg'"
        )


def _optional_str(part: str, value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return check_text(part, value)
    raise TypeError(f"{part} must be a string or None, got {type(value).__name__}")


def _redact(text: str) -> str:
    """Hide everything before the last ``@`` of an unparseable string: it may hold a password."""
    _, at, rest = text.rpartition("@")
    return f"{_MASK}@{rest}" if at else text
