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
# # Lab 07 · Testing
#
# Four exercises, about 40 minutes. Each exercise cell is followed by a check cell: run
# both. A check never crashes the notebook; it prints ✓ or, for each failing case, what was
# expected, what came back and a hint. Replace each `# YOUR CODE HERE` and the line after it.
#
# | # | you write | it proves |
# |---|---|---|
# | 7.1 | `overridden(app, overrides)` | a dependency override never leaks into the next test, even when a test fails |
# | 7.2 | `make_user(database_url, ...)` | a factory whose rows the real app accepts: unique, hashed once, any role |
# | 7.3 | `test_admin_listing_refuses(...)` | a sad-path test that catches the bugs planted in real app instances |
# | 7.4 | `app_client(folder)` | an async client on the real app with its lifespan and a database of its own |
#
# Lesson 07 (`notebooks/07_testing.ipynb`) shows every tool you need.

# %%
import itertools
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import httpx
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from course_app.config import load_settings
from course_app.core.database import build_engine
from course_app.core.security import hash_password
from course_app.features.users.models import Role, User
from course_app.main import create_app
from coursekit import check

# %% [markdown]
# ## Exercise 7.1 — an override that always cleans up
#
# Seed 001 sets `app.dependency_overrides[dep] = fake` in a test and resets the dictionary
# on its last line — which never runs when an assertion fails first, so the override leaks
# into every later test. Write the context manager `overridden(app, overrides)`:
#
# - inside the `with` block, every entry of `overrides` (`{dependency: replacement}`) is
#   active on `app`;
# - on exit — normally **or through an exception** — `app.dependency_overrides` is exactly
#   what it was before: overrides that were already there are kept (or restored, when
#   `overrides` replaced them for the block), the new ones are gone;
# - blocks nest: an inner block's exit restores the outer block's overrides;
# - the exception, if any, still propagates (a failing test must keep failing);
# - it yields `app`.
#
# The checker drives a real `course_app` instance over HTTP: it overrides
# `get_current_user` to log a fake admin in, and checks `GET /api/users/me` inside and after
# the block.

# %%
@contextmanager
def overridden(
    app: FastAPI, overrides: Mapping[Callable[..., Any], Callable[..., Any]]
) -> Iterator[FastAPI]:
    """Apply ``overrides`` to ``app`` for the duration of the block, then restore."""
    # YOUR CODE HERE
    raise NotImplementedError("your code here")


# %%
check("7.1", overridden)

# %% [markdown]
# ## Exercise 7.2 — a user factory
#
# Tests need users in the database before they can test anything about them (the
# *arrange* step). Write the async factory `make_user(database_url, ...)`, which inserts one
# `User` straight into the database and returns it:
#
# - `email`: the one given, or a **new unique** address on every call (from the counter
#   `_numbers`: `user1@example.com`, `user2@example.com`, …);
# - the password is stored as an Argon2 hash (`hash_password`), never as text — and each
#   distinct password is hashed **once** per process: Argon2 is slow by design (lesson 07
#   measured sign-ups against factory inserts), so a suite that creates hundreds of users
#   must not hash hundreds of times (keep the hashes in `_hashes`);
# - `role`, `full_name` and `is_active` as given (defaults below);
# - the returned `User` has its `id` set.
#
# Insert it the way `tests/app/factories.py` does: an engine from `build_engine(database_url)`,
# one transaction (`engine.begin()`), an `AsyncSession(bind=connection, expire_on_commit=False)`,
# `session.add(user)`, `await session.flush()`, and `await engine.dispose()` at the end.
# The checker logs your users in through the real app's `POST /api/auth/login`.

# %%
PASSWORD = "correct horse battery"
_numbers = itertools.count(1)  # next(_numbers) -> 1, 2, 3, ...
_hashes: dict[str, str] = {}  # password -> its Argon2 hash, computed once per process

# %%
async def make_user(
    database_url: str,
    *,
    email: str | None = None,
    password: str = PASSWORD,
    role: Role = Role.USER,
    full_name: str = "Test User",
    is_active: bool = True,
) -> User:
    """Insert one user into the database at ``database_url`` and return it (id set)."""
    # YOUR CODE HERE
    raise NotImplementedError("your code here")


# %%
check("7.2", make_user)

# %% [markdown]
# ## Exercise 7.3 — the sad-path test that catches the bug
#
# `GET /api/users` lists accounts; only admins may call it. Write the test
# `test_admin_listing_refuses(client, user_headers, admin_headers)` — a real async pytest
# test body: plain `assert`s on what `await client.get(...)` returns. It must check that
#
# - without a token the answer is **401**, with the header `WWW-Authenticate: Bearer` and
#   the error envelope's `code` `"UNAUTHORIZED"`;
# - with `user_headers` (a signed-in normal user) the answer is **403** with `code`
#   `"FORBIDDEN"`;
# - with `admin_headers` the answer is **200** (a test that any locked-down app passes
#   proves nothing).
#
# The envelope is `{"error": {"code": ..., "message": ..., ...}}` (lesson 04). The checker
# runs your test against the real app — it must pass — and then against five real app
# instances into which it has planted one bug each (through `dependency_overrides`): your
# test must **fail** on every one of them. It does not tell you the bugs in advance; the
# list above is what the API promises.

# %%
async def test_admin_listing_refuses(
    client: httpx.AsyncClient, user_headers: dict[str, str], admin_headers: dict[str, str]
) -> None:
    # YOUR CODE HERE
    raise NotImplementedError("your code here")


# %%
check("7.3", test_admin_listing_refuses)

# %% [markdown]
# ## Exercise 7.4 — a client with the lifespan and a database of its own
#
# Write the async context manager `app_client(folder)`, the `client` fixture of lesson 07
# in a form you can use anywhere:
#
# - build the real app with `create_app(settings)`, where the settings come from
#   `load_settings(_env_file=None, environment="test", jwt_secret=..., log_level="CRITICAL",
#   database_url=..., upload_dir=...)` with the **database file and the upload folder inside
#   `folder`** (each call gets its own folder, hence its own database);
# - run the app's lifespan for the duration of the block (`asgi_lifespan.LifespanManager`);
# - yield an `httpx.AsyncClient` that talks to the app in-process (`httpx.ASGITransport`)
#   under the host name the test settings allow (`http://testserver`), closed on exit.
#
# The checker registers the same e-mail address through two clients made with two folders
# (both must answer 201), asks `/ready` and `/api/products`, and looks for the database
# file in the folder.

# %%
LAB_SECRET = "lab07-signing-secret-not-for-production-0123456789"  # a public test value


@asynccontextmanager
async def app_client(folder: Path) -> AsyncIterator[httpx.AsyncClient]:
    """An AsyncClient on a fresh course_app whose database lives in ``folder``."""
    # YOUR CODE HERE
    raise NotImplementedError("your code here"); yield  # (async generator)


# %%
check("7.4", app_client)

# %% [markdown]
# ## Done?
#
# Run `course check 7` in a terminal to see all four results at once. Your `make_user`
# and `app_client` are, almost line for line, `tests/app/factories.py` and the `client`
# fixture of `tests/app/conftest.py`. Next: lesson 08, observability.
