"""create_engine: argument checking, defaults, dialect and pool choice, driver errors."""

from __future__ import annotations

import pytest

import athanor
from athanor import exc
from athanor.ext.asyncio import create_async_engine
from athanor.pool import NullPool, QueuePool, SingletonThreadPool, StaticPool


def test_unknown_keyword_is_named_with_a_suggestion() -> None:
    with pytest.raises(TypeError, match=r"'pool_sise'.*did you mean 'pool_size'"):
        athanor.create_engine("sqlite://", pool_sise=5)


def test_pool_size_with_nullpool_is_refused_with_the_fix() -> None:
    with pytest.raises(exc.ArgumentError, match=r"pool_size=5 does not apply to NullPool"):
        athanor.create_engine("sqlite:///x.db", poolclass=NullPool, pool_size=5)


def test_future_flag_is_accepted_and_changes_nothing() -> None:
    engine = athanor.create_engine("sqlite://", future=True)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT 1").scalar() == 1


def test_memory_sqlite_defaults_to_singleton_thread_pool() -> None:
    assert isinstance(athanor.create_engine("sqlite://").pool, SingletonThreadPool)
    assert isinstance(athanor.create_engine("sqlite:///:memory:").pool, SingletonThreadPool)


def test_file_sqlite_and_servers_default_to_queue_pool(tmp_path) -> None:
    engine = athanor.create_engine(f"sqlite:///{tmp_path}/app.db")
    assert isinstance(engine.pool, QueuePool)
    assert engine.pool.size() == 5
    pg = athanor.create_engine("postgresql://app:secret@localhost:5432/appdb")
    assert isinstance(pg.pool, QueuePool)
    assert "Pool size: 5" in pg.pool.status()


def test_default_drivers_per_backend() -> None:
    assert athanor.create_engine("postgresql://u@h/db").dialect.driver == "psycopg"
    assert athanor.create_engine("mysql://u@h/db").dialect.driver == "pymysql"
    assert athanor.create_engine("mariadb://u@h/db").dialect.driver == "pymysql"
    assert athanor.create_engine("sqlite://").dialect.driver == "pysqlite"
    assert athanor.create_engine("postgresql+psycopg://u@h/db").dialect.name == "postgresql"


def test_unknown_database_and_driver_are_named() -> None:
    with pytest.raises(exc.ArgumentError, match=r"Unknown database 'oracle'"):
        athanor.create_engine("oracle://u@h/db")
    with pytest.raises(exc.ArgumentError, match=r"Unknown driver 'nosuch' for postgresql"):
        athanor.create_engine("postgresql+nosuch://u@h/db")


def test_async_driver_with_sync_create_engine_says_what_to_use() -> None:
    with pytest.raises(exc.ArgumentError, match=r"create_async_engine"):
        athanor.create_engine("postgresql+asyncpg://u@h/db")


def test_missing_driver_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    from athanor.dialects.postgresql.psycopg import PsycopgDialect

    monkeypatch.setattr(PsycopgDialect, "dbapi_module", "athanor_no_such_driver_module")
    with pytest.raises(exc.NoSuchModuleError, match=r"pip install 'athanor-db\[postgresql\]'"):
        athanor.create_engine("postgresql://u@h/db")


@pytest.mark.parametrize("name", ["sqlite", "postgresql", "mysql"])
def test_compile_only_dialect_has_no_driver_module(name: str) -> None:
    import importlib

    dialect = importlib.import_module(f"athanor.dialects.{name}").dialect()
    with pytest.raises(exc.NoDBAPILoaded, match="has no driver"):
        dialect.dbapi  # noqa: B018
    with pytest.raises(exc.InvalidRequestError, match="cannot connect"):
        dialect.loaded_dbapi  # noqa: B018


def test_engine_repr_masks_the_password() -> None:
    engine = athanor.create_engine("postgresql+psycopg://app:s3cr%40t@localhost:5432/appdb")
    assert "s3cr" not in repr(engine)
    assert "***" in repr(engine)
    assert engine.url.password == "s3cr@t"


def test_invalid_isolation_level_is_refused() -> None:
    with pytest.raises(exc.ArgumentError, match=r"Invalid isolation level 'SOMETIMES'"):
        athanor.create_engine("sqlite://", isolation_level="SOMETIMES")


def test_static_pool_and_creator(tmp_path) -> None:
    import sqlite3

    made: list[sqlite3.Connection] = []

    def creator() -> sqlite3.Connection:
        connection = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
        made.append(connection)
        return connection

    engine = athanor.create_engine("sqlite://", creator=creator, poolclass=StaticPool)
    with engine.connect() as conn:
        conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
        conn.exec_driver_sql("INSERT INTO t VALUES (1)")
        conn.commit()
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM t").scalar() == 1
    assert len(made) == 1


def test_connect_args_must_be_a_dict() -> None:
    with pytest.raises(exc.ArgumentError, match="connect_args must be a dict"):
        athanor.create_engine("sqlite://", connect_args=["check_same_thread"])


