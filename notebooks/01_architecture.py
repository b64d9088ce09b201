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
# # 01 · Architecture: one app, built by a factory, grown by composition
#
# **Objectives.** By the end of this lesson you will be able to
# - score a FastAPI service on the 16-point quick health check, and know which lesson fixes each gap;
# - lay out a service by feature (`features/<domain>/`) around a small `core/`, and say why;
# - explain why `course_app` has an **app factory** and no module-level `app`, and assemble an app
#   from its layers yourself;
# - open and close resources in a **lifespan** (and recognise the deprecated `@app.on_event`);
# - start the app under a **real uvicorn process**, talk to it over HTTP, and stop it gracefully;
# - choose between `async def` and `def` for an endpoint, and *measure* what the wrong choice costs.
#
# **Time:** about 45 minutes for the lesson, 30 minutes for the lab (`exercises/01_architecture.ipynb`).
#
# **Prerequisites:** Python 3.11 with `async`/`await` basics, HTTP verbs and status codes,
# and the course environment (`make lab`). No database server, Docker or network is needed.

# %% [markdown]
# ## The map: a 16-point quick health check
#
# Before changing a FastAPI service, score it. Each signal is worth 2 points when healthy and
# 0 when not; the total is out of 16, and **below 8 means critical work is needed** before
# anything else. The table is also the map of this course: every unhealthy column has a
# lesson that fixes it, and lesson 12 turns the whole check into an executable audit that
# scores a deliberately bad app and `course_app` side by side.
#
# | Signal | Healthy (2 points) | Unhealthy (0 points) | Taught in |
# |---|---|---|---|
# | Type safety | Pydantic v2 models at every boundary | `dict` in, `dict` out, nothing validated | 03 |
# | Error handling | a structured error hierarchy, one error envelope | bare strings, leaked tracebacks | 04 |
# | Auth | JWT verified in a dependency | tokens parsed by hand in each endpoint | 05 |
# | Testing | 80 %+ coverage, async tests | no tests, or sync-only tests | 07 |
# | Database | async ORM and migrations | raw SQL strings, no migrations | 06 |
# | Observability | structured logs and tracing | `print()` debugging | 08 |
# | Deployment | multi-stage image, health checks | copied by hand onto a server | 10 |
# | Documentation | generated, accurate OpenAPI | the default docs, never looked at | 03, 12 |
#
# Configuration (02), performance (09) and the advanced patterns (11) do not score points of
# their own, but every signal above depends on them. This lesson lays the foundation all of
# them stand on: the shape of the project.

# %% [markdown]
# ## The layout: group by feature, not by layer
#
# A "by layer" project has `routers/`, `models/`, `schemas/`, `services/` folders; adding one
# feature touches all of them, and nothing stops any file importing any other. A **feature-based**
# project puts everything about one domain (users, orders, products) in one package, and keeps
# the cross-cutting infrastructure in a small `core/` that never imports a feature.
#
# `course_app` is laid out that way. Rather than draw the tree, we read it from the installed
# package. The tree grows as the course adds layers, so this cell's output is not compared
# by the notebook tests; the assertions after it check the shape that must not change.

# %%
# NBVAL_IGNORE_OUTPUT
import ast
from pathlib import Path

import course_app

PACKAGE = Path(course_app.__file__).parent
ROOT = PACKAGE.parent  # the repository root: every path below is printed relative to it


def summary(path: Path) -> str:
    """First line of a module's docstring (a package's lives in its __init__.py)."""
    source = path / "__init__.py" if path.is_dir() else path
    doc = ast.get_docstring(ast.parse(source.read_text(encoding="utf-8"))) or ""
    return doc.splitlines()[0] if doc else ""


def show_tree(folder: Path, indent: str = "") -> None:
    entries = sorted(p for p in folder.iterdir() if p.name != "__pycache__")
    for path in entries:
        if path.is_dir():
            print(f"{indent}{path.name}/".ljust(34), summary(path)[:64])
            show_tree(path, indent + "    ")
        elif path.suffix == ".py" and path.name != "__init__.py":
            print(f"{indent}{path.name}".ljust(34), summary(path)[:64])


print(f"{PACKAGE.relative_to(ROOT)}/".ljust(34), summary(PACKAGE))
show_tree(PACKAGE, "    ")

# %%
skeleton = ["main.py", "config.py", "core/database.py", "core/errors.py", "core/logging.py",
            "features/health/router.py", "features/users", "features/orders", "shared"]
