"""The query part of a database URL: an immutable mapping and its string codec.

A key given once maps to a ``str``; a key given several times maps to a ``tuple`` of its
values in order.  That one canonical form is what makes parsing and rendering exact inverses.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from urllib.parse import quote_plus, unquote_plus

from athanor.exc import ArgumentError

QueryValue = str | tuple[str, ...]
"""A query value: the string of a key given once, the tuple of a repeated key."""

QueryInput = Mapping[str, str | Sequence[str]]
"""What callers may pass as a query: each value a string or a sequence of strings."""

# Characters left readable in rendered query keys and values; the parser splits only on
# "&" and "=", so these need no escaping.
_QUERY_SAFE = "/:,@"


class QueryMapping(Mapping[str, QueryValue]):
    """A read-only mapping of query keys to values, hashable so URLs can be dict keys."""

    __slots__ = ("_data",)

    def __init__(self, data: Mapping[str, QueryValue] | None = None) -> None:
        self._data: dict[str, QueryValue] = dict(data) if data else {}

    def __getitem__(self, key: str) -> QueryValue:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def __hash__(self) -> int:
        return hash(frozenset(self._data.items()))

    def __repr__(self) -> str:
        return repr(self._data)


EMPTY_QUERY = QueryMapping()


def check_text(what: str, text: str) -> str:
    """Return ``text``, or raise if it holds lone surrogates, which no URL or driver can encode.

    They come from undecodable bytes, e.g. in an environment variable.
    """
    if not text.isascii():
        try:
            text.encode()
        except UnicodeEncodeError:
            raise ArgumentError(
                f"{what} contains a lone surrogate character (undecodable bytes?)"
            ) from None
    return text


def value_tuple(key: object, value: object) -> tuple[str, ...]:
    """Return ``value`` as a tuple of strings, or raise ``TypeError`` naming ``key``."""
    if isinstance(value, str):
        return (check_text(f"query value for {key!r}", value),)
    if isinstance(value, Sequence) and all(isinstance(item, str) for item in value):
        return tuple(check_text(f"query value for {key!r}", item) for item in value)
    raise TypeError(
        f"query value for {key!r} must be a string or a sequence of strings, "
        f"got {type(value).__name__}"
    )


def freeze_query(query: QueryInput | None) -> QueryMapping:
    """Validate ``query`` and return it in canonical form.

    One-element sequences become plain strings and keys with an empty sequence are dropped.
    """
    if not query:
        return EMPTY_QUERY
    if isinstance(query, QueryMapping):
        return query
    if not isinstance(query, Mapping):
        raise TypeError(f"query must be a mapping, got {type(query).__name__}")
    data: dict[str, QueryValue] = {}
    for key, value in query.items():
        if not isinstance(key, str):
            raise TypeError(f"query keys must be strings, got {key!r}")
        check_text("query key", key)
        values = value_tuple(key, value)
        if len(values) == 1:
            data[key] = values[0]
        elif values:
            data[key] = values
    return QueryMapping(data)


def parse_query_string(text: str) -> list[tuple[str, str]]:
    """Split ``a=1&b=2&a=3`` into decoded ``(key, value)`` pairs; ``?`` in front is ignored.

    A key without ``=`` gets the empty string; empty segments (``a=1&&b=2``) are skipped.
    """
    if text.startswith("?"):
        text = text[1:]
    pairs = []
    for segment in text.split("&"):
        if segment:
            key, _, value = segment.partition("=")
            pairs.append((unquote_plus(key), unquote_plus(value)))
    return pairs


def group_pairs(pairs: Iterable[tuple[str, str]]) -> dict[str, tuple[str, ...]]:
    """Collect ``(key, value)`` pairs into key -> values, keeping first-seen key order."""
    grouped: dict[str, list[str]] = {}
    for key, value in pairs:
        if not isinstance(key, str) or not isinstance(value, str):
            raise TypeError(f"query pairs must be (str, str), got {(key, value)!r}")
        grouped.setdefault(key, []).append(value)
    return {key: tuple(values) for key, values in grouped.items()}


def render_query(query: Mapping[str, QueryValue]) -> str:
    """Render ``query`` as ``key=value&...``, one pair per value of a repeated key."""
    parts = []
    for key, value in query.items():
        quoted_key = quote_plus(key, safe=_QUERY_SAFE)
        for item in (value,) if isinstance(value, str) else value:
            parts.append(f"{quoted_key}={quote_plus(item, safe=_QUERY_SAFE)}")
    return "&".join(parts)
