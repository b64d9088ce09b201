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
# # Lab 05 · Authentication and authorization
#
# Four exercises, about 40 minutes. Each exercise cell is followed by a check cell: run
# both. A check never crashes the notebook; it prints ✓ or, for each failing case, what was
# expected, what came back and a hint. Replace each `# YOUR CODE HERE` and the line after it.
#
# | # | you write | it proves |
# |---|---|---|
# | 5.1 | `require_role(*roles)` | the real app answers 401 / 403 / 200 by role, read fresh on every request |
# | 5.2 | `decode_access_token(token, settings)` | the seeds' python-jose check, migrated to PyJWT: forged tokens rejected, old tokens kept |
# | 5.3 | `build_app(settings)` with `GET /api/orders/{id}/receipt` | another user's order is a 404 on the real app, an admin's view is not |
# | 5.4 | `RefreshStore` | refresh tokens rotate, and a replay ends every session of the account |
#
# Lesson 05 (`notebooks/05_auth.ipynb`) shows every tool you need. The checkers build real
# apps on a temporary SQLite file and talk to them over HTTP.

# %%
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

import jwt
from fastapi import FastAPI
from pydantic import BaseModel

from course_app.config import Settings
from course_app.core.errors import AuthenticationError, AuthorizationError
from course_app.dependencies import SessionDep
from course_app.features.auth.dependencies import CurrentUser
from course_app.features.orders.dependencies import OrderId
from course_app.features.orders.exceptions import OrderNotFoundError
from course_app.features.orders.repository import OrderRepository
from course_app.features.users.models import Role, User
from course_app.main import create_app
from coursekit import check

# %% [markdown]
# ## Exercise 5.1 — `require_role`
#
# Write the authorization dependency of seed 000, the course's way. `require_role(*roles)`
# returns a dependency (an `async def` taking the current user) that:
#
# - gets the caller through `CurrentUser` (`Annotated[User, Depends(get_current_user)]`):
#   no token or a bad token is then a 401 before your code runs;
# - lets the request through and **returns the user** when `user.role` is one of `roles`;
# - otherwise raises `AuthorizationError` (403, the error envelope), with a message naming
#   the roles required.
#
# The checker mounts your dependency on routes of the real app
# (`Depends(require_role(Role.ADMIN))`, `require_role(Role.USER)`,
# `require_role(Role.USER, Role.ADMIN)`), logs users in and calls them. It also demotes an
# admin and calls again *with the same token*: the role must be the one in the database now.

# %%
def require_role(*roles: Role) -> Callable[..., Awaitable[User]]:
    """A dependency that lets through only users holding one of ``roles``."""
    # YOUR CODE HERE
    raise NotImplementedError("your code here")


# %%
check("5.1", require_role)

# %% [markdown]
# ## Exercise 5.2 — from python-jose to PyJWT
#
# The seeds check a token like this (seed 001):
#
# ```python
# payload = jwt.decode(token, SECRET_KEY, algorithms=[ALGORITHM])  # from jose import jwt
# ...
# except:
#     raise HTTPException(status_code=401)
# ```
#
# Write `decode_access_token(token, settings)` with **PyJWT** (`import jwt`, already done)
# that returns the token's claims (a dict) only when all of this holds:
#
# - the signature verifies with `settings.jwt_secret_value`, using **only**
#   `settings.jwt_algorithm` (an explicit list of one);
# - every claim in `REQUIRED_CLAIMS` is present (PyJWT: `options={"require": [...]}`);
# - `iss` is `settings.jwt_issuer` and `aud` is `settings.jwt_audience`;
# - the token is not expired or not yet valid, and its `type` claim is `"access"`.
#
# Otherwise raise `AuthenticationError`: with the message `"Token has expired"` for an
# expired token (a client then knows to refresh) and `"Invalid token"` (or any other
# message) for the rest. Catch **only PyJWT's errors** (`jwt.PyJWTError` and its
# subclasses): anything else — a bug, a secret store that is down — must propagate as
# itself, or an outage looks like a wave of bad tokens.
#
# Tokens that python-jose minted with the same key and claims must keep working: the
# checker mints some.

# %%
REQUIRED_CLAIMS = ("exp", "iat", "nbf", "sub", "type", "jti", "iss", "aud")


def decode_access_token(token: str, settings: Settings) -> dict[str, Any]:
    """The claims of a valid access token, or ``AuthenticationError``."""
    # YOUR CODE HERE
    raise NotImplementedError("your code here")


# %%
check("5.2", decode_access_token)

# %% [markdown]
# ## Exercise 5.3 — object-level authorization: a receipt
#
# Customers want a receipt for an order. Add `GET /api/orders/{order_id}/receipt` to the real
# app, answering a `Receipt`:
#
# - the order's **owner** and any **admin** get it (`item_count` is the number of units:
#   the sum of the items' quantities);
# - anyone else gets **exactly the 404 that a missing order gets** (`OrderNotFoundError`):
#   a 403 would confirm that the order exists;
# - an anonymous caller gets a 401 (use `CurrentUser`);
# - `order_id` is validated like the app's other order routes (`OrderId`), so an absurd id
#   is a 422, never a 500.
#
# Load the order with `OrderRepository(session).get(order_id, owner_id=...)` (the session
# comes from `SessionDep`). With `owner_id` set, the query itself only finds the caller's
# own orders; with `None`, it finds any order.

# %%
class Receipt(BaseModel):
    order_id: int
    total_cents: int
    item_count: int


def build_app(settings: Settings) -> FastAPI:
    """The course app, plus ``GET /api/orders/{order_id}/receipt``."""
    app = create_app(settings)
    # YOUR CODE HERE
    raise NotImplementedError("your code here")
    return app


# %%
check("5.3", build_app)

# %% [markdown]
# ## Exercise 5.4 — refresh-token rotation with reuse detection
#
# `course_app` keeps its refresh tokens in a table; here you write the same rules in memory.
# Write a class `RefreshStore` with four methods:
#
# - `issue(user_id: int) -> str` — a new **live** token for the user: random and
#   unguessable (`secrets.token_urlsafe`), never a counter;
# - `rotate(token: str) -> str` — for a live token: spend it (it is no longer live) and
#   return a new live token for the same user. For a token that was issued but is no longer
#   live (spent or revoked): that is a **reuse** — revoke every live token of that user and
#   raise `TokenReusedError`. For a token this store never issued: raise
#   `UnknownTokenError` and change nothing;
# - `revoke(token: str) -> None` — logout: the token is no longer live (unknown: no-op);
# - `is_live(token: str) -> bool`.
#
# Tokens of other users are never affected by someone else's reuse.

# %%
class TokenReusedError(Exception):
    """A spent or revoked refresh token was presented again."""


class UnknownTokenError(Exception):
    """A token this store never issued."""

# %%
# YOUR CODE HERE
RefreshStore = None  # replace with: class RefreshStore: ...

# %%
check("5.4", RefreshStore, TokenReusedError, UnknownTokenError)

# %% [markdown]
# ## Done?
#
# Run `course check 5` in a terminal to see all four results at once. Next: lesson 06,
# database patterns.
