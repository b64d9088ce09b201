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
# # Lab 12 · Production readiness
#
# Four exercises, about 40 minutes. Each exercise cell is followed by a check cell: run
# both. A check never crashes the notebook; it prints ✓ or, for each failing case, what was
# expected, what came back and a hint. Replace each `# YOUR CODE HERE` and the line after it.
#
# | # | you write | it proves |
# |---|---|---|
# | 12.1 | `build_catalog_app(settings)` | mistake 9 fixed on the real app: a paginated, capped, filterable list |
# | 12.2 | `build_stock_app(settings, lookup)` | mistake 1 fixed on the real app, and the checker measures it |
# | 12.3 | `trusted_hosts`, a check for the audit | the audit learns a rule: it flags a bad app and passes a good one |
# | 12.4 | `release_gate(report)` | a release is refused for a low score or a blocking finding |
#
# Lesson 12 (`notebooks/12_production_readiness.ipynb`) shows every tool you need.

# %%
import time
from collections.abc import Callable, Iterable
from typing import Literal

from fastapi import FastAPI, Query
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from course_app.config import Settings
from course_app.core.errors import NotFoundError
from course_app.main import create_app
from course_app.shared.pagination import Page, PageDep
from coursekit import check
from coursekit.audit import AuditReport, Context, audit_check

# %% [markdown]
# ## Exercise 12.1 — a list endpoint that cannot grow without bound
#
# The shop's catalog has 250 items (`CATALOG` below) and will have many more. Write
# `build_catalog_app(settings)`: the real app (`create_app(settings)`) plus
# `GET /api/catalog`, answering a `Page[CatalogItem]`:
#
# - `?page=` (from 1) and `?page_size=` (default **20**, at most **100**): a page size over
#   100 or a page below 1 is a **422** in the app's error envelope, not a slow query;
# - `?category=` optionally narrows the list to one of `books`, `games`, `tools`; any other
#   value is a 422;
# - items in catalog order (by id); `total` counts every item that matches the filter, not
#   only the page; a page past the end has no items (and the same total).
#
# Hints: `PageDep` gives validated `page`/`page_size` with `.offset` and `.limit`; `Page`
# computes `has_next` and `pages` itself; `Literal[...]` makes a closed set of values.

# %%
class CatalogItem(BaseModel):
    id: int
    name: str
    category: str


CATEGORIES = ("books", "games", "tools")
CATALOG = [CatalogItem(id=n, name=f"Item {n}", category=CATEGORIES[n % 3]) for n in range(1, 251)]

# %%
def build_catalog_app(settings: Settings) -> FastAPI:
    """The course app plus a paginated ``GET /api/catalog``."""
    # YOUR CODE HERE
    raise NotImplementedError("your code here")


# %%
check("12.1", build_catalog_app)

# %% [markdown]
# ## Exercise 12.2 — a blocking SDK, off the event loop
#
# The warehouse only offers a **blocking** Python SDK: `legacy_stock_level(sku)` below
# sleeps for its network round trip and returns the stock level, or raises `LookupError` for
# a SKU it does not know. There is no async version. Write `build_stock_app(settings,
# lookup)`: the real app plus `GET /api/stock/{sku}` answering a `StockLevel`:
#
# - it calls `lookup(sku)` (the checker passes an instrumented copy of the SDK function),
#   **never on the event loop thread**: ten users asking at once must not wait for each
#   other;
# - a SKU the warehouse does not know answers **404** in the app's envelope
#   (`NotFoundError("Stock", sku)`), never a 500.
#
# The checker sends 8 requests at once and measures the wall time against the SDK's delay,
# up to three times (a busy laptop gets a second chance), and records on which thread each
# call ran. Lesson 01 and lesson 12 (mistake 1) show two ways to do it.

# %%
class StockLevel(BaseModel):
    sku: str
    level: int


WAREHOUSE = {"MUG-0001": 25, "TEA-0002": 0, "PEN-0003": 140}


def legacy_stock_level(sku: str) -> int:
    """The vendor's blocking SDK call: a 50 ms network round trip, then the answer."""
    time.sleep(0.05)
    if sku not in WAREHOUSE:
        raise LookupError(sku)
    return WAREHOUSE[sku]

# %%
def build_stock_app(settings: Settings, lookup: Callable[[str], int]) -> FastAPI:
    """The course app plus ``GET /api/stock/{sku}``, calling ``lookup`` off the loop."""
    # YOUR CODE HERE
    raise NotImplementedError("your code here")


# %%
check("12.2", build_stock_app)

# %% [markdown]
# ## Exercise 12.3 — teach the audit a rule: trusted hosts
#
# A forged `Host` header poisons every URL the app builds from the request (password-reset
# links, redirects, cached pages). `course_app` refuses unknown hosts with its own
# `TrustedHostMiddleware` (lesson 02); Starlette ships one of the same name. Write the audit
# check `trusted_hosts` with `audit_check`:
#
# - id `"trusted-hosts"`, dimension `"Security"`, 2 points, a title and a fix;
# - it **passes** when the app's middleware (`ctx.middleware()`: `(class, options)` pairs)
#   includes a class named `TrustedHostMiddleware`, whichever package it comes from, whose
#   `allowed_hosts` option does not contain `"*"`; the reason names the allowed hosts;
# - it **fails** when there is no such middleware, or when it allows `"*"` (the reason then
#   says so, with the `*` in it): a wildcard checks nothing.
#
# The checker audits several apps with your check (a bare app, Starlette's middleware with
# and without a wildcard, the real `create_app()` with and without `ALLOWED_HOSTS=*`).

# %%
# YOUR CODE HERE
trusted_hosts = None  # your @audit_check(...) function

# %%
check("12.3", trusted_hosts)

# %% [markdown]
# ## Exercise 12.4 — the release gate
#
# A score is only useful if something acts on it. Write `release_gate(report, *, minimum,
# blocking)`, which returns the list of reasons to **refuse** a release (an empty list means
# ship it), so that CI can run `sys.exit(1 if reasons else 0)`:
#
# - a score below `minimum` is a reason (a score equal to the minimum passes), and the
#   reason quotes both numbers;
# - each check in `blocking` that **failed** is a reason of its own, starting with the check
#   id and quoting the finding's reason, *whatever the score*: a 95 with a wildcard CORS
#   policy does not ship;
# - each check in `blocking` that is **not in the report** is a reason too ("not run"): a gate
#   must not pass because a check silently went missing.
#
# Return every reason, not only the first: the person fixing the build wants the whole list.

# %%
BLOCKING = ("secret-settings", "no-debug", "cors", "error-envelope", "liveness", "readiness")


def release_gate(report: AuditReport, *, minimum: int = 80,
                 blocking: Iterable[str] = BLOCKING) -> list[str]:
    """Reasons to refuse the release; empty when it may ship."""
    # YOUR CODE HERE
    raise NotImplementedError("your code here")


# %%
check("12.4", release_gate)

# %% [markdown]
# ## Done?
#
# Run `course check 12` in a terminal to see all four results at once. Then point the audit
# at an app of your own: `audit(your_app, tests_dir=..., project_dir=...)`, add your team's
# checks, and put the gate in CI. That is the end of the course: thank you for taking it.
