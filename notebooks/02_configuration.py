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
# # 02 · Configuration and environment
#
# One typed `Settings` object, read from the environment once, validated before the app
# serves a single request, with secrets that cannot leak into a log line.
#
# **Objectives.** After this lesson you can
#
# - say what is risky in a typical "production" `Settings` class, and fix it;
# - predict where a value comes from: init arguments > environment variables > `.env`
#   file > secrets files > defaults;
# - keep secrets in `SecretStr` and show that `repr`, `print`, `model_dump`, JSON, a
#   traceback and a log line never reveal them;
# - make a misconfigured production deployment refuse to start, with *every* problem
#   listed in one readable message;
# - cache settings with `lru_cache` and still test without patching globals:
#   `create_app(settings)` and `app.dependency_overrides`;
# - read secrets from files the way Docker and Kubernetes mount them.
#
# **Time estimate:** about 45 minutes (lesson) + 30 minutes (lab `exercises/02_configuration.ipynb`).
#
# **Prerequisites:** lesson 01 (the app factory `create_app`, the layout of `course_app`);
# Python type hints; a first look at Pydantic models.
#
# Every cell below runs offline. Nothing here reads *your* shell: each demo runs inside
# `fresh_shell()`, which hides the settings variables of the machine you run on.

# %% [markdown]
# ## Set-up: a clean shell for every demo
#
# Settings classes read `os.environ` and a `.env` file in the *current directory*. A lesson
# that printed whatever your machine happens to export would show different numbers on every
# laptop (and on CI, which exports its own variables). `fresh_shell()` makes each demo behave
# as if started from an empty shell in an empty folder: it hides every variable a settings
# class in this lesson reads, sets only the ones we pass, optionally writes a `.env` file,
# and restores everything afterwards, even on an error.

# %%
import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from pydantic import SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings

from course_app.config import Settings, SettingsError, get_settings, load_settings

HIDDEN: set[str] = set(Settings.model_fields)  # grows when we define another class below

@contextlib.contextmanager
def fresh_shell(env: dict[str, str] | None = None, dotenv: str | None = None) -> Iterator[Path]:
    """Run a block in an empty temp folder with only ``env`` set (plus non-settings vars)."""
    saved_env, saved_cwd = dict(os.environ), Path.cwd()
    with tempfile.TemporaryDirectory() as folder:
        try:
            for name in [n for n in os.environ if n.lower() in HIDDEN]:
                del os.environ[name]
            os.environ.update(env or {})
            os.chdir(folder)
            if dotenv is not None:
                Path(folder, ".env").write_text(dotenv)
            yield Path(folder)
        finally:
            os.chdir(saved_cwd)
            os.environ.clear()
            os.environ.update(saved_env)

# %% [markdown]
# ## 1. The seed's `Settings` class, run for real
#
# Here is the settings class of the method this course started from, exactly as published
# (only renamed `SeedSettings`). It gets a lot right: one typed class, `SecretStr` for the
# two secrets, `lru_cache` around it. Let us run it and see what it does with no
# configuration, with a little, and with a typical `.env`.

# %%
class SeedSettings(BaseSettings):
    app_name: str = "MyAPI"
    debug: bool = False
    environment: str = "production"  # development | staging | production
    host: str = "0.0.0.0"
    port: int = 8000
    workers: int = 4
    database_url: SecretStr  # Required — no default
    db_pool_size: int = 20
    db_max_overflow: int = 10
    db_pool_timeout: int = 30
    jwt_secret: SecretStr  # Required
    jwt_algorithm: str = "HS256"
    jwt_expire_minutes: int = 30
    redis_url: str = "redis://localhost:6379/0"
    cors_origins: list[str] = ["http://localhost:3000"]

    @field_validator("environment")
    @classmethod
    def validate_environment(cls, v: str) -> str:
        allowed = {"development", "staging", "production"}
        if v not in allowed:
            raise ValueError(f"environment must be one of {allowed}")
        return v

    model_config = {"env_file": ".env", "env_file_encoding": "utf-8"}

# %% [markdown]
# Two helpers for the demos: hide this class's variables too, and print validation errors
# one per line.

# %%
HIDDEN |= set(SeedSettings.model_fields)


def problems(exc: ValidationError) -> list[str]:
    """One line per validation error: where, and what."""
    return [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors(include_url=False)]

# %% [markdown]
# A new developer clones the repository and starts the app with no configuration at all:

# %%
with fresh_shell():
    try:
        SeedSettings()
    except ValidationError as exc:
        print(*problems(exc), sep="\n")

