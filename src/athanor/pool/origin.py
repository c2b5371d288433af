"""Where a connection was checked out: the first caller frame outside athanor.

The pool walks out from ``Pool.connect``'s caller on every checkout (inline, as that is the
hot path) and keeps only the code object and instruction offset of the first frame that is
not athanor's, so that a leaked connection's warning can name the line of application code
that took it; the line number is worked out only when the warning is written.
"""

from __future__ import annotations

import contextlib
import os
from types import CodeType

import athanor

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
