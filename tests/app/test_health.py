"""Liveness and readiness, on SQLite and (when reachable) PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import httpx
import pytest
from sqlalchemy.engine import make_url

from course_app import __version__
from course_app.config import load_settings
from course_app.core.database import Database
from course_app.main import create_app
from tests.app.factories import app_client

pytestmark = pytest.mark.anyio


async def test_health_is_ok(client: httpx.AsyncClient) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "version": __version__}


async def test_ready_when_the_database_answers(client: httpx.AsyncClient) -> None:
    response = await client.get("/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"database": "ok"}}


async def test_ready_is_503_with_a_body_when_the_database_is_down() -> None:
    # Nothing listens on port 1: every connection attempt is refused.
    settings = load_settings(
        _env_file=None,
        environment="test",
        database_url="postgresql+asyncpg://nobody@127.0.0.1:1/none",
    )
    app = create_app(settings)
    async with app_client(app) as client:
        response = await client.get("/ready")
        liveness = await client.get("/health")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "checks": {"database": "unavailable"}}
    assert "127.0.0.1" not in response.text  # the reason goes to the log, not the client
    assert liveness.status_code == 200  # liveness does not depend on the database


async def test_ready_is_503_when_the_database_times_out(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def hung(self: Database) -> None:
        raise TimeoutError

    monkeypatch.setattr(Database, "ping", hung)
    response = await client.get("/ready")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"


class _HungEngine:
    """An engine whose connections never open, like a server that stopped answering."""

    url = make_url("postgresql+asyncpg://hung@127.0.0.1/none")

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[None]:
        await anyio.sleep(30)
        yield


async def test_database_ping_enforces_its_time_limit() -> None:
    database = Database(_HungEngine(), ping_timeout=0.05)  # type: ignore[arg-type]
    with anyio.fail_after(5), pytest.raises(TimeoutError):
        await database.ping()


async def test_health_rejects_post(client: httpx.AsyncClient) -> None:
    response = await client.post("/health")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "METHOD_NOT_ALLOWED"
