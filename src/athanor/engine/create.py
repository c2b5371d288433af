"""``create_engine``: check the arguments, pick the dialect and the pool, build the Engine."""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Callable, Mapping
from typing import Any

from athanor import exc
from athanor.dialects import load_dialect_class, resolve_key
from athanor.engine.default import DefaultDialect
from athanor.engine.engine import Engine
from athanor.pool import Pool
from athanor.url import URL, make_url, mask_password_in_text

_ENGINE_ARGUMENTS = frozenset(
    {
        "echo",
        "echo_pool",
        "future",
        "pool_size",
        "max_overflow",
        "pool_timeout",
        "pool_recycle",
        "pool_pre_ping",
        "pool_reset_on_return",
        "pool_use_lifo",
        "poolclass",
        "pool",
        "pool_logging_name",
        "creator",
        "connect_args",
        "isolation_level",
        "execution_options",
        "hide_parameters",
        "logging_name",
        "query_cache_size",
        "paramstyle",
        "json_serializer",
        "json_deserializer",
        "module",
        "pool_events",
        "enable_from_linting",
    }
)

# Which create_engine pool arguments each pool class accepts (by its constructor's name).
_POOL_ARGUMENT_NAMES = {
    "pool_size": "pool_size",
    "max_overflow": "max_overflow",
    "pool_timeout": "timeout",
    "pool_use_lifo": "use_lifo",
}


def _pool_accepts(poolclass: type[Pool], name: str) -> bool:
    return name in inspect.signature(poolclass).parameters


