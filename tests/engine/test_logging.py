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
    with engine.connect() as conn:
        conn.invalidate()
    engine.dispose()
    pool_records = [r for r in caplog.records if r.name.startswith("athanor.pool")]
    assert {r.levelno for r in pool_records} == {logging.INFO}
    messages = [r.getMessage() for r in pool_records]
    assert any(m.startswith("Created new connection") for m in messages)
    assert any(m.startswith("Invalidate connection") for m in messages)
    assert any(m.startswith("Pool disposed") for m in messages)
    assert not any("checked out" in m or "returned to pool" in m for m in messages)


def test_echo_pool_debug_adds_checkouts_and_checkins(
    backend, caplog: pytest.LogCaptureFixture
) -> None:
    engine = athanor.create_engine(backend.url, echo_pool="debug")
    with engine.connect():
        pass
    engine.dispose()
    debug = [
        r.getMessage()
        for r in caplog.records
        if r.name.startswith("athanor.pool") and r.levelno == logging.DEBUG
    ]
    assert any(m.endswith("checked out from pool") for m in debug)
    assert any(m.endswith("being returned to pool") for m in debug)


def _sql_lines(caplog: pytest.LogCaptureFixture, marker: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if marker in r.getMessage()]


def test_echo_is_per_engine(backend, caplog: pytest.LogCaptureFixture) -> None:
    loud = athanor.create_engine(backend.url, echo=True)
    quiet = athanor.create_engine(backend.url)
    try:
        with quiet.connect() as conn:
            conn.execute(text("SELECT 'quiet-before' AS v"))
        with loud.connect() as conn:
            conn.execute(text("SELECT 'loud-marker' AS v"))
        with quiet.connect() as conn:
            conn.execute(text("SELECT 'quiet-after' AS v"))
        assert [r.levelno for r in _sql_lines(caplog, "loud-marker")] == [logging.INFO]
        assert _sql_lines(caplog, "quiet-before") == []
        assert _sql_lines(caplog, "quiet-after") == []
        # the shared logger's level is left alone: logging configuration still decides
        assert logging.getLogger("athanor.engine.Engine").level == logging.NOTSET
    finally:
        loud.dispose()
        quiet.dispose()


def test_echo_can_be_turned_off_and_on_at_run_time(
    backend, caplog: pytest.LogCaptureFixture
) -> None:
    engine = athanor.create_engine(backend.url, echo=True)
    try:
        engine.echo = False
        with engine.connect() as conn:
            conn.execute(text("SELECT 'while-off' AS v"))
        assert _sql_lines(caplog, "while-off") == []
        engine.echo = True
        with engine.connect() as conn:
            conn.execute(text("SELECT 'while-on' AS v"))
        assert len(_sql_lines(caplog, "while-on")) == 1
        assert engine.echo is True
    finally:
        engine.dispose()


def test_echo_on_an_option_engine_leaves_the_parent_quiet(
    backend, caplog: pytest.LogCaptureFixture
) -> None:
    engine = athanor.create_engine(backend.url)
    tagged = engine.execution_options(logging_token="x")
    tagged.echo = True
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 'parent-marker' AS v"))
        with tagged.connect() as conn:
            conn.execute(text("SELECT 'option-marker' AS v"))
        assert _sql_lines(caplog, "parent-marker") == []
        assert len(_sql_lines(caplog, "option-marker")) == 1
    finally:
        engine.dispose()


def test_logging_configuration_applies_to_engines_without_echo(
    caplog: pytest.LogCaptureFixture,
) -> None:
    engine = athanor.create_engine("sqlite://", logging_name="reports")
    caplog.set_level(logging.INFO, logger="athanor.engine")
    with engine.connect() as conn:
        conn.execute(text("SELECT 'configured-marker' AS v"))
    [record] = _sql_lines(caplog, "configured-marker")
    assert record.name == "athanor.engine.Engine.reports"
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


def test_logging_disable_silences_echo_and_configured_loggers(
    backend, caplog: pytest.LogCaptureFixture
) -> None:
    echoing = athanor.create_engine(backend.url, echo=True)
    configured = athanor.create_engine(backend.url)
    with caplog.at_level(logging.INFO, logger="athanor.engine"):
        logging.disable(logging.INFO)  # after at_level, which lifts a disable it finds
        try:
            for engine in (echoing, configured):
                with engine.connect() as conn:
                    conn.execute(text("SELECT 'quiet-marker'")).all()
        finally:
            logging.disable(logging.NOTSET)
    assert not any("quiet-marker" in r.getMessage() for r in caplog.records)
    with caplog.at_level(logging.INFO, logger="athanor.engine"), echoing.connect() as conn:
        conn.execute(text("SELECT 'loud-marker'")).all()
    assert any("loud-marker" in r.getMessage() for r in caplog.records)
    echoing.dispose()
    configured.dispose()
