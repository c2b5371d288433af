"""Per-object ``echo`` logging: engines and pools share a named logger, each with its own level.

``echo=True`` on one engine must not make every other engine log, so the echo level lives on
the object, not on the shared :class:`logging.Logger`; the logger only supplies the name and
the handlers.  Without echo the standard logging configuration decides, as usual.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from functools import partial
from typing import Any

Echo = bool | str | None

_default_handler: logging.Handler | None = None


def echo_level(echo: Echo) -> int | None:
    """The level an ``echo`` flag asks for: ``"debug"`` is DEBUG, other truthy values INFO."""
    if echo == "debug":
        return logging.DEBUG
    if echo:
        return logging.INFO
    return None


def _ensure_output(logger: logging.Logger) -> None:
    """Echo output goes to stdout when the application configured no logging at all."""
    global _default_handler
    if logger.hasHandlers():
        return
    if _default_handler is None:
        _default_handler = logging.StreamHandler(sys.stdout)
        _default_handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s")
        )
    logger.addHandler(_default_handler)


def _echo_enabled_for(threshold: int, manager: logging.Manager, level: int) -> bool:
    """Whether ``level`` reaches an echo ``threshold`` (and ``logging.disable()`` allows it)."""
    return level >= threshold and manager.disable < level


class EchoLogger:
    """A named logger whose threshold is the owner's ``echo`` flag when that is set (as with
    SQLAlchemy), and the logging configuration otherwise; the logger's level is never changed."""

    __slots__ = ("_level", "echo", "isEnabledFor", "known_levels", "logger")

    isEnabledFor: Callable[[int], bool]  # noqa: N815 - the logging.Logger name
    """Whether a message of the level would be logged: the logger's own method without echo
    (it checks ``logging.disable()`` itself, from its per-level cache), else the echo level's
    test; chosen once, as ``echo`` is fixed for the life of this object."""
    known_levels: dict[int, bool]
    """Answers of :meth:`isEnabledFor` known without calling it, by level (a level missing
    means: call it): without echo, the logger's own cache, which the logging module empties
    whenever its configuration changes; with echo, always empty.  A per-connection check
    reads this rather than making a call."""

    def __init__(self, name: str, echo: Echo) -> None:
        self.logger = logging.getLogger(name)
        self.echo = echo
        self._level = echo_level(echo)
        self.known_levels = {}
        if self._level is None:
            self.isEnabledFor = self.logger.isEnabledFor
            cache = getattr(self.logger, "_cache", None)
            if type(cache) is dict:
                self.known_levels = cache
        else:
            self.isEnabledFor = partial(_echo_enabled_for, self._level, self.logger.manager)
            _ensure_output(self.logger)

    @property
    def name(self) -> str:
        return self.logger.name

    def _emit(self, level: int, msg: str, args: tuple[Any, ...], exc_info: bool) -> None:
        if self.isEnabledFor(level):
            self.logger._log(level, msg, args, exc_info=exc_info or None, stacklevel=3)

    def debug(self, msg: str, *args: Any) -> None:
        self._emit(logging.DEBUG, msg, args, False)

    def info(self, msg: str, *args: Any) -> None:
        self._emit(logging.INFO, msg, args, False)

    def warning(self, msg: str, *args: Any) -> None:
        self._emit(logging.WARNING, msg, args, False)

    def error(self, msg: str, *args: Any, exc_info: bool = False) -> None:
        self._emit(logging.ERROR, msg, args, exc_info)
