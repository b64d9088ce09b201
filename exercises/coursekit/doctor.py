"""``course doctor``: is this machine ready for the workshop?

Every check returns a :class:`Row`: ``ok``, ``warn`` (optional, the course works without it)
or ``fail`` (required), with what was found and how to fix it. A check that crashes is a
``fail`` row with the exception, never a traceback.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from rich.table import Table

from coursekit import labrun, ui
from coursekit import notebooks as nb

DISTRIBUTION = "fastapi-in-production"
PYTHON_FLOOR = (3, 11)
SQLITE_FLOOR = (3, 35)  # RETURNING, which SQLAlchemy uses for inserts
SETUP = "make setup  (or: .venv/bin/pip install -c requirements.lock -e '.[course,dev,docs]')"
KERNEL_INSTALL = (
    ".venv/bin/python -m ipykernel install --sys-prefix --name python3 "
    '--display-name "Python 3 (FastAPI course)"'
)


@dataclass
class Row:
    name: str
    status: str  # "ok" | "warn" | "fail"
    detail: str
    fix: str = ""


def _version(text: str) -> tuple[int, ...]:
    parts = []
    for piece in text.split("."):
        digits = "".join(ch for ch in piece if ch.isdigit())
        if not digits:
            break
        parts.append(int(digits))
    return tuple(parts)


# -- the checks ----------------------------------------------------------------------------------
def check_python(version: tuple[int, ...] | None = None) -> Row:
    found = tuple(version or sys.version_info[:3])
    shown = ".".join(str(p) for p in found)
    if found[:2] >= PYTHON_FLOOR:
        return Row("Python", "ok", f"{shown} ({sys.executable})")
    floor = ".".join(str(p) for p in PYTHON_FLOOR)
    return Row(
        "Python",
        "fail",
        f"{shown} is too old: the course needs {floor} or newer",
        f"install Python {floor}+, then: rm -rf .venv && make setup",
    )


def check_packages(requirements: list[str] | None = None) -> Row:
    """Every dependency of the app and of the ``course`` extra installed at a matching
    version (the dev, docs and bench extras are the maintainers')."""
    from importlib import metadata

    from packaging.requirements import Requirement

    if requirements is None:
        try:
            requirements = metadata.requires(DISTRIBUTION) or []
        except metadata.PackageNotFoundError:
            return Row("Packages", "fail", f"the course ({DISTRIBUTION}) is not installed", SETUP)
    missing: list[str] = []
    wrong: list[str] = []
    count = 0
    for line in requirements:
        requirement = Requirement(line)
        marker = requirement.marker
        if marker is not None and not any(marker.evaluate({"extra": e}) for e in ("", "course")):
            continue  # a maintainers' extra (dev, docs, bench) or another platform
        count += 1
        try:
            installed = metadata.version(requirement.name)
        except metadata.PackageNotFoundError:
            missing.append(requirement.name)
            continue
        if requirement.specifier and not requirement.specifier.contains(
            installed, prereleases=True
        ):
            wrong.append(f"{requirement.name} {installed} (needs {requirement.specifier})")
    if not missing and not wrong:
        return Row("Packages", "ok", f"{count} required packages installed")
    problems = []
    if missing:
        problems.append("missing: " + ", ".join(missing))
    if wrong:
        problems.append("wrong version: " + ", ".join(wrong))
    return Row("Packages", "fail", "; ".join(problems), SETUP)


def lab_kernel_name() -> str:
    """The kernel the labs ask for (their metadata), ``python3`` by default."""
    for path in labrun.phase_files(nb.EXERCISES).values():
        try:
            name = nb.read(path).metadata.get("kernelspec", {}).get("name")
        except Exception:  # noqa: S112 - an unreadable lab is reported elsewhere
            continue
        if name:
            return str(name)
    return "python3"


def check_kernel(name: str | None = None) -> Row:
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    name = name or lab_kernel_name()
    try:
        spec = KernelSpecManager().get_kernel_spec(name)
    except NoSuchKernel:
        return Row(
            "Jupyter kernel",
            "fail",
            f"no kernel named {name!r} is registered (the labs ask for it)",
            KERNEL_INSTALL,
        )
    command = list(spec.argv)
    python = shutil.which(command[0]) if command else None
    if python is None:
        return Row(
            "Jupyter kernel",
            "fail",
            f"kernel {name!r} runs {command[:1]}, which does not exist",
            KERNEL_INSTALL,
        )
    try:
        probe = subprocess.run(  # noqa: S603 - the registered kernel's own interpreter
            [python, "-c", "import coursekit, course_app, ipykernel"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Row("Jupyter kernel", "fail", f"cannot start {python}: {exc}", KERNEL_INSTALL)
    if probe.returncode != 0:
        last = (probe.stderr.strip().splitlines() or ["?"])[-1]
        return Row(
            "Jupyter kernel",
            "fail",
            f"kernel {name!r} ({python}) cannot import the course: {last}",
            KERNEL_INSTALL + "  (with the course's .venv active)",
        )
    return Row("Jupyter kernel", "ok", f"{name!r} ({spec.display_name}) runs {python}")


def check_course_app() -> Row:
    try:
        main = importlib.import_module("course_app.main")
        config = importlib.import_module("course_app.config")
        settings = config.load_settings(
            database_url="sqlite+aiosqlite:///:memory:", log_level="WARNING"
        )
        app = main.create_app(settings)
        paths = len(app.openapi().get("paths", {}))
    except Exception as exc:
        return Row(
            "course_app",
            "fail",
            f"cannot build the app: {_describe(exc)}",
            "run from the course folder with the course installed: " + SETUP,
        )
    version = getattr(importlib.import_module("course_app"), "__version__", "?")
    return Row("course_app", "ok", f"{version}: create_app() serves {paths} paths")


def _describe(exc: BaseException) -> str:
    message = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {message[0][:200]}" if message else type(exc).__name__


def check_ports(host: str = "127.0.0.1", jupyter_port: int = 8888) -> Row:
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind((host, 0))
            port = sock.getsockname()[1]
    except OSError as exc:
        return Row(
            "Local port",
            "fail",
            f"cannot listen on {host}: {exc.strerror or exc}",
            "lessons start uvicorn on a free local port: allow listening on 127.0.0.1 "
            "(firewall, sandbox, container network settings)",
        )
    if _reachable(host, jupyter_port):
        return Row(
            "Local port",
            "warn",
            f"a free port works (e.g. {port}), but {jupyter_port} is taken",
            f"JupyterLab will pick another port: open the URL it prints "
            f"(or stop what listens on {jupyter_port})",
        )
    return Row("Local port", "ok", f"{host} can listen (e.g. port {port}); {jupyter_port} free")


def check_sqlite(folder: Path | None = None) -> Row:
    version = sqlite3.sqlite_version
    if _version(version)[:2] < SQLITE_FLOOR:
        floor = ".".join(str(p) for p in SQLITE_FLOOR)
        return Row(
            "SQLite",
            "fail",
            f"SQLite {version} is too old (the app needs {floor}+)",
            "use a Python built with a newer SQLite (python.org installers, or your "
            "distribution's current python3)",
        )
    where = folder or nb.ROOT
    try:
        with tempfile.TemporaryDirectory(prefix=".doctor-", dir=where) as tmp:
            database = Path(tmp) / "doctor.db"
            connection = sqlite3.connect(database)
            try:
                mode = connection.execute("PRAGMA journal_mode=WAL").fetchone()[0]
                connection.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)")
                connection.execute("INSERT INTO t (name) VALUES ('ok')")
                connection.commit()
            finally:
                connection.close()
            # a loop of its own, in a thread: the caller may be running one already
            # (a notebook, or a test session driving a browser)
            with ThreadPoolExecutor(max_workers=1) as pool:
                name = pool.submit(asyncio.run, _aiosqlite_read(database)).result()
    except Exception as exc:
        return Row(
            "SQLite",
            "fail",
            f"cannot use a database in {where}: {_describe(exc)}",
            "the course writes SQLite files in its own folder: clone it to a local, "
            "writable disk (not a read-only or network mount)",
        )
    if mode != "wal" or name != "ok":
        return Row(
            "SQLite",
            "fail",
            f"journal mode {mode!r}, read back {name!r}",
            "clone the course to a local disk: WAL mode needs one",
        )
    return Row("SQLite", "ok", f"SQLite {version}, WAL and aiosqlite work in the course folder")


async def _aiosqlite_read(database: Path) -> Any:
    import aiosqlite

    async with aiosqlite.connect(database) as connection:
        cursor = await connection.execute("SELECT name FROM t")
        row = await cursor.fetchone()
        return row[0] if row else None


def _reachable(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _address(variable: str, default_port: int) -> tuple[str, int, str]:
    url = os.environ.get(variable, "")
    if url and "://" in url:
        parts = urlsplit(url)
        if parts.hostname:
            return parts.hostname, parts.port or default_port, f"{variable}"
    return "127.0.0.1", default_port, "default address"


def check_postgres() -> Row:
    url = os.environ.get("DATABASE_URL", "")
    if url and not url.startswith("postgres"):
        return Row(
            "PostgreSQL (optional)",
            "ok",
            "not used: DATABASE_URL is not a PostgreSQL URL (the course runs on SQLite)",
        )
    host, port, source = _address("DATABASE_URL", 5432)
    if _reachable(host, port):
        return Row("PostgreSQL (optional)", "ok", f"reachable on {host}:{port} ({source})")
    return Row(
        "PostgreSQL (optional)",
        "warn",
        f"not reachable on {host}:{port} ({source}); the course runs on SQLite without it",
        "only for the app's PostgreSQL tests: start PostgreSQL (e.g. `docker run -p 5432:5432 "
        "-e POSTGRES_HOST_AUTH_METHOD=trust postgres`) or set DATABASE_URL",
    )


def check_redis() -> Row:
    host, port, source = _address("REDIS_URL", 6379)
    try:
        if not _reachable(host, port):  # closed port: no need for the client's retries
            raise ConnectionError(f"{host}:{port} refused")
        import redis

        client = redis.Redis(host=host, port=port, socket_timeout=1, socket_connect_timeout=1)
        try:
            answer = client.ping()
        finally:
            client.close()
    except Exception:
        answer = False
    if answer:
        return Row("Redis (optional)", "ok", f"PING answered on {host}:{port} ({source})")
    return Row(
        "Redis (optional)",
        "warn",
        f"no answer on {host}:{port} ({source}); cache and rate limits run in-process without it",
        "only for the Redis parts of the multi-worker lessons: start Redis (e.g. `docker run "
        "-p 6379:6379 redis`) or set REDIS_URL",
    )


def check_labs() -> Row:
    labs = labrun.phase_files(nb.EXERCISES)
    if not labs:
        return Row(
            "Labs",
            "fail",
            f"no labs (NN_topic.ipynb) in {nb.EXERCISES}",
            "run the command inside the course folder you cloned",
        )
    if not os.access(nb.EXERCISES, os.W_OK):
        return Row(
            "Labs",
            "fail",
            f"{nb.EXERCISES} is not writable: your work cannot be saved",
            "clone the course into a folder you own",
        )
    return Row("Labs", "ok", f"{len(labs)} labs in {nb.EXERCISES.name}/, writable")


CHECKS: list[Callable[[], Row]] = [
    check_python,
    check_packages,
    check_course_app,
    check_labs,
    check_kernel,
    check_ports,
    check_sqlite,
    check_postgres,
    check_redis,
]


def run_checks(checks: list[Callable[[], Row]] | None = None, *, quiet: bool = True) -> list[Row]:
    rows = []
    chosen = CHECKS if checks is None else checks
    with ui.progress_bar(quiet=quiet) as bar:
        task = bar.add_task("checking", total=len(chosen))
        for check in chosen:
            name = check.__name__.removeprefix("check_")
            bar.update(task, description=f"checking {name}")
            try:
                rows.append(check())
            except Exception as exc:  # a check must never crash the doctor
                rows.append(Row(name, "fail", f"the check crashed: {_describe(exc)}"))
            bar.advance(task)
    return rows


STYLE = {"ok": "[green]✓ ok[/]", "warn": "[yellow]! warning[/]", "fail": "[red]✗ problem[/]"}


def doctor_command(*, as_json: bool, quiet: bool) -> int:
    rows = run_checks(quiet=quiet)
    problems = [r for r in rows if r.status == "fail"]
    warnings = [r for r in rows if r.status == "warn"]
    if as_json:
        document = {"ready": not problems, "checks": [asdict(r) for r in rows]}
        print(json.dumps(document, indent=2, ensure_ascii=False))
        return ui.NOT_OK if problems else ui.OK
    table = Table(title="Workshop readiness", title_justify="left", show_lines=True)
    table.add_column("Check", no_wrap=True)
    table.add_column("Status", no_wrap=True)
    table.add_column("Found")
    fixes = any(row.fix for row in rows)
    if fixes:
        table.add_column("Fix")
    for row in rows:
        cells = [row.name, STYLE[row.status], _escape(row.detail)]
        table.add_row(*cells, *([_escape(row.fix)] if fixes else []))
    console = ui.stdout()
    console.print(table)
    if problems:
        console.print(
            f"[red]{len(problems)} problem{'s' if len(problems) != 1 else ''} to fix before "
            "the workshop[/] (see the Fix column), then run `course doctor` again."
        )
        return ui.NOT_OK
    extra = f" ({len(warnings)} optional item{'s' if len(warnings) != 1 else ''} missing)"
    console.print(f"[green]Ready for the workshop[/]{extra if warnings else ''}.")
    return ui.OK


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)