# %% [markdown]
# "Required, no default" sounds strict, but it means *nobody* can run the app without first
# inventing a database URL and a secret — and the secret they invent to get going is
# `dev`. Give it exactly that and look at what else it decided for us:

# %%
SEED_ENV = {"DATABASE_URL": "sqlite:///dev.db", "JWT_SECRET": "dev"}
with fresh_shell(SEED_ENV):
    seed = SeedSettings()

print(f"{seed.environment=}   <- a laptop run is 'production' by default")
print(f"{len(seed.jwt_secret.get_secret_value())=}   <- a 3-character secret, accepted")
print(f"{seed.host=}   <- listens on every interface, also on the café Wi-Fi")
print(f"{seed.workers=}   <- four processes, each with its own pool and cache")
print(f"{seed.redis_url=}   <- a server that may not exist, found at first use")
print(f"{seed.jwt_expire_minutes=}")
print("typo goes unnoticed:", seed.environment == "prod")

# %% [markdown]
# Two more ways it breaks: a `.env` file that holds any variable the class does not know
# (pydantic-settings forbids extra keys by default — and teams share one `.env` between
# tools), and the most natural way to write a list in an environment variable:

# %%
with fresh_shell(SEED_ENV, dotenv="LOG_LEVEL=debug\n"):
    try:
        SeedSettings()
    except ValidationError as exc:
        print(*problems(exc), sep="\n")

with fresh_shell({**SEED_ENV, "CORS_ORIGINS": "https://a.example,https://b.example"}):
    try:
        SeedSettings()
    except Exception as exc:  # pydantic_settings' own SettingsError
        print(f"{type(exc).__name__}: {exc}")

# %% [markdown]
# ## 2. The course's `Settings`: zero-config development, guarded production
#
# `course_app.config.Settings` keeps what the seed got right and changes the defaults so
# that the *safe* thing happens when nobody configures anything:
#
# | field | seed | course_app | why |
# |---|---|---|---|
# | `environment` | `str`, default `"production"` | `Environment` enum, default `development` | typos fail; production is opted into, then guarded |
# | `host` | `0.0.0.0` | `127.0.0.1` | a container sets `HOST=0.0.0.0` explicitly |
# | `workers` | `4` | `1` (1–64) | one process per container; `--workers` only on a single host |
# | `database_url` | required | optional: SQLite file in development, **required in production** | clone-and-run works |
# | `jwt_secret` | required, any length | generated per process in development; ≥ 32 bytes, not a known default, in production | 256 bits, from the environment |
# | `redis_url` | `str` default `localhost` | `SecretStr \| None`: in-process cache when unset | a URL can carry a password |
# | token lifetime | 30 min | access 15 min (≤ 30), refresh ≤ 7 days | checklist item 2 |
# | `cors_origins` | JSON list only | `a,b` or a JSON list; `*` refused in production | checklist item 4 |
# | unknown keys | error | ignored (`extra="ignore"`) | a shared `.env` does not break start-up |

# %%
with fresh_shell():
    dev = Settings()

for name in ["environment", "host", "workers", "database_url", "redis_url", "cors_origins"]:
    print(f"{name:14} {getattr(dev, name)!r}")
print(f"{'database':14} {dev.database_url_value}")
print(f"{'jwt_secret':14} {dev.jwt_secret!r}, generated: {len(dev.jwt_secret_value)} characters")
print(f"{'docs served':14} {dev.serve_docs}")

# %% [markdown]
# The generated secret is the price of zero configuration: it lives in one process only.
# Two processes (two workers, or a restart) get different secrets, so a token signed by
# one is rejected by the other. Fine on a laptop; that is exactly why production must set
# `JWT_SECRET`.

# %%
with fresh_shell():
    first, second = Settings(), Settings()
print("two processes share a secret:", first.jwt_secret_value == second.jwt_secret_value)

# %% [markdown]
# ## 3. Where does a value come from?
#
# pydantic-settings looks in several places and the first one that has the field wins:
#
# 1. arguments passed to `Settings(...)` (init kwargs),
# 2. environment variables (case-insensitive: `APP_NAME` fills `app_name`),
# 3. the `.env` file,
# 4. files in `secrets_dir` (section 8),
# 5. the default in the class.
#
# Watch one field travel up the ladder, in a real folder with a real `.env` file:

# %%
DOTENV = "APP_NAME=from the .env file\nPORT=8001\n"

