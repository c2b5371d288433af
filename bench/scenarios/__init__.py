"""The scenario suites; importing this package registers every scenario."""

from bench.scenarios import aio, core, pool

__all__ = ["aio", "core", "pool"]
