"""Run Alembic from code: at start-up in development, from ``python -m course_app
migrate``, and in the migration tests. The scripts ship inside the package, so an
installed app (a container image) can migrate itself without the repository."""

from __future__ import annotations

from importlib.resources import files

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection

from course_app.core.database import Database


def alembic_config(url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(files("course_app") / "migrations"))
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def _run(connection: Connection, action: str, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    if action == "upgrade":
        command.upgrade(config, revision)
    else:
        command.downgrade(config, revision)


async def upgrade(database: Database, revision: str = "head") -> None:
    async with database.engine.begin() as connection:
        await connection.run_sync(_run, "upgrade", revision)


async def downgrade(database: Database, revision: str) -> None:
    async with database.engine.begin() as connection:
        await connection.run_sync(_run, "downgrade", revision)
