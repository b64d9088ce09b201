"""Plausible wrong answers for lab 10: each must be rejected by its checker.

Each string replaces the body of the exercise's ``### BEGIN SOLUTION`` region.
"""

from __future__ import annotations

MUTANTS: dict[str, list[str]] = {
    "10.1": [
        # seed 000's Dockerfile: unpinned pip, a user name, four fixed workers, no factory
        '''
        DOCKERFILE = """\\
        FROM python:3.12-slim AS builder
        WORKDIR /app
        RUN pip install --no-cache-dir uv
        COPY pyproject.toml uv.lock ./
        RUN uv sync --frozen --no-dev --no-editable

        FROM python:3.12-slim
        WORKDIR /app
        RUN adduser --disabled-password --no-create-home appuser
        COPY --from=builder /app/.venv /app/.venv
        COPY src/ ./src/
        ENV PATH="/app/.venv/bin:$PATH"
        USER appuser
        EXPOSE 8000
        CMD ["uvicorn", "src.app.main:app", "--host", "0.0.0.0", "--port", "8000", "--workers", "4"]
        """
        ''',
        # seed 001's: hadolint is clean, but one stage, root, deprecated worker class
        '''
        DOCKERFILE = """\\
        FROM python:3.11-slim
        WORKDIR /code
        COPY requirements-app.txt /code/requirements-app.txt
        RUN pip install --no-cache-dir -r /code/requirements-app.txt
        COPY course_app/ /code/course_app/
        EXPOSE 8000
        CMD ["gunicorn", "course_app.main:create_app()", "--workers", "4", \\
             "--worker-class", "uvicorn.workers.UvicornWorker", "--bind", "0.0.0.0:8000"]
        """
        ''',
        # shell-form CMD: /bin/sh is PID 1 and swallows SIGTERM
        '''
        DOCKERFILE = """\\
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
        ENV PATH="/opt/venv/bin:$PATH"
        USER 10001
        EXPOSE 8000
        CMD python -m course_app
        """
        ''',
        # a secret baked into the image "for convenience"
        '''
        DOCKERFILE = """\\
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
        ENV PATH="/opt/venv/bin:$PATH" JWT_SECRET=please-change-me-in-production-0123456789
        USER 10001
        EXPOSE 8000
        CMD ["python", "-m", "course_app"]
        """
        ''',
        # USER set in the build stage only: the runtime stage runs as root
        '''
        DOCKERFILE = """\\
        FROM python:3.11-slim AS builder
        RUN python -m venv /opt/venv
        ENV PATH="/opt/venv/bin:$PATH"
        COPY requirements-app.txt /tmp/requirements-app.txt
        RUN pip install --no-cache-dir -r /tmp/requirements-app.txt
        USER 10001

        FROM python:3.11-slim
        WORKDIR /srv
        COPY --from=builder /opt/venv /opt/venv
        COPY course_app/ ./course_app/
        ENV PATH="/opt/venv/bin:$PATH"
        EXPOSE 8000
        CMD ["python", "-m", "course_app"]
        """
        ''',
    ],
    "10.2": [
        # the table exists, so the schema must be fine: another release's revision passes
        """
        @app.get("/health")
        async def health() -> Liveness:
            return Liveness(version=__version__)

        @app.get("/ready")
        async def ready(request: Request, response: Response) -> dict[str, Any]:
            database: Database = request.state.database
            try:
                await database.ping()
                async with database.engine.connect() as connection:
                    current = await connection.run_sync(
                        lambda sync: set(MigrationContext.configure(sync).get_current_heads())
                    )
            except Exception:
                response.status_code = 503
                return {"status": "unavailable",
                        "checks": {"database": "unavailable", "schema": "unknown"}}
            if not current:
                response.status_code = 503
                return {"status": "unavailable", "checks": {"database": "ok", "schema": "behind"}}
            return {"status": "ready", "checks": {"database": "ok", "schema": "ok"}}
        """,
        # liveness checks the schema too: every pod restarts while the migration runs
        """
        async def schema_ok(database: Database) -> bool:
            async with database.engine.connect() as connection:
                current = await connection.run_sync(
                    lambda sync: set(MigrationContext.configure(sync).get_current_heads())
                )
            return current == set(ScriptDirectory.from_config(alembic_config()).get_heads())

        @app.get("/health")
        async def health(request: Request, response: Response) -> Liveness:
            if not await schema_ok(request.state.database):
                response.status_code = 503
            return Liveness(version=__version__)

        @app.get("/ready")
        async def ready(request: Request, response: Response) -> dict[str, Any]:
            database: Database = request.state.database
            try:
                await database.ping()
                current_ok = await schema_ok(database)
            except Exception:
                response.status_code = 503
                return {"status": "unavailable",
                        "checks": {"database": "unavailable", "schema": "unknown"}}
            if not current_ok:
                response.status_code = 503
                return {"status": "unavailable", "checks": {"database": "ok", "schema": "behind"}}
            return {"status": "ready", "checks": {"database": "ok", "schema": "ok"}}
        """,
        # says "behind" but answers 200: the orchestrator routes traffic anyway
        """
        @app.get("/health")
        async def health() -> Liveness:
            return Liveness(version=__version__)

        @app.get("/ready")
        async def ready(request: Request, response: Response) -> dict[str, Any]:
            database: Database = request.state.database
            try:
                await database.ping()
                async with database.engine.connect() as connection:
                    current = await connection.run_sync(
                        lambda sync: set(MigrationContext.configure(sync).get_current_heads())
                    )
            except Exception:
                response.status_code = 503
                return {"status": "unavailable",
                        "checks": {"database": "unavailable", "schema": "unknown"}}
            heads = set(ScriptDirectory.from_config(alembic_config()).get_heads())
            if current != heads:
                return {"status": "unavailable", "checks": {"database": "ok", "schema": "behind"}}
            return {"status": "ready", "checks": {"database": "ok", "schema": "ok"}}
        """,
        # the revision query outside the try: a database outage becomes a 500
        """
        @app.get("/health")
        async def health() -> Liveness:
            return Liveness(version=__version__)

        @app.get("/ready")
        async def ready(request: Request, response: Response) -> dict[str, Any]:
            database: Database = request.state.database
            async with database.engine.connect() as connection:
                current = await connection.run_sync(
                    lambda sync: set(MigrationContext.configure(sync).get_current_heads())
                )
            heads = set(ScriptDirectory.from_config(alembic_config()).get_heads())
            if current != heads:
                response.status_code = 503
                return {"status": "unavailable", "checks": {"database": "ok", "schema": "behind"}}
            return {"status": "ready", "checks": {"database": "ok", "schema": "ok"}}
        """,
    ],
    "10.3": [
        # liveness on /ready: a database outage restarts every pod
        """
        labels = {"app": "shop"}
        probe = {"httpGet": {"path": "/ready", "port": 8000}}
        return {
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "shop", "labels": labels},
            "spec": {
                "replicas": replicas, "selector": {"matchLabels": labels},
                "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0}},
                "template": {"metadata": {"labels": labels}, "spec": {
                    "securityContext": {"runAsNonRoot": True, "runAsUser": 10001},
                    "containers": [{
                        "name": "api", "image": image, "ports": [{"containerPort": 8000}],
                        "resources": {"requests": {"cpu": "250m", "memory": "256Mi"},
                                      "limits": {"memory": "512Mi"}},
                        "livenessProbe": probe, "readinessProbe": probe,
                    }],
                }},
            },
        }
        """,
        # probes on port 80 (the Service's port) while uvicorn listens on 8000
        """
        labels = {"app": "shop"}
        return {
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "shop", "labels": labels},
            "spec": {
                "replicas": replicas, "selector": {"matchLabels": labels},
                "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0}},
                "template": {"metadata": {"labels": labels}, "spec": {
                    "securityContext": {"runAsNonRoot": True, "runAsUser": 10001},
                    "containers": [{
                        "name": "api", "image": image, "ports": [{"containerPort": 8000}],
                        "resources": {"requests": {"cpu": "250m", "memory": "256Mi"},
                                      "limits": {"memory": "512Mi"}},
                        "livenessProbe": {"httpGet": {"path": "/health", "port": 80}},
                        "readinessProbe": {"httpGet": {"path": "/ready", "port": 80}},
                    }],
                }},
            },
        }
        """,
        # seed 001's Dockerfile habit carried over: four workers in every container
        """
        labels = {"app": "shop"}
        return {
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "shop", "labels": labels},
            "spec": {
                "replicas": replicas, "selector": {"matchLabels": labels},
                "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0}},
                "template": {"metadata": {"labels": labels}, "spec": {
                    "securityContext": {"runAsNonRoot": True, "runAsUser": 10001},
                    "containers": [{
                        "name": "api", "image": image, "ports": [{"containerPort": 8000}],
                        "args": ["uvicorn", "course_app.main:create_app", "--factory",
                                 "--host", "0.0.0.0", "--port", "8000", "--workers", "4"],
                        "resources": {"requests": {"cpu": "1", "memory": "1Gi"},
                                      "limits": {"memory": "2Gi"}},
                        "livenessProbe": {"httpGet": {"path": "/health", "port": 8000}},
                        "readinessProbe": {"httpGet": {"path": "/ready", "port": 8000}},
                    }],
                }},
            },
        }
        """,
        # a typo in a key: the API server would drop it, the schema (strict) does not
        """
        labels = {"app": "shop"}
        return {
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "shop", "labels": labels},
            "spec": {
                "replicas": replicas, "selector": {"matchLabels": labels},
                "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0}},
                "template": {"metadata": {"labels": labels}, "spec": {
                    "securityContext": {"runAsNonRoot": True, "runAsUser": 10001},
                    "containers": [{
                        "name": "api", "image": image, "ports": [{"containerPort": 8000}],
                        "resources": {"requests": {"cpu": "250m", "memory": "256Mi"},
                                      "limits": {"memory": "512Mi"}},
                        "livenessProbe": {"httpGet": {"path": "/health", "port": 8000}},
                        "readinessprobe": {"httpGet": {"path": "/ready", "port": 8000}},
                    }],
                }},
            },
        }
        """,
        # no security context and no resources: runs as root, unbounded
        """
        labels = {"app": "shop"}
        return {
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "shop", "labels": labels},
            "spec": {
                "replicas": replicas, "selector": {"matchLabels": labels},
                "template": {"metadata": {"labels": labels}, "spec": {
                    "containers": [{
                        "name": "api", "image": image, "ports": [{"containerPort": 8000}],
                        "livenessProbe": {"httpGet": {"path": "/health", "port": 8000}},
                        "readinessProbe": {"httpGet": {"path": "/ready", "port": 8000}},
                    }],
                }},
            },
        }
        """,
    ],
    "10.4": [
        # seed 000's workflow: no migration step, DATABASE_URL on the pytest step only
        '''
        WORKFLOW = """\\
        name: CI
        on: [push, pull_request]
        jobs:
          test:
            runs-on: ubuntu-latest
            services:
              postgres:
                image: postgres:16
                env: {POSTGRES_PASSWORD: test, POSTGRES_DB: testdb}
                ports: ["5432:5432"]
                options: >-
                  --health-cmd pg_isready --health-interval 10s --health-timeout 5s
                  --health-retries 5
            steps:
              - uses: actions/checkout@v4
              - uses: actions/setup-python@v5
                with: {python-version: "3.12"}
              - run: pip install uv && uv sync
              - run: uv run ruff check .
              - run: uv run mypy src/
              - run: uv run pytest --cov=src --cov-report=xml -x
                env:
                  DATABASE_URL: postgresql+asyncpg://postgres:test@localhost:5432/testdb
        """
        ''',
        # migrates, but DATABASE_URL only on the test step: the migration hits SQLite
        '''
        WORKFLOW = """\\
        name: CI
        on: [push, pull_request]
        jobs:
          lint:
            runs-on: ubuntu-latest
            steps:
              - uses: actions/checkout@v4
              - run: pip install ruff mypy
              - run: ruff check course_app
              - run: mypy
          test:
            runs-on: ubuntu-latest
            services:
              postgres:
                image: postgres:16
                env: {POSTGRES_PASSWORD: test, POSTGRES_DB: test}
                ports: ["5432:5432"]
                options: --health-cmd pg_isready
            steps:
              - uses: actions/checkout@v4
              - uses: actions/setup-python@v5
                with: {python-version: "3.11"}
              - run: pip install -e ".[dev]"
              - run: python -m course_app migrate
              - run: pytest tests
                env:
                  DATABASE_URL: postgresql+asyncpg://postgres:test@localhost:5432/test
        """
        ''',
        # no health check on the service, and an unquoted version (the float 3.1)
        '''
        WORKFLOW = """\\
        name: CI
        on: [push, pull_request]
        jobs:
          lint:
            runs-on: ubuntu-latest
            steps:
              - uses: actions/checkout@v4
              - uses: actions/setup-python@v5
                with: {python-version: 3.10}
              - run: pip install ruff mypy
              - run: ruff check course_app
              - run: mypy
          test:
            runs-on: ubuntu-latest
            services:
              postgres:
                image: postgres:16
                env: {POSTGRES_PASSWORD: test, POSTGRES_DB: test}
                ports: ["5432:5432"]
            env:
              DATABASE_URL: postgresql+asyncpg://postgres:test@localhost:5432/test
            steps:
              - uses: actions/checkout@v4
              - uses: actions/setup-python@v5
                with: {python-version: 3.10}
              - run: pip install -e ".[dev]"
              - run: python -m course_app migrate
              - run: pytest tests
        """
        ''',
        # tests first, migration afterwards
        '''
        WORKFLOW = """\\
        name: CI
        on: [push, pull_request]
        jobs:
          checks:
            runs-on: ubuntu-latest
            steps:
              - uses: actions/checkout@v4
              - run: pip install ruff mypy
              - run: ruff check course_app
              - run: mypy
          test:
            runs-on: ubuntu-latest
            services:
              postgres:
                image: postgres:16
                env: {POSTGRES_PASSWORD: test, POSTGRES_DB: test}
                ports: ["5432:5432"]
                options: --health-cmd pg_isready
            env:
              DATABASE_URL: postgresql+asyncpg://postgres:test@localhost:5432/test
            steps:
              - uses: actions/checkout@v4
              - uses: actions/setup-python@v5
                with: {python-version: "3.11"}
              - run: pip install -e ".[dev]"
              - run: pytest tests
              - run: python -m course_app migrate
        """
        ''',
    ],
}