for part in skeleton:
    assert (PACKAGE / part).exists(), part
print("every layer of the recommended structure is present:", len(skeleton), "checked")

# %% [markdown]
# What each part is for:
#
# - `main.py` — the **app factory** `create_app(settings)`: the one place where layers are installed.
# - `config.py` — typed settings read from the environment (lesson 02).
# - `core/` — infrastructure every feature uses: database, errors, logging; later security,
#   middleware, cache and rate limiting. `core` never imports a feature.
# - `features/<domain>/` — `router.py` (thin HTTP layer), `schemas.py` (Pydantic at the boundary),
#   `service.py` (business rules), `repository.py` (queries), `models.py` (ORM),
#   `dependencies.py`, `exceptions.py`. Deleting a feature is deleting one folder.
# - `shared/` — small building blocks several features reuse (pagination, response models).
#
# Beside the package sit `tests/` (the app's own suite) and `pyproject.toml`; lesson 06 adds
# `migrations/` (Alembic) and lesson 10 the `Dockerfile`.

# %% [markdown]
# ## Seven architecture rules, and where `course_app` follows them
#
# | # | Rule | In `course_app` |
# |---|---|---|
# | 1 | **Feature-based modules**: group by domain, not by layer | `features/health/`, `features/users/`, … |
# | 2 | **Router → Service → Repository**, no skipping a layer | each feature's `router.py` calls its `service.py`, which alone calls `repository.py` (lessons 03, 06) |
# | 3 | **Dependency injection everywhere**: resources reach code through `Depends()` or lifespan state, never through globals | `/ready` gets the `Database` from lifespan state; sessions and the current user are dependencies (05, 06) |
# | 4 | **Pydantic models at the boundaries**, input *and* output | `Liveness`, `Readiness`, `ErrorResponse` |
# | 5 | **No business logic in routers**: thin routers, thick services | `features/health/router.py` only asks the database and reports |
# | 6 | **Configuration from the environment**, through Pydantic Settings | `config.Settings`, `load_settings()` |
# | 7 | **Async where the I/O is async**: `async def` with async libraries, `def` with blocking ones | SQLAlchemy async + aiosqlite/asyncpg; measured at the end of this lesson |
#
# Rule 7 is where the course corrects its sources: "async by default" is only right when the
# libraries you call are async; one blocking call inside `async def` stalls every request.
#
# Rules about imports can be *tested*, not just written down. The cell below parses every
# module of the package and looks for imports that break the layering.

# %%
def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
             for alias in node.names}
    names |= {node.module for node in ast.walk(tree)
              if isinstance(node, ast.ImportFrom) and node.module and node.level == 0}
    return names


violations = []
for path in sorted(PACKAGE.rglob("*.py")):
    where = path.relative_to(PACKAGE).as_posix()
    for name in sorted(imports_of(path)):
        if where.startswith(("core/", "shared/", "config.py")) and name.startswith("course_app.features"):
            violations.append(f"{where} imports {name}: core must not depend on a feature")
        if where.endswith("router.py") and name.endswith(".repository"):
            violations.append(f"{where} imports {name}: a router must go through its service")

print("layering violations:", violations or "none")
assert not violations

# %% [markdown]
# ## Choosing the framework
#
# FastAPI is a good default when the product is an **API** (not server-rendered pages),
# the team writes type-hinted Python, and you want the OpenAPI document, request validation
# and response serialization to come from the same type hints. Its async core pays off when
# a request spends its time waiting on I/O (databases, other services).
#
# | Consider instead | when |
# |---|---|
# | **Django** (with Django REST framework or Django Ninja) | a full web product: admin, ORM, auth, migrations, server-rendered pages, all batteries agreed on |
# | **Flask** | a small, mostly synchronous app, or a team that prefers explicit wiring and a huge plugin ecosystem |
# | **Litestar** | the same ASGI + type-hint model with more built in and stronger opinions (DTOs, channels, msgspec) |
# | **Starlette** alone | a tiny ASGI service where you want no validation layer at all (FastAPI is built on it) |
# | **Hono, Express, NestJS** | the team's language is TypeScript |
#
# None of these choices is about raw speed first: the database and the code you write
# dominate. Lesson 09 measures where the time actually goes.

# %% [markdown]
# ## The app factory: why there is no module-level `app`
#
# Most tutorials write `app = FastAPI()` at the top of `main.py`. Then *importing* the module
# reads the environment, configures logging and may open connections; every test shares
# one app and its settings; and running two differently configured apps in one process is
# impossible. `course_app.main` has only a **factory**, `create_app(settings=None)`:

