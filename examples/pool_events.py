"""Connection pooling best practices with events (tutorials 002 §5 and 003 "Events").

Run: DATABASE_URL=sqlite:///./app.db python examples/pool_events.py
"""

from __future__ import annotations

import logging
import os

from athanor import create_engine, event, text
from athanor.pool import QueuePool

log = logging.getLogger("examples.pool_events")


def main(database_url: str) -> dict[str, int]:
    engine = create_engine(
        database_url,
        poolclass=QueuePool,
        pool_size=10,  # Maintain 10 connections
        max_overflow=20,  # Allow 20 additional connections
        pool_timeout=30,  # Wait 30s for available connection
        pool_recycle=3600,  # Recycle connections after 1 hour
        pool_pre_ping=True,  # Test connections before using
        echo_pool=True,  # Log pool checkouts/checkins
    )
    counts = {"connect": 0, "checkout": 0, "before_execute": 0}

    @event.listens_for(engine, "connect")
    def receive_connect(dbapi_conn, connection_record):
        """Called when connection is created."""
        counts["connect"] += 1
        log.info("New database connection established")

    @event.listens_for(engine, "checkout")
    def receive_checkout(dbapi_conn, connection_record, connection_proxy):
        """Called when connection is checked out from pool."""
        counts["checkout"] += 1
        log.debug("Connection checked out from pool")

    @event.listens_for(engine, "before_execute")
    def before_execute(conn, clauseelement, multiparams, params, execution_options):
        counts["before_execute"] += 1

    for _ in range(3):
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    print(engine.pool.status())
    print(counts)
    engine.dispose()
    return counts


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    main(os.environ.get("DATABASE_URL", "sqlite:///./app.db"))
