"""``python -m course_app`` maintenance commands: bad input and unreachable databases get
one readable line on stderr and a non-zero exit code, never a traceback.

Exit codes: 0 done; 1 the database could not be reached or is not ready; 2 the request
itself cannot work (invalid configuration, unknown revision, unknown command).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from course_app import __main__ as entry
from course_app.config import SettingsError, get_settings, load_settings

UNREACHABLE = "postgresql+asyncpg://nobody@127.0.0.1:1/none"  # nothing listens on port 1

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Iterator[Run]:
    """Run the command line in-process with ``DATABASE_URL`` set; ``(code, out, err)``."""

    def run(*argv: str, database_url: str) -> tuple[int, str, str]:
        monkeypatch.setenv("DATABASE_URL", database_url)
        get_settings.cache_clear()
        code = entry.main(list(argv))
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    yield run
    get_settings.cache_clear()


def one_line(err: str) -> str:
    """The whole of stderr, which must be a single line and no traceback."""
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


def sqlite(tmp_path: Path, name: str = "cli.db") -> str:
    return f"sqlite+aiosqlite:///{tmp_path / name}"


def test_migrate_then_purge_tokens_succeed(cli: Run, tmp_path: Path) -> None:
    code, out, err = cli("migrate", database_url=sqlite(tmp_path))
    assert (code, out.strip(), err) == (0, "database upgraded to head", "")
    code, out, err = cli("purge-tokens", database_url=sqlite(tmp_path))
    assert (code, out.strip(), err) == (0, "deleted 0 expired refresh token(s)", "")


@pytest.mark.parametrize("argv", [["migrate", "--to", "nope"], ["migrate", "--down", "nope"]])
def test_an_unknown_revision_is_exit_2_with_alembics_reason(
    cli: Run, tmp_path: Path, argv: list[str]
) -> None:
    code, _, err = cli(*argv, database_url=sqlite(tmp_path))
    assert code == 2
    assert one_line(err) == "migrate failed: Can't locate revision identified by 'nope'"


@pytest.mark.parametrize("command", ["migrate", "purge-tokens"])
def test_an_unreachable_database_is_exit_1_with_a_hint(cli: Run, command: str) -> None:
    code, out, err = cli(command, database_url=UNREACHABLE)
    assert (code, out) == (1, "")
    line = one_line(err)
    assert line.startswith(f"{command} failed: ")
    assert "Connect call failed" in line
    assert "Is the database reachable" in line


def test_purge_tokens_before_migrating_says_to_migrate_first(cli: Run, tmp_path: Path) -> None:
    code, _, err = cli("purge-tokens", database_url=sqlite(tmp_path, "empty.db"))
    assert code == 1
    line = one_line(err)
    assert "no such table: refresh_tokens" in line
    assert "run `python -m course_app migrate` first" in line


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("postgresql://app:hunter2@db/app", "not 'postgresql'"),  # the sync default driver
        ("sqlite:///./course_app.db", "not 'sqlite'"),
        ("mysql+aiomysql://app:hunter2@db/app", "not 'mysql+aiomysql'"),  # not installed
        ("no url at all", "is not a database URL"),
    ],
)
def test_a_url_without_an_async_driver_stops_every_command_before_it_runs(
    cli: Run, url: str, reason: str
) -> None:
    code, out, err = cli("migrate", database_url=url)
    assert (code, out) == (2, "")
    assert "Traceback" not in err
    assert "Invalid configuration" in err
    assert reason in err
    assert "hunter2" not in err  # a URL may hold a password: it is never echoed


def test_settings_name_the_async_drivers_they_accept() -> None:
    with pytest.raises(SettingsError) as error:
        load_settings(_env_file=None, database_url="postgresql://app@db/app")
    assert "postgresql+asyncpg or sqlite+aiosqlite" in str(error.value)


def test_an_unknown_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        entry.main(["frobnicate"])
    assert exit_.value.code == 2
    assert "invalid choice: 'frobnicate'" in capsys.readouterr().err