with fresh_shell():
    print("5 default      ->", Settings().app_name)
with fresh_shell(dotenv=DOTENV):
    print("3 .env file    ->", Settings().app_name)
with fresh_shell({"APP_NAME": "from the environment"}, dotenv=DOTENV):
    print("2 environment  ->", Settings().app_name)
    print("1 init kwargs  ->", Settings(app_name="from init kwargs").app_name)
    print("port, only in .env, still read:", Settings().port)

# %% [markdown]
# `.env` is found relative to the **current working directory**, not to the code. Run a
# script from a sub-folder and the file is silently skipped. Name the file explicitly when
# it matters, and pass `_env_file=None` where a `.env` must never be read (tests):

# %%
with fresh_shell(dotenv=DOTENV) as folder:
    (folder / "scripts").mkdir()
    os.chdir(folder / "scripts")  # e.g. `cd scripts && python seed_db.py`
    print("from a sub-folder ->", Settings().app_name)
    print("explicit file     ->", Settings(_env_file=folder / ".env").app_name)
    os.chdir(folder)
    print("_env_file=None    ->", Settings(_env_file=None).app_name)

# %% [markdown]
# ## 4. The five configuration rules, each run
#
# The seed lists five rules. All five hold up; two need a correction in practice. Each
# gets a cell.
#
# ### Rule 1 — never hard-code secrets: `SecretStr`
#
# The other seed's JWT example has `SECRET_KEY = "your-secret-key"` in the source. A secret
# in code is in every clone, every fork and every CI log forever. Secrets come from the
# environment, live in `SecretStr`, and are revealed only at the point of use.

# %%
DEMO_SECRET = "demo-secret-for-this-notebook-only-0123456789"  # a fixed, public demo value
DB_URL = "postgresql+asyncpg://shop:pa55word@db.internal:5432/shop"

with fresh_shell():
    s = Settings(jwt_secret=DEMO_SECRET, database_url=DB_URL)

print("repr        ", repr(s.jwt_secret))
print("print       ", s.jwt_secret)
print("model_dump  ", s.model_dump()["database_url"])
print("JSON        ", s.model_dump_json()[:60], "…")
views = [repr(s), str(s), str(s.model_dump()), s.model_dump_json(), f"{s}"]
print("any view leaks:", any(DEMO_SECRET in v or "pa55word" in v for v in views))
print("at the point of use:", s.database_url.get_secret_value())

# %% [markdown]
# The places secrets really leak from are error messages and log lines that include the
# whole settings object. With `SecretStr`, both are safe. The seed's `redis_url` is a plain
# `str` — and Redis URLs carry passwords:

# %%
import io
import logging
import traceback


def open_pool(settings: BaseSettings) -> None:
    raise ConnectionError(f"cannot connect with {settings!r}")


try:
    open_pool(s)
except ConnectionError:
    trace = traceback.format_exc()

stream = io.StringIO()
logger = logging.getLogger("lesson02")
logger.addHandler(logging.StreamHandler(stream))
logger.propagate = False
logger.warning("starting with %s / %s", s, s.model_dump())

for name, text in {"traceback": trace, "log line": stream.getvalue()}.items():
    leaked = DEMO_SECRET in text or "pa55word" in text
    print(f"{name:9} names jwt_secret: {'jwt_secret' in text}  leaks its value: {leaked}")

with fresh_shell({**SEED_ENV, "REDIS_URL": "redis://:hunter2@cache:6379/0"}):
    print("seed repr leaks the Redis password:", "hunter2" in repr(SeedSettings()))

# %% [markdown]
# `SecretStr` protects the *object*, not the string you take out of it: an f-string with
# `get_secret_value()` leaks like any other string. Call it where the secret is consumed
# (`create_async_engine(...)`, `jwt.encode(...)`) and nowhere else. Note also that
# `model_dump_json()` writes `"**********"`: settings do not round-trip through JSON, which
# is the point.
#
# ### Rule 2 — fail fast (corrected: *in production*)
#
# The seed makes the database URL and the secret required everywhere, which makes
# zero-config development impossible. The course makes them required **where they
# matter**: a production start-up without them is refused. Every problem is reported at
# once — nobody wants to redeploy five times to discover five mistakes.

# %%
with fresh_shell({"ENVIRONMENT": "production"}):
    try:
        load_settings()
    except SettingsError as exc:
        print(exc, end="\n\n")

