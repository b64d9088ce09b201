# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (FastAPI course)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Lab 10 · Deployment
#
# Four exercises, about 40 minutes. Each exercise cell is followed by a check cell: run
# both. A check never crashes the notebook; it prints ✓ or, for each failing case, what was
# expected, what came back and a hint. Replace each `# YOUR CODE HERE` and the line after it.
#
# | # | you write | it proves |
# |---|---|---|
# | 10.1 | `DOCKERFILE`, the image of `course_app` | hadolint finds nothing; multi-stage, numeric non-root user, exec-form factory command, no fixed workers, no secrets |
# | 10.2 | `include_probes(app)` with `/health` and a schema-aware `/ready` | the real app says "not ready" (503 with a body) until the database is migrated to the code's revision, and never restarts for it |
# | 10.3 | `deployment(image, replicas)`, a Kubernetes Deployment | valid against the Kubernetes schema; liveness on `/health`, readiness on `/ready`, on the right port; one process per container |
# | 10.4 | `WORKFLOW`, a GitHub Actions file | lint, type-check, tests on a healthy PostgreSQL, migration first, every step on the same database |
#
# Lesson 10 (`notebooks/10_deployment.ipynb`) shows every tool you need.

# %%
from typing import Any

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from fastapi import FastAPI, Request, Response, status

from course_app import __version__
from course_app.core.database import Database
from course_app.core.migrations import alembic_config
from course_app.features.health.schemas import Liveness
from coursekit import check

# %% [markdown]
# ## Exercise 10.1 — the Dockerfile
#
# Write `DOCKERFILE`, the text of the image for `course_app`, from the repository root as
# build context. The checker lints it with **hadolint** (it must report nothing, at any
# level) and then applies the service rules of lesson 10:
#
# - at least **two stages**; the runtime stage takes what it needs from the build stage
#   with `COPY --from=...`; the build stage installs `requirements-app.txt` with pip;
# - the runtime stage copies the `course_app/` package, `EXPOSE`s port 8000, and switches to
#   a **numeric, non-root** `USER` (not 0) before its `CMD`;
# - `CMD` in **exec form** (a JSON array) that starts the app **through its factory**:
#   `["python", "-m", "course_app"]` (host, port and workers come from the environment), or
#   uvicorn with `course_app.main:create_app` and `--factory`;
# - **no fixed worker count** in the command (`--workers`, `-w`), no `uvicorn.workers`;
# - **no secrets** in the image: no `ENV`/`ARG` for `JWT_SECRET`, `DATABASE_URL` or
#   `REDIS_URL`.

# %%
### BEGIN SOLUTION stub: DOCKERFILE = ""
DOCKERFILE = """\
FROM python:3.11-slim AS builder
RUN python -m venv /opt/venv
ENV PATH="/opt/venv/bin:$PATH"
COPY requirements-app.txt /tmp/requirements-app.txt
RUN pip install --no-cache-dir -r /tmp/requirements-app.txt

FROM python:3.11-slim
RUN useradd --uid 10001 --no-create-home app
WORKDIR /srv
COPY --from=builder /opt/venv /opt/venv
COPY course_app/ ./course_app/
ENV PATH="/opt/venv/bin:$PATH" PYTHONUNBUFFERED=1 HOST=0.0.0.0 PORT=8000 WORKERS=1
USER 10001
EXPOSE 8000
CMD ["python", "-m", "course_app"]
"""
### END SOLUTION

# %%
check("10.1", DOCKERFILE)

# %% [markdown]
# ## Exercise 10.2 — readiness that knows the schema
#
# Lesson 10 started an unmigrated staging app: `/health` and `/ready` were green and every
# listing failed. Write `include_probes(app)`, which adds two routes to a real app:
#
# - `GET /health`: liveness, `Liveness(version=__version__)`, 200, **touching nothing** —
#   not the database, not the schema (a failing liveness probe restarts the container, and
#   a restart does not migrate anything);
# - `GET /ready`: readiness. The database is `request.state.database` (a `Database`).
#   - the database answers (`await database.ping()`) **and** its Alembic revision is the
#     code's head → 200, `{"status": "ready", "checks": {"database": "ok", "schema": "ok"}}`;
#   - the database answers but its revision is not the head (no `alembic_version` table
#     yet, or another revision) → **503**,
#     `{"status": "unavailable", "checks": {"database": "ok", "schema": "behind"}}`;
#   - the database does not answer → **503**,
#     `{"status": "unavailable", "checks": {"database": "unavailable", "schema": "unknown"}}`
#     — never a 500.
#
# The code's heads: `set(ScriptDirectory.from_config(alembic_config()).get_heads())`. The
# database's: inside `async with database.engine.connect() as connection:`, run
# `await connection.run_sync(heads_of)` with a function `heads_of(sync_connection)` that
# returns `set(MigrationContext.configure(sync_connection).get_current_heads())`.
# The checker assembles a staging app from `course_app`'s layers with your probes, and
# migrates, tampers with and takes away its database while it runs.