# %%
import course_app.main

print("module-level app:", hasattr(course_app.main, "app"))
print("factory:", course_app.main.create_app.__doc__)

# %% [markdown]
# uvicorn calls the factory itself when told so: `uvicorn course_app.main:create_app --factory`
# (or `python -m course_app`, which does the same with the configured host, port and workers).
#
# Because settings are a parameter, one process can hold two apps configured differently,
# without touching `os.environ`. In production, the interactive docs are off by default:

# %%
import secrets
import tempfile

from course_app.config import load_settings
from course_app.main import create_app

workdir = tempfile.TemporaryDirectory(prefix="lesson01-")
db_url = f"sqlite+aiosqlite:///{workdir.name}/shop.db"

production = create_app(load_settings(environment="production", database_url=db_url,
                                      jwt_secret=secrets.token_urlsafe(32)))
development = create_app(load_settings(environment="development", database_url=db_url))
for name, app in [("production", production), ("development", development)]:
    print(f"{name:<12} docs_url={app.docs_url!s:<6} openapi_url={app.openapi_url}")

# %% [markdown]
# ### Assemble the app from its layers
#
# `create_app` is short on purpose: each layer exposes one `install_*`/`include_*` function,
# and the factory calls them in order. Here is the lesson-01 app assembled by hand from the
# layers we have so far: settings, logging, the lifespan (which opens the database), the error
# envelope and the health feature.

# %%
from fastapi import FastAPI

from course_app import __version__
from course_app.core.errors import install_error_handlers
from course_app.core.logging import configure_logging
from course_app.features.health.router import include_health
from course_app.main import build_lifespan

settings = load_settings(environment="test", app_name="Lesson 01 Shop", database_url=db_url)
configure_logging(settings)

app = FastAPI(title=settings.app_name, version=__version__, lifespan=build_lifespan(settings))
app.state.settings = settings
install_error_handlers(app)
include_health(app)

print("API routes:", sorted(app.openapi()["paths"]))

# %% [markdown]
# Run it in-process with Starlette's `TestClient`. Used as a context manager, it runs the
# lifespan, so `startup` and `shutdown` are logged (to stderr, by structlog) around the requests.
# Note the 404: even a route that does not exist answers with the course's **error envelope**
# (lesson 04 builds the whole hierarchy), not with FastAPI's default `{"detail": ...}`.

# %%
from fastapi.testclient import TestClient

with TestClient(app) as client:
    for path in ["/health", "/ready", "/no-such-page"]:
        response = client.get(path)
        print(path, response.status_code, response.json())

# %% [markdown]
# Lesson 12's app *is* `create_app()`. Each lesson adds layers to the factory, so the full
# app is a superset of what we assembled: it serves every route and handles every error
# type that our hand-built app does.

# %%
def api_paths(an_app: FastAPI) -> set[str]:
    """The API's paths, from its OpenAPI document (routers are included lazily)."""
    return set(an_app.openapi()["paths"])


full = create_app(settings)
print("our routes:", sorted(api_paths(app)))
print("create_app() serves all of them:", api_paths(app) <= api_paths(full))
print("same error handlers (or more):",
      set(app.exception_handlers) <= set(full.exception_handlers))
print("same title and version:", (full.title, full.version) == (app.title, app.version))

# %% [markdown]
# ## Lifespan, not `@app.on_event`
#
# Resources that live as long as the app (a connection pool, an HTTP client, a loaded model)
# are opened **before the first request** and closed **after the last one**. The old way was a
# pair of `@app.on_event("startup")`/`("shutdown")` handlers. Current FastAPI deprecates them,
# and says so when you register one:

# %%
import warnings

legacy = FastAPI()
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")

    @legacy.on_event("startup")
    async def connect() -> None:
        print("connecting")

for message in sorted({" ".join(str(w.message).split()) for w in caught}):
    print(f"{caught[0].category.__name__}: {message}")

# %% [markdown]
# Worse than the warning: once an app has a `lifespan`, its `on_event` handlers are **silently
# ignored**. Mixing the two styles (for example a library that still registers `on_event`)
# loses start-up code without an error:

# %%
from contextlib import asynccontextmanager

ran: list[str] = []


@asynccontextmanager
async def quiet_lifespan(_app: FastAPI):
    ran.append("lifespan start-up")
    yield
    ran.append("lifespan shutdown")


