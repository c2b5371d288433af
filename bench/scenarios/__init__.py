"""The scenario suites; importing this package registers every scenario."""

from bench.scenarios import aio, core, orm, pool

__all__ = ["aio", "core", "orm", "pool"]