def test_execution_options_engine_shares_the_pool(tmp_path) -> None:
    engine = athanor.create_engine(f"sqlite:///{tmp_path}/a.db")
    autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
    assert autocommit.pool is engine.pool
    assert autocommit.get_execution_options()["isolation_level"] == "AUTOCOMMIT"
    assert "isolation_level" not in engine.get_execution_options()


@pytest.mark.backends("postgresql")
def test_asyncpg_server_settings_with_psycopg_is_a_dbapi_error_naming_it(backend) -> None:
    engine = athanor.create_engine(
        backend.url, connect_args={"server_settings": {"application_name": "myapp"}}
    )
    with pytest.raises(exc.DBAPIError, match=r'"server_settings".*asyncpg.*application_name'):
        engine.connect()
    engine.dispose()


def test_engine_from_config_coerces_ini_strings() -> None:
    config = {
        "sqlalchemy.url": "sqlite:///:memory:",
        "sqlalchemy.echo": "debug",
        "sqlalchemy.echo_pool": "false",
        "sqlalchemy.pool_pre_ping": "True",
        "sqlalchemy.hide_parameters": "yes",
        "sqlalchemy.query_cache_size": "0",
        "sqlalchemy.isolation_level": "SERIALIZABLE",
        "alembic.script_location": "migrations",
    }
    engine = athanor.engine_from_config(config)
    assert engine.echo == "debug"
    assert engine.pool.echo is False
    assert engine.pool._pre_ping is True
    assert engine.hide_parameters is True
    assert engine._compiled_cache is None
    with engine.connect() as conn:
        assert conn.get_isolation_level() == "SERIALIZABLE"
    engine.dispose()


def test_engine_from_config_sizes_the_pool_from_strings(tmp_path) -> None:
    engine = athanor.engine_from_config(
        {
            "db.url": f"sqlite:///{tmp_path}/app.db",
            "db.pool_size": "3",
            "db.max_overflow": "7",
            "db.pool_timeout": "2.5",
            "db.pool_recycle": "3600",
            "db.pool_use_lifo": "on",
            "db.echo": "0",
        },
        prefix="db.",
    )
    assert engine.pool.size() == 3
    assert engine.pool._max_overflow == 7
    assert engine.pool._timeout == 2.5
    assert engine.pool._recycle == 3600
    assert engine.echo is False


def test_engine_from_config_keyword_arguments_override_the_file() -> None:
    engine = athanor.engine_from_config(
        {"sqlalchemy.url": "sqlite://", "sqlalchemy.echo": "true"}, echo=False, future=True
    )
    assert engine.echo is False


def test_engine_from_config_explains_bad_values_and_a_missing_url() -> None:
    with pytest.raises(exc.ArgumentError, match=r"sqlalchemy.pool_size = 'ten'.*whole number"):
        athanor.engine_from_config(
            {"sqlalchemy.url": "sqlite:///x.db", "sqlalchemy.pool_size": "ten"}
        )
    with pytest.raises(exc.ArgumentError, match=r"sqlalchemy.echo = 'maybe'.*expected one of"):
        athanor.engine_from_config({"sqlalchemy.url": "sqlite://", "sqlalchemy.echo": "maybe"})
    with pytest.raises(exc.ArgumentError, match=r"set sqlalchemy\.url"):
        athanor.engine_from_config({"sqlalchemy.echo": "true"})
    with pytest.raises(TypeError, match=r"'pool_sise'"):
        athanor.engine_from_config({"sqlalchemy.url": "sqlite://", "sqlalchemy.pool_sise": "1"})


@pytest.mark.parametrize(
    ("url", "suggested"),
    [
        ("mysql+pymysql://u@h/db", "mysql+asyncmy:// or mysql+aiomysql://"),
        ("mysql://u@h/db", "mysql+asyncmy:// or mysql+aiomysql://"),
        ("mariadb://u@h/db", "mysql+asyncmy:// or mysql+aiomysql://"),
        ("sqlite://", "sqlite+aiosqlite://"),
        ("sqlite+pysqlite:///app.db", "sqlite+aiosqlite://"),
    ],
)
def test_sync_only_drivers_are_refused_by_create_async_engine(url: str, suggested: str) -> None:
    """No silent switch to another driver: the URL must name an async one."""
    with pytest.raises(exc.ArgumentError) as caught:
        create_async_engine(url)
    message = str(caught.value)
    assert "synchronous" in message
    assert suggested in message
    assert f"{url.split(':', 1)[0]}://" in message


@pytest.mark.parametrize("url", ["postgresql://u@h/db", "postgresql+psycopg://u@h/db"])
def test_psycopg_urls_use_psycopgs_own_async_mode(url: str) -> None:
    engine = create_async_engine(url)
    assert engine.driver == "psycopg_async"
    assert engine.sync_engine.dialect.is_async


def test_unsupported_driver_names_the_available_ones() -> None:
    with pytest.raises(exc.NoSuchModuleError, match=r"'psycopg2'.*asyncpg, psycopg"):
        create_async_engine("postgresql+psycopg2://u@h/db")
