"""Alembic environment: async engine, the app's own settings, the models' metadata.

Two ways in:
* ``alembic upgrade head`` / ``python -m course_app migrate``: the URL comes from the
  app's settings (``DATABASE_URL``), never from alembic.ini;
* programmatically with an open connection in ``config.attributes["connection"]``
  (start-up in development, and the migration tests).
"""

from __future__ import annotations

import asyncio
from typing import Any, Literal

from alembic import context
from sqlalchemy.engine import Connection

import course_app.models as models
from course_app.config import get_settings
from course_app.core.database import UTCDateTime, build_engine
from course_app.core.migrations import migration_connection

config = context.config
target_metadata = models.Base.metadata


def render_item(kind: str, item: Any, autogen_context: Any) -> str | Literal[False]:
    """Write the app's column types as plain SQLAlchemy types, so a migration never
    imports application code (it must still run after that code has changed)."""
    if kind == "type" and isinstance(item, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def run_with(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_item=render_item,
        compare_type=True,
        render_as_batch=connection.dialect.name == "sqlite",  # ALTER TABLE on SQLite
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_async() -> None:
    url = config.get_main_option("sqlalchemy.url") or get_settings().database_url_value
    engine = build_engine(url)
    try:
        async with migration_connection(engine) as connection:
            await connection.run_sync(run_with)
    finally:
        await engine.dispose()


def run_offline() -> None:
    url = config.get_main_option("sqlalchemy.url") or get_settings().database_url_value
    context.configure(url=url, target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_offline()
elif (connection := config.attributes.get("connection")) is not None:
    run_with(connection)
else:
    asyncio.run(run_async())