RISKY = {"ENVIRONMENT": "production", "JWT_SECRET": "changeme", "CORS_ORIGINS": "*", "DEBUG": "1"}
with fresh_shell(RISKY):
    try:
        load_settings()
    except SettingsError as exc:
        print(exc)

# %% [markdown]
# Fixed, the same environment starts — and production switches off the interactive docs
# and switches on JSON logs by itself:

# %%
PRODUCTION_ENV = {
    "ENVIRONMENT": "production",
    "JWT_SECRET": DEMO_SECRET,
    "DATABASE_URL": DB_URL,
    "CORS_ORIGINS": "https://shop.example",
}
with fresh_shell(PRODUCTION_ENV):
    prod = load_settings()
print(prod.environment.value, "| docs:", prod.serve_docs, "| JSON logs:", prod.json_logs)
print("CORS origins:", prod.cors_origins)

# %% [markdown]
# ### Rule 3 — validate at start-up
#
# Types and bounds are checked when the settings are built, so a wrong value is a start-up
# error, not a 500 on the first request that happens to need it. `load_settings()` turns
# Pydantic's `ValidationError` into a `SettingsError` with one line per variable, named the
# way you set it:

# %%
BAD_TYPES = {
    "PORT": "abc",
    "ACCESS_TOKEN_EXPIRE_MINUTES": "999",
    "WORKERS": "0",
    "LOG_LEVEL": "verbose",
    "CORS_ORIGINS": "localhost:3000",
}
with fresh_shell(BAD_TYPES):
    try:
        load_settings()
    except SettingsError as exc:
        print(exc)

# %% [markdown]
# The production guards run only once every field has a valid type, so the messages come
# in two rounds: fix the types, start again, then read the production problems.

# %%
with fresh_shell({"ENVIRONMENT": "production", "PORT": "abc"}):
    try:
        load_settings()
    except SettingsError as exc:
        print(exc)

# %% [markdown]
# Lists deserve a word: an environment variable is a string. `course_app` accepts both a
# comma-separated list and a JSON list (the seed accepted only JSON, see section 1):

# %%
for raw in [
    "https://a.example,https://b.example",
    '["https://a.example", "https://b.example"]',
    " https://a.example , ",
    "",
]:
    with fresh_shell({"CORS_ORIGINS": raw}):
        print(f"{raw!r:46} -> {Settings().cors_origins}")

# %% [markdown]
# "At start-up" means before the server binds a port. `python -m course_app` builds the
# settings first and exits with status 2 and the list of problems — an orchestrator shows a
# crash loop with a readable log instead of a pod that looks healthy and fails on login.
# Here it is as a real process:

# %%
import subprocess
import sys

with fresh_shell({"ENVIRONMENT": "production", "JWT_SECRET": "secret"}):
    done = subprocess.run(
        [sys.executable, "-m", "course_app"], capture_output=True, text=True, timeout=60
    )
print("exit status:", done.returncode)
print(done.stderr.strip())

# %% [markdown]
# ### Rule 4 — cache settings (corrected: cache at the edge, *pass* them inside)
#
# Parsing the environment on every request would be wasteful and, worse, inconsistent (a
# variable changed mid-flight would give two requests different configurations).
# `get_settings()` is wrapped in `lru_cache`: parsed once per process, the same object
# afterwards, until `cache_clear()`.

# %%
get_settings.cache_clear()
with fresh_shell({"APP_NAME": "first read"}):
    a = get_settings()
    os.environ["APP_NAME"] = "changed later"
    b = get_settings()
    print("same object:", a is b, "| app_name:", b.app_name)
    print(get_settings.cache_info())
    get_settings.cache_clear()
    print("after cache_clear():", get_settings().app_name)
get_settings.cache_clear()

# %%
# NBVAL_IGNORE_OUTPUT
import timeit

with fresh_shell():
    get_settings.cache_clear()
    parse = min(timeit.repeat(Settings, number=200, repeat=3)) / 200
    cached = min(timeit.repeat(get_settings, number=200, repeat=3)) / 200
    get_settings.cache_clear()
print(f"Settings(): {parse * 1e6:.0f} µs   get_settings(): {cached * 1e6:.2f} µs")
assert cached * 20 < parse, "the cached call should be far cheaper than a parse"

# %% [markdown]
# The cache is also a global, and globals make tests fragile. Two "tests" that each set a
# variable and call `get_settings()` — the second one silently runs with the first one's
# configuration, and the result depends on test order:

# %%
def test_one() -> str:
    os.environ["APP_NAME"] = "shop for test one"
    return get_settings().app_name


