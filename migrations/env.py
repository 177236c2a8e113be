"""Alembic environment for cplan: the app's engine and metadata, batch mode on SQLite."""
import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app

config = context.config
if config.config_file_name and not current_app.testing:
    fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")

db = current_app.extensions["migrate"].db
target_metadata = db.metadata


def _configure(**kwargs):
    options = dict(current_app.extensions["migrate"].configure_args)
    options.update(compare_type=True, compare_server_default=True, **kwargs)
    context.configure(target_metadata=target_metadata, **options)


def run_migrations_offline():
    """Emit SQL to stdout instead of touching a database."""
    _configure(url=db.engine.url.render_as_string(hide_password=False), literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    """Run the migrations on the app's database."""
    with db.engine.connect() as connection:
        _configure(
            connection=connection,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
