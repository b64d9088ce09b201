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
# # Lab 11 · Advanced patterns
#
# Four exercises, about 45 minutes. Each exercise cell is followed by a check cell: run
# both. A check never crashes the notebook; it prints ✓ or, for each failing case, what was
# expected, what came back and a hint. Replace each `# YOUR CODE HERE` and the line after it.
#
# | # | you write | it proves |
# |---|---|---|
# | 11.1 | `install_edge(app, settings)` | a real `course_app` app whose refusals (forged host, huge body) all carry a request id, in the right order |
# | 11.2 | `keyset_page(db, after_id, limit)` | a deep page of 100,000 rows as fast as the first; the checker times it against `OFFSET` |
# | 11.3 | `save_image(upload, folder)` | uploads that cannot escape their folder, lie about their type, or fill the memory |
# | 11.4 | `SqliteRateLimiter.hit` | a login limit that holds across two app instances ("workers") sharing one store |
#
# Lesson 11 (`notebooks/11_advanced.ipynb`) shows every tool you need.

# %%
import contextlib
import math
import sqlite3
import time
import uuid
from pathlib import Path

import anyio
from fastapi import FastAPI, HTTPException, UploadFile
from fastapi.middleware.gzip import GZipMiddleware

from course_app.config import Settings
from course_app.core.middleware import (
    BodySizeLimitMiddleware,
    RequestContextMiddleware,
    TrustedHostMiddleware,
)
from coursekit import check

# %% [markdown]
# ## Exercise 11.1 — the edge of the stack, in the right order
#
# Write `install_edge(app, settings)`, which adds four middlewares to `app` so that a request
# passes them in this order, **outermost first**:
#
# 1. `RequestContextMiddleware` (no arguments): request id, access log — so every response
#    below it, refusals included, carries `X-Request-ID`;
# 2. `TrustedHostMiddleware(allowed_hosts=settings.allowed_hosts)`: a request for another
#    site is refused (400 `INVALID_HOST`) before anything else looks at it — its body too;
# 3. `BodySizeLimitMiddleware(max_bytes=settings.max_body_bytes)`: 413 before the body is read;
# 4. `GZipMiddleware(minimum_size=1000)`: innermost.
#
# Remember how `app.add_middleware` orders things. The checker builds a real app from
# `course_app`'s layers (lifespan, error handlers, health, products), calls your function,
# and sends it forged hosts, oversized bodies and a large response.

# %%
def install_edge(app: FastAPI, settings: Settings) -> None:
    # YOUR CODE HERE
    raise NotImplementedError("your code here")


# %%
check("11.1", install_edge)

# %% [markdown]
# ## Exercise 11.2 — a keyset page
#
# The table below is the shape the checker uses (it builds its own, with 100,000 rows).
# Write `keyset_page(db, after_id, limit)`, which returns `(rows, next_cursor)`:
#
# - `rows`: at most `limit` **active** products (`is_active = 1`) with `id > after_id` (from
#   the start when `after_id` is `None`), in id order, as `(id, name, price_cents)` tuples;
# - `next_cursor`: the id of the last row returned when **more** active rows follow, else
#   `None` — also when the last page happens to be exactly full (fetch one row more than you
#   return, and you know without a `count(*)`);
# - no `OFFSET`, no `count(*)`: the checker times a deep page against `OFFSET`, and yours must
#   cost about what the first page costs.

# %%
demo_db = sqlite3.connect(":memory:")
demo_db.execute("CREATE TABLE products (id INTEGER PRIMARY KEY, name TEXT NOT NULL, "
                "price_cents INTEGER NOT NULL, is_active INTEGER NOT NULL)")
demo_db.executemany("INSERT INTO products (name, price_cents, is_active) VALUES (?, ?, ?)",
                    [(f"product {i}", 100 + i, int(i % 4 != 0)) for i in range(1, 26)])


def keyset_page(
    db: sqlite3.Connection, after_id: int | None, limit: int
) -> tuple[list[tuple[int, str, int]], int | None]:
    # YOUR CODE HERE
    raise NotImplementedError("your code here")


# Try it on the small demo table before checking: keyset_page(demo_db, None, 5), then pass
# the cursor it returns; ids 4, 8, 12, ... are inactive.