def test_two() -> str:
    os.environ["APP_NAME"] = "shop for test two"
    return get_settings().app_name


get_settings.cache_clear()
with fresh_shell():
    print("test_one saw:", test_one())
    print("test_two saw:", test_two(), "  <- stale")
get_settings.cache_clear()

# %% [markdown]
# The cure is not more `cache_clear()` calls; it is to **pass settings in**. `create_app`
# takes a `Settings` and only falls back to `get_settings()` when given none (that is,
# under uvicorn). Two differently configured apps live side by side in one process — no
# environment, no patching, no cache to reset:

# %%
from starlette.testclient import TestClient

from course_app.main import create_app

with fresh_shell():
    dev_settings = Settings(database_url="sqlite+aiosqlite:///:memory:", log_level="WARNING")
    prod_settings = Settings(
        environment="production", jwt_secret=DEMO_SECRET, database_url=DB_URL, log_level="WARNING"
    )
dev_app, prod_app = create_app(dev_settings), create_app(prod_settings)

for name, app in [("development", dev_app), ("production", prod_app)]:
    with TestClient(app) as client:
        health, docs = client.get("/health").status_code, client.get("/docs").status_code
    print(f"{name:12} GET /health -> {health}   GET /docs -> {docs}")

# %% [markdown]
# ### Rule 5 — type everything
#
# The seed types `environment` as `str` and checks it with a validator — and then every
# comparison in the code base is a string comparison that a typo turns silently false
# (section 1: `seed.environment == "prod"`). An enum makes the typo an error and lets the
# type checker help. The same goes for booleans: `"1"`, `"true"`, `"yes"`, `"on"` are true,
# and nonsense is an error, not `False`.

# %%
from course_app.config import Environment

with fresh_shell():
    print(Settings(environment="staging").environment is Environment.STAGING)
    try:
        Settings(environment="prod")
    except ValidationError as exc:
        print(*problems(exc), sep="\n")
    print([Settings(debug=raw).debug for raw in ["1", "true", "yes", "on", "0", "off"]])
    try:
        Settings(debug="maybe")
    except ValidationError as exc:
        print(*problems(exc), sep="\n")
try:
    Environment.PROD
except AttributeError as exc:
    print("AttributeError:", exc)

# %% [markdown]
# ## 5. Settings as a dependency, overridden in a test
#
# Endpoints that need configuration ask for it with `Depends`, like any other dependency.
# In a test, `app.dependency_overrides` swaps the provider for one call site — the FastAPI
# way to inject test settings without touching the environment. The endpoint returns an
# **allow-list** of non-secret values, never `model_dump()`.

# %%
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI

router = APIRouter()


@router.get("/config")
def read_config(settings: Annotated[Settings, Depends(get_settings)]) -> dict[str, Any]:
    return {
        "app_name": settings.app_name,
        "environment": settings.environment,
        "debug": settings.debug,
        "docs": settings.serve_docs,
    }


api = FastAPI()
api.include_router(router)

# %%
get_settings.cache_clear()
with fresh_shell():
    test_settings = Settings(app_name="Test Shop", environment="test", debug=True)
    with TestClient(api) as client:
        print("real dependency:", client.get("/config").json())
        api.dependency_overrides[get_settings] = lambda: test_settings
        try:
            print("overridden     :", client.get("/config").json())
        finally:
            api.dependency_overrides.clear()  # always clean up
        print("after clean-up :", client.get("/config").json())
get_settings.cache_clear()

# %% [markdown]
# `course_app` goes one step further: `create_app(settings)` stores the settings on
# `app.state.settings`, and a dependency reads them from `request.app.state`. Each app
# instance then answers with *its own* settings (the two apps above could not share a
# global), and the dependency can still be overridden. The lab builds exactly that.
#
# ## 6. CORS per environment
#
# Security checklist item 4: CORS is configured per environment, and never with a wildcard
# in production. The seed's app factory does `allow_origins=settings.cors_origins` with
# `allow_credentials=True` — harmless with a good list, dangerous as soon as someone sets
# `*`. Starlette then *echoes* any origin and allows credentials, so every website the user
# visits can call the API with the user's cookies and read the answer:

# %%
from fastapi.middleware.cors import CORSMiddleware


def cors_app(origins: list[str]) -> FastAPI:
    app = FastAPI()
    app.add_api_route("/api/me", lambda: {"user": "ada"})
    app.add_middleware(
        CORSMiddleware,
        allow_origins=origins,
        allow_credentials=True,
        allow_methods=["*"],
        allow_headers=["*"],
    )
    return app


