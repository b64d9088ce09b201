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
# # 07 · Testing: fast, isolated, and honest about the sad paths
#
# A test suite is worth what it catches. This lesson builds the one `course_app` uses: async
# tests that run the real app *with its lifespan*, a database of its own for every test, test
# data from factories, dependency overrides that cannot leak, error paths tested as carefully
# as the happy path, a contract test generated from the OpenAPI document, and coverage as a
# gate in CI.
#
# **Objectives.** After this lesson you can
#
# - place a test on the pyramid (unit, integration, end-to-end, contract) and say what each
#   level is for;
# - choose between Starlette's `TestClient` (sync) and `httpx.AsyncClient` (async), and make
#   either one run the app's **lifespan**;
# - run pytest from a notebook, read the result, make a failing test pass;
# - apply the seven testing rules of the seed, with the two corrections the course makes
#   (the async plugin, and "one assertion per test");
# - override a dependency for one test without leaking it into the next;
# - generate hundreds of requests from the OpenAPI document with schemathesis;
# - measure coverage and make CI refuse a change that lowers it.
#
# **Time estimate:** about 50 minutes (lesson) + 40 minutes (lab `exercises/07_testing.ipynb`).
#
# **Prerequisites:** lessons 01–06 (the app factory and lifespan, settings passed to
# `create_app`, the error envelope, tokens and roles, the database layer); a first look at
# pytest (test functions, `assert`, fixtures).

# %% [markdown]
# ## Set-up: a scratch folder and a pytest runner
#
# Everything this lesson writes (test files, SQLite databases, coverage reports) goes into a
# temporary folder that disappears at the end. `lesson_settings(folder)` builds the settings
# of a test app: `environment="test"` (so the lifespan creates the tables, lesson 06), a
# SQLite file of its own in `folder`, a fixed signing secret, and quiet logs.

# %%
import os
import subprocess
import sys
import tempfile
import textwrap
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from course_app.config import Settings, load_settings

workdir = tempfile.TemporaryDirectory(prefix="lesson07-")
WORK = Path(workdir.name)
SECRET = "lesson07-signing-secret-" + "s" * 32  # a public demo value, never a real secret