# %%
def include_probes(app: FastAPI) -> None:
    """Add /health (liveness) and a schema-aware /ready (readiness) to ``app``."""
    ### BEGIN SOLUTION
    async def database_heads(database: Database) -> set[str]:
        async with database.engine.connect() as connection:
            return await connection.run_sync(
                lambda sync: set(MigrationContext.configure(sync).get_current_heads())
            )

    @app.get("/health")
    async def health() -> Liveness:
        return Liveness(version=__version__)

    @app.get("/ready")
    async def ready(request: Request, response: Response) -> dict[str, Any]:
        database: Database = request.state.database
        try:
            await database.ping()
            current = await database_heads(database)
        except Exception:
            response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
            return {"status": "unavailable",
                    "checks": {"database": "unavailable", "schema": "unknown"}}
        code_heads = set(ScriptDirectory.from_config(alembic_config()).get_heads())
        if current != code_heads:
            response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
            return {"status": "unavailable", "checks": {"database": "ok", "schema": "behind"}}
        return {"status": "ready", "checks": {"database": "ok", "schema": "ok"}}
    ### END SOLUTION


# %%
check("10.2", include_probes)

# %% [markdown]
# ## Exercise 10.3 — the Kubernetes Deployment
#
# Write `deployment(image, replicas)`, which returns the manifest (a `dict`, as
# `yaml.safe_load` would give) of an `apps/v1` `Deployment` named `shop`:
#
# - `replicas` replicas; the selector `{"app": "shop"}` matches the pod template's labels;
# - one container named `api` running `image`, listening on `containerPort` 8000;
# - **one process per container**: no `--workers`/`-w` in `command` or `args`, and if you
#   set a `WORKERS` environment variable, it is `"1"`;
# - `livenessProbe`: HTTP GET `/health`; `readinessProbe`: HTTP GET `/ready`; both on the
#   container's port (8000, or the name you gave that port);
# - the pod runs as non-root: `securityContext.runAsNonRoot: true` (pod or container);
# - `resources`: `requests` for `cpu` and `memory`, and a `limits.memory`;
# - a rolling update that never goes below the wanted capacity: `maxUnavailable: 0`.
#
# The checker validates it against the schema of Kubernetes 1.33 with
# `kubernetes_validate.validate(manifest, "1.33", strict=True)` (unknown keys are errors),
# then checks the rules above.

# %%
def deployment(image: str, replicas: int) -> dict[str, Any]:
    """An apps/v1 Deployment of course_app: one uvicorn process per container."""
    ### BEGIN SOLUTION
    labels = {"app": "shop"}
    container = {
        "name": "api",
        "image": image,
        "ports": [{"name": "http", "containerPort": 8000}],
        "env": [{"name": "WORKERS", "value": "1"}],
        "resources": {
            "requests": {"cpu": "250m", "memory": "256Mi"},
            "limits": {"memory": "512Mi"},
        },
        "livenessProbe": {"httpGet": {"path": "/health", "port": "http"}, "periodSeconds": 10},
        "readinessProbe": {"httpGet": {"path": "/ready", "port": "http"}, "periodSeconds": 5},
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "shop", "labels": labels},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "strategy": {"type": "RollingUpdate",
                         "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "securityContext": {"runAsNonRoot": True, "runAsUser": 10001},
                    "containers": [container],
                },
            },
        },
    }
    ### END SOLUTION


# %%
check("10.3", deployment)

# %% [markdown]
# ## Exercise 10.4 — the CI workflow
#
# Write `WORKFLOW`, a GitHub Actions workflow (YAML text) for your copy of the repository:
#
# - it runs on `push` and on `pull_request`;
# - some job runs `ruff check`, some job runs `mypy`; every job has `runs-on`;
# - a job named `test` has a **service** `postgres` (image `postgres:<version>`, port
#   `5432:5432`, `options` with `--health-cmd pg_isready` so the steps wait for it);
# - in `test`, a step runs `python -m course_app migrate` **before** the step that runs
#   `pytest`, and **both** see `DATABASE_URL` pointing at that service
#   (`postgresql+asyncpg://...@localhost:5432/...`): set it on the job, not on one step;
# - every `actions/setup-python` step asks for a version **string** such as `"3.11"`.
#
# The checker parses it with `yaml.safe_load` (YAML 1.1: the key `on` comes back as `True`).

# %%
### BEGIN SOLUTION stub: WORKFLOW = ""
WORKFLOW = """\
name: CI
on: [push, pull_request]
jobs:
  lint:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with: {python-version: "3.11"}
      - run: pip install ruff
      - run: ruff check course_app tests
  typecheck:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with: {python-version: "3.11"}
      - run: pip install -c requirements.lock -e ".[dev]"
      - run: mypy
  test:
    runs-on: ubuntu-latest
    services:
      postgres:
        image: postgres:16
        env: {POSTGRES_PASSWORD: test, POSTGRES_DB: test}
        ports: ["5432:5432"]
        options: --health-cmd pg_isready --health-interval 5s --health-retries 10
    env:
      DATABASE_URL: postgresql+asyncpg://postgres:test@localhost:5432/test
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with: {python-version: "3.11"}
      - run: pip install -c requirements.lock -e ".[dev]"
      - run: python -m course_app migrate
      - run: pytest tests
"""
### END SOLUTION

# %%
check("10.4", WORKFLOW)

# %% [markdown]
# ## Done?
#
# Run `course check 10` in a terminal to see all four results at once. Next: lesson 11,
# advanced patterns.