mixed = FastAPI(lifespan=quiet_lifespan)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    mixed.on_event("startup")(lambda: ran.append("on_event start-up"))

with TestClient(mixed):
    pass
print(ran)

# %% [markdown]
# A **lifespan** is one async context manager: code before `yield` runs at start-up, code after
# it at shutdown, and `try`/`finally` (or `async with`) guarantees the close even when something
# fails. Whatever it yields becomes `request.state` in every request, which is how `/ready` in
# `course_app` reaches the database without a global. Watch the order of events:

# %%
from collections.abc import AsyncIterator

from fastapi import Request

order: list[str] = []


class Pool:
    """Stands in for a database pool: expensive to open, must be closed."""

    async def open(self) -> None:
        order.append("lifespan: pool opened")

    async def close(self) -> None:
        order.append("lifespan: pool closed")


@asynccontextmanager
async def lifespan(_app: FastAPI) -> AsyncIterator[dict[str, Pool]]:
    pool = Pool()
    await pool.open()
    try:
        yield {"pool": pool}  # becomes request.state.pool
    finally:
        await pool.close()

# %%
demo = FastAPI(lifespan=lifespan)


@demo.get("/ping")
async def ping(request: Request) -> dict[str, str]:
    order.append(f"request: got a {type(request.state.pool).__name__} from request.state")
    return {"pong": "ok"}

# %%
order.append("app built: nothing opened yet")
with TestClient(demo) as client:
    order.append("server started")
    client.get("/ping")
    order.append("server stopping")
order.append("server stopped")
print("\n".join(f"{number}. {step}" for number, step in enumerate(order, start=1)))

# %% [markdown]
# `course_app.main.build_lifespan(settings)` is exactly this shape: `async with
# open_database(settings) as database:` opens the engine, logs `startup`, yields
# `{"settings": ..., "database": ...}`, and disposes of the pool on the way out.
#
# ## A real server: uvicorn in its own process
#
# `TestClient` calls the app in-process. Production runs it under an ASGI server in its own
# process, so let us do that too: `coursekit.server.serve` starts
# `uvicorn course_app.main:create_app --factory` on a free local port, waits until `/health`
# answers, and stops the process with **SIGTERM** when the block ends. Configuration goes in
# through the environment, exactly as it would in a container.

# %%
import httpx

from coursekit.server import serve

# its own database file: in development the app migrates it with Alembic at start-up
server_db = f"sqlite+aiosqlite:///{workdir.name}/server.db"
env = {"ENVIRONMENT": "development", "DATABASE_URL": server_db, "APP_NAME": "Lesson 01 Shop"}
with serve("course_app.main:create_app", factory=True, env=env) as server:
    command = ["python", *server.command[1:]]
    command[command.index("--port") + 1] = "<free port>"
    print("$", " ".join(command))
    print("serving at", server.url, "| running:", server.process.poll() is None)
    for path in ["/health", "/ready", "/no-such-page"]:
        response = httpx.get(server.url + path)
        print(path, response.status_code, response.json())

# %% [markdown]
# Leaving the `with` block sent SIGTERM. uvicorn treats it as a request for a **graceful
# shutdown**: it stops accepting connections, lets in-flight requests finish, runs the
# lifespan's shutdown half, and then re-raises the signal, so the exit status says
# "terminated by SIGTERM", which is what a process supervisor expects to see.

# %%
import signal

code = server.process.returncode
print("exit status:", code, "=", signal.Signals(-code).name if code < 0 else "normal exit")
print(server.log())  # kept in memory: serve() removed the log file when the server stopped

# %% [markdown]
# Read the log from the top: uvicorn starts, runs the lifespan (`startup` comes from
# `build_lifespan`), binds the port, and logs one access line per request — the first
# `GET /health` is `serve()` waiting for readiness. After SIGTERM: `Shutting down`, the
# lifespan's `shutdown`, and the process finishes. The app's own lines are structlog's
# console format in development; in production they are JSON (lesson 08).

# %% [markdown]
# ## The async decision rule
#
# FastAPI runs an `async def` endpoint **on the event loop**, and a `def` endpoint **in a
# threadpool** (anyio's, 40 threads by default). That gives one rule:
#
# - the library you call is async (asyncpg, SQLAlchemy async, `httpx.AsyncClient`, aiofiles)
#   → `async def`, and `await` it;
# - the library you call blocks (psycopg2, `requests`, a sync SDK, heavy CPU work)
#   → plain `def`, and FastAPI moves it off the loop for you;
# - a blocking call **inside** `async def` is the bug: while it runs, the event loop can do
#   nothing else, so every other request waits. If you must call a blocking function from
#   `async def`, `await run_in_threadpool(func, ...)`.
#
# Do not take that on trust. Five requests arrive at once at an endpoint that waits 0.2 s:

