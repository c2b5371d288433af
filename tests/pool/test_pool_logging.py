"""``echo`` logging under the ``athanor.pool`` logger."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable

import pytest

from athanor.pool import QueuePool

Creator = Callable[[], sqlite3.Connection]


def messages(caplog: pytest.LogCaptureFixture, level: int) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.name.startswith("athanor.pool") and record.levelno == level
    ]


def test_echo_true_logs_the_connection_lifecycle_at_info(
    creator: Creator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="athanor")
    pool = QueuePool(creator, pool_size=1, echo=True)
    conn = pool.connect()
    conn.close()
    pool.dispose()
    info = messages(caplog, logging.INFO)
    assert any(m.startswith("Created new connection") for m in info)
    assert any(m.startswith("Closing connection") for m in info)
    assert any(m.startswith("Pool disposed. Pool size: 1") for m in info)
    # checkouts and checkins are DEBUG detail, logged only with echo="debug"
    assert messages(caplog, logging.DEBUG) == []
    assert not any("checked out" in m or "returned to pool" in m for m in info)
    assert pool._logger.name == "athanor.pool.impl.QueuePool"
    assert logging.getLogger("athanor.pool.impl.QueuePool").level == logging.NOTSET
    assert not pool._log_debug


def test_echo_debug_adds_reset_detail(creator: Creator, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="athanor")
    pool = QueuePool(creator, pool_size=1, echo="debug", logging_name="reports", pre_ping=True)
    pool.connect().close()
    pool.connect().close()
    debug = messages(caplog, logging.DEBUG)
    assert any(m.endswith("rollback-on-return") for m in debug)
    assert any(m.startswith("Pool pre-ping on connection") for m in debug)
    assert any(m.endswith("checked out from pool") for m in debug)
    assert any(m.endswith("being returned to pool") for m in debug)
    assert pool._logger.name == "athanor.pool.impl.QueuePool.reports"


def test_invalidation_is_logged_with_its_reason(
    creator: Creator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="athanor")
    pool = QueuePool(creator, pool_size=1, echo=True)
    conn = pool.connect()
    conn.invalidate(RuntimeError("socket reset"))
    assert any(
        "nvalidate connection" in m and "RuntimeError: socket reset" in m
        for m in messages(caplog, logging.INFO)
    )


def test_no_echo_and_no_logging_configuration_logs_nothing(
    creator: Creator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="athanor")
    pool = QueuePool(creator, pool_size=1)
    assert pool._logger.name == "athanor.pool.impl.QueuePool"
    assert not pool._log_info
    pool.connect().close()
    assert messages(caplog, logging.INFO) == []


def test_logger_configured_before_the_pool_is_honoured(
    creator: Creator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="athanor.pool")
    pool = QueuePool(creator, pool_size=1)
    assert pool._log_info
    pool.connect().close()
    assert any(m.endswith("checked out from pool") for m in messages(caplog, logging.DEBUG))


def test_echo_can_be_switched_later(creator: Creator, caplog: pytest.LogCaptureFixture) -> None:
    pool = QueuePool(creator, pool_size=1, logging_name="late")
    pool.connect().close()
    assert messages(caplog, logging.INFO) == []
    pool.echo = True
    pool.connect().invalidate()
    assert any("nvalidate connection" in m for m in messages(caplog, logging.INFO))
    pool.echo = False
    caplog.clear()
    pool.connect().invalidate()
    assert messages(caplog, logging.INFO) == []


def test_echo_is_per_pool(creator: Creator, caplog: pytest.LogCaptureFixture) -> None:
    loud = QueuePool(creator, pool_size=1, echo=True)
    quiet = QueuePool(creator, pool_size=1)
    quiet.connect().invalidate()
    quiet.dispose()
    assert messages(caplog, logging.INFO) == []
    loud.connect().invalidate()
    loud.dispose()
    info = messages(caplog, logging.INFO)
    assert any("nvalidate connection" in m for m in info)
    assert any(m.startswith("Pool disposed") for m in info)
    # the shared logger's level is untouched, so a third pool stays quiet too
    caplog.clear()
    QueuePool(creator, pool_size=1).connect().invalidate()
    assert messages(caplog, logging.INFO) == []
