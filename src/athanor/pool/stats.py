"""A point-in-time snapshot of a pool's occupancy and counters."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PoolStats:
    """What ``pool.stats()`` returns: occupancy now and counters since the pool was made.

    Meant for monitoring (a metrics exporter reads it periodically); reading it takes the
    pool's lock once and never slows checkouts.
    """

    size: int
    """Connections the pool keeps (``pool_size``; 1 for StaticPool, 0 for NullPool)."""
    checked_out: int
    """Connections currently lent out."""
    idle: int
    """Connections waiting in the pool."""
    overflow: int
    """QueuePool's overflow counter (connections beyond ``pool_size``, negative while the
    pool is not yet full); 0 for other pools."""
    total_checkouts: int
    """Checkouts served."""
    waits: int
    """Checkouts that had to wait for a connection to come back."""
    total_wait_time: float
    """Seconds spent waiting, summed over all waits."""
    max_wait: float
    """The longest single wait, in seconds."""
    timeouts: int
    """Checkouts that gave up with ``TimeoutError``."""
    invalidations: int
    """Connections invalidated (hard or soft), including pre-ping failures."""
    connects: int
    """Physical connections opened."""
