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
from course_app.core.migrations import downgrade, upgrade
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