# %%
import asyncio
import time

from starlette.concurrency import run_in_threadpool

DELAY, bench = 0.2, FastAPI()


@bench.get("/async-blocking")
async def async_blocking() -> dict[str, bool]:
    time.sleep(DELAY)  # a blocking call on the event loop: the bug
    return {"ok": True}


@bench.get("/sync-blocking")
def sync_blocking() -> dict[str, bool]:
    time.sleep(DELAY)  # same call, but FastAPI runs `def` endpoints in its threadpool
    return {"ok": True}


@bench.get("/async-await")
async def async_await() -> dict[str, bool]:
    await asyncio.sleep(DELAY)  # an async library: waiting yields the loop
    return {"ok": True}


@bench.get("/async-threadpool")
async def async_threadpool() -> dict[str, bool]:
    await run_in_threadpool(time.sleep, DELAY)  # the way out when you must call blocking code
    return {"ok": True}

# %%
# NBVAL_IGNORE_OUTPUT
from httpx import ASGITransport, AsyncClient

CONCURRENT = 5


async def wall_time(path: str) -> float:
    async with AsyncClient(transport=ASGITransport(app=bench), base_url="http://bench") as client:
        started = time.perf_counter()
        responses = await asyncio.gather(*(client.get(path) for _ in range(CONCURRENT)))
        elapsed = time.perf_counter() - started
    assert all(r.status_code == 200 for r in responses)
    return elapsed


timings = {path: await wall_time(path) for path in
           ["/async-blocking", "/sync-blocking", "/async-await", "/async-threadpool"]}
for path, seconds in timings.items():
    print(f"{path:<18} {CONCURRENT} concurrent requests: {seconds:5.2f} s")

serial = CONCURRENT * DELAY
assert timings["/async-blocking"] >= 0.9 * serial, "blocking async should be serialized"
for path in ["/sync-blocking", "/async-await", "/async-threadpool"]:
    assert timings[path] < serial / 2, f"{path} should overlap its waits"

# %% [markdown]
# The blocking `async def` took about 5 × 0.2 s: the requests ran one after another. The
# other three finished in about 0.2 s, because the waits overlapped. The costs of the
# threadpool are real but smaller: each waiting `def` request holds a thread, and the pool
# has a limit (below), after which further requests queue. Hence the rule, not "async by
# default" and not "def when unsure": **match the endpoint to the library it calls**.

# %%
import anyio.to_thread


async def threadpool_size() -> int:
    return int(anyio.to_thread.current_default_thread_limiter().total_tokens)

print("threads available to `def` endpoints:", await threadpool_size())
workdir.cleanup()  # the lesson's temporary database folder

# %% [markdown]
# ## Summary
#
# - The 16-point health check is the course map: eight signals, 2 points each, below 8 is critical.
# - Group code **by feature**; keep `core/` free of feature imports. Import rules can be tests.
# - Build the app in a **factory**: importing the module has no side effects, settings are a
#   parameter, tests and servers each build the app they need. Each layer is an
#   `install_*`/`include_*` function; `create_app()` composes them.
# - Open and close long-lived resources in a **lifespan**; `@app.on_event` is deprecated, and is
#   silently ignored next to a lifespan.
# - Under a real uvicorn process the app answers over HTTP, logs its start-up and shutdown, and
#   shuts down gracefully on SIGTERM.
# - `async def` for async libraries, `def` for blocking ones; a blocking call inside `async def`
#   serializes every request (measured above).
#
# **Production checklist items covered**
# - [x] App built by a factory; no work at import time; `uvicorn ... --factory`
# - [x] Resources opened in the lifespan and closed on shutdown (no `on_event`)
# - [x] Liveness (`/health`) and readiness (`/ready`) endpoints
# - [x] One error envelope, even for unknown routes
# - [x] Graceful shutdown on SIGTERM
# - [x] No blocking calls inside `async def` endpoints
# - [x] Feature-based layout with an enforced layering rule
#
# **Next:** the lab, `exercises/01_architecture.ipynb`: add a `/version` endpoint to the real app,
# write a lifespan, move logic out of a fat router, and make two endpoints stop blocking.
# Then lesson 02 makes configuration fail fast.
