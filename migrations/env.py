import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app

# this is the Alembic Config object, which provides
# access to the values within the .ini file in use.
config = context.config

# Interpret the config file for Python logging.
# This line sets up loggers basically.
# Not disable_existing_loggers: an upgrade run inside the app's process (the tests' migrated database) would
# otherwise silence the app's own logger for the rest of that process.
fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")


def get_engine():
    return current_app.extensions["migrate"].db.engine


def get_engine_url():
    try:
        return get_engine().url.render_as_string(hide_password=False).replace("%", "%%")
    except AttributeError:
        return str(get_engine().url).replace("%", "%%")


# add your model's MetaData object here
# for 'autogenerate' support
# from myapp import mymodel
# target_metadata = mymodel.Base.metadata
config.set_main_option("sqlalchemy.url", get_engine_url())
target_db = current_app.extensions["migrate"].db

# other values from the config, defined by the needs of env.py,
# can be acquired:
# my_important_option = config.get_main_option("my_important_option")
# ... etc.


def get_metadata():
    if hasattr(target_db, "metadatas"):
        return target_db.metadatas[None]
    return target_db.metadata


def render_item(type_, obj, autogen_context):
    """Write our column types (TypeDecorators) as the plain SQLAlchemy types they store."""
    from sqlalchemy.types import TypeDecorator

    if type_ == "type" and isinstance(obj, TypeDecorator):
        return f"sa.{obj.impl!r}"
    return False


def on_this_dialect(dialect_name):
    """Compare a model's object only on the dialect it is declared for (its `info["dialect"]`, e.g.
    the trigram indexes PostgreSQL alone has), so `flask db check` stays clean on SQLite too."""

    def include_object(obj, name, type_, reflected, compare_to):
        return getattr(obj, "info", {}).get("dialect", dialect_name) == dialect_name

    return include_object


def warn_about_settings(connection):
    """Name each PostgreSQL setting that differs from README "Production" (a warning, never a failure)."""
    from admin_app.services.platform.database_settings import differences

    for line in differences(connection):
        logger.warning("PostgreSQL setting %s", line)
    connection.rollback()


def run_migrations_offline():
    """Run migrations in 'offline' mode.

    This configures the context with just a URL
    and not an Engine, though an Engine is acceptable
    here as well.  By skipping the Engine creation
    we don't even need a DBAPI to be available.

    Calls to context.execute() here emit the given string to the
    script output.

    """
    url = config.get_main_option("sqlalchemy.url")
    context.configure(url=url, target_metadata=get_metadata(), literal_binds=True)

    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    """Run migrations in 'online' mode.

    In this scenario we need to create an Engine
    and associate a connection with the context.

    """

    # this callback is used to prevent an auto-migration from being generated
    # when there are no changes to the schema
    # reference: http://alembic.zzzcomputing.com/en/latest/cookbook.html
    def process_revision_directives(context, revision, directives):
        if getattr(config.cmd_opts, "autogenerate", False):
            script = directives[0]
            if script.upgrade_ops.is_empty():
                directives[:] = []
                logger.info("No changes in schema detected.")

    conf_args = current_app.extensions["migrate"].configure_args
    if conf_args.get("process_revision_directives") is None:
        conf_args["process_revision_directives"] = process_revision_directives
    conf_args.setdefault("render_item", render_item)
    conf_args.setdefault("compare_type", True)

    connectable = get_engine()

    with connectable.connect() as connection:
        if connection.dialect.name == "sqlite":
            # The app turns foreign keys on; batch migrations copy tables and need them off.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        context.configure(
            connection=connection,
            target_metadata=get_metadata(),
            include_object=on_this_dialect(connection.dialect.name),
            **conf_args,
        )

        with context.begin_transaction():
            context.run_migrations()

        if connection.dialect.name == "postgresql":
            warn_about_settings(connection)
        if connection.dialect.name == "sqlite":
            # The connection goes back to the app's pool: give it back as the app expects it.
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            connection.commit()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
