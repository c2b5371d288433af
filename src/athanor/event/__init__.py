"""Event listening: ``listen``, ``listens_for``, ``remove`` and ``contains``.

Targets are engines, pools and their classes.  An event with no listeners costs one
attribute read of an empty tuple on the hot path.
"""

from athanor.event.api import contains, listen, listens_for, remove
from athanor.event.registry import Dispatch, EventTarget

__all__ = ["Dispatch", "EventTarget", "contains", "listen", "listens_for", "remove"]
