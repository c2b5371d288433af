"""Small helpers shared by every layer; ``athanor.util.concurrency`` is the greenlet bridge."""
