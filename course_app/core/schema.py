"""Bring the database schema up to date at start-up, where that is the policy.

* development: ``alembic upgrade head`` at start, so the app works with zero set-up and
  the migrations are exercised every day;
* test: ``create_all`` from the models (fast, every test starts from empty tables;
  the migrations have tests of their own);
* staging and production: never at start. Migrations run as their own step before the
  new version starts (lesson 10): several replicas starting at once must not race.
"""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError

from course_app.config import Environment, Settings
from course_app.core.database import Database
from course_app.core.logging import get_logger
from course_app.core.migrations import upgrade

log = get_logger(__name__)


async def prepare_schema(database: Database, settings: Settings) -> None:
    try:
        if settings.environment is Environment.DEVELOPMENT:
            await upgrade(database)
        elif settings.environment is Environment.TEST:
            import course_app.models as models  # every table, registered on Base.metadata

            async with database.engine.begin() as connection:
                await connection.run_sync(models.Base.metadata.create_all)
    except (OSError, DBAPIError) as exc:
        # Start anyway: /ready reports the database as unavailable until it is back.
        log.warning("schema_not_prepared", error=type(exc).__name__)
