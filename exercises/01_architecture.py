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
# # Lab 01 · Architecture
#
# Four exercises on the ideas of lesson 01. Each exercise cell has a `# YOUR CODE HERE` line
# followed by a stub; replace the stub with your code, run the cell, then run the **check
# cell** right below it. A check never crashes your notebook: it prints either `✓ passed` or,
# for each failing case, what it expected, what came back, and a hint.
#
# | # | Exercise | Rule it practises |
# |---|---|---|
# | 1.1 | `GET /version` on the real `course_app` | layers are `include_*` functions; settings come from the app |
# | 1.2 | a lifespan that owns a resource | lifespan, not `@app.on_event`; nothing happens at build time |
# | 1.3 | move business rules out of a fat router | thin routers, thick services, domain errors |
# | 1.4 | endpoints that do not block the event loop | the async decision rule |
#
# **Time:** about 30 minutes. From a terminal, `course check 1` runs every check of this lab.
#
# Run the set-up cell first.

# %%
from coursekit import check

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
from fastapi.testclient import TestClient
from pydantic import BaseModel, Field

from course_app import __version__
from course_app.config import Settings, load_settings
from course_app.core.errors import AppError
from course_app.main import create_app

# Settings for trying things out in this notebook (the checks build apps with their own).
settings = load_settings(
    environment="development", app_name="Lab 01 Shop", database_url="sqlite+aiosqlite:///:memory:"
)

# %% [markdown]
# ## Exercise 1.1 · `GET /version` on the real app
#
# Every layer of `course_app` is added by a small function: `install_error_handlers(app)`,
# `include_health(app)`. Write one more, `include_version(app)`, that adds **`GET /version`**
# to an app built by `create_app(...)`. It answers `200` with a `VersionInfo` body:
#
# ```json
# {"name": "<the app's app_name>", "version": "<course_app.__version__>", "environment": "<environment>"}
# ```
#
# The values come from the settings **of the app that serves the request**. `create_app`
# stores them on `app.state.settings`, and its lifespan also hands them to every request as
# `request.state.settings`; a handler reaches either through its `request: Request` parameter.
# Do not call `get_settings()` (that is the process-wide configuration from the environment)
# and do not use this notebook's `settings` variable: the check builds two apps with
# settings of its own. Use an `APIRouter`, as `features/health/router.py` does.

# %%
class VersionInfo(BaseModel):
    """The body of GET /version."""

    name: str
    version: str
    environment: str


def include_version(app: FastAPI) -> None:
    """Add GET /version to ``app``: the name, version and environment of *this* app."""
    # YOUR CODE HERE
    raise NotImplementedError("your code here")

# %%
check("1.1", include_version)

# %% [markdown]
# ## Exercise 1.2 · A lifespan that owns a resource
#
# `ConnectionPool` (below) stands in for anything expensive that lives as long as the app:
# a database pool, an HTTP client, a loaded model. It records what happens to it in the
# `events` list it is given.
#
# Write `make_app(events)`, a small app factory that returns a `FastAPI` app whose
# **lifespan** creates a `ConnectionPool(events)`, opens it before the first request, hands
# it to requests (yield `{"pool": pool}` so handlers find it as `request.state.pool`) and
# closes it after the last request, even if something fails in between. The app also serves
# **`GET /pool`**, answering `{"open": <pool.is_open>}`.
#
# The check expects `events` to be empty after `make_app(...)` returns (building an app opens
# nothing), `["pool opened"]` while it serves, and `["pool opened", "pool closed"]` after it
# stops. `@app.on_event` is deprecated: the check rejects it.

# %%
class ConnectionPool:
    """A stand-in for a resource that must be opened before serving and closed after."""

    def __init__(self, events: list[str]) -> None:
        self.events = events
        self.is_open = False

    async def open(self) -> None:
        await asyncio.sleep(0)  # a real pool would connect here
        self.is_open = True
        self.events.append("pool opened")

    async def close(self) -> None:
        await asyncio.sleep(0)
        self.is_open = False
        self.events.append("pool closed")

# %%
def make_app(events: list[str]) -> FastAPI:
    """Build an app whose lifespan opens a ConnectionPool(events) and closes it on shutdown."""
    # YOUR CODE HERE
    raise NotImplementedError("your code here")

# %%
check("1.2", make_app)

# %% [markdown]
# ## Exercise 1.3 · Thin router, thick service
#
# Here is a working endpoint that prices a basket. It is a **fat router**: the business
# rules live in the HTTP handler, so the only way to test them is through HTTP, and the
# rules raise `HTTPException`, which means nothing to a CLI, a background job or a test.

# %%
class LineItem(BaseModel):
    sku: str = Field(min_length=1)
    unit_price_cents: int = Field(ge=0)
    quantity: int = Field(ge=1)


class QuoteRequest(BaseModel):
    items: list[LineItem] = Field(min_length=1)
    coupon: str | None = None


class Quote(BaseModel):
    subtotal_cents: int
    discount_cents: int
    total_cents: int


class UnknownCouponError(AppError):
    """A domain error: course_app's handlers turn every AppError into the error envelope."""

    status_code = 422
    code = "UNKNOWN_COUPON"

    def __init__(self, coupon: str) -> None:
        super().__init__(f"Unknown coupon: {coupon}", details={"coupon": coupon})

