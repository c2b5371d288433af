"""Property tests: rendering and parsing are inverses, masking hides, updates copy."""

from __future__ import annotations

import string

from hypothesis import assume, given
from hypothesis import strategies as st

from athanor.url import URL, make_url

_IDENT = st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,10}", fullmatch=True)
drivernames = st.builds(
    lambda backend, driver: f"{backend}+{driver}" if driver else backend,
    _IDENT,
    st.none() | _IDENT,
)
# Text rich in the characters a URL reserves, plus arbitrary unicode.
_RESERVED = ":/?#[]@!$&'()*+,;=% \t\n"
texts = st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=20) | st.text(
    alphabet=st.sampled_from(_RESERVED + string.ascii_letters + "é€😀"), max_size=20
)
hosts = texts | st.ip_addresses().map(str)
query_values = texts | st.lists(texts, min_size=2, max_size=3).map(tuple)


@st.composite
def urls(draw: st.DrawFn) -> URL:
    return URL.create(
        draw(drivernames),
        username=draw(st.none() | texts),
        password=draw(st.none() | texts),
        host=draw(st.none() | hosts),
        port=draw(st.none() | st.integers(0, 65535)),
        database=draw(st.none() | texts),
        query=draw(st.dictionaries(texts, query_values, max_size=4)),
    )


@given(urls())
def test_render_then_parse_gives_the_same_url(url: URL) -> None:
    rendered = url.render_as_string(hide_password=False)
    parsed = make_url(rendered)
    assert parsed == url
    assert hash(parsed) == hash(url)
    assert parsed.render_as_string(hide_password=False) == rendered


@given(
    urls(),
    st.text(st.characters(exclude_categories=["Cs"]), min_size=4).filter(lambda s: "*" not in s),
)
def test_masked_rendering_never_shows_the_password(url: URL, password: str) -> None:
    # The password must not occur in the rest of the URL for the check to mean anything.
    url = url.set(password=password)
    others = url.set(password="x").render_as_string(hide_password=False)
    assume(password not in others)
    for shown in (str(url), repr(url), url.render_as_string()):
        assert password not in shown
        assert ":***@" in shown


@given(urls(), urls())
def test_set_returns_a_new_url_and_leaves_the_original(url: URL, other: URL) -> None:
    before = url.render_as_string(hide_password=False)
    changed = url.set(
        drivername=other.drivername,
        username=other.username,
        password=other.password,
        host=other.host,
        port=other.port,
        database=other.database,
        query=other.query,
    )
    assert changed is not url
    assert url.render_as_string(hide_password=False) == before
    assert changed.drivername == other.drivername
    assert changed.port == (url.port if other.port is None else other.port)
    assert changed.database == (url.database if other.database is None else other.database)
    assert changed.query == other.query


@given(urls(), st.dictionaries(texts, query_values, max_size=3), st.booleans())
def test_query_updates_leave_the_original(
    url: URL, updates: dict[str, str | tuple[str, ...]], append: bool
) -> None:
    before = dict(url.query)
    updated = url.update_query_dict(updates, append=append)
    assert dict(url.query) == before
    for key, value in updates.items():
        new: tuple[str, ...] = (value,) if isinstance(value, str) else value
        expected = url.normalized_query.get(key, ()) + new if append else new
        assert updated.normalized_query[key] == expected
    assert make_url(updated.render_as_string(hide_password=False)) == updated
