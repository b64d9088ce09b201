"""Bring the database schema up to date at start-up, where that is the policy.

Development and test create what is missing from the models so the app works with zero
set-up. Staging and production never touch the schema at start: migrations run as their
own step before the new version starts (lesson 10).
"""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError

from course_app.config import Environment, Settings
from course_app.core.database import Database
from course_app.core.logging import get_logger

log = get_logger(__name__)


async def prepare_schema(database: Database, settings: Settings) -> None:
    if settings.environment not in {Environment.DEVELOPMENT, Environment.TEST}:
        return
    import course_app.models as models  # every table, registered on Base.metadata

    try:
        async with database.engine.begin() as connection:
            await connection.run_sync(models.Base.metadata.create_all)
    except (OSError, DBAPIError) as exc:
        # Start anyway: /ready reports the database as unavailable until it is back.
        log.warning("schema_not_prepared", error=type(exc).__name__)
