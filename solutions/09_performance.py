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
# # Lab 09 · Performance
#
# Four exercises, about 40 minutes. Each exercise cell is followed by a check cell: run
# both. A check never crashes the notebook; it prints ✓ or, for each failing case, what was
# expected, what came back and a hint. Replace each `# YOUR CODE HERE` and the line after it.
#
# | # | you write | it proves |
# |---|---|---|
# | 9.1 | `build_rates_app(settings)`: `GET /api/rates` on the real app | a slow endpoint that no longer blocks the others, measured by the checker |
# | 9.2 | `cached(ttl)`, a cache decorator for async functions | an empty result is a hit too; entries expire; arguments are part of the key |
# | 9.3 | `build_app(settings, threads)` | the real app's lifespan raises the thread pool, and still opens the database |
# | 9.4 | `product_summaries(session, page=, page_size=)` | one query, three columns, a page: not the whole table |
#
# Lesson 09 (`notebooks/09_performance.ipynb`) shows every tool you need. The checks of
# 9.1 and 9.3 send concurrent requests and take a few seconds.

# %%
import asyncio
import functools
import itertools
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import anyio.to_thread
import sqlalchemy as sa
from fastapi import FastAPI
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.concurrency import run_in_threadpool

from course_app.config import Settings
from course_app.features.products.models import Product
from course_app.main import create_app
from coursekit import check

# %% [markdown]
# ## Exercise 9.1 — make a slow endpoint fast, and let the checker prove it
#
# The shop shows exchange rates, fetched from a provider with its **blocking** SDK
# (`fetch_exchange_rates` below: 0.2 s on the wire, fresh data every call). A colleague
# added the endpoint like this:
#
# ```python
# @app.get("/api/rates")
# async def rates() -> dict[str, float]:
#     return fetch_exchange_rates()  # blocks the event loop for 0.2 s
# ```
#
# Under load, every other request of the app (even `/health`) waits behind it. Write
# `build_rates_app(settings)`: the real app (`create_app(settings)`) plus `GET /api/rates`,
# answering what `fetch_exchange_rates()` returns, **fresh on every request** (no caching:
# rates change), without ever blocking the event loop.
#
# The checker repeats the measurement: 6 concurrent requests must finish in well under
# the 6 × 0.2 s they would take one after another, and `/health` must answer quickly while
# rates requests are in flight. Several ways work: a `def` endpoint, or an `async def` one
# that awaits `run_in_threadpool(...)` (or `asyncio.to_thread(...)`).

# %%
FETCHES = itertools.count(1)


def fetch_exchange_rates() -> dict[str, float]:
    """A blocking SDK call (think ``requests.get``): 0.2 s, and fresh data every time."""
    time.sleep(0.2)
    return {"EUR": 0.92, "GBP": 0.79, "fetch": next(FETCHES)}


def build_rates_app(settings: Settings) -> FastAPI:
    app = create_app(settings)
    ### BEGIN SOLUTION
    @app.get("/api/rates")
    async def rates() -> dict[str, float]:
        return await run_in_threadpool(fetch_exchange_rates)
    ### END SOLUTION
    return app


# %%
check("9.1", build_rates_app)

# %% [markdown]
# ## Exercise 9.2 — a cache decorator that counts an empty result as a hit
#
# Seed 001 caches with a decorator, `@cache(expire=60)`. Write one: `cached(ttl, clock=...)`
# returns a decorator for **async** functions that keeps each result for `ttl` seconds,
# per arguments:
#
# - the first call with some arguments awaits the function and stores the result; later
#   calls with the **same** arguments within `ttl` return the stored result without
#   calling the function;
# - **every** result is cached, including `[]`, `0`, `""` and `None` (the seeds' `if
#   cached:` treats those as misses and queries the database every time);
# - positional and keyword arguments are part of the key (`f(1)` and `f(2)` are two
#   entries; `f(1, sort="name")` and `f(1, sort="price")` too);
# - an entry older than `ttl` (measured with `clock()`, which the checker replaces with a
#   clock it controls) is computed again.
#
# Hint: a dictionary from `(args, tuple(sorted(kwargs.items())))` to `(expires_at,
# value)`; test for the *key*, not for the truthiness of the value.