def _unknown_argument(
    name: str, known: frozenset[str] = _ENGINE_ARGUMENTS, function: str = "create_engine"
) -> TypeError:
    close = difflib.get_close_matches(name, sorted(known), n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return TypeError(f"{function}() got an unexpected keyword argument {name!r}{hint}")


def create_engine(url: str | URL, **kwargs: Any) -> Engine:
    """Create an :class:`Engine` for ``url``; arguments as SQLAlchemy's ``create_engine``."""
    return _build_engine(url, kwargs, is_async=False)


def _as_bool(value: Any) -> bool:
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _TRUE_WORDS:
            return True
        if word in _FALSE_WORDS:
            return False
        raise ValueError(f"expected one of {', '.join(_TRUE_WORDS + _FALSE_WORDS)}")
    return bool(value)


def _as_int(value: Any) -> int:
    try:
        return int(value)
    except ValueError:
        raise ValueError("expected a whole number") from None


def _as_float(value: Any) -> float:
    try:
        return float(value)
    except ValueError:
        raise ValueError("expected a number of seconds") from None


def _as_echo(value: Any) -> bool | str:
    if isinstance(value, str) and value.strip().lower() == "debug":
        return "debug"
    return _as_bool(value)


_TRUE_WORDS = ("true", "yes", "on", "y", "t", "1")
_FALSE_WORDS = ("false", "no", "off", "n", "f", "0")

# How engine_from_config turns ini-file strings into create_engine arguments.
_CONFIG_TYPES: dict[str, Callable[[Any], Any]] = {
    "echo": _as_echo,
    "echo_pool": _as_echo,
    "future": _as_bool,
    "hide_parameters": _as_bool,
    "pool_pre_ping": _as_bool,
    "pool_use_lifo": _as_bool,
    "enable_from_linting": _as_bool,
    "pool_size": _as_int,
    "max_overflow": _as_int,
    "query_cache_size": _as_int,
    "pool_timeout": _as_float,
    "pool_recycle": _as_float,
}


def engine_from_config(
    configuration: Mapping[str, Any], prefix: str = "sqlalchemy.", **kwargs: Any
) -> Engine:
    """Create an engine from a configuration dict, as read from an ini file.

    Keys starting with ``prefix`` are used without it: ``<prefix>url`` is the URL, the others
    are :func:`create_engine` arguments, with strings such as ``"10"`` or ``"true"``
    converted for the numeric and boolean ones.  ``kwargs`` override the configuration.
    """
    url, options = config_options(configuration, prefix, kwargs)
    return create_engine(url, **options)


def config_options(
    configuration: Mapping[str, Any], prefix: str, overrides: Mapping[str, Any]
) -> tuple[Any, dict[str, Any]]:
    """The URL and the engine arguments that ``prefix``-ed configuration keys give, with
    ini-file strings converted and ``overrides`` applied (shared by the sync and async
    ``engine_from_config``)."""
    options: dict[str, Any] = {
        key[len(prefix) :]: value for key, value in configuration.items() if key.startswith(prefix)
    }
    for name, value in options.items():
        coerce = _CONFIG_TYPES.get(name)
        if coerce is None or not isinstance(value, str):
            continue
        try:
            options[name] = coerce(value)
        except ValueError as error:
            raise exc.ArgumentError(
                f"Configuration value {prefix}{name} = {value!r} is not valid: {error}"
            ) from None
    options.update(overrides)
    if "url" not in options:
        raise exc.ArgumentError(
            f"No database URL in the configuration: set {prefix}url, or pass url=..."
        )
    url = options.pop("url")
    return url, options


# create_pool_from_url also takes the pool constructor's own names for these arguments.
_POOL_CONSTRUCTOR_NAMES = {
    "timeout": "pool_timeout",
    "recycle": "pool_recycle",
    "pre_ping": "pool_pre_ping",
    "use_lifo": "pool_use_lifo",
    "reset_on_return": "pool_reset_on_return",
    "logging_name": "pool_logging_name",
    "echo": "echo_pool",
    "events": "pool_events",
}
_POOL_FROM_URL_ARGUMENTS = frozenset(
    {
        "poolclass",
        "pool_size",
        "max_overflow",
        "pool_timeout",
        "pool_recycle",
        "pool_pre_ping",
        "pool_use_lifo",
        "pool_reset_on_return",
        "pool_logging_name",
        "echo_pool",
        "pool_events",
        "creator",
        "connect_args",
        "module",
    }
)


def create_pool_from_url(url: str | URL, **kwargs: Any) -> Pool:
    """A connection pool for ``url`` without an engine around it.

    The pool class is the dialect's default unless ``poolclass=`` names one; the other
    arguments are ``create_engine``'s pool arguments (``pool_size``, ``max_overflow``,
    ``pool_recycle``, ``connect_args``, ...) or the pool constructor's names for them
    (``timeout``, ``recycle``, ``pre_ping``, ``use_lifo``, ``reset_on_return``, ``echo``, ...).
    """
    return _build_pool(url, kwargs, is_async=False)


def _build_pool(url: str | URL, kwargs: Mapping[str, Any], *, is_async: bool) -> Pool:
    """Shared by ``create_pool_from_url`` and ``create_async_pool_from_url``."""
    options: dict[str, Any] = {}
    for name, value in kwargs.items():
        engine_name = _POOL_CONSTRUCTOR_NAMES.get(name, name)
        if engine_name not in _POOL_FROM_URL_ARGUMENTS:
            raise _unknown_argument(name, _POOL_FROM_URL_ARGUMENTS, "create_pool_from_url")
        options[engine_name] = value
    parsed, dialect, cargs, cparams = _dialect_for(url, options, is_async=is_async)
    return _make_pool(parsed, dialect, options, cargs, cparams)


def _build_engine(url: str | URL, kwargs: dict[str, Any], *, is_async: bool) -> Engine:
    """Shared by ``create_engine`` and ``create_async_engine``: only the dialect lookup differs."""
    for name in kwargs:
        if name not in _ENGINE_ARGUMENTS:
            raise _unknown_argument(name)
    parsed, dialect, cargs, cparams = _dialect_for(url, kwargs, is_async=is_async)
    dialect.from_linting = bool(kwargs.get("enable_from_linting", True))
    pool = kwargs.get("pool")
    if pool is None:
        pool = _make_pool(parsed, dialect, kwargs, cargs, cparams)
    elif not isinstance(pool, Pool):
        raise exc.ArgumentError(f"pool= must be a Pool instance, got {type(pool).__name__}")

    return Engine(
        pool,
        dialect,
        parsed,
        logging_name=kwargs.get("logging_name"),
        echo=kwargs.get("echo"),
        hide_parameters=bool(kwargs.get("hide_parameters", False)),
        query_cache_size=int(kwargs.get("query_cache_size", 500)),
        execution_options=kwargs.get("execution_options"),
    )


def _dialect_for(
    url: str | URL, kwargs: Mapping[str, Any], *, is_async: bool
) -> tuple[URL, DefaultDialect, list[Any], dict[str, Any]]:
    """The parsed URL, its dialect and the driver's connect arguments (URL + ``connect_args``)."""
    parsed = make_url(url)
    dialect_class = _dialect_class_for(parsed, is_async=is_async)
    dialect_kwargs: dict[str, Any] = {}
    for name in ("isolation_level", "paramstyle", "json_serializer", "json_deserializer"):
        if kwargs.get(name) is not None:
            dialect_kwargs[name] = kwargs[name]
    if kwargs.get("module") is not None:
        dialect_kwargs["dbapi"] = kwargs["module"]
    dialect = dialect_class(**dialect_kwargs)

    cargs, cparams = dialect.create_connect_args(parsed)
    connect_args = kwargs.get("connect_args") or {}
    if not isinstance(connect_args, Mapping):
        raise exc.ArgumentError(
            f"connect_args must be a dict of driver connect() arguments, got "
            f"{type(connect_args).__name__}"
        )
    cparams.update(connect_args)
    dialect.take_connect_args(cparams)
    return parsed, dialect, cargs, cparams


def _dialect_class_for(url: URL, *, is_async: bool) -> type[DefaultDialect]:
    key = resolve_key(url)
    dialect_class = load_dialect_class(key)
    if is_async and not dialect_class.is_async:
        if dialect_class.async_variant is None:
            raise exc.ArgumentError(
                f"create_async_engine() needs an async driver, but {url.drivername}:// uses "
                f"{dialect_class.driver}, which is synchronous; name an async driver in the URL "
                f"instead: {_async_examples(dialect_class.name)}"
            )
        dialect_class = load_dialect_class(dialect_class.async_variant)
    elif not is_async and dialect_class.is_async:
        raise exc.ArgumentError(
            f"The {dialect_class.driver} driver is async; use create_async_engine() from "
            f"athanor.ext.asyncio, or a sync driver such as {_sync_example(dialect_class.name)}"
        )
    dialect_class = dialect_class.for_url(url)
    dialect_class.import_dbapi()
    return dialect_class


def _async_examples(backend: str) -> str:
    return {
        "sqlite": "sqlite+aiosqlite://",
        "postgresql": "postgresql+asyncpg:// or postgresql+psycopg://",
        "mysql": "mysql+asyncmy:// or mysql+aiomysql://",
    }.get(backend, "the database's async driver")


def _sync_example(backend: str) -> str:
    return {
        "sqlite": "sqlite://",
        "postgresql": "postgresql+psycopg://",
        "mysql": "mysql+pymysql://",
    }.get(backend, "the database's sync driver")


def _make_pool(
    url: URL,
    dialect: DefaultDialect,
    kwargs: Mapping[str, Any],
    cargs: list[Any],
    cparams: dict[str, Any],
) -> Pool:
    poolclass: type[Pool] = kwargs.get("poolclass") or dialect.get_pool_class(url)
    if not (isinstance(poolclass, type) and issubclass(poolclass, Pool)):
        raise exc.ArgumentError(f"poolclass must be a Pool subclass, got {poolclass!r}")

    connect: Callable[..., Any] | None = kwargs.get("creator")
    if connect is None:

        def connect() -> Any:
            try:
                return dialect.connect(*cargs, **cparams)
            except dialect.dbapi_error as error:
                wrapped = exc.DBAPIError.instance(None, None, error, dialect.dbapi_error)
                wrapped.args = (mask_password_in_text(str(wrapped.args[0]), url),)
                raise wrapped from error

    elif not callable(connect):
        raise exc.ArgumentError(f"creator must be callable, got {type(connect).__name__}")

    pool_kwargs: dict[str, Any] = {
        "recycle": kwargs.get("pool_recycle", -1),
        "echo": kwargs.get("echo_pool", False),
        "logging_name": kwargs.get("pool_logging_name"),
        "pre_ping": bool(kwargs.get("pool_pre_ping", False)),
        "dialect": dialect,
        "events": kwargs.get("pool_events"),
    }
    if "pool_reset_on_return" in kwargs:
        pool_kwargs["reset_on_return"] = kwargs["pool_reset_on_return"]
    for engine_name, pool_name in _POOL_ARGUMENT_NAMES.items():
        if engine_name not in kwargs:
            continue
        if not _pool_accepts(poolclass, pool_name):
            raise exc.ArgumentError(
                f"{engine_name}={kwargs[engine_name]!r} does not apply to {poolclass.__name__}; "
                f"remove it, or use poolclass=QueuePool (the default) to get a sized pool"
            )
        pool_kwargs[pool_name] = kwargs[engine_name]
    pool = poolclass(connect, **pool_kwargs)
    _install_dialect_hooks(pool, dialect)
    return pool


def _install_dialect_hooks(pool: Pool, dialect: DefaultDialect) -> None:
    """First connection: learn the server version; every connection: per-connection setup."""
    from athanor import event

    def first_connect(dbapi_connection: Any, connection_record: Any) -> None:
        dialect.initialize(dbapi_connection)

    def on_connect(dbapi_connection: Any, connection_record: Any) -> None:
        dialect.on_connect(dbapi_connection)

    event.listen(pool, "connect", on_connect, insert=True)
    event.listen(pool, "first_connect", first_connect, insert=True)
