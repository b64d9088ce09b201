"""The production audit (``coursekit.audit``): it flags a bad app for the right reasons,
passes the finished app on what it does well, and never raises because of the app."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from fastapi import FastAPI, HTTPException, Request
from fastapi.middleware.cors import CORSMiddleware
from pydantic import BaseModel
from pydantic_settings import BaseSettings, SettingsConfigDict

from coursekit.audit import (
    CHECKS,
    DIMENSIONS,
    SIGNALS,
    AuditReport,
    Check,
    Context,
    Finding,
    audit,
    audit_check,
    band,
)

ROOT = Path(__file__).resolve().parents[2]


class BadSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AUDIT_TEST_BAD_")

    debug: bool = True
    jwt_secret: str = "your-secret-key"
    database_url: str = "sqlite:///prod.db"


class Row(BaseModel):
    id: int
    hashed_password: str


def slow_query() -> list[int]:
    time.sleep(0)
    return [1, 2, 3]


def bad_app() -> FastAPI:
    app = FastAPI(debug=True)
    app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_credentials=True)

    @app.middleware("http")
    async def stamp(request: Request, call_next):
        return await call_next(request)

    @app.get("/items")
    async def items():
        print("listing")
        return [{"id": n} for n in slow_query()]

    @app.post("/items")
    async def create(request: Request):
        return await request.json()

    @app.get("/rows/{row_id}", response_model=Row)
    async def row(row_id, request: Request):
        if request.headers.get("Authorization") is None:
            raise HTTPException(401, "no")
        return {"id": 1, "hashed_password": "x"}

    return app


@pytest.fixture(scope="module")
def bad_report(tmp_path_factory: pytest.TempPathFactory) -> AuditReport:
    project = tmp_path_factory.mktemp("bad_project")
    (project / "tests").mkdir()
    (project / "tests" / "test_items.py").write_text(
        "def test_items():\n    assert 200 == 200\n", encoding="utf-8"
    )
    (project / "Dockerfile").write_text("FROM python:3.11-slim\nCMD ['x']\n", encoding="utf-8")
    return audit(
        bad_app(),
        settings=BadSettings(_env_file=None),
        tests_dir=project / "tests",
        project_dir=project,
    )


@pytest.fixture(scope="module")
def course_report(tmp_path_factory: pytest.TempPathFactory) -> AuditReport:
    from course_app.config import load_settings
    from course_app.main import create_app

    folder = tmp_path_factory.mktemp("course")
    settings = load_settings(
        environment="production",
        database_url=f"sqlite+aiosqlite:///{folder}/shop.db",
        jwt_secret=secrets.token_urlsafe(32),
        cors_origins=["https://shop.example"],
        log_level="WARNING",
    )
    return audit(create_app(settings), tests_dir=ROOT / "tests" / "app", project_dir=ROOT)


def test_builtin_checks_add_up_to_the_seed_weights() -> None:
    assert sum(DIMENSIONS.values()) == 100
    for dimension, weight in DIMENSIONS.items():
        assert sum(c.points for c in CHECKS if c.dimension == dimension) == weight
    assert len({c.id for c in CHECKS}) == len(CHECKS)
    assert {c.signal for c in CHECKS if c.signal} == set(SIGNALS)


def test_bands_follow_the_seed() -> None:
    assert [band(s) for s in (0, 39, 40, 59, 60, 79, 80, 100)] == [
        "critical",
        "critical",
        "needs work",
        "needs work",
        "solid",
        "solid",
        "production-grade",
        "production-grade",
    ]


BAD_FAILS = {
    "request-models": "reads the raw request",
    "response-models": "GET /items",
    "typed-params": "row_id",
    "documented": "'FastAPI'",
    "error-envelope": "'detail'",
    "validation-envelope": "default",
    "unhandled-errors": "no handler",
    "error-hierarchy": "framework",
    "sad-paths": "0 of 1",
    "async-tests": "synchronous",
    "auth-dependency": "by hand",
    "secret-settings": "jwt_secret",
    "no-debug": "app.debug",
    "cors": "with credentials",
    "security-headers": "X-Content-Type-Options",
    "no-blocking-async": "slow_query → time.sleep",
    "pagination": "/items",
    "pure-asgi-middleware": "stamp",
    "no-print": "GET /items",
    "async-driver": "blocking driver",
    "migrations": "no alembic.ini",
    "schemas-not-tables": "Row.hashed_password",
    "liveness": "none of",
    "readiness": "none of",
    "dockerfile": "runs as root",
    "ci": "no CI",
}


@pytest.mark.parametrize(("check_id", "words"), sorted(BAD_FAILS.items()))
def test_the_bad_app_fails_for_the_right_reason(
    bad_report: AuditReport, check_id: str, words: str
) -> None:
    finding = bad_report.finding(check_id)
    assert not finding.passed
    assert finding.points == 0
    assert words in finding.reason, finding.reason
    assert finding.fix


def test_the_bad_app_is_critical(bad_report: AuditReport) -> None:
    assert bad_report.score < 15
    assert bad_report.band == "critical"
    assert bad_report.health_score == 0
    assert "Bad" not in bad_report.title  # the app's own title, "FastAPI"
    assert bad_report.failed()[0].max_points == max(f.max_points for f in bad_report.findings)


def test_the_finished_app_is_production_grade(course_report: AuditReport) -> None:
    assert course_report.score >= 85, course_report.table()
    assert course_report.band == "production-grade"
    for check_id in (
        "request-models",
        "response-models",
        "error-envelope",
        "secret-settings",
        "cors",
        "no-blocking-async",
        "pure-asgi-middleware",
        "request-id",
        "liveness",
        "readiness",
        "async-driver",
        "migrations",
    ):
        finding = course_report.finding(check_id)
        assert finding.passed, finding
    assert "tracing" in {f.check_id for f in course_report.failed()}


def test_report_text_lists_every_finding(course_report: AuditReport) -> None:
    text = course_report.table()
    assert text.splitlines()[0] == course_report.summary()
    assert all(f.check_id in text for f in course_report.findings)
    assert str(course_report) == text


def test_an_extra_check_reweighs_its_dimension() -> None:
    @audit_check("always-fails", dimension="Deployment", points=10, title="t", fix="f")
    def fails(ctx: Context) -> tuple[bool, str]:
        return False, "no"

    app = FastAPI(title="Tiny")
    alone = audit(app, checks=[c for c in CHECKS if c.dimension == "Deployment"])
    extended = audit(
        app, checks=[c for c in CHECKS if c.dimension == "Deployment"], extra_checks=[fails]
    )
    assert extended.max == 100
    assert extended.dimensions["Deployment"][1] == alone.dimensions["Deployment"][1] + 10
    assert extended.score <= alone.score


def test_a_broken_check_is_a_failed_finding_not_a_crash() -> None:
    @audit_check("broken", dimension="Testing", points=1, title="t", fix="f")
    def broken(ctx: Context) -> tuple[bool, str]:
        raise RuntimeError("boom")

    finding = audit(FastAPI(), checks=[broken]).finding("broken")
    assert finding == Finding("broken", "t", "Testing", False, 0, 1, finding.reason, "f")
    assert "RuntimeError: boom" in finding.reason


def test_an_app_that_cannot_start_fails_the_runtime_checks_only() -> None:
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        raise RuntimeError("no database")
        yield

    app = FastAPI(title="Broken", lifespan=lifespan)

    @app.get("/health")
    async def health() -> dict[str, str]:
        """Liveness."""
        return {"status": "ok"}

    report = audit(app)
    assert "did not start" in report.finding("liveness").reason
    assert report.finding("pure-asgi-middleware").passed


def test_missing_inputs_are_named() -> None:
    report = audit(FastAPI())
    assert "tests_dir=" in report.finding("tests-present").reason
    assert "project_dir=" in report.finding("dockerfile").reason
    assert "settings=" in report.finding("secret-settings").reason


def test_check_definitions_are_validated() -> None:
    with pytest.raises(ValueError, match="dimension"):
        Check("x", "Vibes", 1, "t", "f", lambda ctx: (True, ""))
    with pytest.raises(ValueError, match="signal"):
        Check("x", "Testing", 1, "t", "f", lambda ctx: (True, ""), signal="Vibes")
    with pytest.raises(ValueError, match="duplicate"):
        audit(FastAPI(), checks=[CHECKS[0], CHECKS[0]])


def test_a_dockerfile_with_two_stages_and_a_user_passes(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(
        "FROM python:3.11-slim AS build\nRUN true\nFROM python:3.11-slim\nUSER app\n",
        encoding="utf-8",
    )
    report = audit(
        FastAPI(), project_dir=tmp_path, checks=[c for c in CHECKS if c.id == "dockerfile"]
    )
    assert report.finding("dockerfile").passed


def test_the_command_line_reports_and_sets_the_exit_status(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from coursekit.audit import main

    assert main(["tests.tooling.test_audit:bad_app", "--factory", "--min-score", "50"]) == 1
    assert "critical" in capsys.readouterr().out
    assert main(["tests.tooling.test_audit:bad_app", "--factory", "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["band"] == "critical"
    assert {f["check_id"] for f in document["findings"]} == {c.id for c in CHECKS}
    assert main(["no_such_module:app"]) == 2
    assert "cannot load" in capsys.readouterr().err


def test_a_test_that_asserts_an_error_through_a_helper_counts_as_a_sad_path(
    tmp_path: Path,
) -> None:
    from coursekit.audit import _collect_tests

    (tmp_path / "helpers.py").write_text(
        "def expect_422(response):\n"
        "    assert response.status_code == 422\n"
        "def expect_failure(call):\n"
        "    with pytest.raises(ValueError):\n"
        "        call()\n"
        "def prices():\n"
        "    return [500, 404, 1999]  # error-looking numbers, but no assertion\n"
    )
    (tmp_path / "test_shop.py").write_text(
        "from helpers import expect_422, expect_failure, prices\n"
        "def test_bad_body(client):\n"
        "    expect_422(client.post('/x', json={}))\n"
        "def test_bad_call():\n"
        "    expect_failure(int)\n"
        "def test_prices():\n"
        "    assert sum(prices()) > 0\n"
        "def test_direct(client):\n"
        "    assert client.get('/missing').status_code == 404\n"
        "def test_plain(client):\n"
        "    assert client.get('/').status_code == 200\n"
    )
    sad = {test.name: test.sad_path for test in _collect_tests(tmp_path)}
    assert sad == {
        "test_bad_body": True,
        "test_bad_call": True,
        "test_prices": False,
        "test_direct": True,
        "test_plain": False,
    }
