"""echo / echo_pool / hide_parameters logging, and password masking in logs and errors."""

from __future__ import annotations

import logging

import pytest

import athanor
from athanor import exc, text


def test_echo_logs_sql_and_parameters(backend, caplog: pytest.LogCaptureFixture) -> None:
    engine = athanor.create_engine(backend.url, echo=True)
    with caplog.at_level(logging.INFO, logger="athanor.engine"), engine.connect() as conn:
        conn.execute(text("SELECT :value"), {"value": 12345})
    messages = [record.getMessage() for record in caplog.records]
    assert any("SELECT" in message for message in messages)
    assert any("12345" in message for message in messages)
    engine.dispose()


def test_echo_debug_logs_rows(backend, caplog: pytest.LogCaptureFixture) -> None:
    engine = athanor.create_engine(backend.url, echo="debug")
    with caplog.at_level(logging.DEBUG, logger="athanor.engine"), engine.connect() as conn:
        conn.execute(text("SELECT 'row-marker' AS v")).all()
    assert any("row-marker" in r.getMessage() and "Row" in r.getMessage() for r in caplog.records)
    engine.dispose()


def test_hide_parameters_hides_them_in_logs_and_errors(
    backend, caplog: pytest.LogCaptureFixture
) -> None:
    engine = athanor.create_engine(backend.url, echo=True, hide_parameters=True)
    with caplog.at_level(logging.INFO, logger="athanor.engine"), engine.connect() as conn:
        conn.execute(text("SELECT :secret"), {"secret": "hunter2-value"})
        with pytest.raises(exc.DBAPIError) as caught:
            conn.execute(
                text("SELECT * FROM nowhere_table WHERE x = :secret"), {"secret": "hunter2-value"}
            )
    assert "hunter2-value" not in str(caught.value)
    assert all("hunter2-value" not in record.getMessage() for record in caplog.records)
    engine.dispose()


def test_echo_pool_logs_pool_events(backend, caplog: pytest.LogCaptureFixture) -> None:
    engine = athanor.create_engine(backend.url, echo_pool=True)
    with caplog.at_level(logging.DEBUG, logger="athanor.pool"), engine.connect():
        pass
    assert any(record.name.startswith("athanor.pool") for record in caplog.records)
    engine.dispose()


def test_password_never_in_logs_or_errors(caplog: pytest.LogCaptureFixture) -> None:
    engine = athanor.create_engine(
        "postgresql://nobody:VerySecretPw@127.0.0.1:1/nothing",
        echo=True,
        echo_pool=True,
        connect_args={"connect_timeout": 1},
    )
    with caplog.at_level(logging.DEBUG), pytest.raises(exc.OperationalError) as caught:
        engine.connect()
    assert "VerySecretPw" not in str(caught.value)
    assert "VerySecretPw" not in repr(engine)
    assert all("VerySecretPw" not in record.getMessage() for record in caplog.records)
