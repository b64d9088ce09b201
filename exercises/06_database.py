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
# # Lab 06 · Database patterns
#
# Four exercises, about 45 minutes. Each exercise cell is followed by a check cell: run
# both. A check never crashes the notebook; it prints ✓ or, for each failing case, what was
# expected, what came back and a hint. Replace each `# YOUR CODE HERE` and the line after it.
#
# | # | you write | it proves |
# |---|---|---|
# | 6.1 | `find_products(session, filters)` | a repository query whose filters are an allow-list; hidden rows stay hidden |
# | 6.2 | `orders_with_items(session)` | a list of orders with their items in 2 queries, however many orders (no N+1) |
# | 6.3 | `build_app(settings)` with `POST /api/imports/products` | the real app commits *before* it answers 201, and answers 409 for a duplicate |
# | 6.4 | a migration's `upgrade()` and `downgrade()` | a new `NOT NULL` column that survives existing rows, a downgrade, and SQLite |
#
# Lesson 06 (`notebooks/06_database.ipynb`) shows every tool you need. The checkers run
# your code on SQLite databases of their own, in temporary folders.

# %%
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from alembic import op
from fastapi import FastAPI
from pydantic import BaseModel, Field
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from course_app.config import Settings
from course_app.dependencies import SessionDep
from course_app.features.orders.models import Order, OrderItem
from course_app.features.products.exceptions import DuplicateSkuError
from course_app.features.products.models import Product
from course_app.main import create_app
from coursekit import check

# %% [markdown]
# ## Exercise 6.1 — a repository query with an allow-list
#
# The shop's search box sends filters as a dictionary. Write `find_products(session,
# filters)`, an `async` function that returns the matching products as a list of
# `Product` objects, **in id order**:
#
# | filter name | meaning |
# |---|---|
# | `category` | `Product.category` equals the value |
# | `max_price_cents` | `Product.price_cents` is at most the value (the bound is included) |
# | `name_contains` | the name contains the text, ignoring case; `%` and `_` in the text are ordinary characters, not wildcards |
#
# - **only active products**, always (`is_active` is true): an inactive product is an
#   unreleased prototype, and no filter may reveal it;
# - a filter whose value is `None` is ignored;
# - any other name (`is_active`, `sku`, `nmae`, `metadata`, …) raises
#   `UnknownFilterError(name)`, whatever its value: the API turns that into a 422. Never
#   turn a name from the caller into an attribute with `getattr`.
#
# Hints: collect conditions in a list and pass them to `.where(*conditions)`;
# `Product.name.icontains(text, autoescape=True)`; `await session.scalars(statement)`.

# %%
ALLOWED_FILTERS = ("category", "max_price_cents", "name_contains")


class UnknownFilterError(ValueError):
    """A filter name that is not on the allow-list."""


async def find_products(session: AsyncSession, filters: Mapping[str, Any]) -> list[Product]:
    """Active products matching every filter, in id order."""
    # YOUR CODE HERE
    raise NotImplementedError("your code here")


# %%
check("6.1", find_products, UnknownFilterError)

# %% [markdown]
# ## Exercise 6.2 — orders with their items, without N+1
#
# The admin's order overview needs every order with the product ids of its items. Write
# `orders_with_items(session)`, an `async` function that returns a list of
# `(order_id, [product_id, ...])` tuples:
#
# - every order, **in id order**, including an order that has no items yet (its list is
#   empty);
# - each order's product ids in the order of its items (`OrderItem.id`);
# - **at most 2 SQL queries, whatever the number of orders.** The checker counts the
#   statements the engine sends, for a few orders and for many.
#
# `Order.items` is declared `lazy="raise"` in `course_app`: touching it without loading it
# raises. Load it with the right loader option (lesson 06, section 4).

# %%
async def orders_with_items(session: AsyncSession) -> list[tuple[int, list[int]]]:
    """Every order with the product ids of its items, in at most two queries."""
    # YOUR CODE HERE
    raise NotImplementedError("your code here")


# %%
check("6.2", orders_with_items)

# %% [markdown]
# ## Exercise 6.3 — commit before you answer
#
# Suppliers push their catalogue to the shop. Write `build_app(settings)`: the real app
# (`create_app(settings)`) plus `POST /api/imports/products`, which
#
# - takes an `ImportedProduct` body and stores it as a new `Product` (the other columns
#   keep their defaults);
# - answers **201** with an `ImportResult` (`id`, `sku`) only once the row is
#   **committed**: the row must be readable by the next request
#   (`GET /api/products/{id}`);
# - answers **409** in the app's error envelope when the SKU is taken: raise
#   `DuplicateSkuError(sku)`. The unique index on `sku` is the guarantee; catch the
#   `IntegrityError` of the commit (and roll back) rather than trusting a check made
#   before it.
#
# Get the session from the app's `SessionDep` (`course_app.dependencies`). It opens and
# closes a session and **never commits**: the commit is yours. (The real product
# endpoints are for admins; this lab endpoint has no login, so the checker can call it
# without a token.)

# %%
class ImportedProduct(BaseModel):
    sku: str = Field(pattern=r"^[A-Z0-9][A-Z0-9-]{2,31}$")
    name: str = Field(min_length=1, max_length=120)
    price_cents: int = Field(ge=0)


class ImportResult(BaseModel):
    id: int
    sku: str

# %%
def build_app(settings: Settings) -> FastAPI:
    """The course app plus ``POST /api/imports/products``."""
    # YOUR CODE HERE
    raise NotImplementedError("your code here")


# %%
check("6.3", build_app)

# %% [markdown]
# ## Exercise 6.4 — a migration that survives production
#
# Products get a shipping weight. Write the body of a migration's `upgrade()` and
# `downgrade()` with Alembic's `op`:
#
# - `upgrade()` adds `products.weight_grams`, an `Integer`, **`NOT NULL`**. The table
#   already has rows: each of them, and every later insert that does not mention the
#   column, gets `0` from a server-side default. It also creates the index
#   `ix_products_weight_grams` on the column.
# - `downgrade()` removes the index and the column, keeping every row, and leaves the
#   table exactly as it was before `upgrade()`.
# - both run on **SQLite**, whose `ALTER TABLE` cannot alter or drop much: use
#   `op.batch_alter_table("products")` where SQLite needs it.
#
# The checker runs them, in order, on a SQLite database with the app's schema and a few
# products: upgrade, downgrade, upgrade again. Write two functions in the cell below,
# `def upgrade() -> None:` and `def downgrade() -> None:`, in place of the stub line.
# Start from the autogenerated version in the lesson, and see why it needed its review.

# %%
def not_written() -> None:
    raise NotImplementedError("write upgrade() and downgrade() in this cell")


# YOUR CODE HERE
upgrade = downgrade = not_written  # replace: def upgrade() -> None: ...

# %%
check("6.4", upgrade, downgrade)

# %% [markdown]
# ## Done?
#
# Run `course check 6` in a terminal to see all four results at once. Next: lesson 07,
# testing, where the checks you have been passing become the app's own test suite.