for origins in [["*"], prod.cors_origins]:
    with TestClient(cors_app(origins)) as client:
        answer = client.get("/api/me", headers={"Origin": "https://evil.example", "Cookie": "s=1"})
    shown = {k: v for k, v in answer.headers.items() if k.startswith("access-control-allow")}
    print(f"{origins!s:26} evil.example gets: {shown}")

# %% [markdown]
# With an explicit list the foreign origin gets no `access-control-allow-origin`, so the
# browser hides the response from it. `course_app.config.Settings` refuses `*` in
# production (rule 2 above). An origin is `scheme://host[:port]` exactly as the browser
# sends it: no path, no trailing slash. In the lab you wire CORS from settings into a real
# app.
#
# ## 7. Secrets from files
#
# Docker secrets and Kubernetes Secret volumes arrive as **files**, one per secret
# (`/run/secrets/jwt_secret`), which keeps them out of `docker inspect`, `/proc/<pid>/environ`
# and crash dumps of the environment. pydantic-settings reads them with `secrets_dir`: the
# file name is the field name, surrounding whitespace is stripped. Environment variables
# still win over files.

# %%
with fresh_shell({"ENVIRONMENT": "production"}) as folder:
    run_secrets = folder / "run" / "secrets"  # what a container sees at /run/secrets
    run_secrets.mkdir(parents=True)
    (run_secrets / "jwt_secret").write_text(DEMO_SECRET + "\n")
    (run_secrets / "database_url").write_text(DB_URL + "\n")
    from_files = Settings(_secrets_dir=run_secrets)
    print(from_files.environment.value, from_files.jwt_secret, from_files.database_url)
    print("read from the file:", from_files.jwt_secret_value == DEMO_SECRET)
    os.environ["DATABASE_URL"] = "sqlite+aiosqlite:///override.db"
    print("env beats file:", Settings(_secrets_dir=run_secrets).database_url_value)

# %% [markdown]
# In a deployment you would set `secrets_dir="/run/secrets"` in `model_config` (a list of
# folders is allowed too). A missing folder only produces a warning by default, so the same
# class works on a laptop; `secrets_dir_missing="error"` makes it fatal where the folder
# must exist.
#
# ## 8. `.env.example`: the documented list of variables
#
# `.env` holds real values and is listed in `.gitignore`. Its committed twin,
# `.env.example` at the repository root, lists the variables with safe values and a comment
# each; a newcomer copies it to `.env` and edits. The class stays the source of truth:
# names, defaults and descriptions can be read from it, so a listing (or a test comparing
# it with `.env.example`) never drifts from the code. Secrets get no value, ever:

# %%
def example_value(field: Any) -> str:
    default = field.default_factory() if field.default_factory else field.default
    if default is None:
        return ""
    if isinstance(default, list):
        return ",".join(default)
    if isinstance(default, bool):
        return str(default).lower()
    return str(getattr(default, "value", default))


for name, field in Settings.model_fields.items():
    note = f"  # {field.description}" if field.description else ""
    print(f"{name.upper()}={example_value(field)}{note}")

# %% [markdown]
# ## Summary
#
# - One `Settings` class, typed end to end: enums instead of strings, bounds on numbers,
#   `SecretStr` for anything secret (including URLs that carry passwords).
# - Values come from init kwargs > environment > `.env` (relative to the working
#   directory!) > secrets files > defaults. Tests pass `_env_file=None` and explicit values.
# - Development needs zero configuration; production refuses to start on a missing or weak
#   JWT secret, an implicit database, debug mode, docs or wildcard CORS, and lists every
#   problem at once, before a port is bound.
# - `get_settings()` parses once (`lru_cache`); everything inside the app receives settings
#   explicitly: `create_app(settings)`, `Depends(...)` with `dependency_overrides` in tests.
# - Secrets can come from files (`secrets_dir`), the way Docker and Kubernetes deliver them.
#
# **Production checklist items covered**
#
# - Security 1 (P0): JWT secret ≥ 256 bits, from the environment — enforced at start-up.
# - Security 4 (P0): CORS configured per environment — explicit origins, `*` refused in
#   production.
# - P0: all secrets from environment variables (`SecretStr`), never in code or logs.
# - Security 2 (P0), in part: token lifetimes bounded by the settings (access ≤ 30 min,
#   refresh ≤ 7 days).
#
# **Next:** the lab `exercises/02_configuration.ipynb`, then lesson 03 (Pydantic v2).
