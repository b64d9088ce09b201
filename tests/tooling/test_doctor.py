"""`course doctor`: a table with a fix for each problem; required problems fail the command,
missing optional services are warnings."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from coursekit import doctor
from coursekit.cli import main
from coursekit.doctor import Row


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A local port nothing listens on (bound, not listening, so no one else takes it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


def test_doctor_on_this_machine_checks_everything(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["doctor", "--json"])
    document = json.loads(capsys.readouterr().out)
    names = [check["name"] for check in document["checks"]]
    for expected in ("Python", "Packages", "Jupyter kernel", "course_app", "Local port", "SQLite"):
        assert expected in names
    assert "PostgreSQL (optional)" in names and "Redis (optional)" in names
    failed = [c for c in document["checks"] if c["status"] == "fail"]
    assert code == (1 if failed else 0)
    assert document["ready"] is (not failed), failed
    assert all(c["fix"] for c in failed)


def test_the_table_has_a_fix_column(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(
        doctor,
        "CHECKS",
        [
            lambda: Row("Python", "ok", "3.11.9"),
            lambda: Row("Redis (optional)", "warn", "no answer", "start Redis"),
        ],
    )
    assert main(["doctor"]) == 0
    out = capsys.readouterr().out
    assert "Fix" in out and "start Redis" in out
    assert "Ready for the workshop" in out and "1 optional item missing" in out


def test_a_required_problem_fails_the_command(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def crashes() -> Row:
        raise RuntimeError("boom")

    monkeypatch.setattr(
        doctor,
        "CHECKS",
        [lambda: Row("Packages", "fail", "missing: fastapi", "make setup"), crashes],
    )
    assert main(["doctor"]) == 1
    out = capsys.readouterr().out
    assert "2 problems to fix" in out
    assert "the check crashed: RuntimeError: boom" in out


def test_an_old_python_is_a_problem() -> None:
    row = doctor.check_python((3, 10, 12))
    assert row.status == "fail"
    assert "3.10.12 is too old" in row.detail and "3.11" in row.fix
    assert doctor.check_python((3, 12, 1)).status == "ok"


def test_missing_and_outdated_packages_are_named() -> None:
    row = doctor.check_packages(
        [
            "rich>=1",
            "no-such-package-for-the-course>=1",
            "nbformat>=999",
            'pytest>=8; extra == "dev"',  # extras are not required on a learner's machine
        ]
    )
    assert row.status == "fail"
    assert "missing: no-such-package-for-the-course" in row.detail
    assert "nbformat" in row.detail and "needs >=999" in row.detail
    assert "pytest" not in row.detail
    assert "make setup" in row.fix
    assert doctor.check_packages(["rich>=1", 'pytest>=8; extra == "dev"']).detail == (
        "1 required packages installed"
    )


def test_an_unregistered_kernel_says_how_to_register_it() -> None:
    row = doctor.check_kernel("no-such-course-kernel")
    assert row.status == "fail"
    assert "no-such-course-kernel" in row.detail
    assert "ipykernel install" in row.fix


def test_a_busy_jupyter_port_is_only_a_warning() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        row = doctor.check_ports(jupyter_port=port)
    assert row.status == "warn"
    assert f"{port} is taken" in row.detail and "another port" in row.fix


def test_sqlite_in_a_folder_that_cannot_be_written(tmp_path: Path) -> None:
    row = doctor.check_sqlite(tmp_path / "does" / "not" / "exist")
    assert row.status == "fail"
    assert "writable disk" in row.fix
    assert doctor.check_sqlite(tmp_path).status == "ok"


def test_missing_services_are_warnings_not_problems(
    monkeypatch: pytest.MonkeyPatch, closed_port: int
) -> None:
    monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{closed_port}/0")
    monkeypatch.setenv("DATABASE_URL", f"postgresql+asyncpg://u@127.0.0.1:{closed_port}/db")
    redis_row, postgres_row = doctor.check_redis(), doctor.check_postgres()
    assert (redis_row.status, postgres_row.status) == ("warn", "warn")
    assert f"127.0.0.1:{closed_port}" in redis_row.detail
    assert "REDIS_URL" in redis_row.detail and "DATABASE_URL" in postgres_row.detail
    assert "SQLite" in postgres_row.detail


def test_a_sqlite_database_url_needs_no_postgres(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "sqlite+aiosqlite:///shop.db")
    row = doctor.check_postgres()
    assert row.status == "ok" and "not used" in row.detail


def test_no_labs_is_a_problem(course: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert doctor.check_labs().status == "ok"
    from coursekit import notebooks as nb

    monkeypatch.setattr(nb, "EXERCISES", course / "nowhere")
    row = doctor.check_labs()
    assert row.status == "fail" and "inside the course folder" in row.fix


def test_sqlite_check_works_inside_a_running_event_loop(tmp_path: Path) -> None:
    """A notebook already runs a loop in its thread (so does Playwright's sync API)."""
    import asyncio
    import threading

    statuses: list[str] = []

    async def from_a_loop() -> None:
        statuses.append(doctor.check_sqlite(tmp_path).status)

    # a thread of its own, so that this test does not depend on the main thread's state
    worker = threading.Thread(target=lambda: asyncio.run(from_a_loop()))
    worker.start()
    worker.join(timeout=60)
    assert statuses == ["ok"]
