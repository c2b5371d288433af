"""The revision graph: revisions linked by ``down_revision`` (and ``depends_on``), its heads and
bases, and how a target (``head``, ``base``, an id or prefix, a branch label, ``+N``/``-N``,
``REV+N``) turns into the ordered revisions an upgrade or downgrade runs."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from athanor.migrate.util import CommandError


def as_tuple(value: Any) -> tuple[str, ...]:
    """A revision file's ``down_revision`` / ``depends_on`` / ``branch_labels`` as a tuple."""
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(value)


@dataclass(eq=False)
class Revision:
    """One revision of the graph; ``module`` is the loaded revision file, if any."""

    revision: str
    down_revisions: tuple[str, ...] = ()
    dependencies: tuple[str, ...] = ()
    branch_labels: frozenset[str] = frozenset()
    doc: str = ""
    path: str | None = None
    module: Any = None
    nextrev: set[str] = field(default_factory=set)

    @property
    def down_revision(self) -> str | tuple[str, ...] | None:
        """``down_revision`` as the revision file spells it (one id, a tuple, or None)."""
        if not self.down_revisions:
            return None
        return self.down_revisions[0] if len(self.down_revisions) == 1 else self.down_revisions

    @property
    def is_head(self) -> bool:
        return not self.nextrev

    @property
    def is_base(self) -> bool:
        return not self.down_revisions

    @property
    def is_merge_point(self) -> bool:
        return len(self.down_revisions) > 1

    @property
    def is_branch_point(self) -> bool:
        return len(self.nextrev) > 1

    def __repr__(self) -> str:
        return f"Revision({self.revision!r})"


@dataclass(frozen=True)
class Step:
    """One revision to run (``up`` or down); ``stamp`` only records it in the version table."""

    revision: Revision
    up: bool
    stamp: bool = False


_RELATIVE = re.compile(r"^(?P<base>.*?)(?P<sign>[+-])(?P<count>\d+)$")


