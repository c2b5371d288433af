"""Connecting through PyMySQL: what each new connection costs and which TLS mode it gets."""

from __future__ import annotations

from typing import Any

import pytest

from athanor.engine import create_engine
from athanor.pool import NullPool
from backends import Backend


def _driver_connections(url: str, count: int) -> list[Any]:
    engine = create_engine(url, poolclass=NullPool)
    connections = []
    try:
        for _ in range(count):
            with engine.connect() as conn:
                conn.exec_driver_sql("SELECT 1")
                connections.append(conn.connection.driver_connection)
    finally:
        engine.dispose()
    return connections


@pytest.mark.backends("mysql")
def test_preferred_tls_context_is_built_once_per_process(backend: Backend) -> None:
    """Without TLS options PyMySQL offers TLS on every connect; the context it prepares for
    that (about 40 ms of CPU each) is shared instead of rebuilt per connection."""
    first, second = _driver_connections(backend.url, 2)
    if not hasattr(first, "ctx"):
        pytest.skip("this PyMySQL has no preferred-TLS mode")
    assert first.ctx is second.ctx
    own = first._create_ssl_ctx({"verify_mode": False})
    assert own is not first.ctx


@pytest.mark.backends("mysql")
def test_ssl_disabled_connections_prepare_no_tls(backend: Backend) -> None:
    separator = "&" if "?" in backend.url else "?"
    (conn,) = _driver_connections(f"{backend.url}{separator}ssl_disabled=true", 1)
    assert conn.ssl is False