# %%
fat_router = APIRouter()


@fat_router.post("/quotes")
async def create_quote_fat(body: QuoteRequest) -> Quote:
    subtotal = sum(item.unit_price_cents * item.quantity for item in body.items)
    discount = 0
    if body.coupon is not None:
        code = body.coupon.strip().upper()
        if code == "SAVE10":
            discount = subtotal // 10  # 10 % off, rounded down to the cent
        elif code == "FIVEOFF":
            discount = min(500, subtotal)  # 5.00 off, never below zero
        else:
            raise HTTPException(status_code=400, detail=f"unknown coupon {body.coupon!r}")
    return Quote(subtotal_cents=subtotal, discount_cents=discount, total_cents=subtotal - discount)


fat_app = FastAPI()
fat_app.include_router(fat_router)
basket = {"items": [{"sku": "kettle", "unit_price_cents": 1250, "quantity": 2}], "coupon": "save10"}
print(TestClient(fat_app).post("/quotes", json=basket).json())

# %% [markdown]
# Move the rules into `PricingService.quote`, unchanged in what they compute:
#
# - subtotal: the sum of `unit_price_cents × quantity`;
# - coupons are matched ignoring case and surrounding spaces; no coupon means no discount;
# - `SAVE10`: 10 % off the subtotal, rounded **down** to the cent;
# - `FIVEOFF`: 500 cents off, but never more than the subtotal;
# - any other coupon: `raise UnknownCouponError(coupon)`, a domain error, **not** an `HTTPException`;
# - return a `Quote`.
#
# The thin router under the class is already written: it parses the body, gets a
# `PricingService` through `Depends()`, and delegates. The check calls your service directly
# (no HTTP at all), then through a real `course_app` app, where an unknown coupon must come
# back as a `422` error envelope.

# %%
class PricingService:
    """The quote rules, with no HTTP in sight: callable from a router, a test, a CLI or a job."""

    def quote(self, request: QuoteRequest) -> Quote:
        # YOUR CODE HERE
        raise NotImplementedError("your code here")


# The thin router (given): parse the body, get a PricingService through Depends, delegate.
def include_quotes(app: FastAPI) -> None:
    router = APIRouter(tags=["quotes"])

    @router.post("/quotes")
    async def create_quote(
        body: QuoteRequest, service: Annotated[PricingService, Depends()]
    ) -> Quote:
        return service.quote(body)

    app.include_router(router)

# %%
check("1.3", PricingService, include_quotes)

# %% [markdown]
# ## Exercise 1.4 · Endpoints that do not block the event loop
#
# Two lookups are given. `blocking_stock_lookup` behaves like a query through a blocking
# driver (psycopg2, `requests`): it holds its thread while it waits. `async_price_lookup`
# behaves like a call through an async library (asyncpg, `httpx.AsyncClient`): it yields
# the event loop while it waits. Each takes 0.15 s.
#
# Write `include_lookups(app)` adding two endpoints to `app`:
#
# - **`GET /stock/{sku}`** → `{"sku": sku, "quantity": blocking_stock_lookup(sku)}`
# - **`GET /price/{sku}`** → `{"sku": sku, "price_cents": <async_price_lookup(sku)>}`
#
# Choose `def` or `async def` for each by the rule from the lesson. The check sends 8 requests
# at once to each endpoint: if they overlap they take about 0.15 s; if your endpoint blocks the
# event loop they run one after another, about 1.2 s, and the check fails.

# %%
LOOKUP_SECONDS = 0.15
STOCK = {"kettle": 3, "mug": 12, "teapot": 0}
PRICES = {"kettle": 3499, "mug": 899, "teapot": 2450}


def blocking_stock_lookup(sku: str) -> int:
    """Like a query through a blocking driver: the calling thread waits."""
    time.sleep(LOOKUP_SECONDS)
    return STOCK.get(sku, 0)


async def async_price_lookup(sku: str) -> int:
    """Like a call through an async client: the event loop is free while it waits."""
    await asyncio.sleep(LOOKUP_SECONDS)
    return PRICES.get(sku, 0)

# %%
def include_lookups(app: FastAPI) -> None:
    """Add GET /stock/{sku} and GET /price/{sku}, neither of which blocks the event loop."""
    # YOUR CODE HERE
    raise NotImplementedError("your code here")

# %%
check("1.4", include_lookups)

# %% [markdown]
# ## Your lab's app
#
# The same composition as `create_app()`: the real app, plus the features you wrote.
# (Until an exercise is done, its `include_*` function still raises `NotImplementedError`.)

# %%
lab_app = create_app(settings)
for include in (include_version, include_quotes, include_lookups):
    try:
        include(lab_app)
    except NotImplementedError:
        print(f"{include.__name__}: not written yet")
print("API routes:", sorted(lab_app.openapi()["paths"]))

# %% [markdown]
# When every check passes, you have practised the whole architecture of lesson 01: layers
# added by `include_*` functions, resources in a lifespan, rules in a service behind a thin
# router, and endpoints that match the libraries they call. Next: lesson 02, configuration.
