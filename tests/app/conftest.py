"""App fixtures: settings per test, an async client with the lifespan running,
and the same tests on PostgreSQL when it is reachable."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from course_app.config import Settings, load_settings
from course_app.main import create_app
from tests.app.factories import app_client
from tests.conftest import POSTGRES_URL, need_service

STRONG_SECRET = "x" * 48


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgres":
        need_service("PostgreSQL", "127.0.0.1", 5432)
        return POSTGRES_URL
    return f"sqlite+aiosqlite:///{tmp_path / 'app.db'}"


async def reset_schema(url: str) -> None:
    """Every test starts from empty tables (PostgreSQL's `test` database is shared)."""
    import course_app.models as models
    from course_app.core.database import build_engine

    engine = build_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(models.Base.metadata.drop_all)
            await connection.run_sync(models.Base.metadata.create_all)
    finally:
        await engine.dispose()


@pytest.fixture
def settings(database_url: str) -> Settings:
    return load_settings(
        _env_file=None,
        environment="test",
        database_url=database_url,
        jwt_secret=STRONG_SECRET,
    )


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    return create_app(settings)


@pytest.fixture
async def client(app: FastAPI, database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    await reset_schema(database_url)
    async with app_client(app) as http:
        yield http
