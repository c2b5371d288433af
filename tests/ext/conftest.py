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
        scheme = ALTERNATE_SCHEMES[backend.name]
        url = scheme + backend.url[backend.url.index(":") :]
        monkeypatch.setattr(backend, "async_url", lambda: url)
    return str(request.param)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Drop the "second driver" variants on SQLite, which has only one async driver."""
    kept: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        single_driver = params.get("backend") == "sqlite" and (
            params.get("async_driver") == "other-driver" or params.get("driver") == 1
        )
        (dropped if single_driver else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept
