"""The migration environment: how `athanor migrate` connects and what autogenerate compares.

The database URL comes from `--url`, else the DATABASE_URL environment variable, else
`sqlalchemy.url` in athanor.ini (the command puts the winner into `sqlalchemy.url`).
"""

from logging.config import fileConfig

from athanor import create_engine, pool
from athanor.migrate import context

config = context.config

if config.config_file_name is not None:
    fileConfig(config.config_file_name, disable_existing_loggers=False)

# Point this at your models' MetaData for `athanor migrate revision --autogenerate`:
#     from myapp.models import Base
#     target_metadata = Base.metadata
# (or set `target_metadata = myapp.models:Base.metadata` in athanor.ini).
target_metadata = None


def run_migrations_offline() -> None:
    """`--sql`: render the migrations as SQL for the URL's database, without connecting."""
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Connect and run the migrations."""
    engine = create_engine(config.get_main_option("sqlalchemy.url"), poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            context.configure(connection=connection, target_metadata=target_metadata)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
