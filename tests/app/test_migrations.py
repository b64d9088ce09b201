"""Alembic migrations: up, down to nothing, up again, on SQLite and PostgreSQL; and the
migrations describe exactly the models (autogenerate finds no drift)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

import course_app.models as models
from course_app.core.database import Database, build_engine
from course_app.core.migrations import (
    ForeignKeyViolationError,
    downgrade,
    migration_connection,
    upgrade,
)
from tests.conftest import POSTGRES_URL, need_service

pytestmark = pytest.mark.anyio
TABLES = set(models.Base.metadata.tables)


@pytest.fixture(params=["sqlite", "postgres"])
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    if request.param == "postgres":
        need_service("PostgreSQL", "127.0.0.1", 5432)
        url = POSTGRES_URL
    else:
        url = f"sqlite+aiosqlite:///{tmp_path / 'migrations.db'}"
    database = Database(build_engine(url))
    await _drop_everything(database)
    yield database
    await _drop_everything(database)
    await database.dispose()


async def _drop_everything(database: Database) -> None:
    async with database.engine.begin() as connection:
        await connection.run_sync(models.Base.metadata.drop_all)
        await connection.execute(text("DROP TABLE IF EXISTS alembic_version"))


async def _tables(database: Database) -> set[str]:
    async with database.engine.connect() as connection:
        names = await connection.run_sync(lambda sync: set(inspect(sync).get_table_names()))
    return names - {"alembic_version"}


async def test_upgrade_downgrade_upgrade(database: Database) -> None:
    await upgrade(database)
    assert await _tables(database) == TABLES
    await downgrade(database, "base")
    assert await _tables(database) == set()
    await upgrade(database)
    assert await _tables(database) == TABLES


def _diff(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, models.Base.metadata))


async def test_migrations_match_the_models(database: Database) -> None:
    await upgrade(database)
    async with database.engine.connect() as connection:
        diff = await connection.run_sync(_diff)
    assert diff == [], f"models and migrations differ: run alembic revision --autogenerate\n{diff}"


def test_migrate_command_up_and_down(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    env = {**os.environ, "DATABASE_URL": url, "ENVIRONMENT": "development"}
    up = subprocess.run(
        [sys.executable, "-m", "course_app", "migrate"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert up.returncode == 0, up.stderr
    assert "upgraded to head" in up.stdout
    down = subprocess.run(
        [sys.executable, "-m", "course_app", "migrate", "--down", "base"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert down.returncode == 0, down.stderr
    assert "downgraded to base" in down.stdout


def test_purge_tokens_command(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'purge.db'}"
    env = {**os.environ, "DATABASE_URL": url, "ENVIRONMENT": "development"}
    command = [sys.executable, "-m", "course_app"]
    migrated = subprocess.run(
        [*command, "migrate"], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert migrated.returncode == 0, migrated.stderr
    purged = subprocess.run(
        [*command, "purge-tokens"], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert purged.returncode == 0, purged.stderr
    assert purged.stdout.strip() == "deleted 0 expired refresh token(s)"


def test_purge_tokens_without_a_schema_fails_cleanly(tmp_path: Path) -> None:
    """Run before ``migrate``: a one-line error and exit 1, not a traceback."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
    env = {**os.environ, "DATABASE_URL": url, "ENVIRONMENT": "development"}
    purged = subprocess.run(
        [sys.executable, "-m", "course_app", "purge-tokens"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert purged.returncode == 1
    assert "Traceback" not in purged.stderr
    assert "run `python -m course_app migrate` first" in purged.stderr


PARENT_CHILD = [
    "CREATE TABLE parent (id INTEGER PRIMARY KEY, name TEXT)",
    "CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER NOT NULL REFERENCES parent(id))",
    "INSERT INTO parent VALUES (1, 'p')",
    "INSERT INTO child VALUES (1, 1)",
]
# what Alembic's batch mode does to alter a table on SQLite: copy, drop, rename
RECREATE_PARENT = [
    "CREATE TABLE _tmp_parent (id INTEGER PRIMARY KEY, name TEXT NOT NULL DEFAULT '')",
    "INSERT INTO _tmp_parent SELECT id, coalesce(name, '') FROM parent",
    "DROP TABLE parent",
    "ALTER TABLE _tmp_parent RENAME TO parent",
]


async def _sqlite_with_references(tmp_path: Path) -> Database:
    database = Database(build_engine(f"sqlite+aiosqlite:///{tmp_path / 'fk.db'}"))
    async with database.engine.begin() as connection:
        for statement in PARENT_CHILD:
            await connection.exec_driver_sql(statement)
    return database


async def test_a_batch_style_recreate_of_a_referenced_table_succeeds(tmp_path: Path) -> None:
    """With foreign_keys=ON the DROP would fail: migrations switch it off, then check."""
    database = await _sqlite_with_references(tmp_path)
    try:
        async with migration_connection(database.engine) as connection:
            for statement in RECREATE_PARENT:
                await connection.exec_driver_sql(statement)
        async with database.engine.connect() as connection:
            assert (await connection.exec_driver_sql("PRAGMA foreign_keys")).scalar() == 1
            rows = await connection.exec_driver_sql(
                "SELECT c.id, p.name FROM child c JOIN parent p ON p.id = c.parent_id"
            )
            assert rows.all() == [(1, "p")]
    finally:
        await database.dispose()


async def test_a_migration_that_breaks_references_is_rolled_back(tmp_path: Path) -> None:
    database = await _sqlite_with_references(tmp_path)
    try:
        with pytest.raises(ForeignKeyViolationError, match="broke 1 foreign key"):
            async with migration_connection(database.engine) as connection:
                await connection.exec_driver_sql("DELETE FROM parent")
        async with database.engine.connect() as connection:
            assert (await connection.exec_driver_sql("SELECT count(*) FROM parent")).scalar() == 1
            assert (await connection.exec_driver_sql("PRAGMA foreign_keys")).scalar() == 1
    finally:
        await database.dispose()
