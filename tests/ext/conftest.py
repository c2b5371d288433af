"""Fixtures for the asyncio tests."""

from __future__ import annotations

import pytest

from backends import Backend

ALTERNATE_SCHEMES = {"postgresql": "postgresql+psycopg_async", "mysql": "mysql+aiomysql"}


@pytest.fixture(params=["default-driver", "other-driver"])
def async_driver(
    request: pytest.FixtureRequest, backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> str:
    """Run a test with the database's default async driver and again with its alternative
    (``backend.async_url()`` answers accordingly)."""
    if request.param == "other-driver":
        scheme = ALTERNATE_SCHEMES.get(backend.name)
        if scheme is None:
            pytest.skip("SQLite has one async driver")
        url = scheme + backend.url[backend.url.index(":") :]
        monkeypatch.setattr(backend, "async_url", lambda: url)
    return str(request.param)
