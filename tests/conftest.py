"""Shared fixtures: the anyio backend and the external services (skip or, in CI, fail)."""

from __future__ import annotations

import os
import socket

import pytest

from course_app.config import Settings

POSTGRES_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
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
