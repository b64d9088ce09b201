"""Run Alembic from code: at start-up in development, from ``python -m course_app
migrate``, and in the migration tests. The scripts ship inside the package, so an
installed app (a container image) can migrate itself without the repository."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.resources import files

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

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


class ForeignKeyViolationError(RuntimeError):
    """A migration left rows pointing at rows that no longer exist (SQLite check)."""


@asynccontextmanager
async def migration_connection(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection to migrate on, committed at the end, rolled back on an error.

    On SQLite, foreign keys are switched off for the migration: batch mode alters a
    table by copying it and dropping the original, which ``foreign_keys=ON`` (set on
    every connection by ``build_engine``) refuses as soon as another row references
    it. The pragma is ignored inside a transaction, so it goes first; before the commit
    ``PRAGMA foreign_key_check`` proves every reference still resolves, and the pragma
    is back on before the connection returns to the pool.
    """
    async with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            await connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        try:
            yield connection
            if sqlite:
                broken = (await connection.exec_driver_sql("PRAGMA foreign_key_check")).all()
                if broken:
                    raise ForeignKeyViolationError(
                        f"the migration broke {len(broken)} foreign key(s), e.g. {broken[0]}"
                    )
            await connection.commit()
        except BaseException:
            await connection.rollback()
            raise
        finally:
            if sqlite:
                await connection.exec_driver_sql("PRAGMA foreign_keys=ON")


async def upgrade(database: Database, revision: str = "head") -> None:
    async with migration_connection(database.engine) as connection:
        await connection.run_sync(_run, "upgrade", revision)


async def downgrade(database: Database, revision: str) -> None:
    async with migration_connection(database.engine) as connection:
        await connection.run_sync(_run, "downgrade", revision)
