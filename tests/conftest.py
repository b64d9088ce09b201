"""Shared fixtures: the anyio backend and the external services (skip or, in CI, fail)."""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Iterator

import pytest

from course_app.config import Settings

# Each test session gets a database of its own, so two runs on one machine (or a run
# and a developer's shell) never wipe each other's tables. TEST_POSTGRES_URL overrides.
_OWN_DATABASE = f"course_test_{os.getpid()}"
POSTGRES_URL = os.environ.get(
    "TEST_POSTGRES_URL", f"postgresql+asyncpg://postgres@127.0.0.1:5432/{_OWN_DATABASE}"
)
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
# CI sets REQUIRE_SERVICES=1: a missing service is then a failure, never a silent skip.
REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"


def reachable(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def need_service(name: str, host: str, port: int) -> None:
    """Skip (with the reason) when a service is down; fail instead under REQUIRE_SERVICES=1."""
    if reachable(host, port):
        return
    message = f"{name} is not reachable on {host}:{port}"
    if REQUIRE_SERVICES:
        pytest.fail(f"{message}, and REQUIRE_SERVICES=1 demands it")
    pytest.skip(f"{message} (start it to run these tests)")


async def _admin(statement: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(
        host="127.0.0.1", port=5432, user="postgres", database="postgres", timeout=5
    )
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@pytest.fixture(scope="session", autouse=True)
def _own_postgres_database() -> Iterator[None]:
    """Create this session's PostgreSQL database (when PostgreSQL is up), drop it after."""
    if "TEST_POSTGRES_URL" in os.environ or not reachable("127.0.0.1", 5432):
        yield
        return
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{_OWN_DATABASE}"'))
    asyncio.run(_admin(f'CREATE DATABASE "{_OWN_DATABASE}"'))
    try:
        yield
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{_OWN_DATABASE}" WITH (FORCE)'))


@pytest.fixture(scope="session", autouse=True)
def _cheap_password_hashing() -> Iterator[None]:
    """Argon2 is slow on purpose (~0.2 s a hash). In-process tests check behaviour, not
    cost, so they hash with minimal parameters; servers started as processes keep the
    real ones. (A hash made with other parameters is still verified and upgraded.)"""
    from pwdlib import PasswordHash
    from pwdlib.hashers.argon2 import Argon2Hasher

    from course_app.core import security

    with pytest.MonkeyPatch.context() as patch:
        cheap = PasswordHash((Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1),))
        patch.setattr(security, "password_hash", cheap)
        security._dummy_hash.cache_clear()
        yield
    security._dummy_hash.cache_clear()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(autouse=True)
def _clean_settings_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests build settings explicitly; no variable that Settings reads may leak in."""
    fields = {name.upper() for name in Settings.model_fields}
    for name in list(os.environ):
        if name.upper() in fields:
            monkeypatch.delenv(name, raising=False)
