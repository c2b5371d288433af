"""Test configuration: the ``backend`` fixture runs a behaviour test on every database.

Choose servers with ``ATHANOR_TEST_POSTGRESQL_URL`` / ``ATHANOR_TEST_MYSQL_URL`` and
backends with ``--backends=sqlite,postgresql``.  Outside CI an unreachable server is skipped
with the reason; with ``CI=true`` it fails the run.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from backends import (
    BACKEND_NAMES,
    IN_CI,
    Backend,
    ServerUnavailable,
    create_session_database,
    drop_session_database,
    iter_names,
    open_backend,
)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--backends",
        default=None,
        help="comma-separated backends to run behaviour tests on (sqlite,postgresql,mysql)",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" not in metafunc.fixturenames:
        return
    chosen = list(iter_names(metafunc.config.getoption("--backends")))
    marker = metafunc.definition.get_closest_marker("backends")
    if marker is not None:
        for name in marker.args:
            assert name in BACKEND_NAMES, f"unknown backend {name!r} in @pytest.mark.backends"
        chosen = [name for name in chosen if name in marker.args]
    metafunc.parametrize("backend", chosen, indirect=True)


class _ServerDatabases:
    """This session's private databases on the servers, created on first use (``get(name)``
    returns the url and database name)."""

    def __init__(self) -> None:
        self.created: dict[str, tuple[str, str]] = {}
        self.failures: dict[str, str] = {}

    def get(self, name: str) -> tuple[str, str]:
        if name in self.failures:
            _unavailable(self.failures[name])
        if name not in self.created:
            try:
                self.created[name] = create_session_database(name)
            except ServerUnavailable as error:
                self.failures[name] = str(error)
                _unavailable(str(error))
        return self.created[name]

    def drop_all(self) -> None:
        for name, (_, database) in self.created.items():
            drop_session_database(name, database)


def _unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"CI=true and {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def server_databases() -> Iterator[_ServerDatabases]:
    databases = _ServerDatabases()
    yield databases
    databases.drop_all()


@pytest.fixture
def backend(
    request: pytest.FixtureRequest, server_databases: _ServerDatabases, tmp_path: Path
) -> Iterator[Backend]:
    """The database this test runs on, empty at the start of the test."""
    yield from open_backend(request.param, server_databases, tmp_path)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Show how many behaviour tests ran on each database, so a skipped server cannot hide."""
    counts: dict[str, dict[str, int]] = {name: {} for name in BACKEND_NAMES}
    for outcome in ("passed", "failed", "skipped", "error"):
        for report in terminalreporter.stats.get(outcome, []):
            params = report.nodeid.rpartition("[")[2].rstrip("]").split("-")
            for name in BACKEND_NAMES:
                if name in params:
                    counts[name][outcome] = counts[name].get(outcome, 0) + 1
    terminalreporter.section("tests per database")
    for name, by_outcome in counts.items():
        summary = ", ".join(f"{count} {outcome}" for outcome, count in sorted(by_outcome.items()))
        terminalreporter.write_line(f"{name}: {summary or 'none'}")