# %%
check("11.2", keyset_page)

# %% [markdown]
# ## Exercise 11.3 — an upload that is safe to keep
#
# Write `save_image(upload, folder, max_bytes)`, the storage step of an image upload:
#
# - decide the type from the **first bytes**, never from `upload.content_type`: PNG and JPEG
#   only (`SIGNATURES` maps each signature to its extension); anything else raises
#   `HTTPException(415, ...)`;
# - store under a **generated** name, `uuid.uuid4().hex + "." + extension`, directly in
#   `folder`; `upload.filename` is never used;
# - copy with `await upload.read(CHUNK_SIZE)` in a loop, never `read()` without a size; as
#   soon as more than `max_bytes` have been read, raise `HTTPException(413, ...)` and leave
#   **no file behind** (a file of exactly `max_bytes` is fine);
# - return the path of the stored file.
#
# Plain `open()` and `write()` are fine for this exercise; `course_app`'s `ImageStorage`
# goes through `anyio` so that a slow disk never blocks the event loop.
#
# The checker calls it directly (and measures its peak memory on an 8 MiB upload), then
# behind a real FastAPI route with hostile file names.

# %%
CHUNK_SIZE = 64 * 1024
SIGNATURES = {b"\x89PNG\r\n\x1a\n": "png", b"\xff\xd8\xff": "jpg"}


async def save_image(upload: UploadFile, folder: Path, max_bytes: int = 1024 * 1024) -> Path:
    # YOUR CODE HERE
    raise NotImplementedError("your code here")


# %%
check("11.3", save_image)

# %% [markdown]
# ## Exercise 11.4 — a rate limiter shared by every worker
#
# `course_app`'s `MemoryRateLimiter` counts per process: with two workers, twice the budget
# gets through (lesson 11, section 5). Production shares the count through Redis. Here the
# shared store is one **SQLite file** that every process opens — the same idea, with nothing
# to install.
#
# Write the body of `SqliteRateLimiter.hit(key, limit, window)`, with the contract of
# `course_app.core.rate_limit.RateLimiter` (a *fixed window* per key):
#
# - count this attempt; return `0` while the count in the current window is at most `limit`,
#   else the seconds until the window ends (an int, at least 1);
# - a window starts at the first attempt of a key and lasts `window` seconds; an attempt
#   after it has ended starts a new window with a count of 1;
# - the count lives **only** in the file (`hits` table, created in `__init__`): two
#   instances on the same file — two workers — share it;
# - counting must be **atomic**: do it in one statement, an UPSERT with `RETURNING`:
#   `INSERT ... ON CONFLICT(key) DO UPDATE SET count = CASE ... END, started = CASE ... END
#   RETURNING started, count` (in an `UPDATE`, every `SET` expression sees the old values);
# - `sqlite3` blocks: run the database work in a thread (`await
#   anyio.to_thread.run_sync(function)`) so the event loop keeps serving; use `time.time()`,
#   a clock every process shares.
#
# The checker uses two instances on one file, then plugs one into **two real `course_app`
# instances** and guesses a password on them alternately.

# %%
class SqliteRateLimiter:
    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        with contextlib.closing(self.connect()) as db:
            db.execute("CREATE TABLE IF NOT EXISTS hits (key TEXT PRIMARY KEY, "
                       "started REAL NOT NULL, count INTEGER NOT NULL)")

    def connect(self) -> sqlite3.Connection:
        """A new connection in autocommit mode; waits up to 10 s for another writer."""
        return sqlite3.connect(self.path, timeout=10, isolation_level=None)

    async def hit(self, key: str, limit: int, window: int) -> int:
        # YOUR CODE HERE
        raise NotImplementedError("your code here")

    async def reset(self, key: str) -> None:
        def delete() -> None:
            with contextlib.closing(self.connect()) as db:
                db.execute("DELETE FROM hits WHERE key = ?", (key,))

        await anyio.to_thread.run_sync(delete)

    async def close(self) -> None:
        return None


# %%
check("11.4", SqliteRateLimiter)

# %% [markdown]
# ## Done?
#
# Run `course check 11` in a terminal to see all four results at once. Next: lesson 12,
# production readiness.
