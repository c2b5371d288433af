"""Where a connection was checked out: the first caller frame outside athanor.

The pool walks out from ``Pool.connect``'s caller at checkout (inline, as that is the hot
path) and keeps only the code object and instruction offset of the first frame that is not
athanor's, so that a leaked connection's warning can name the line of application code that
took it; the line number is worked out only when the warning is written.

The walk is skipped while the warning filters in force hide every
:class:`~athanor.exc.ConnectionLeakWarning` (the default: it is a ``ResourceWarning``), as
nobody would see the site; walking materializes a frame object per frame passed.
"""

from __future__ import annotations

import contextlib
import os
import warnings
from types import CodeType
from typing import Any

import athanor
from athanor.exc import ConnectionLeakWarning

_ATHANOR_DIR = os.path.dirname(os.path.abspath(athanor.__file__)) + os.sep
_CONTEXTLIB_FILE = os.path.abspath(contextlib.__file__)

_internal_files: dict[str, bool] = {}
"""File name -> whether frames of that file are skipped (athanor itself, contextlib)."""


def classify_file(filename: str) -> bool:
    """Whether frames of ``filename`` belong to athanor (or contextlib) and are skipped;
    the answer is cached in ``_internal_files``."""
    path = os.path.abspath(filename)
    internal = path.startswith(_ATHANOR_DIR) or path == _CONTEXTLIB_FILE
    _internal_files[filename] = internal
    return internal


def line_of(code: CodeType, lasti: int) -> int:
    """The source line of instruction offset ``lasti`` (a frame's ``f_lasti``) in ``code``."""
    for start, end, number in code.co_lines():
        if start <= lasti < end and number is not None:
            return number
    return code.co_firstlineno


_filters_seen: tuple[list[Any], str, bool] = ([], "", True)
"""The warning filters and default action last looked at, and whether they could show a leak
warning (one tuple, replaced whole, so that threads see a consistent answer)."""


def leak_warnings_shown() -> bool:
    """Whether the warning filters in force now could show a ConnectionLeakWarning; the
    answer is kept until the filters change (a comparison of two short lists per checkout)."""
    global _filters_seen
    filters, default, shown = _filters_seen
    if warnings.filters == filters and warnings.defaultaction == default:  # type: ignore[attr-defined]
        return shown
    filters, default = list(warnings.filters), warnings.defaultaction  # type: ignore[attr-defined]
    shown = _could_show(filters, default)
    _filters_seen = (filters, default, shown)
    return shown


def _could_show(filters: list[Any], default: str) -> bool:
    """Whether ``filters`` (``warnings.filters`` entries) could let a leak warning through: the
    first unconditional filter for its category decides; a conditional one (by message,
    module or line) that does not ignore might match."""
    for action, message, category, module, lineno in filters:
        if not issubclass(ConnectionLeakWarning, category):
            continue
        if message is None and module is None and not lineno:
            return bool(action != "ignore")
        if action != "ignore":
            return True
    return default != "ignore"
