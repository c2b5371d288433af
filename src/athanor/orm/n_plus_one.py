"""N+1 query detection: the same relationship lazy-loaded again and again for one query's objects.

``Session(engine, n_plus_one="warn")`` (or ``"log"`` / ``"raise"``; or the environment variable
``ATHANOR_N_PLUS_ONE`` for a whole test run) gives every object a query loads a shared
:class:`LoadContext`.  When a relationship of those objects is lazy-loaded with SQL a second
time, the report names the relationship, the extra queries, the line of user code that touched
the attribute and the eager loader that avoids them.  Off, it costs nothing: objects carry no
context and lazy loads check one attribute.
"""

from __future__ import annotations

import logging
import os
import sys
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from athanor import exc as sa_exc

if TYPE_CHECKING:
    from athanor.orm.relationships import RelationshipProperty

ENV_VAR = "ATHANOR_N_PLUS_ONE"
MODES = ("warn", "log", "raise")
logger = logging.getLogger("athanor.orm.n_plus_one")
_PACKAGE_DIR = str(Path(__file__).resolve().parents[1])
ENV_KEY_BYTES = os.environ.encodekey(ENV_VAR)
"""The variable's key in ``os.environ._data``."""


def _env_value() -> str | None:
    """The environment variable's value, read on every new session; ``os.environ.get`` raises
    and catches a KeyError when it is unset (the usual case), a cost each session would pay."""
    data: dict[Any, Any] | None = getattr(os.environ, "_data", None)
    if data is None:
        return os.environ.get(ENV_VAR)
    raw = data.get(ENV_KEY_BYTES)
    return None if raw is None else os.environ.decodevalue(raw)


class NPlusOneWarning(sa_exc.AthanorWarning):
    """A relationship was lazy-loaded once per object of one query (``n_plus_one="warn"``)."""


class NPlusOneError(sa_exc.InvalidRequestError):
    """A relationship was lazy-loaded once per object of one query (``n_plus_one="raise"``)."""


def session_mode(value: str | None) -> str | None:
    """The detection mode of a new session: its argument, else the environment variable."""
    if value is None:
        value = _env_value() or None
        source = f"environment variable {ENV_VAR}"
    else:
        source = "Session(n_plus_one=...)"
    if value is None or value in ("0", "off", "false", ""):
        return None
    if value not in MODES:
        raise sa_exc.ArgumentError(
            f"{source} is {value!r}; use 'warn', 'log' or 'raise' (or leave it unset to turn "
            "N+1 detection off)"
        )
    return value


def _user_frame() -> tuple[str, int]:
    """``file:line`` of the nearest caller outside athanor, and its ``stacklevel`` for warn()."""
    frame = sys._getframe(1)
    level = 1
    while frame is not None:
        filename = frame.f_code.co_filename
        if not filename.startswith(_PACKAGE_DIR) and not filename.startswith("<frozen"):
            return f"{filename}:{frame.f_lineno}", level
        frame = frame.f_back  # type: ignore[assignment]
        level += 1
    return "<unknown>", 1


class LoadContext:
    """Shared by the objects of one query: attribute-access strategies, the columns its column
    options chose, and lazy-load counts."""

    __slots__ = ("columns", "counts", "lazy_options", "mode", "objects", "overrides", "reported")

    def __init__(
        self,
        overrides: dict[Any, str],
        lazy_options: dict[Any, list[Any]],
        mode: str | None,
        columns: Mapping[Any, Sequence[tuple[str, Any]]],
    ) -> None:
        self.overrides = overrides
        self.lazy_options = lazy_options
        self.mode = mode
        self.columns = columns
        """Per mapper, the (attribute, column) pairs the query loaded when its column options
        (``undefer``, ``load_only``, ``with_expression``) changed them: a refresh or a load of
        expired attributes loads those again."""
        self.counts: dict[RelationshipProperty, int] = {}
        self.reported: set[RelationshipProperty] = set()
        self.objects = 0

    def lazy_loaded(self, prop: RelationshipProperty) -> None:
        """Count one lazy load with SQL of ``prop``; report the second one."""
        if self.mode is None:
            return
        count = self.counts[prop] = self.counts.get(prop, 0) + 1
        if count < 2 or prop in self.reported:
            return
        self.reported.add(prop)
        parent = prop.parent.class_.__name__
        site, level = _user_frame()
        message = (
            f"N+1 queries: {prop} was lazy-loaded for {count} {parent} objects that came from "
            f"one query ({self.objects} loaded), one SELECT each: {count} extra queries so far, "
            f"up to {self.objects} in all. Attribute touched at {site}. Fix: load "
            f"it with the query, e.g. .options(selectinload({prop})) (or joinedload({prop}))"
        )
        if self.mode == "raise":
            raise NPlusOneError(message)
        if self.mode == "log":
            logger.warning(message)
        else:
            warnings.warn(message, NPlusOneWarning, stacklevel=level)