def lesson_settings(folder: Path, **changes: object) -> Settings:
    """Settings of a test app whose database is a fresh SQLite file in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    return load_settings(
        _env_file=None,
        environment="test",
        jwt_secret=SECRET,
        log_level="CRITICAL",
        database_url=f"sqlite+aiosqlite:///{folder / 'app.db'}",
        upload_dir=str(folder / "uploads"),
        **changes,
    )

# %% [markdown]
# pytest prints timings and paths that change on every run, so the lesson does not show its
# raw output. `run_pytest(...)` runs pytest **in a child process** (a clean interpreter, as
# in CI), asks it for a JUnit XML report, and returns each test's outcome and the first line
# of each failure. Two details make the child fast and predictable: it loads only the
# plugins we name (`PYTEST_DISABLE_PLUGIN_AUTOLOAD=1`, then `-p anyio`), and it does not see
# the settings variables of the machine it runs on.

# %%
SETTINGS_VARIABLES = {name.upper() for name in Settings.model_fields}


@dataclass
class TestRun:
    exit_code: int
    outcomes: dict[str, str] = field(default_factory=dict)  # test id -> passed/failed/…
    messages: dict[str, str] = field(default_factory=dict)  # test id -> first failure line

    def show(self) -> None:
        counts = Counter(self.outcomes.values())
        summary = ", ".join(f"{number} {outcome}" for outcome, number in sorted(counts.items()))
        print(f"exit code {self.exit_code}: {summary}")
        for test, outcome in self.outcomes.items():
            print(f"  {outcome:8} {test}")
            if test in self.messages:
                print(f"           {self.messages[test]}")


def write(name: str, source: str) -> None:
    (WORK / name).write_text(textwrap.dedent(source).lstrip(), encoding="utf-8")

# %%
def run_pytest(*args: str) -> TestRun:
    """Run pytest on ``args`` inside WORK, in a fresh interpreter; read its XML report."""
    report = WORK / "report.xml"
    report.unlink(missing_ok=True)
    env = {k: v for k, v in os.environ.items() if k.upper() not in SETTINGS_VARIABLES}
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "anyio",
               f"--junitxml={report}", *args]
    done = subprocess.run(command, cwd=WORK, env=env, capture_output=True, text=True, timeout=300)
    run = TestRun(done.returncode)
    if not report.exists():  # pytest could not even collect: show what it said
        print(done.stdout[-2000:], done.stderr[-2000:])
        return run
    for case in ET.parse(report).iter("testcase"):
        test = case.get("name", "?")
        found = [child for child in case if child.tag in ("failure", "error", "skipped")]
        outcome = {"failure": "failed", "error": "error", "skipped": "skipped"}
        run.outcomes[test] = outcome[found[0].tag] if found else "passed"
        if found and found[0].tag != "skipped":
            run.messages[test] = (found[0].get("message") or "").strip().splitlines()[0]
    return run

# %% [markdown]
# Some runs also measure **coverage** with pytest-cov (rule 7): the users feature, with
# branch coverage, following async SQLAlchemy into its greenlets (without
# `concurrency = greenlet`, every line after an `await session...` would look unexecuted).
# `covered()` reads the JSON report of the last run.

# %%
import json

write(".coveragerc", """
[run]
source = course_app.features.users
branch = true
concurrency = greenlet,thread
""")
COVERAGE = ["-p", "pytest_cov.plugin", "--cov", "--cov-config=.coveragerc",
            "--cov-report=json:coverage.json"]


def covered() -> dict[str, float]:
    """Percent of statements and branches covered: the total and the service module."""
    report = json.loads((WORK / "coverage.json").read_text())
    service = next(v for k, v in report["files"].items() if k.endswith("users/service.py"))
    return {"total": report["totals"]["percent_covered"],
            "service.py": service["summary"]["percent_covered"]}

# %% [markdown]
# ## 1. The test pyramid
#
# The seed's pyramid, with what each level means in `course_app`'s own suite (`tests/app/`):
#
# | Level | Coverage target (seed) | Tools (seed) | Focus | In `course_app` |
# |---|---|---|---|---|
# | Unit | 80%+ | pytest, `unittest.mock` | service logic, validators | schemas, security helpers, services with a fake repository |
# | Integration | key paths | pytest-asyncio, testcontainers | DB queries, external APIs | repositories and the concurrency tests on SQLite **and** PostgreSQL |
# | E2E | critical flows | `httpx.AsyncClient` | full request → response | every endpoint through `AsyncClient` with the lifespan running |
# | Contract | API boundaries | schemathesis | OpenAPI compliance | `tests/app/test_contract.py` against a real uvicorn server |
#
# Two corrections to the tools column. The course runs its async tests with **anyio's pytest
# plugin** (it ships with anyio, which FastAPI already depends on), not pytest-asyncio —
# section 4, rule 6. And instead of testcontainers it uses the PostgreSQL and Redis the CI
# machine provides: the same tests run on SQLite everywhere and also on PostgreSQL where it is
# reachable, and skip *with the reason* where it is not (`REQUIRE_SERVICES=1` in CI turns a
# skip into a failure). The percentages are targets for *code*, not for numbers of tests: a
# few end-to-end tests through the real stack catch what mocked unit tests cannot
# (wiring, status codes, the error envelope).

# %% [markdown]
# ## 2. Two clients: `TestClient` (sync) and `httpx.AsyncClient` (async)
#
# Both call the app in-process, without a network. Starlette's `TestClient` is synchronous:
# it runs the app in a background event loop, so a plain `def test_...` can use it. The seed
# (001) creates it as `client = TestClient(app)`. Watch what that does to an endpoint that
# needs the database:

# %%
from fastapi.testclient import TestClient

from course_app.main import create_app

demo_app = create_app(lesson_settings(WORK / "clients"))

plain = TestClient(demo_app)  # the seed's form: no `with`
try:
    plain.get("/api/products")
except AttributeError as exc:  # TestClient re-raises the app's exceptions by default
    print("TestClient(app)      GET /api/products -> AttributeError:", exc)

with TestClient(demo_app) as client:  # `with` runs the lifespan: database opened, tables made
    response = client.get("/api/products")
    print("with TestClient(app) GET /api/products ->", response.status_code, response.json())

# %% [markdown]
# Without `with`, the lifespan never runs: there is no database on `request.state`, and
# every endpoint that needs one crashes (a client gets a 500; `TestClient` re-raises the
# exception into the test). `/health` still answers 200, which is how such a fixture
# survives code review.
#
# `httpx.AsyncClient` with `ASGITransport` is the async twin: `await client.get(...)` inside
# an `async def` test, on the test's own event loop, so the test can also `await` the
# database directly (factories, section 4). The seed's fixture, run as written — then with
# the right host — then with the lifespan:

# %%
import httpx
from asgi_lifespan import LifespanManager

transport = httpx.ASGITransport(app=demo_app)
async with httpx.AsyncClient(transport=transport, base_url="http://test") as ac:
    response = await ac.get("/api/products")
    print("seed fixture (base_url http://test):", response.status_code, response.text)

async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as ac:
    try:
        await ac.get("/api/products")
    except AttributeError as exc:  # ASGITransport re-raises the app's exceptions too
        print("right host, no lifespan:            AttributeError:", exc)

async with (
    LifespanManager(demo_app) as manager,
    httpx.AsyncClient(
        transport=httpx.ASGITransport(app=manager.app), base_url="http://testserver"
    ) as ac,
):
    print("LifespanManager + AsyncClient:     ", (await ac.get("/api/products")).status_code)

# %% [markdown]
# Three things to take from this cell:
#
# - `course_app` checks the `Host` header (`TrustedHostMiddleware`, lesson 08): `test` is not
#   an allowed host, so the seed's `base_url="http://test"` gets **400** on every request.
#   Use `http://testserver`, the name `TestClient` uses and the test settings allow.
# - `ASGITransport` does **not** run the lifespan. `asgi-lifespan`'s `LifespanManager` does:
#   it sends the ASGI start-up event, waits for it, and sends shut-down on exit.
# - Pass `manager.app` (not `app`) to the transport: the lifespan *yields a state dict*
#   (`database`, `cache`, …, lesson 01) and `manager.app` hands it to every request.
#
# | | `TestClient` | `httpx.AsyncClient` + `ASGITransport` |
# |---|---|---|
# | test function | `def test_…` | `async def test_…` (needs an async plugin) |
# | lifespan | `with TestClient(app) as client:` | `async with LifespanManager(app) as m:` → `ASGITransport(app=m.app)` |
# | event loop | its own, in a thread | the test's: `await` the database in the same test |
# | WebSockets | `client.websocket_connect(...)` | not supported (use `TestClient` or a real server) |
# | used in | checkers of the labs, quick notebook calls | `course_app`'s suite (`tests/app/conftest.py`) |

# %% [markdown]
# ## 3. pytest from the notebook: fail first, then fix
#
# Here is the seed's end-to-end test with its fixtures, written into a file as published. The
# only change: `create_app` gets explicit test settings (lesson 02: a test never reads the
# environment). Then we run pytest on it.

# %%
SEED_TEST = '''
import pytest
from httpx import AsyncClient, ASGITransport
from course_app.config import load_settings
from course_app.main import create_app

TEST_SETTINGS = dict(_env_file=None, environment="test", jwt_secret="s" * 48,
                     log_level="CRITICAL", database_url="sqlite+aiosqlite:///seed.db")

@pytest.fixture
async def app():
    app = create_app(load_settings(**TEST_SETTINGS))
    yield app

@pytest.fixture
async def client(app):
    transport = ASGITransport(app=app)
    async with AsyncClient(transport=transport, base_url="http://test") as ac:
        yield ac

@pytest.mark.asyncio
async def test_create_user(client: AsyncClient):
    response = await client.post("/api/users", json={
        "email": "test@example.com", "name": "Test User", "password": "securepass123",
    })
    assert response.status_code == 201
    data = response.json()
    assert data["email"] == "test@example.com"
    assert "password" not in data  # Never expose
'''

# %% [markdown]
# Two copies go to pytest: the seed's file as published, and the same file with one marker
# swapped — `pytest.mark.anyio`, the marker of anyio's plugin, which the course uses:

# %%
write("test_seed.py", SEED_TEST)
write("test_seed_anyio.py", SEED_TEST.replace("pytest.mark.asyncio", "pytest.mark.anyio"))
run_pytest("test_seed.py", "test_seed_anyio.py").show()

# %% [markdown]
# The seed's file does not even start: an *error* in set-up, before the test body runs.
# `@pytest.mark.asyncio` belongs to the pytest-asyncio plugin, which this course does not
# install; without a plugin pytest can run neither an `async def` test nor an async fixture
# (pytest 9 makes both an error; before 8.4, pytest *skipped* such tests with a warning,
# which was worse: a green suite that tested nothing).
#
# With anyio's marker the test runs (the plugin adds the backend to its id, `[asyncio]`)
# and fails on its first assertion: the 400 of the `Host` check. Behind it wait the missing
# lifespan (section 2) and one problem in the seed's body: the course's sign-up schema
# calls the field `full_name` and forbids unknown fields, so `"name"` would be a 422. The
# fixtures move into a `conftest.py`, the file pytest reads for every test in its folder;
# this one has the shape of `tests/app/conftest.py`:

# %%
write("conftest.py", '''
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from course_app.config import Settings, load_settings
from course_app.main import create_app


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # anyio could run each test on trio as well


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Every test gets its own SQLite file under pytest's tmp_path."""
    return load_settings(_env_file=None, environment="test", jwt_secret="s" * 48,
                         log_level="CRITICAL", upload_dir=str(tmp_path / "uploads"),
                         database_url=f"sqlite+aiosqlite:///{tmp_path / 'test.db'}")