class RevisionMap:
    """All revisions of a script directory, with lookups and path finding."""

    def __init__(self, revisions: Iterable[Revision]) -> None:
        self._map: dict[str, Revision] = {}
        for revision in revisions:
            if revision.revision in self._map:
                other = self._map[revision.revision]
                raise CommandError(
                    f"Revision {revision.revision} is defined twice: {other.path} and "
                    f"{revision.path}"
                )
            self._map[revision.revision] = revision
        self._labels: dict[str, Revision] = {}
        for revision in self._map.values():
            for parent in revision.down_revisions:
                if parent not in self._map:
                    raise CommandError(
                        f"Revision {parent} referenced from {revision.revision} "
                        f"({revision.path}) is not present"
                    )
            for label in revision.branch_labels:
                if label in self._labels:
                    raise CommandError(
                        f"Branch label {label!r} is on both {self._labels[label].revision} and "
                        f"{revision.revision}"
                    )
                self._labels[label] = revision
        for revision in self._map.values():
            revision.dependencies = tuple(self.get(d).revision for d in revision.dependencies)
            for parent in revision.down_revisions:
                self._map[parent].nextrev.add(revision.revision)
        self._order = self._topological()

    def _topological(self) -> list[Revision]:
        """Every revision after its down revisions and dependencies; ties by id."""
        remaining = {
            rid: set(r.down_revisions) | set(r.dependencies) for rid, r in self._map.items()
        }
        ordered: list[Revision] = []
        placed: set[str] = set()
        while remaining:
            ready = sorted(rid for rid, parents in remaining.items() if parents <= placed)
            if not ready:
                raise CommandError(
                    f"Revision cycle among {', '.join(sorted(remaining))}; check down_revision"
                )
            for rid in ready:
                ordered.append(self._map[rid])
                placed.add(rid)
                del remaining[rid]
        return ordered

    # --- lookups ----------------------------------------------------------------------------

    def __iter__(self) -> Any:
        return iter(self._order)

    def __contains__(self, rid: object) -> bool:
        """Whether ``rid`` is the full id of a revision (no prefixes or labels)."""
        return rid in self._map

    def __len__(self) -> int:
        return len(self._map)

    @property
    def heads(self) -> tuple[str, ...]:
        """Revisions nothing revises, sorted."""
        return tuple(sorted(rid for rid, r in self._map.items() if r.is_head))

    @property
    def bases(self) -> tuple[str, ...]:
        """Revisions that revise nothing, sorted."""
        return tuple(sorted(rid for rid, r in self._map.items() if r.is_base))

    def get(self, identifier: str) -> Revision:
        """The revision named by an id, a branch label or a unique prefix of an id."""
        if identifier in self._map:
            return self._map[identifier]
        if identifier in self._labels:
            return self._labels[identifier]
        matches = sorted(rid for rid in self._map if rid.startswith(identifier))
        if len(matches) == 1:
            return self._map[matches[0]]
        if not matches:
            raise CommandError(f"Can't locate revision identified by {identifier!r}")
        raise CommandError(
            f"Revision prefix {identifier!r} is ambiguous: it matches {', '.join(matches)}"
        )

    def ancestors(self, ids: Iterable[str], dependencies: bool = True) -> set[str]:
        """``ids`` and everything they revise (and depend on), transitively."""
        seen: set[str] = set()
        todo = list(ids)
        while todo:
            rid = todo.pop()
            if rid in seen:
                continue
            seen.add(rid)
            revision = self._map[rid]
            todo.extend(revision.down_revisions)
            if dependencies:
                todo.extend(revision.dependencies)
        return seen

    def descendants(self, ids: Iterable[str], dependencies: bool = True) -> set[str]:
        """``ids`` and everything that revises (or depends on) them, transitively."""
        wanted = set(ids)
        found = set(wanted)
        for revision in self._order:
            parents = set(revision.down_revisions)
            if dependencies:
                parents |= set(revision.dependencies)
            if parents & found:
                found.add(revision.revision)
        return found

    # --- targets ----------------------------------------------------------------------------

    def _single_head(self, heads: Sequence[str], what: str) -> str:
        if len(heads) > 1:
            raise CommandError(
                f"Multiple head revisions are present ({', '.join(heads)}); {what} needs one: "
                "name the revision, or use 'heads' to upgrade all branches, or merge them "
                "with 'athanor migrate merge'"
            )
        if not heads:
            raise CommandError("No revisions yet; create one with 'athanor migrate revision -m'")
        return heads[0]

    def resolve(self, target: str, current: Sequence[str]) -> tuple[str, ...]:
        """The revisions a non-relative target names: () for base."""
        if target == "base":
            return ()
        if target == "heads":
            return self.heads
        if target == "head":
            return (self._single_head(self.heads, "'head'"),)
        if target.endswith("@head"):
            label = target[: -len("@head")]
            start = self.get(label).revision
            tops = sorted(self.descendants([start]) & set(self.heads))
            return (self._single_head(tops, f"{target!r}"),)
        if target == "current":
            return tuple(current)
        return (self.get(target).revision,)

    def _walk(self, start: str, count: int, up: bool) -> str | None:
        """The revision ``count`` steps above (``up``) or below ``start`` on a single line;
        None when walking down passes the base."""
        rid: str | None = start
        for _ in range(count):
            assert rid is not None
            revision = self._map[rid]
            following = sorted(revision.nextrev) if up else list(revision.down_revisions)
            if not following:
                if up:
                    raise CommandError(f"Relative revision: {rid} is a head, nothing above it")
                if _ < count - 1:
                    raise CommandError(f"Relative revision goes below the base at {rid}")
                return None
            if len(following) > 1:
                raise CommandError(
                    f"Relative revision is ambiguous at {rid}: it has several "
                    f"{'children' if up else 'down revisions'} ({', '.join(following)})"
                )
            rid = following[0]
        return rid

    def upgrade_steps(self, current: Sequence[str], target: str) -> list[Step]:
        """The revisions ``upgrade target`` runs from ``current`` heads, in order."""
        relative = _RELATIVE.match(target)
        if relative and relative.group("sign") == "+":
            count = int(relative.group("count"))
            if relative.group("base"):
                start = self.get(relative.group("base")).revision
                end = self._walk(start, count, up=True)
                assert end is not None
                return self._up(current, (end,))
            head = self._single_head(self.heads, f"'{target}'")
            steps = self._up(current, (head,))
            if len(steps) < count:
                raise CommandError(
                    f"Relative revision {target} needs {count} revisions above the current "
                    f"one; there are {len(steps)}"
                )
            return steps[:count]
        if relative and relative.group("base"):
            end = self._walk(
                self.get(relative.group("base")).revision, int(relative.group("count")), up=False
            )
            return self._up(current, (end,) if end else ())
        if relative:
            raise CommandError(f"'upgrade {target}' goes down; use 'downgrade {target}'")
        return self._up(current, self.resolve(target, current))

    def _up(self, current: Sequence[str], targets: Sequence[str]) -> list[Step]:
        needed = self.ancestors(targets) - self.ancestors(current)
        return [Step(r, up=True) for r in self._order if r.revision in needed]

    def downgrade_steps(self, current: Sequence[str], target: str) -> list[Step]:
        """The revisions ``downgrade target`` undoes from ``current`` heads, newest first."""
        relative = _RELATIVE.match(target)
        if relative and relative.group("sign") == "-":
            count = int(relative.group("count"))
            base = relative.group("base")
            if base:
                start = self.get(base).revision
            else:
                if not current:
                    raise CommandError(f"'downgrade {target}': the database is at base already")
                start = self._single_head(list(current), f"'downgrade {target}'")
            end = self._walk(start, count, up=False)
            return self._down(current, (end,) if end else ())
        if relative:
            if relative.group("base"):
                end = self._walk(
                    self.get(relative.group("base")).revision, int(relative.group("count")), up=True
                )
                return self._down(current, (end,) if end else ())
            raise CommandError(f"'downgrade {target}' goes up; use 'upgrade {target}'")
        targets = self.resolve(target, current)
        kept = self.ancestors(targets)
        above = self.ancestors(current)
        if not kept <= above:
            outside = ", ".join(sorted(kept - above))
            raise CommandError(
                f"Can't downgrade to {target}: {outside} is not applied; use 'upgrade {target}'"
            )
        return self._down(current, targets)

    def _down(self, current: Sequence[str], targets: Sequence[str]) -> list[Step]:
        removed = self.ancestors(current) - self.ancestors(targets)
        return [Step(r, up=False) for r in reversed(self._order) if r.revision in removed]

    def reduce_heads(self, ids: Sequence[str]) -> tuple[str, ...]:
        """``ids`` without those another of them revises (directly or not)."""
        unique = set(ids)
        below: set[str] = set()
        for rid in unique:
            below |= self.ancestors([rid], dependencies=False) - {rid}
        return tuple(sorted(unique - below))

    def heads_after(self, heads: Sequence[str], step: Step) -> tuple[str, ...]:
        """The version table's rows after ``step``: the applied revisions nothing applied
        revises (dependencies stay, as they are other branches)."""
        revision = step.revision
        result = set(heads)
        if step.up:
            result -= self.ancestors([revision.revision], dependencies=False)
            result.add(revision.revision)
        else:
            result.discard(revision.revision)
            for parent in revision.down_revisions:
                if not any(parent in self.ancestors([h], dependencies=False) for h in result):
                    result.add(parent)
        return tuple(sorted(result))
