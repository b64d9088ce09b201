# syntax=docker/dockerfile:1
# The image of course_app (lesson 10). Build from the repository root:
#   make deploy/requirements-app.txt && docker build -t shop .
# tests/deploy/ lints this file with hadolint and runs its CMD for real with uvicorn.

# --- build stage: compilers and pip caches stay here ---------------------------
FROM python:3.11-slim AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
ENV PATH="/opt/venv/bin:$PATH"
# the app's own dependencies (pyproject's [project], no course tools), every version pinned
COPY deploy/requirements-app.txt requirements.lock /tmp/
RUN pip install --no-cache-dir -c /tmp/requirements.lock -r /tmp/requirements-app.txt

# --- runtime stage: the venv, the code, a numeric non-root user ------------------
FROM python:3.11-slim
RUN useradd --uid 10001 --no-create-home --shell /usr/sbin/nologin app
WORKDIR /srv
COPY --from=builder /opt/venv /opt/venv
COPY course_app/ ./course_app/
ENV PATH="/opt/venv/bin:$PATH" PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 \
    ENVIRONMENT=production HOST=0.0.0.0 PORT=8000 WORKERS=1
USER 10001
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --retries=3 \
  CMD ["python", "-c", "import urllib.request as r; r.urlopen('http://127.0.0.1:8000/health')"]
# exec form: python (running uvicorn) is PID 1 and gets SIGTERM itself; WORKERS sets workers.
# Secrets (JWT_SECRET, DATABASE_URL) come from the orchestrator; migrations run before the
# rollout as their own step: `python -m course_app migrate` (deploy/k8s/job-migrate.yaml).
CMD ["python", "-m", "course_app"]
