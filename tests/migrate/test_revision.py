"""The revision graph: targets, relative steps, branches, merges and dependencies."""

from __future__ import annotations

import pytest

from athanor.migrate.revision import Revision, RevisionMap
from athanor.migrate.util import CommandError


def _map(
    *specs: tuple[str, tuple[str, ...]] | tuple[str, tuple[str, ...], tuple[str, ...]],
) -> RevisionMap:
    revisions = []
    for spec in specs:
        dependencies = spec[2] if len(spec) == 3 else ()
        revisions.append(Revision(spec[0], tuple(spec[1]), tuple(dependencies)))
    return RevisionMap(revisions)


def _ids(steps) -> list[str]:
    return [step.revision.revision for step in steps]


LINE = (("a1", ()), ("b2", ("a1",)), ("c3", ("b2",)))


def test_linear_targets() -> None:
    graph = _map(*LINE)
    assert graph.heads == ("c3",) and graph.bases == ("a1",)
    assert _ids(graph.upgrade_steps((), "head")) == ["a1", "b2", "c3"]
    assert _ids(graph.upgrade_steps(("a1",), "+1")) == ["b2"]
    assert _ids(graph.upgrade_steps((), "b")) == ["a1", "b2"]
    assert _ids(graph.upgrade_steps((), "a1+2")) == ["a1", "b2", "c3"]
    assert _ids(graph.downgrade_steps(("c3",), "-1")) == ["c3"]
    assert _ids(graph.downgrade_steps(("c3",), "-3")) == ["c3", "b2", "a1"]
    assert _ids(graph.downgrade_steps(("c3",), "base")) == ["c3", "b2", "a1"]
    assert _ids(graph.downgrade_steps(("c3",), "a1")) == ["c3", "b2"]
    assert graph.upgrade_steps(("c3",), "head") == []


@pytest.mark.parametrize(
    ("method", "current", "target", "message"),
    [
        ("upgrade_steps", (), "zz", "Can't locate revision identified by 'zz'"),
        ("upgrade_steps", (), "+4", "needs 4 revisions above the current one; there are 3"),
        ("downgrade_steps", ("c3",), "-4", "below the base"),
        ("downgrade_steps", ("a1",), "c3", "is not applied"),
        ("downgrade_steps", (), "-1", "at base already"),
    ],
)
def test_bad_targets(method: str, current: tuple[str, ...], target: str, message: str) -> None:
    with pytest.raises(CommandError, match=message.replace("(", r"\(").replace(")", r"\)")):
        getattr(_map(*LINE), method)(current, target)


def test_ambiguous_prefix() -> None:
    graph = _map(("ab1", ()), ("ab2", ("ab1",)))
    with pytest.raises(CommandError, match="ambiguous: it matches ab1, ab2"):
        graph.get("ab")


def test_branches_merge_and_heads_after() -> None:
    graph = _map(("a", ()), ("b", ("a",)), ("c", ("a",)), ("m", ("b", "c")))
    assert graph.heads == ("m",)
    steps = graph.upgrade_steps((), "head")
    assert _ids(steps) == ["a", "b", "c", "m"]
    heads: tuple[str, ...] = ()
    seen = []
    for step in steps:
        heads = graph.heads_after(heads, step)
        seen.append(heads)
    assert seen == [("a",), ("b",), ("b", "c"), ("m",)]
    down = graph.downgrade_steps(("m",), "a")
    for step in down:
        heads = graph.heads_after(heads, step)
    assert heads == ("a",)


def test_two_heads_need_heads_or_a_name() -> None:
    graph = _map(("a", ()), ("b", ("a",)), ("c", ("a",)))
    with pytest.raises(CommandError, match=r"Multiple head revisions are present \(b, c\)"):
        graph.upgrade_steps((), "head")
    assert _ids(graph.upgrade_steps((), "heads")) == ["a", "b", "c"]


def test_depends_on_pulls_in_the_other_branch() -> None:
    graph = _map(("a", ()), ("x", ()), ("b", ("a",), ("x",)))
    assert _ids(graph.upgrade_steps((), "b")) == ["a", "x", "b"]
    assert _ids(graph.downgrade_steps(("b", "x"), "x")) == ["b", "a"]


def test_missing_parent_is_reported() -> None:
    with pytest.raises(CommandError, match="Revision nope referenced from b"):
        _map(("b", ("nope",)))