# %%
AsyncFunction = Callable[..., Awaitable[Any]]
Decorator = Callable[[AsyncFunction], AsyncFunction]


def cached(ttl: float, *, clock: Callable[[], float] = time.monotonic) -> Decorator:
    """Cache an async function's results, per arguments, for ``ttl`` seconds."""
    ### BEGIN SOLUTION
    def decorate(function: AsyncFunction) -> AsyncFunction:
        entries: dict[Any, tuple[float, Any]] = {}

        @functools.wraps(function)
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            key = (args, tuple(sorted(kwargs.items())))
            entry = entries.get(key)
            if entry is not None and clock() < entry[0]:
                return entry[1]
            value = await function(*args, **kwargs)
            entries[key] = (clock() + ttl, value)
            return value

        return wrapper

    return decorate
    ### END SOLUTION


# %%
check("9.2", cached)

# %% [markdown]
# ## Exercise 9.3 — raise the thread pool in the real app's lifespan
#
# The reporting team's `def` endpoints call a blocking library, and 40 threads (anyio's
# default) are not enough for their traffic. Write `build_app(settings, threads)`: the
# real app (`create_app(settings)`), whose lifespan sets anyio's default thread limiter to
# `threads` tokens **and** still runs `course_app`'s own lifespan (which opens the
# database and hands `request.state` its resources).
#
# - The limiter belongs to the running event loop: set it *inside* the lifespan, before
#   the `yield`. At build time there is no loop yet.
# - The app's current lifespan is `app.router.lifespan_context`: wrap it
#   (`async with inner(app) as state:`) and **yield its state** on, then put your
#   lifespan in its place.
#
# The checker adds a slow `def` endpoint to your app, sends it 60 requests at once and
# counts how many run at the same time.

# %%
def build_app(settings: Settings, threads: int) -> FastAPI:
    app = create_app(settings)
    ### BEGIN SOLUTION
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app_: FastAPI) -> AsyncIterator[Any]:
        anyio.to_thread.current_default_thread_limiter().total_tokens = threads
        async with inner(app_) as state:
            yield state

    app.router.lifespan_context = lifespan
    ### END SOLUTION
    return app


# %%
check("9.3", build_app)

# %% [markdown]
# ## Exercise 9.4 — one page of three columns
#
# The price-list widget shows id, name and price of the active products, 20 at a time.
# The first version loaded every product as an ORM object and sliced the list in Python.
# Write `product_summaries(session, page=, page_size=)`:
#
# - **one** `SELECT` of exactly `Product.id`, `Product.name`, `Product.price_cents` (not
#   `select(Product)`: no description, no timestamps);
# - active products only (`Product.is_active`), ordered by id, so pages never overlap;
# - the page in SQL: `LIMIT page_size OFFSET (page - 1) * page_size` (`page` starts at 1);
# - returns a list of `ProductSummary`; a page past the end is `[]`.

# %%
class ProductSummary(BaseModel):
    id: int
    name: str
    price_cents: int


async def product_summaries(session: AsyncSession, *, page: int,
                            page_size: int) -> list[ProductSummary]:
    ### BEGIN SOLUTION
    result = await session.execute(
        sa.select(Product.id, Product.name, Product.price_cents)
        .where(Product.is_active.is_(True))
        .order_by(Product.id)
        .offset((page - 1) * page_size)
        .limit(page_size)
    )
    return [ProductSummary(id=row.id, name=row.name, price_cents=row.price_cents)
            for row in result]
    ### END SOLUTION


# %%
check("9.4", product_summaries)

# %% [markdown]
# ## Done?
#
# `course check 9` runs the same checks from a terminal; `course progress` shows every
# phase. Next: lesson 10, deployment.
