"""Small helpers shared by every layer; ``athanor.util.concurrency`` is the greenlet bridge."""

from athanor.util.collections import IdentitySet

__all__ = ["IdentitySet"]
