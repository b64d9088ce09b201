"""The app factory, the entry point run as a real process, logging and the database layer."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from course_app import __main__ as entry
from course_app.config import Settings, get_settings, load_settings
from course_app.core.database import Database, build_engine
from course_app.core.logging import configure_logging, get_logger
from course_app.main import GIL_SWITCH_INTERVAL, create_app
from coursekit.server import free_port

ROOT = Path(__file__).resolve().parents[2]


def test_docs_are_served_in_development_only(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'a.db'}"
    dev = create_app(load_settings(_env_file=None, database_url=url))
    prod = create_app(
        load_settings(
            _env_file=None, environment="production", jwt_secret="s" * 40, database_url=url
        )
    )
    assert dev.docs_url == "/docs"
    assert dev.openapi_url == "/openapi.json"
    assert prod.docs_url is None
    assert prod.openapi_url is None


def test_openapi_documents_every_route_with_a_response_model(tmp_path: Path) -> None:
    app = create_app(
        load_settings(_env_file=None, database_url=f"sqlite+aiosqlite:///{tmp_path / 'a.db'}")
    )
    schema = app.openapi()
    for path in ("/health", "/ready"):
        responses = schema["paths"][path]["get"]["responses"]
        assert "$ref" in json.dumps(responses["200"]), path
    assert "503" in schema["paths"]["/ready"]["get"]["responses"]


def test_entry_point_refuses_bad_production_config(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ENVIRONMENT", "production")
    get_settings.cache_clear()
    try:
        assert entry.main([]) == 2
    finally:
        get_settings.cache_clear()
    err = capsys.readouterr().err
    assert "Invalid configuration" in err
    assert "JWT_SECRET is required in production" in err


def test_entry_point_passes_settings_to_uvicorn(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(
        entry.uvicorn, "run", lambda target, **kw: calls.append({"t": target, **kw})
    )
    monkeypatch.setenv("PORT", "8123")
    monkeypatch.setenv("WORKERS", "2")
    monkeypatch.setenv("GRACEFUL_SHUTDOWN_SECONDS", "20")
    get_settings.cache_clear()
    try:
        assert entry.main([]) == 0
    finally:
        get_settings.cache_clear()
    assert calls == [
        {
            "t": "course_app.main:create_app",
            "factory": True,
            "host": "127.0.0.1",
            "port": 8123,
            "workers": 2,
            "timeout_graceful_shutdown": 20,
            "proxy_headers": True,
            "access_log": False,
            "log_level": "info",
        }
    ]


def _start(env: dict[str, str], cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "course_app"],
        env={**os.environ, **env},
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_python_m_course_app_serves_and_shuts_down_gracefully(tmp_path: Path) -> None:
    port = free_port()
    process = _start(
        {"PORT": str(port), "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'srv.db'}"},
        tmp_path,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/ready", timeout=1)
                break
            except httpx.TransportError:
                assert process.poll() is None, process.communicate()[0]
                assert time.monotonic() < deadline, "server did not start in 30 s"
                time.sleep(0.1)
        assert response.status_code == 200
        assert response.json()["status"] == "ready"
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=15)
    # uvicorn finishes the shutdown, then re-raises SIGTERM so the exit status tells
    # a supervisor which signal ended it (current uvicorn); older versions exit 0.
    assert process.returncode in (0, -signal.SIGTERM), output
    assert "startup" in output
    assert "Application shutdown complete" in output
    assert "shutdown" in output.split("Waiting for application shutdown")[-1]  # lifespan exit


def test_python_m_course_app_exits_2_on_bad_production_config(tmp_path: Path) -> None:
    process = _start({"ENVIRONMENT": "production", "JWT_SECRET": "short"}, tmp_path)
    output, _ = process.communicate(timeout=30)
    assert process.returncode == 2
    assert output.startswith("Invalid configuration:")
    assert "Traceback" not in output


def test_json_logs_are_one_object_per_line(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(load_settings(_env_file=None, log_json=True))
    get_logger("test").info("hello", answer=42)
    line = capsys.readouterr().err.strip().splitlines()[-1]
    record = json.loads(line)
    assert record["event"] == "hello"
    assert record["answer"] == 42
    assert record["level"] == "info"
    assert "timestamp" in record


def test_log_level_filters(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(load_settings(_env_file=None, log_level="warning"))
    get_logger("test").info("quiet")
    get_logger("test").warning("loud")
    err = capsys.readouterr().err
    assert "quiet" not in err
    assert "loud" in err


@pytest.mark.anyio
async def test_sqlite_gets_its_pragmas_and_parent_folder(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "dir" / "app.db"
    database = Database(build_engine(f"sqlite+aiosqlite:///{path}"))
    try:
        async with database.engine.connect() as connection:
            mode = (await connection.execute(text("PRAGMA journal_mode"))).scalar_one()
            keys = (await connection.execute(text("PRAGMA foreign_keys"))).scalar_one()
            busy = (await connection.execute(text("PRAGMA busy_timeout"))).scalar_one()
        assert (mode, keys, busy) == ("wal", 1, 5000)
        assert path.exists()
        assert database.backend == "sqlite"
    finally:
        await database.dispose()


@pytest.mark.anyio
async def test_database_from_settings_uses_the_configured_url(tmp_path: Path) -> None:
    settings: Settings = load_settings(
        _env_file=None, database_url=f"sqlite+aiosqlite:///{tmp_path / 'b.db'}"
    )
    database = Database.from_settings(settings)
    try:
        await database.ping()
        assert str(database.engine.url).endswith("b.db")
    finally:
        await database.dispose()


FREEZE_PROBE = """
import asyncio, gc, sys
from asgi_lifespan import LifespanManager
from course_app.config import load_settings
from course_app.main import create_app
settings = load_settings(_env_file=None, environment=sys.argv[1], jwt_secret="f" * 40,
                         database_url=sys.argv[2], allowed_hosts="127.0.0.1")
async def main():
    async with LifespanManager(create_app(settings)):
        print(gc.get_freeze_count(), sys.getswitchinterval())
asyncio.run(main())
"""


@pytest.mark.parametrize(("environment", "frozen"), [("staging", True), ("test", False)])
def test_server_processes_freeze_their_startup_objects(
    tmp_path: Path, environment: str, frozen: bool
) -> None:
    """In a separate process: freezing inside the test process would keep every later
    app's cycles alive (the reason tests and notebooks are left alone). The GIL switch
    interval is shortened in the same step, for servers only."""
    database = f"sqlite+aiosqlite:///{tmp_path / 'f.db'}"
    if environment == "staging":  # staging never creates the schema itself
        migrate = [sys.executable, "-m", "course_app", "migrate"]
        env = {**os.environ, "DATABASE_URL": database, "ENVIRONMENT": "development"}
        subprocess.run(migrate, env=env, check=True, capture_output=True, timeout=60)
    probe = subprocess.run(
        [sys.executable, "-c", FREEZE_PROBE, environment, database],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert probe.returncode == 0, probe.stderr
    freeze_count, interval = probe.stdout.split()[-2:]
    assert (int(freeze_count) > 0) is frozen
    assert float(interval) == (GIL_SWITCH_INTERVAL if frozen else 0.005)
