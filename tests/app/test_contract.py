"""Contract test: schemathesis generates requests from the OpenAPI document of a real
uvicorn server and checks that nothing answers 5xx and every response matches its
declared schema. Fixed seed and bounded examples: the run is repeatable and short."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance

from course_app.config import Settings, load_settings
from course_app.features.users.models import Role
from coursekit.server import Server, serve
from tests.app.factories import auth_headers, create_product, create_user

SECRET = "contract-" + "s" * 40


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Settings]]:
    folder = tmp_path_factory.mktemp("contract")
    url = f"sqlite+aiosqlite:///{folder / 'contract.db'}"
    env = {
        "ENVIRONMENT": "test",
        "DATABASE_URL": url,
        "JWT_SECRET": SECRET,
        "UPLOAD_DIR": str(folder / "uploads"),
        "LOG_LEVEL": "WARNING",
        "LOGIN_RATE_LIMIT": "1000",
    }
    clean = {k: v for k, v in os.environ.items() if k.upper() not in env}
    with serve("course_app.main:create_app", factory=True, env={**clean, **env}) as running:
        app_settings = load_settings(
            _env_file=None, environment="test", database_url=url, jwt_secret=SECRET
        )
        yield running, app_settings


@pytest.fixture(scope="module")
def admin_headers(server: tuple[Server, Settings]) -> dict[str, str]:
    _running, app_settings = server

    async def seed() -> dict[str, str]:
        admin = await create_user(app_settings.database_url_value, role=Role.ADMIN)
        for _ in range(3):
            await create_product(app_settings.database_url_value)
        return auth_headers(app_settings, admin)

    return asyncio.run(seed())


@pytest.fixture(scope="module")
def api_schema(server: tuple[Server, Settings]) -> schemathesis.BaseSchema:
    running, _ = server
    return schemathesis.openapi.from_url(f"{running.url}/openapi.json")


def test_api_honours_its_contract(
    api_schema: schemathesis.BaseSchema,
    server: tuple[Server, Settings],
    admin_headers: dict[str, str],
) -> None:
    running, _ = server
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 3
    failures: list[str] = []
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=25,
            derandomize=True,  # the same examples on every run
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def exercise(case: schemathesis.Case) -> None:
            case.call_and_validate(
                base_url=running.url,
                headers=admin_headers,
                checks=[not_a_server_error, response_schema_conformance],
            )

        try:
            exercise()
        except Exception as exc:  # collect every failing operation, then fail once
            failures.append(f"{operation.label}: {str(exc)[:600]}")
    assert not failures, "\n\n".join(failures)
    log = running.log()
    assert "Traceback" not in log
    assert "database is locked" not in log