''')

# %% [markdown]
# Then the app, built from those settings, and the client: the lifespan runs around every
# test (`LifespanManager`), requests go in-process to `manager.app` under an allowed host.

# %%
with open(WORK / "conftest.py", "a", encoding="utf-8") as file:
    file.write(textwrap.dedent('''

    @pytest.fixture
    def app(settings: Settings) -> FastAPI:
        return create_app(settings)


    @pytest.fixture
    async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
        async with LifespanManager(app) as manager, httpx.AsyncClient(
            transport=httpx.ASGITransport(app=manager.app), base_url="http://testserver"
        ) as http:
            yield http
    '''))

# %% [markdown]
# The test itself, corrected: the course's field names, and a stronger check than
# `"password" not in data` (which looks only at the keys: a `hashed_password` key, or the
# password inside another value, would pass it). A second test registers the same address
# again: it can only pass if it does **not** share a database with the first.

# %%
write("test_users.py", '''
import httpx
import pytest

pytestmark = pytest.mark.anyio  # every test of this module runs under anyio's plugin

SIGNUP = {"email": "test@example.com", "full_name": "Test User", "password": "securepass123"}


async def test_create_user(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/users", json=SIGNUP)
    assert response.status_code == 201
    assert response.json()["email"] == "test@example.com"
    assert SIGNUP["password"] not in response.text  # never expose: not as a key, not as a value
    assert "argon2" not in response.text  # nor the hash


async def test_create_the_same_user_in_a_fresh_database(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/users", json=SIGNUP)
    assert response.status_code == 201
''')

# %% [markdown]
# A third test checks the whole sign-up response: one behaviour, five assertions (rule 3
# below), and — as happens — a typo in the expected name. Then the run:

# %%
with open(WORK / "test_users.py", "a", encoding="utf-8") as file:
    file.write(textwrap.dedent('''

    async def test_signup_response(client: httpx.AsyncClient) -> None:
        response = await client.post("/api/users", json={**SIGNUP, "email": "Ada@Example.com"})
        assert response.status_code == 201
        body = response.json()
        assert body["email"] == "ada@example.com"  # stored lower-cased
        assert body["role"] == "user"
        assert body["full_name"] == "Test Uzer"
        assert set(body) == {"id", "email", "full_name", "role", "is_active", "created_at"}
    '''))
run_pytest("test_users.py").show()

# %% [markdown]
# Two green, one red. This time the mistake is in the test, not in the app (it happens),
# and the message says exactly which comparison failed and with what values. Fix the
# expectation; the file runs again, green, with the rest of the suite in rule 4:

# %%
fixed = (WORK / "test_users.py").read_text().replace("Test Uzer", "Test User")
(WORK / "test_users.py").write_text(fixed)
print(*(line.strip() for line in fixed.splitlines() if "Test User\"" in line and "==" in line))

# %% [markdown]
# The second test proves the isolation: the same e-mail address was registered in two tests
# and both got 201, because `tmp_path` is a new folder for every test. Here is what sharing a
# database does (two apps on one file, as two tests on one database would be):

# %%
shared = WORK / "shared"
outcomes = []
for _ in range(2):
    with TestClient(create_app(lesson_settings(shared))) as client:
        signup = {"email": "test@example.com", "full_name": "Test", "password": "securepass123"}
        outcomes.append(client.post("/api/users", json=signup).status_code)
print("one database for both tests:", outcomes)

# %% [markdown]
# With a shared database the second test's result depends on which test ran first — and on
# whether the previous run cleaned up. The seed's mistake #10, "testing against the production
# database", is the extreme case of the same thing. `course_app`'s suite goes one step
# further: on PostgreSQL each test *session* creates its own database
# (`course_test_<pid>`, `tests/conftest.py`) and each test starts from empty tables, so two
# developers (or a developer and CI) can run the suite on one server at once.

# %% [markdown]
# ## 4. The seven testing rules, each run
#
# ### Rule 1 — test services, not routers (corrected: services *and* a thin layer of HTTP)
#
# Business rules live in services, so that is where most tests go: no HTTP, no JSON, no
# database if the repository is replaced. Here is the seed's unit test, run against
# `course_app`'s `UserService` with the seed's `mock_repo`:

# %%
from datetime import UTC, datetime
from unittest.mock import AsyncMock

import pytest

from course_app.core.rate_limit import MemoryRateLimiter
from course_app.features.users.exceptions import EmailAlreadyRegisteredError
from course_app.features.users.models import Role, User
from course_app.features.users.schemas import UserCreate
from course_app.features.users.service import UserService

existing_user = User(id=1, email="taken@example.com", full_name="Taken", hashed_password="x",
                     role=Role.USER, is_active=True, created_at=datetime(2026, 1, 1, tzinfo=UTC))
session = AsyncMock()
service = UserService(session, lesson_settings(WORK / "unit", register_rate_limit=10_000),
                      MemoryRateLimiter())
service.users = AsyncMock()  # the seed's mock_repo
service.users.get_by_email.return_value = existing_user
new_user = UserCreate(email="taken@example.com", full_name="New", password="12345678")

with pytest.raises(EmailAlreadyRegisteredError, match="already registered"):
    await service.register(new_user, client_ip="203.0.113.7")
print("raised EmailAlreadyRegisteredError; rows added:", service.users.add.await_count,
      "| commits:", session.commit.await_count)

# %% [markdown]
# The seed's own `match="Email already registered"` would fail here: `match` is a regular
# expression searched in the message, and the course's message is worded differently.
# Match the stable part, or better, the error type and its machine-readable `code`:

# %%
try:
    with pytest.raises(EmailAlreadyRegisteredError, match="Email already registered"):
        await service.register(new_user, client_ip="203.0.113.7")
except AssertionError as exc:
    print("AssertionError:", str(exc).splitlines()[0])
print("code and status:", EmailAlreadyRegisteredError.code, EmailAlreadyRegisteredError.status_code)

# %% [markdown]
# Why "mostly services": the same rule checked through the service and through HTTP, 200
# times each. The unit test skips routing, validation, middleware, JSON and the database:

# %%
# NBVAL_IGNORE_OUTPUT
import time

from tests.app.factories import create_user

speed_settings = lesson_settings(WORK / "speed", register_rate_limit=10_000)
duplicate = {"email": "taken@example.com", "full_name": "New", "password": "12345678"}
with TestClient(create_app(speed_settings)) as client:
    await create_user(speed_settings.database_url_value, email="taken@example.com")
    start = time.perf_counter()
    assert all(client.post("/api/users", json=duplicate).status_code == 409 for _ in range(200))
    http_seconds = time.perf_counter() - start

start = time.perf_counter()
for _ in range(200):
    with pytest.raises(EmailAlreadyRegisteredError):
        await service.register(new_user, client_ip="203.0.113.7")
unit_seconds = time.perf_counter() - start
print(f"200 × HTTP: {http_seconds * 1000:.0f} ms   200 × service: {unit_seconds * 1000:.0f} ms"
      f"   ({http_seconds / unit_seconds:.0f}× faster)")
assert unit_seconds < http_seconds, "the unit test should be faster than the HTTP test"

# %% [markdown]
# The correction is the other half: the mock cannot see that the route answers **409** with
# the error envelope, that it is mounted at `/api/users`, that the body is validated, or that
# the unique index (not the look-up) decides a race. Keep a thin layer of HTTP tests for each
# endpoint — status codes, envelope, authentication — and put the many variations of each
# rule in service tests.
#
# A plain mock also agrees to anything, typos included: the seed's `mock_repo` would keep
# "working" after the real method is renamed. `AsyncMock(spec=UserRepository)` only has the
# attributes the real class has:

# %%
from course_app.features.users.repository import UserRepository

loose, strict = AsyncMock(), AsyncMock(spec=UserRepository)
print("plain mock, misspelt method:", type(loose.get_by_emial).__name__)
try:
    strict.get_by_emial
except AttributeError as exc:
    print("spec'd mock, misspelt method: AttributeError:", exc)

# %% [markdown]
#
# ### Rule 2 — use fixtures for dependency overrides (corrected: clean up *always*)
#
# `app.dependency_overrides[dep] = replacement` makes FastAPI call `replacement` wherever
# `Depends(dep)` appears. Seed 001 writes it inside the test and cleans up at the end.
# Two such tests, the first with a mistake in its expectation:

# %%
from course_app.features.auth.dependencies import get_current_user

app = create_app(lesson_settings(WORK / "overrides"))
fake_admin = User(id=7, email="admin@example.com", full_name="Admin", hashed_password="x",
                  role=Role.ADMIN, is_active=True, created_at=datetime(2026, 1, 1, tzinfo=UTC))


def test_me_as_admin() -> None:  # seed 001's shape
    app.dependency_overrides[get_current_user] = lambda: fake_admin
    client = TestClient(app)
    assert client.get("/api/users/me").json()["role"] == "user"  # wrong: it is "admin"
    app.dependency_overrides = {}  # "Always clean up" — never reached when the assert fails


def test_me_needs_a_token() -> None:
    assert TestClient(app).get("/api/users/me").status_code == 401


for test in (test_me_as_admin, test_me_needs_a_token):
    try:
        test()
        print(f"{test.__name__:22} passed")
    except AssertionError:
        print(f"{test.__name__:22} FAILED")

# %% [markdown]
# The second test is correct and fails anyway: the first one's override leaked into it. Test
# order now decides the result. In a pytest **fixture** the code after `yield` runs even when
# the test fails, so the override is always removed:
#
# ```python
# @pytest.fixture
# def as_admin(app: FastAPI) -> Iterator[User]:
#     app.dependency_overrides[get_current_user] = lambda: fake_admin
#     yield fake_admin
#     app.dependency_overrides.pop(get_current_user, None)
# ```
#
# The same guarantee outside pytest is `try`/`finally` (the lab asks for a context manager
# that also restores overrides that were there before):

# %%
app.dependency_overrides.clear()
try:
    app.dependency_overrides[get_current_user] = lambda: fake_admin
    with TestClient(app) as client:
        print("overridden:", client.get("/api/users/me").json()["email"])
finally:
    app.dependency_overrides.pop(get_current_user, None)
with TestClient(app) as client:
    print("afterwards:", client.get("/api/users/me").status_code)

# %% [markdown]
# The key of the override must be **the very function** that `Depends(...)` received.
# `require_role(Role.ADMIN)` builds a new checker function on every call, so overriding a
# fresh one changes nothing; override what it depends on (`get_current_user`) instead, or
# keep a reference to the dependency the router uses:

# %%
from course_app.features.auth.dependencies import require_role

with TestClient(app) as client:
    app.dependency_overrides[require_role(Role.ADMIN)] = lambda: fake_admin
    print("override require_role(Role.ADMIN):", client.get("/api/users").status_code)
    app.dependency_overrides.clear()
    app.dependency_overrides[get_current_user] = lambda: fake_admin
    print("override get_current_user:        ", client.get("/api/users").status_code)
    app.dependency_overrides.clear()

# %% [markdown]
# Two more corrections to seed 001's override example. It replaces the database with
# `Database("sqlite:///:memory:")` from the `databases` package (another library and driver
# than the app uses in production); `course_app` needs no override for that, because the
# database comes from the settings given to `create_app` (section 3's `settings` fixture).
# And it creates `TestClient(app)` without `with` (section 2). Override what a test cannot
# configure: the current user when authentication is not the subject, a payment provider,
# a clock. Tests of authentication itself use real tokens (the factories below).
#
# ### Rule 3 — one assertion per test (corrected: one *behaviour* per test)
#
# The reason given — "clear what broke when it fails" — is already true of pytest: it
# rewrites `assert` statements, so a failure names the exact comparison and both values.
# Section 3 showed it: `test_signup_response` has five assertions about one response, and
# its failure read `assert 'Test User' == 'Test Uzer'`. Splitting those five lines into five
# tests would make five requests for one behaviour and say nothing clearer. What *should* be
# split is a test of two behaviours ("sign up, then log in, then change the password"):
# when it fails, its name no longer says which behaviour broke, and the steps after the
# failing one are not run at all.

# %% [markdown]
# ### Rule 4 — test error paths (the seed says 40 % of tests should be sad paths)
#
# The seed's parametrized validation test, run as published against the course's
# `UserCreate`. Each case should raise a `ValidationError` exactly when `expected` is false:

# %%
from pydantic import ValidationError

SEED_CASES = [("valid@example.com", True), ("invalid", False), ("", False), ("a@b.c", True)]

for email, expected in SEED_CASES:
    try:
        UserCreate(email=email, name="Test", password="12345678")  # the seed's call
        outcome = "passes" if expected else "FAILS (accepted)"
    except ValidationError as exc:
        fields = sorted({str(error["loc"][0]) for error in exc.errors()})
        outcome = "FAILS (rejected)" if expected else "passes"
        outcome += f"  — errors on {fields}"
    print(f"{email!r:21} expected valid={expected!s:5} -> {outcome}")

# %% [markdown]
# The valid cases fail, which is noticed. The invalid ones **pass for the wrong reason**:
# the model rejects them because `name` is not one of its fields and `full_name` is missing,
# whatever the e-mail address. A sad-path test must check *why* it was refused:

# %%
VALID = {"full_name": "Test", "password": "12345678"}

for email, expected in SEED_CASES:
    try:
        UserCreate(email=email, **VALID)
        fields: list[str] = []
    except ValidationError as exc:
        fields = sorted({str(error["loc"][0]) for error in exc.errors()})
    assert (fields == []) if expected else (fields == ["email"]), (email, fields)
    print(f"{email!r:21} errors on {fields}")

# %% [markdown]
# Through HTTP the same discipline applies: assert the status, the envelope's `code`, and
# the field or reason. One parametrized test covers a family of bad inputs, each case with
# an `id` so a failure reads as a sentence. The other sad paths of the users API — 409, 401,
# 403, 404 — use the **factories** of `tests/app/factories.py` (rule 5) to put an existing
# user in the database and sign a token for them:

# %%
write("test_sad_paths.py", '''
import httpx
import pytest

from course_app.config import Settings
from course_app.features.users.models import Role
from tests.app.factories import auth_headers, create_user

pytestmark = pytest.mark.anyio
SIGNUP = {"email": "test@example.com", "full_name": "Test User", "password": "securepass123"}
BAD_SIGNUPS = [
    pytest.param({**SIGNUP, "email": "invalid"}, "email", id="not an address"),
    pytest.param({**SIGNUP, "password": "short"}, "password", id="password too short"),
    pytest.param({**SIGNUP, "role": "admin"}, "role", id="mass assignment of role"),
    pytest.param({**SIGNUP, "full_name": "A\\nB"}, "full_name", id="newline in the name"),
    pytest.param({**SIGNUP, "full_name": None}, "full_name", id="null name"),
]


@pytest.mark.parametrize(("body", "field"), BAD_SIGNUPS)
async def test_refuses_bad_signup(client: httpx.AsyncClient, body: dict, field: str) -> None:
    response = await client.post("/api/users", json=body)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert [e["loc"][-1] for e in error["details"]["errors"]] == [field]
''')

# %%
with open(WORK / "test_sad_paths.py", "a", encoding="utf-8") as file:
    file.write(textwrap.dedent('''

    async def test_refuses_a_taken_email(client: httpx.AsyncClient, settings: Settings) -> None:
        await create_user(settings.database_url_value, email="test@example.com")
        response = await client.post("/api/users", json={**SIGNUP, "email": "TEST@example.com"})
        assert response.status_code == 409
        assert response.json()["error"]["details"] == {"field": "email"}


    async def test_refuses_me_without_a_token(client: httpx.AsyncClient) -> None:
        response = await client.get("/api/users/me")
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"
    '''))

# %% [markdown]
# And the access rules of the admin endpoints: a user's token is not enough (403), and an
# admin asking for an account that does not exist gets a 404, not a 500:

# %%
with open(WORK / "test_sad_paths.py", "a", encoding="utf-8") as file:
    file.write(textwrap.dedent('''

    async def test_refuses_the_user_list_to_a_user(
        client: httpx.AsyncClient, settings: Settings
    ) -> None:
        user = await create_user(settings.database_url_value)
        response = await client.get("/api/users", headers=auth_headers(settings, user))
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "FORBIDDEN"


    async def test_refuses_an_unknown_user_id(
        client: httpx.AsyncClient, settings: Settings
    ) -> None:
        admin = await create_user(settings.database_url_value, role=Role.ADMIN)
        response = await client.get("/api/users/999", headers=auth_headers(settings, admin))
        assert response.status_code == 404
    '''))

# %% [markdown]
# Run the happy paths and the sad paths together, and count:

# %%
full = run_pytest("test_users.py", "test_sad_paths.py", *COVERAGE)
full_coverage = covered()  # read in rule 7
full.show()
sad = sum(test.startswith("test_refuses") for test in full.outcomes)
print(f"sad-path share: {sad} of {len(full.outcomes)} = {sad / len(full.outcomes):.0%}")
assert full.exit_code == 0 and sad / len(full.outcomes) >= 0.4

# %% [markdown]
# "40 %" is a heuristic, not a law: an endpoint has typically one way to succeed and many to
# fail (invalid input, no token, wrong role, not found, conflict, rate limit), and each of
# those is a branch in the code and a promise in the API document. A better measure than the
# share of tests is **branch coverage** of the error paths — rule 7 measures it.
#
# ### Rule 5 — use factories for test data
#
# `tests/app/factories.py` writes rows straight into the database: a valid object in one
# call, every field overridable, unique values from a counter, the password hash computed
# **once** per password (Argon2 is slow on purpose). The seed's `UserFactory.create()` is
# the factory_boy spelling of the same idea; `course_app` writes ~80 lines instead of adding
# a dependency, because its models are few and its rows need an async engine.

# %%
import inspect

import tests.app.factories as factories

print(inspect.getsource(factories.create_user))

# %% [markdown]
# Measured: five users through the API (each sign-up hashes a password) against five from
# the factory (one hash, cached, then plain inserts):

# %%
# NBVAL_IGNORE_OUTPUT
factory_settings = lesson_settings(WORK / "factories")
with TestClient(create_app(factory_settings)) as client:
    start = time.perf_counter()
    for number in range(5):
        body = {"email": f"http{number}@example.com", "full_name": "T", "password": "a passphrase"}
        assert client.post("/api/users", json=body).status_code == 201
    through_http = time.perf_counter() - start
    start = time.perf_counter()
    made = [await factories.create_user(factory_settings.database_url_value) for _ in range(5)]
    through_factory = time.perf_counter() - start
print(f"5 users: API {through_http * 1000:.0f} ms, factory {through_factory * 1000:.0f} ms")
assert through_factory < through_http, "factories should be faster than sign-ups"

# %%
print("unique e-mails:", len({user.email for user in made}) == 5,
      "| one hash shared by all:", len({user.hashed_password for user in made}) == 1)

# %% [markdown]
# The factory is not a way around the API's rules: it is for the *arrange* step (the users
# a test needs to exist). What the test is *about* goes through the API, as in
# `test_refuses_a_taken_email` above.
#
# ### Rule 6 — async tests need a plugin (corrected: anyio's, with a marker)
#
# The seed says: mark async tests with `@pytest.mark.asyncio`, or set `asyncio_mode = "auto"`
# in the configuration. Both belong to pytest-asyncio. Section 3 ran the first one without
# that plugin: the test failed before it started. `course_app` follows seed 001 and FastAPI's
# own documentation instead: anyio's plugin (installed with anyio), enabled per module with
# `pytestmark = pytest.mark.anyio` and pinned to asyncio by an `anyio_backend` fixture in
# `tests/conftest.py`. There is no "auto" mode: every async test is visibly marked.
#
# Pick one plugin per suite: both want to own the event loop an async test runs on.
# Whichever you pick, async fixtures such as `client` above are run by the same plugin and
# share the test's event loop — which is what lets a test `await` a factory and then the
# client on one loop.
#
# ### Rule 7 — run tests in CI and block the merge when they fail
#
# The seed's CI step is `pytest --cov=src --cov-report=xml -x`: it fails the build on a
# failing test, but coverage is only *reported* — a change that deletes half the tests
# still merges. `--cov-fail-under` turns coverage into a gate.

# %% [markdown]
# Which threshold? The seed says 80 %; `course_app`'s own suite is gated at 90 % (`make
# test-app`). A common CI practice is the **ratchet**: the gate is the coverage the main
# branch has now, so it can only go up. Here "main" is rule 4's run of the whole suite, and
# a branch that deletes the sad-path tests is checked against it. All tests pass in both
# runs:

# %%
main_run, main_coverage = full, full_coverage  # rule 4's run: all tests, with coverage
gate = f"--cov-fail-under={int(main_coverage['total'])}"  # the ratchet: main's total
branch_run = run_pytest("test_users.py", *COVERAGE, gate)
branch_coverage = covered()
for name, run in [("main, all tests", main_run), ("branch, no sad paths", branch_run)]:
    failed = sum(outcome != "passed" for outcome in run.outcomes.values())
    print(f"{name:20} {len(run.outcomes):2} tests, {failed} failed -> exit code {run.exit_code}")
print("the branch is", "blocked" if branch_run.exit_code else "allowed", "by the coverage gate")
assert main_run.exit_code == 0 and branch_run.exit_code != 0

# %%
# NBVAL_IGNORE_OUTPUT
for name, numbers in [("main", main_coverage), ("branch", branch_coverage)]:
    print(f"{name:7} users feature {numbers['total']:.0f} %",
          f"  users/service.py {numbers['service.py']:.0f} %")
print("gate:", gate)
assert main_coverage["total"] > branch_coverage["total"] > 0
assert main_coverage["service.py"] > branch_coverage["service.py"]

# %% [markdown]
# Every test of the branch passed; CI still refuses it, because the error branches it no
# longer enters are code that nothing checks. (The numbers above are measured on your copy
# of `course_app`; they change when the app does, the direction does not. They are far
# from 90 % because these twelve tests only cover sign-up and access control of the users
# feature, not profile updates or the admin endpoints.)
#
# Coverage says which lines *ran*, not that anything was *checked* on them: a test without a
# single `assert` can reach 100 %. That is why the sad-path tests above assert the status,
# the code and the field, and why exercise 7.3 of the lab judges a test by the bugs it
# catches.

# %% [markdown]
# ## 5. Contract tests: schemathesis
#
# Hand-written tests check the cases someone thought of. schemathesis reads the app's OpenAPI
# document and *generates* requests for every operation: valid ones, boundary values,
# and wrong ones; then it checks each response against the document (declared status code,
# response schema, no 5xx). A planted bug first, in a four-line app:

# %%
from typing import Annotated

import schemathesis
from fastapi import FastAPI, Query
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error, response_schema_conformance

split_app = FastAPI()


@split_app.get("/api/split")
def split_bill(total_cents: int, people: Annotated[int, Query(ge=0, le=20)]) -> dict[str, int]:
    return {"each_cents": total_cents // people}  # planted bug: people may be 0

# %% [markdown]
# `contract_failures(schema, ...)` runs every selected operation with a fixed number of
# examples. `derandomize=True` makes Hypothesis pick the same examples on every run, so the
# result is repeatable; shrinking (the search for the *smallest* failing example) is off
# to keep the lesson fast — leave it on in CI, where a minimal example saves debugging. It
# is the loop `tests/app/test_contract.py` uses: schemathesis'
# pytest integration (`schemathesis.pytest.from_fixture`) does not work on pytest 9, so the
# course drives Hypothesis itself with `operation.as_strategy()`.

# %%
def contract_failures(schema: schemathesis.BaseSchema, labels: set[str] | None = None,
                      headers: dict[str, str] | None = None, examples: int = 30) -> dict[str, str]:
    failures: dict[str, str] = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        if labels is not None and operation.label not in labels:
            continue

        @given(case=operation.as_strategy())
        @hypothesis_settings(max_examples=examples, derandomize=True, deadline=None, database=None,
                             phases=[Phase.explicit, Phase.generate],  # no shrinking: faster
                             suppress_health_check=list(HealthCheck))
        def exercise(case: schemathesis.Case) -> None:
            checks = [not_a_server_error, response_schema_conformance]
            case.call_and_validate(headers=headers, checks=checks)

        try:
            exercise()
        except Exception as exc:
            failures[operation.label] = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0]}"
    return failures

# %%
split_schema = schemathesis.openapi.from_asgi("/openapi.json", split_app)
found = contract_failures(split_schema)
print(found)
assert "GET /api/split" in found

# %% [markdown]
# Nobody wrote a test with `people=0`; the generator tried the boundary of the declared
# range and the app answered 500. (The fix is in the contract: `ge=1`, then 0 is a 422.)
# Now a few operations of `course_app` itself — public reads and the sign-up, which
# schemathesis fills with generated e-mail addresses, names and passwords:

# %%
contract_app = create_app(lesson_settings(WORK / "contract", register_rate_limit=10_000))
shop_schema = schemathesis.openapi.from_asgi("/openapi.json", contract_app)
chosen = {"GET /api/products", "GET /api/products/{product_id}", "GET /api/products/feed",
          "POST /api/users"}
shop_failures = contract_failures(shop_schema, chosen, examples=20)
print("operations checked:", sorted(chosen))
print("contract violations:", shop_failures or "none")
assert not shop_failures

# %% [markdown]
# schemathesis runs the ASGI app's lifespan itself (once, for the rest of the process) and
# checks every response against the schema — including the error envelope that
# `course_app` documents for its 422s, and the bounds that turn `product_id=2**70` into a
# 422 rather than a database error. The course's contract test does the same for *every*
# operation, against a real uvicorn server, as an admin (`tests/app/test_contract.py`).
#
# ## Clean-up

# %%
from schemathesis.python.asgi import shutdown_lifespans

shutdown_lifespans()  # the lifespans schemathesis started
workdir.cleanup()
print("scratch folder removed:", not WORK.exists())

# %% [markdown]
# ## Summary
#
# - The pyramid: many fast service tests, a thin HTTP layer per endpoint, integration tests
#   on the real databases, a generated contract test over all of it.
# - `TestClient` for sync tests (with `with`, or the lifespan does not run); `httpx.AsyncClient`
#   + `ASGITransport` for async tests, behind `LifespanManager(app)` and with `manager.app`.
# - Every test gets its own database (`tmp_path` + `environment="test"`), so results never
#   depend on test order or on the last run.
# - Overrides live in fixtures (cleanup after `yield`) or `try`/`finally`, keyed by the exact
#   dependency function; configuration goes through `create_app(settings)`, not overrides.
# - Sad paths assert *why* a request was refused (status, `code`, field), not only that it
#   was; the seed's parametrized test passed its sad cases for the wrong reason.
# - Factories arrange data fast; the behaviour under test goes through the API.
# - Async tests: one plugin (the course uses anyio's), every async test marked.
# - CI runs the suite with a coverage gate (`--cov-fail-under`), so an untested change
#   cannot merge.
#
# **Production checklist items covered**
#
# - Testing (quality score): 80 %+ coverage with async tests, plus contract tests.
# - Mistake #10: tests never touch a shared or production database.
# - CI: tests and the coverage gate block the merge.
#
# **Next:** the lab `exercises/07_testing.ipynb`, then lesson 08 (observability).
