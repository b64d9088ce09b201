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
# # 06 · Database patterns
#
# Async SQLAlchemy 2.x the way `course_app` uses it: one engine per process, opened in the
# lifespan; one session per request; queries behind repositories; writes committed
# *before* the response goes out; the schema changed only through reviewed Alembic
# migrations.
#
# **Objectives.** After this lesson you can
#
# - open and close an async engine in the lifespan, and say why sessions use
#   `expire_on_commit=False`;
# - set SQLite's pragmas (WAL, `busy_timeout`, `foreign_keys`) and show what goes wrong
#   without each of them;
# - write a repository whose filters are an allow-list, and show why the seed's
#   `getattr(Model, field)` for `**filters` is dangerous;
# - count the queries an endpoint sends, recognise an N+1, and fix it with `selectinload`;
# - explain the data-loss bug of "commit in the dependency after `yield`" and commit
#   before responding instead;
# - autogenerate, review, upgrade and downgrade an Alembic migration, and know when
#   SQLite needs `batch_alter_table`.
#
# **Time estimate:** about 60 minutes (lesson) + 45 minutes (lab `exercises/06_database.ipynb`).
#
# **Prerequisites:** lessons 01–05 (the app factory and lifespan, settings, schemas, the
# error envelope, `AdminUser`); basic SQL (`SELECT`, `JOIN`, transactions).
#
# Everything runs offline on SQLite files in a temporary folder that is deleted at the end.

# %% [markdown]
# ## Set-up
#
# Every database in this lesson lives in one `TemporaryDirectory`. `lesson_settings()`
# builds the app's real `Settings` for a given database file, with the app's other
# variables hidden from the machine's environment (a `REDIS_URL` exported in your shell
# must not change what this notebook prints) and quiet logs.

# %%
import os
import sqlite3
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

import course_app.models as models
from course_app.config import Settings
from course_app.core.database import SQLITE_PRAGMAS, Database, build_engine, open_database
from course_app.main import create_app

# %%
WORK = tempfile.TemporaryDirectory(prefix="lesson06-")
TMP = Path(WORK.name)


def sqlite_url(name: str) -> str:
    return f"sqlite+aiosqlite:///{TMP / name}"


def lesson_settings(db: str, **values: Any) -> Settings:
    """The app's settings for ``TMP/db``, built from arguments only (no shell, no .env)."""
    saved = dict(os.environ)
    try:
        for name in [n for n in os.environ if n.lower() in Settings.model_fields]:
            del os.environ[name]
        values = {"environment": "test", "log_level": "WARNING", **values}
        return Settings(_env_file=None, database_url=sqlite_url(db), **values)
    finally:
        os.environ.clear()
        os.environ.update(saved)

# %% [markdown]
# ## 1. The engine and the session: who owns what, for how long
#
# The seed opens its engine at module level, with pool settings from the configuration:
#
# ```python
# engine = create_async_engine(settings.database_url.get_secret_value(),
#     pool_size=settings.db_pool_size, max_overflow=settings.db_max_overflow,
#     pool_timeout=settings.db_pool_timeout, pool_pre_ping=True, echo=settings.debug)
# SessionFactory = async_sessionmaker(engine, expire_on_commit=False)
# ```
#
# The arguments are right for PostgreSQL: a bounded pool, a wait limit, and a cheap
# liveness test (`pre_ping`) before a pooled connection is handed out, so a connection the
# server closed overnight is replaced instead of failing the first request. Two things are
# not right. It runs **at import time** (importing the module reads the environment and
# builds a pool: no test can use another database), and on SQLite it configures nothing
# SQLite needs. Run it on a SQLite file and ask the connection how it is set up:

# %%
PRAGMAS = ("journal_mode", "busy_timeout", "foreign_keys", "synchronous")


async def pragmas_of(engine: AsyncEngine) -> dict[str, Any]:
    async with engine.connect() as connection:
        return {p: (await connection.exec_driver_sql(f"PRAGMA {p}")).scalar() for p in PRAGMAS}


seed_engine = create_async_engine(
    sqlite_url("seed.db"), pool_size=20, max_overflow=10, pool_timeout=30, pool_pre_ping=True
)
course_engine = build_engine(sqlite_url("course.db"))  # what course_app uses

seed_pragmas, course_pragmas = await pragmas_of(seed_engine), await pragmas_of(course_engine)
print(f"{'pragma':14}{'seed engine':>14}{'build_engine':>14}")
for name in PRAGMAS:
    print(f"{name:14}{seed_pragmas[name]!s:>14}{course_pragmas[name]!s:>14}")
await seed_engine.dispose()

# %% [markdown]
# `course_app.core.database.build_engine` answers the first problem by being a *function*
# (the lifespan calls it, with the app's settings), and the second by running the
# SQLite pragmas on every new connection through a `connect` event. Section 2 shows
# what each pragma prevents. It sizes the pool per backend. PostgreSQL gets the pool
# settings as they are, with `pool_pre_ping=True`. A SQLite file gets
# `DB_SQLITE_CONNECTIONS` (2) connections, all kept open: each one is a thread of this
# process competing with the event loop for the GIL, and under load two served more
# requests per second than fifteen (`bench/README.md`). Both pools serve waiting requests
# in arrival order (`course_app.core.pool`): SQLAlchemy's own asyncio pool lets a request
# that arrives just as a connection comes back take it ahead of those already waiting. SQL
# logging has its own switch (`DB_ECHO`) rather than the seed's `echo=settings.debug`:
# turning on debug output should not also print every query.
#
# The engine is wrapped in a `Database` object that also owns the session factory:

# %%
import inspect as pyinspect

print(pyinspect.getsource(Database.__init__))
print(pyinspect.getsource(open_database))

# %% [markdown]
# ### Why `expire_on_commit=False`
#
# By default a session *expires* every object when it commits: the next attribute read
# reloads the row. That is a hidden query inside a plain attribute access, which async
# SQLAlchemy cannot run (it raises `MissingGreenlet`). Building a response from an object
# right after committing it is exactly what an endpoint does, so the factory turns
# expiry off. Watch the object's state after a commit, with both factories:

# %%
from sqlalchemy.ext.asyncio import async_sessionmaker

from course_app.features.products.models import Product

async with course_engine.begin() as connection:
    await connection.run_sync(models.Base.metadata.create_all)

factories = {
    "async_sessionmaker default": async_sessionmaker(course_engine),
    "Database.sessions": Database(course_engine).sessions,
}
for label, factory in factories.items():
    async with factory() as session:
        mug = Product(sku=f"MUG-{len(label)}", name="Mug", price_cents=1200)
        session.add(mug)
        await session.commit()
        state = sa.inspect(mug)
        print(f"{label:28} expired after commit: {bool(state.expired_attributes)!s:5}"
              f"  name needs a reload: {'name' in state.expired_attributes}")

# %% [markdown]
# ### Timestamps that survive SQLite
#
# The seed's `TimestampMixin` fills `created_at` and `updated_at` with
# `datetime.now(timezone.utc)`, an aware value. On PostgreSQL that round-trips only if the
# column is `timestamptz`; the seed's plain `DateTime` column is not, and SQLite has no
# time zones at all. Store a row through the seed's mixin and read it back:

# %%
from datetime import UTC, datetime

from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class SeedBase(DeclarativeBase):
    pass


class SeedTimestampMixin:  # the seed's mixin (timezone.utc spelled UTC)
    created_at: Mapped[datetime] = mapped_column(default=lambda: datetime.now(UTC))
    updated_at: Mapped[datetime] = mapped_column(
        default=lambda: datetime.now(UTC), onupdate=lambda: datetime.now(UTC))


class Note(SeedTimestampMixin, SeedBase):
    __tablename__ = "notes"
    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str]

# %%
async with course_engine.begin() as connection:
    await connection.run_sync(SeedBase.metadata.create_all)
sessions = Database(course_engine).sessions
async with sessions() as session:
    session.add(Note(text="hello"))
    await session.commit()
async with sessions() as session:
    note = (await session.scalars(sa.select(Note))).one()
    product = (await session.scalars(sa.select(Product).limit(1))).one()
print("seed mixin, read back:  tzinfo =", note.created_at.tzinfo)
print("course_app, read back:  tzinfo =", product.created_at.tzinfo)
try:
    print(note.created_at < product.created_at)
except TypeError as exc:
    print("comparing them:", exc)

# %% [markdown]
# The seed's value went in aware and came back naive: every comparison with an aware
# value (a token's expiry, "orders of the last hour") now raises, or silently means local
# time. `course_app.core.database.TimestampMixin` uses a `UTCDateTime` column type that
# returns aware UTC values on every database, plus a `server_default` so that rows inserted
# by plain SQL or by a migration get a timestamp too. (The seed's `onupdate` is kept: the
# ORM refreshes `updated_at` on every update it flushes.)
#
# ### The engine belongs to the lifespan
#
# Seed 001 says it plainly: pools are opened in the **lifespan** (never `@app.on_event`,
# deprecated) and released when it ends. `course_app.main.build_lifespan` enters
# `open_database(settings)` in an `AsyncExitStack`, so the pool is disposed at shutdown
# even when a later start-up step fails. Here is the same thing stripped down, with pool
# events counting real SQLite connections opened and closed:

# %%
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from course_app.dependencies import DatabaseDep

connections: Counter[str] = Counter()


@asynccontextmanager
async def lifespan(_app: FastAPI) -> AsyncIterator[dict[str, Database]]:
    async with open_database(lesson_settings("lifespan.db")) as database:
        sync_engine = database.engine.sync_engine
        sa.event.listen(sync_engine, "connect", lambda *_: connections.update(["opened"]))
        sa.event.listen(sync_engine, "close", lambda *_: connections.update(["closed"]))
        yield {"database": database}  # becomes request.state.database


tiny = FastAPI(lifespan=lifespan)


@tiny.get("/db")
async def db_check(database: DatabaseDep) -> dict[str, str]:
    await database.ping()
    return {"backend": database.backend}

# %%
with TestClient(tiny) as client:
    print([client.get("/db").json() for _ in range(3)])
    print("while serving:", dict(connections))
print("after shutdown:", dict(connections))
assert connections["opened"] == connections["closed"] >= 1

# %% [markdown]
# Three requests, one pooled connection, closed at shutdown: the pool is reused between
# requests and nothing leaks past the app's life. Each request gets its **own session**
# from `course_app.dependencies.get_session` (a session is a unit of work, never shared
# between requests or tasks); sessions borrow connections from the one pool.
#
# ## 2. SQLite pragmas, and what each one prevents
#
# SQLite is a serious database for a single-host app, but its defaults are tuned for
# backwards compatibility, not for a web server. `course_app` runs these on every new
# connection:

# %%
print(*SQLITE_PRAGMAS, sep="\n")

# %% [markdown]
# ### `foreign_keys=ON`: SQLite ignores foreign keys unless asked
#
# The models declare `order_items.order_id REFERENCES orders(id)`. Without the pragma,
# SQLite parses that and then does not enforce it. Insert an item for an order that does
# not exist, once through a plain engine and once through `build_engine`:

# %%
ORPHAN = sa.text(
    "INSERT INTO order_items (order_id, product_id, quantity, unit_price_cents)"
    " VALUES (999, 999, 1, 100)"
)


async def insert_orphan(engine: AsyncEngine) -> str:
    async with engine.begin() as connection:
        await connection.run_sync(models.Base.metadata.create_all)
    try:
        async with engine.begin() as connection:
            await connection.execute(ORPHAN)
        return "accepted: an item that belongs to no order"
    except sa.exc.IntegrityError as exc:
        return f"refused: {exc.orig}"


plain = create_async_engine(sqlite_url("fk-plain.db"))
guarded = build_engine(sqlite_url("fk-guarded.db"))
print("plain engine :", await insert_orphan(plain))
print("build_engine :", await insert_orphan(guarded))
await plain.dispose()
await guarded.dispose()

# %% [markdown]
# ### `journal_mode=WAL`: readers do not block the writer
#
# In SQLite's default mode (`DELETE`, a rollback journal) a transaction that is reading
# holds a shared lock, and a writer cannot commit until every reader is done. A web app
# reads all the time, so writes start failing with `database is locked`. In WAL mode the
# writer appends to a write-ahead log; readers keep reading their snapshot.
#
# The locks belong to SQLite itself, so the demonstration uses the standard library's
# `sqlite3` directly (the same library aiosqlite drives in a thread), with explicit
# transactions and no waiting (`timeout=0`), so a conflict shows at once:

# %%
def reader_vs_writer(journal_mode: str) -> str:
    path = TMP / f"journal-{journal_mode}.db"
    setup = sqlite3.connect(path, isolation_level=None)
    setup.execute(f"PRAGMA journal_mode={journal_mode}")
    setup.execute("CREATE TABLE t (x INTEGER)")
    setup.close()
    reader = sqlite3.connect(path, isolation_level=None, timeout=0)
    writer = sqlite3.connect(path, isolation_level=None, timeout=0)
    try:
        reader.execute("BEGIN")
        before = reader.execute("SELECT count(*) FROM t").fetchone()[0]  # a read is in progress
        try:
            writer.execute("BEGIN")
            writer.execute("INSERT INTO t VALUES (1)")
            writer.execute("COMMIT")
        except sqlite3.OperationalError as exc:
            return f"writer failed: {exc}"
        during = reader.execute("SELECT count(*) FROM t").fetchone()[0]
        reader.execute("COMMIT")
        after = reader.execute("SELECT count(*) FROM t").fetchone()[0]
        return f"writer committed; reader saw {before} -> {during} (snapshot) -> {after} (new read)"
    finally:
        reader.close()
        writer.close()


for mode in ("DELETE", "WAL"):
    print(f"{mode:7}", reader_vs_writer(mode))

# %% [markdown]
# ### `busy_timeout`: wait for a lock instead of failing
#
# Even in WAL mode there is only **one writer at a time**. When two requests write at
# once, the second must wait for the first to commit. `busy_timeout=5000` says: wait up to
# 5 s for the lock. Python's `sqlite3` happens to default to the same (`timeout=5.0`), but
# other drivers and tools default to 0; the pragma makes the behaviour explicit, whatever
# connects. Here one connection holds the write lock for 0.3 s while a second one writes,
# once with no timeout and once with the pragma:

# %%
def second_writer(pragma: str | None, hold: float = 0.3) -> tuple[str, float]:
    path = TMP / "busy.db"
    first = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    first.execute("PRAGMA journal_mode=WAL")
    first.execute("CREATE TABLE IF NOT EXISTS t (x INTEGER)")
    first.execute("BEGIN IMMEDIATE")  # takes the write lock now
    release = threading.Timer(hold, lambda: first.execute("COMMIT"))
    second = sqlite3.connect(path, isolation_level=None, timeout=0)
    if pragma:
        second.execute(pragma)
    release.start()
    started = time.perf_counter()
    try:
        second.execute("INSERT INTO t VALUES (1)")
        outcome = "written after waiting for the lock"
    except sqlite3.OperationalError as exc:
        outcome = f"failed: {exc}"
    waited = time.perf_counter() - started
    release.join()
    first.close()
    second.close()
    return outcome, waited


busy = {p: second_writer(p) for p in (None, "PRAGMA busy_timeout=5000")}
for pragma, (outcome, _) in busy.items():
    print(f"{pragma or 'no busy timeout':26} {outcome}")

# %%
# NBVAL_IGNORE_OUTPUT
for pragma, (_, waited) in busy.items():
    print(f"{pragma or 'no busy timeout':26} returned after {waited * 1000:.0f} ms")
assert busy[None][1] < 0.1, "without a timeout the error is immediate"
assert busy["PRAGMA busy_timeout=5000"][1] >= 0.25, "with it, the writer waited for the lock"

# %% [markdown]
# The fourth pragma, `synchronous=NORMAL`, is the recommended setting *with WAL*: commits
# stop waiting for the disk on every transaction (the log is synced at checkpoints). A
# power cut can lose the last few commits, but never corrupts the file. If you cannot
# afford losing a committed write on power loss, keep `FULL`, or use PostgreSQL.
#
# ## 3. Repositories, and the filter that trusts its caller
#
# A repository is the one place that knows how a feature's rows are stored: it takes and
# returns model objects, builds queries, and never commits or speaks HTTP. The seed's
# generic base class starts with PEP 695 syntax, which Python 3.11 (the course's floor)
# cannot even parse:

# %%
try:
    compile("class BaseRepository[T]:\n    pass\n", "seed.py", "exec")
except SyntaxError as exc:
    print(f"SyntaxError on Python 3.11: {exc.msg} (line {exc.lineno})")

# %% [markdown]
# Here is the seed's repository with the 3.11 spelling (`Generic[T]`) and nothing else
# changed. Look at `list(**filters)`: every keyword becomes `getattr(self.model, field)`.

# %%
from typing import Generic, TypeVar

T = TypeVar("T")


class SeedRepository(Generic[T]):
    def __init__(self, session: AsyncSession, model: type[T]) -> None:
        self.session = session
        self.model: Any = model

    async def list(
        self, *, offset: int = 0, limit: int = 20, **filters: Any
    ) -> tuple[list[T], int]:
        query = sa.select(self.model)
        count_query = sa.select(sa.func.count()).select_from(self.model)
        for field, value in filters.items():
            if value is not None:
                query = query.where(getattr(self.model, field) == value)
                count_query = count_query.where(getattr(self.model, field) == value)
        total = await self.session.scalar(count_query) or 0
        result = await self.session.execute(
            query.offset(offset).limit(limit).order_by(self.model.created_at.desc())
        )
        return list(result.scalars().all()), total

# %% [markdown]
# The rest of the seed's class is sound, and `course_app` keeps it, per feature: `get()`
# through `session.get` (the service turns a `None` into the `NotFoundError` of lesson 04,
# the seed's `get_or_raise`), `add()` (the users repository flushes, as the seed's
# `create()` does, so the new row has its id and a duplicate e-mail surfaces inside the
# service, where it can be translated), `delete()`. What goes wrong is `list()`.
#
# A shop database to try it on: three active products, one unreleased prototype that the
# public must never see (`is_active=False`), a customer and an admin.

# %%
from course_app.features.users.models import Role, User

shop = Database(build_engine(sqlite_url("shop.db")))
async with shop.engine.begin() as connection:
    await connection.run_sync(models.Base.metadata.create_all)
async with shop.sessions() as session:
    session.add_all([
        Product(sku="MUG-0001", name="Enamel mug", category="kitchen", price_cents=1299),
        Product(sku="TEA-0001", name="Green tea", category="kitchen", price_cents=650),
        Product(sku="BAG-0001", name="Tote bag", category="bags", price_cents=1800),
        Product(sku="PROTO-9", name="Secret prototype", price_cents=99_00, is_active=False),
        User(email="ann@example.com", full_name="Ann", hashed_password="$argon2id$ann"),
        User(email="root@example.com", full_name="Root", hashed_password="$argon2id$root",
             role=Role.ADMIN),
    ])
    await session.commit()

# %% [markdown]
# The seed leaves it to each caller to pass only safe names. The easy thing, and what
# such code drifts into, is forwarding whatever the client sent:
# `repo.list(**client_filters)`. Play the client:

# %%
async def seed_list(model: type, client_filters: dict[str, Any]) -> str:
    async with shop.sessions() as session:
        try:
            rows, total = await SeedRepository(session, model).list(**client_filters)
        except Exception as exc:
            return f"{type(exc).__name__} -> the API answers 500"
        names = sorted(r.sku if isinstance(r, Product) else r.email for r in rows)
        return f"{total} row(s): " + ", ".join(names)


attempts = [
    (Product, {"category": "kitchen"}),          # the intended use
    (Product, {"is_active": False}),             # the hidden prototype
    (User, {"role": "admin"}),                   # who to phish
    (User, {"hashed_password": "$argon2id$root"}),  # an oracle on a secret column
    (Product, {"nmae": "mug"}),                  # a typo
    (Product, {"metadata": 1}),                  # not a column: silently nothing
]
for model, client_filters in attempts:
    print(f"{model.__name__:8}{client_filters!s:40}{await seed_list(model, client_filters)}")

# %% [markdown]
# Every column became a public filter, including the ones that decide visibility and the
# ones that hold secrets; a misspelt name is a 500 rather than a 422, and a name that is
# not a column at all (`metadata`) compares as false and silently empties the answer.
# (And `if value is not None` silently drops a filter the caller meant to apply.)
#
# `course_app` turns it around: the filters are the fields of a Pydantic model, each
# mapped to SQL by hand in `course_app/features/products/repository.py`. Visibility is
# not a filter at all; it is always part of the `WHERE`. The values never enter the SQL
# text: they are bound parameters (`:category`), so the statement depends only on *which*
# filters are set, and the repository builds each such shape once and reuses it:

# %%
from course_app.features.products.repository import (
    ListingShape,
    ProductRepository,
    listing_parameters,
    public_conditions,
)
from course_app.features.products.schemas import ProductListQuery

print("filterable:", list(ProductListQuery.model_fields))
query = ProductListQuery.model_validate({"category": "kitchen", "is_active": False, "nmae": "x"})
print("parsed    :", query.model_dump(exclude_defaults=True))
print("WHERE     :", sa.and_(*public_conditions(ListingShape.of(query))))
print("values    :", listing_parameters(query))
async with shop.sessions() as session:
    rows, total = await ProductRepository(session).list_public(query, offset=0, limit=20)
print("rows      :", total, [p.sku for p in rows])

# %% [markdown]
# The same through HTTP on the real app: unknown query parameters never reach SQL, and
# a badly typed allowed one is a 422 in the error envelope, not a 500.

# %%
shop_app = create_app(lesson_settings("shop.db"))
with TestClient(shop_app) as client:
    for url in ["/api/products?is_active=false", "/api/products?category=kitchen",
                "/api/products?min_price_cents=abc"]:
        response = client.get(url)
        body = response.json()
        shown = [p["sku"] for p in body["items"]] if "items" in body else body["error"]["code"]
        print(f"{url:40} {response.status_code} {shown}")

# %% [markdown]
# ## 4. The N+1 problem, counted
#
# An endpoint that lists orders with their items can send one query for the orders and
# then one per order for its items: N+1 queries for N orders. On a laptop with ten rows
# nobody notices; in production, with a network hop per query, the page gets slower with
# every order. Do not guess: **count** the statements the engine sends, with an event
# listener on the engine.

# %%
@contextmanager
def count_queries(engine: AsyncEngine) -> Iterator[list[str]]:
    """Collect every SQL statement ``engine`` sends while the block runs."""
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(" ".join(statement.split()))

    sa.event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        sa.event.remove(engine.sync_engine, "before_cursor_execute", record)

# %% [markdown]
# Some orders to list: `seed_orders(n)` gives Ann `n` orders of three items each, on a
# database of its own.

# %%
from course_app.features.orders.models import Order, OrderItem


async def seed_orders(n: int) -> Database:
    database = Database(build_engine(sqlite_url(f"orders-{n}.db")))
    async with database.engine.begin() as connection:
        await connection.run_sync(models.Base.metadata.create_all)
    async with database.sessions() as session:
        ann = User(email="ann@example.com", full_name="Ann", hashed_password="x")
        mugs = [Product(sku=f"MUG-{i}", name=f"Mug {i}", price_cents=100 * i) for i in (1, 2, 3)]
        session.add_all([ann, *mugs])
        await session.flush()
        for _ in range(n):
            items = [OrderItem(product_id=m.id, quantity=1, unit_price_cents=m.price_cents)
                     for m in mugs]
            session.add(Order(user_id=ann.id, total_cents=600, items=items))
        await session.commit()
    return database


orders10, orders50 = await seed_orders(10), await seed_orders(50)

# %% [markdown]
# In `course_app`, `Order.items` is declared `lazy="raise"`. Touching a relationship that
# was not loaded is an error, not a silent query:

# %%
async with orders10.sessions() as session:
    first = (await session.scalars(sa.select(Order).limit(1))).one()
    try:
        _ = first.items
    except sa.exc.InvalidRequestError as exc:
        print(type(exc).__name__ + ":", str(exc).split(";")[0])

# %% [markdown]
# That is deliberate. Override it with `lazyload` (SQLAlchemy's default for relationships)
# and run the loop every tutorial writes. (`run_sync` runs plain synchronous ORM code
# inside the async session, where a lazy load works as it does in synchronous SQLAlchemy.)

# %%
from sqlalchemy.orm import Session, joinedload, lazyload, selectinload


def items_per_order(session: Session, *options: Any) -> list[int]:
    orders = session.scalars(sa.select(Order).options(*options).order_by(Order.id)).unique()
    return [len(order.items) for order in orders]  # order.items: loaded how?


async def queries_for(database: Database, *options: Any) -> int:
    async with database.sessions() as session:
        with count_queries(database.engine) as statements:
            counts = await session.run_sync(items_per_order, *options)
    assert set(counts) == {3}, counts
    return len(statements)


strategies = {"lazyload (N+1)": lazyload(Order.items),
              "selectinload": selectinload(Order.items), "joinedload": joinedload(Order.items)}
lazy_counts = {}
for label, option in strategies.items():
    lazy_counts[label] = (await queries_for(orders10, option), await queries_for(orders50, option))
    print(f"{label:15} 10 orders: {lazy_counts[label][0]:3} queries   "
          f"50 orders: {lazy_counts[label][1]:3} queries")
assert lazy_counts["lazyload (N+1)"] == (11, 51)
assert lazy_counts["selectinload"] == (2, 2) and lazy_counts["joinedload"] == (1, 1)

# %% [markdown]
# `selectinload` sends a second query for the items of *all* the orders at once
# (`WHERE order_id IN (...)`); `joinedload` joins in one query but repeats each order's
# columns on every item row, and needs `.unique()`. For one-to-many collections prefer
# `selectinload`; `joinedload` suits many-to-one (an item's product). Here is the second
# query `selectinload` sent:

# %%
with count_queries(orders10.engine) as statements:
    async with orders10.sessions() as session:
        await session.scalars(sa.select(Order).options(selectinload(Order.items)))
print(statements[1])

# %% [markdown]
# Time it, with 200 orders. In-process SQLite is the *best* case for N+1 (no network);
# against a database server every extra query also pays a round trip.

# %%
# NBVAL_IGNORE_OUTPUT
orders200 = await seed_orders(200)


async def seconds_for(option: Any, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        async with orders200.sessions() as session:
            started = time.perf_counter()
            await session.run_sync(items_per_order, option)
            best = min(best, time.perf_counter() - started)
    return best


n_plus_one, selectin = await seconds_for(lazyload(Order.items)), await seconds_for(
    selectinload(Order.items))
print(f"200 orders: lazyload {n_plus_one * 1000:.1f} ms, selectinload {selectin * 1000:.1f} ms "
      f"({n_plus_one / selectin:.1f}x)")
assert n_plus_one > selectin, "one query per order must cost more than two queries"

# %% [markdown]
# `course_app`'s page of orders goes one step further: **one** query, whatever the page
# size. The orders of the page are picked in a subquery (filter, sort, `LIMIT`), their
# total rides along as a scalar subquery, and the items are joined to that. The `LIMIT`
# applies to orders, not to item rows, so a page holds `page_size` orders however many
# items each has. That is the `joinedload` trade-off taken on purpose: order columns
# repeat on each item row, but a page is capped at 100 orders of a few items, and one
# round trip measured cheaper than three (`bench/README.md`). It reads columns into plain
# records rather than ORM objects: a listing changes nothing, so it needs no unit of work.

# %%
from course_app.features.orders.repository import OrderFilters, OrderRepository

for database in (orders10, orders50):
    with count_queries(database.engine) as statements:
        async with database.sessions() as session:
            page, total = await OrderRepository(session).find_page(
                OrderFilters(), sort="-created_at", offset=0, limit=20)
            items = sum(len(order["items"]) for order in page)
    print(f"total {total:3}, page of {len(page)} orders with {items} items: "
          f"{len(statements)} query")
    assert len(statements) == 1
print(statements[0])

# %% [markdown]
# ## 5. Commit before you respond
#
# The seed's session dependency commits *after* the endpoint:
#
# ```python
# async def get_db() -> AsyncGenerator[AsyncSession, None]:
#     async with SessionFactory() as session:
#         try:
#             yield session
#             await session.commit()
#         except Exception:
#             await session.rollback()
#             raise
# ```
#
# It looks tidy. But FastAPI runs the code after `yield` **after the response has been
# sent** (the default dependency scope, `"request"`). If the commit fails, the client
# already holds a success. Any failure that only the `COMMIT` can see does this: a write
# the handler never flushed, a deferred constraint, a serialization failure on
# PostgreSQL, a dropped connection, a full disk. Build it on the real app, with a handler
# that stores a product and echoes it back:

# %%
from collections.abc import AsyncGenerator
from typing import Annotated

from fastapi import Depends, Request
from pydantic import BaseModel

commit_failures: list[str] = []


async def seed_get_db(request: Request) -> AsyncGenerator[AsyncSession, None]:
    async with request.state.database.sessions() as session:
        try:
            yield session
            await session.commit()
        except Exception as exc:
            commit_failures.append(f"{type(exc).__name__}: {getattr(exc, 'orig', exc)}")
            await session.rollback()
            raise


class NewProduct(BaseModel):
    sku: str
    name: str
    price_cents: int

# %%
# CRITICAL: the app would log the failed commit as an unhandled exception with a long
# traceback; `commit_failures` records it in one line instead.
seed_app = create_app(lesson_settings("commit.db", log_level="CRITICAL"))


@seed_app.post("/seed/products", status_code=201)
async def seed_create(
    body: NewProduct, session: Annotated[AsyncSession, Depends(seed_get_db)]
) -> NewProduct:
    session.add(Product(**body.model_dump()))
    return body  # the commit happens later, in seed_get_db


def skus_in(db: str) -> list[str]:
    with sqlite3.connect(TMP / db) as connection:
        return [row[0] for row in connection.execute("SELECT sku FROM products ORDER BY id")]

# %% [markdown]
# The first product goes in. The second one reuses its SKU, which the unique index
# refuses, at commit time:

# %%
with TestClient(seed_app, raise_server_exceptions=False) as client:
    for sku, name in [("LAMP-0001", "Desk lamp"), ("LAMP-0001", "Floor lamp")]:
        response = client.post("/seed/products",
                               json={"sku": sku, "name": name, "price_cents": 4900})
        print(response.status_code, response.json())
print("commit failures after the response:", commit_failures)
print("products in the database:", skus_in("commit.db"))
assert len(commit_failures) == 1 and skus_in("commit.db") == ["LAMP-0001"]

# %% [markdown]
# Two `201 Created`, one row. The client of the second request shows "Floor lamp saved";
# it is not, and nobody will find out until someone looks for it. That is the bug.
#
# FastAPI (0.121 and later) lets a dependency close right after the endpoint returns,
# before the response: `Depends(seed_get_db, scope="function")`. Then a failed commit at
# least becomes a 500 instead of a lie:

# %%
@seed_app.post("/seed/products-scoped", status_code=201)
async def seed_create_scoped(
    body: NewProduct,
    session: Annotated[AsyncSession, Depends(seed_get_db, scope="function")],
) -> NewProduct:
    session.add(Product(**body.model_dump()))
    return body


with TestClient(seed_app, raise_server_exceptions=False) as client:
    response = client.post("/seed/products-scoped",
                           json={"sku": "LAMP-0001", "name": "Floor lamp", "price_cents": 4900})
print(response.status_code, response.json()["error"]["code"])

# %% [markdown]
# Better, but a duplicate SKU is the client's mistake (409), not a server fault (500).
# `course_app` does not commit in a dependency at all. `get_session` only opens and closes
# the session; the **service** commits explicitly, before it returns, where it can
# translate a failure into the right error
# (`ProductService._commit_or_duplicate_sku`):

# %%
from course_app.features.products.service import ProductService

print(pyinspect.getsource(ProductService.create))
print(pyinspect.getsource(ProductService._commit_or_duplicate_sku))

# %% [markdown]
# The same two requests against the real `POST /api/products`. It needs an admin
# (lesson 05); here the `AdminUser` dependency is overridden with a stand-in admin so the
# cell needs no login:

# %%
from course_app.features.auth.dependencies import AdminUser

admin_dependency = AdminUser.__metadata__[0].dependency
course = create_app(lesson_settings("commit-course.db"))
course.dependency_overrides[admin_dependency] = lambda: User(id=1, role=Role.ADMIN)

with TestClient(course, raise_server_exceptions=False) as client:
    for sku, name in [("LAMP-0001", "Desk lamp"), ("LAMP-0001", "Floor lamp")]:
        response = client.post("/api/products",
                               json={"sku": sku, "name": name, "price_cents": 4900})
        body = response.json()
        print(response.status_code, body.get("sku") or body["error"]["message"])
print("products in the database:", skus_in("commit-course.db"))

# %% [markdown]
# The rule: **a handler returns only after its writes are committed.** Whatever the
# dependency does after `yield` is cleanup (close, roll back what was not committed), never
# work the client is told has happened.
#
# ## 6. Migrations with Alembic
#
# `create_all` creates missing tables and nothing else: it never adds a column to an
# existing table, never drops one. A schema that changes over time needs migrations:
# versioned scripts, each with an `upgrade()` and a `downgrade()`, applied in order and
# recorded in the database (`alembic_version`).
#
# The seed runs `alembic init migrations` and has `alembic.ini` take `sqlalchemy.url` from
# the environment. `course_app` ships its migrations **inside the package**
# (`course_app/migrations`), so an installed app (a container image) can migrate itself,
# and its `env.py` reads the URL through the app's own `Settings` (validated like
# everything else), never from a file in the repository:

# %%
from course_app.core import migrations

print(pyinspect.getsource(migrations.alembic_config))
env_py = Path(migrations.alembic_config().get_main_option("script_location"), "env.py")
print(*[line for line in env_py.read_text().splitlines() if "render_as_batch" in line], sep="\n")

# %% [markdown]
# The production way to apply them is a command, run as its own deployment step (lesson
# 10): `python -m course_app migrate`. Run it, as a separate process, on a scratch
# database:

# %%
import subprocess
import sys

scratch_url = sqlite_url("migrations.db")
clean_env = {k: v for k, v in os.environ.items() if k.lower() not in Settings.model_fields}
migrate_env = {**clean_env, "DATABASE_URL": scratch_url, "LOG_LEVEL": "WARNING"}
done = subprocess.run([sys.executable, "-m", "course_app", "migrate"], env=migrate_env,
                      capture_output=True, text=True, timeout=120, check=True)
print(done.stdout.strip())

scratch = build_engine(scratch_url)


async def tables_and_version(engine: AsyncEngine) -> tuple[list[str], str | None]:
    async with engine.connect() as connection:
        names = await connection.run_sync(lambda c: sa.inspect(c).get_table_names())
        version = (await connection.exec_driver_sql("SELECT version_num FROM alembic_version"))
        return sorted(names), version.scalar()


print(await tables_and_version(scratch))

# %% [markdown]
# ### Autogenerate a migration
#
# The next feature adds a shipping weight to products, a model change like
# `weight_grams: Mapped[int] = mapped_column(Integer)`. So that the lesson writes no file
# into the package and changes no model for the rest of the notebook, it works on a copy
# of the migrations folder in the temporary directory, and gives that copy's `env.py` a
# *copy* of the models' metadata with the new column:

# %%
import shutil

from alembic import command

script_dir = TMP / "migrations"
shutil.copytree(Path(env_py).parent, script_dir, ignore=shutil.ignore_patterns("__pycache__"))
copied_env = script_dir / "env.py"
copied_env.write_text(copied_env.read_text().replace(
    "target_metadata = models.Base.metadata",
    'target_metadata = config.attributes.get("metadata", models.Base.metadata)'))

next_metadata = sa.MetaData(naming_convention=models.Base.metadata.naming_convention)
for table in models.Base.metadata.tables.values():
    table.to_metadata(next_metadata)
next_metadata.tables["products"].append_column(sa.Column("weight_grams", sa.Integer(),
                                                         nullable=False))
print(next_metadata.tables["products"].c.weight_grams)

# %% [markdown]
# `alembic revision --autogenerate -m "..."` compares the models with the live database
# and writes the difference as a script. From Python it is `command.revision(config,
# message=..., autogenerate=True)`; `command.upgrade(config, "head")` and
# `command.downgrade(config, "-1")` are the seed's other two commands. `alembic_run` runs
# any of them on one of our async connections (the same trick as
# `course_app.core.migrations`):

# %%
def scratch_config() -> Any:
    config = migrations.alembic_config()
    config.set_main_option("script_location", str(script_dir))
    config.attributes["metadata"] = next_metadata
    return config


async def alembic_run(action: Any, *args: Any, **kwargs: Any) -> Any:
    def run(connection: Any) -> Any:
        config = scratch_config()
        config.attributes["connection"] = connection
        return action(config, *args, **kwargs)

    async with scratch.begin() as connection:
        return await connection.run_sync(run)


script = await alembic_run(command.revision, message="add product weight", autogenerate=True,
                           rev_id="0002_weight")
migration_file = Path(script.path)
source = migration_file.read_text()
print(migration_file.name)
print(source[source.index("def upgrade"):])

# %% [markdown]
# Note the `with op.batch_alter_table(...)` blocks: `env.py` sets `render_as_batch=True` on
# SQLite (the end of this section says why).
#
# ### Review it before you apply it
#
# Rule one of migrations: **always read an autogenerated script.** This one is wrong in a
# way that never shows on an empty development database. Production has rows, and the
# new column is `NOT NULL` with no value for them:

# %%
async with scratch.begin() as connection:
    await connection.exec_driver_sql(
        "INSERT INTO products (sku, name, description, category, price_cents, stock, is_active)"
        " VALUES ('MUG-0001', 'Enamel mug', '', 'kitchen', 1299, 5, 1)")
try:
    await alembic_run(command.upgrade, "head")
except sa.exc.DBAPIError as exc:
    print("upgrade failed:", exc.orig)
print("still at:", (await tables_and_version(scratch))[1])

# %% [markdown]
# The review fix is a server-side default, so the database fills the existing rows (and
# later inserts that do not mention the column). Edit the script (it was never applied
# anywhere, so editing it is allowed) and upgrade:

# %%
fixed = source.replace("sa.Integer(), nullable=False)",
                       "sa.Integer(), server_default='0', nullable=False)")
assert fixed != source
migration_file.write_text(fixed)

await alembic_run(command.upgrade, "head")


async def product_rows(engine: AsyncEngine) -> list[dict[str, Any]]:
    async with engine.connect() as connection:
        rows = await connection.exec_driver_sql("SELECT * FROM products")
        return [{k: v for k, v in row._mapping.items() if k in ("sku", "weight_grams")}
                for row in rows]


print("version:", (await tables_and_version(scratch))[1], "rows:", await product_rows(scratch))

# %% [markdown]
# ### Downgrade, and upgrade again
#
# Every `upgrade()` has a `downgrade()`, and both are run before a migration ships: a
# deployment that goes wrong is rolled back with `alembic downgrade -1`. The row survives
# both directions:

# %%
await alembic_run(command.downgrade, "-1")
print("after downgrade -1:", (await tables_and_version(scratch))[1], await product_rows(scratch))
await alembic_run(command.upgrade, "head")
print("after upgrade head:", (await tables_and_version(scratch))[1], await product_rows(scratch))

# %% [markdown]
# ### Never edit a migration that has been applied
#
# Once `0002_weight` has run on a database, that database records it as done. Editing the
# file afterwards changes nothing there. Suppose someone "just adds" an index to it:

# %%
_ = migration_file.write_text(fixed.replace(
    "def downgrade", "    op.create_index('ix_products_weight_grams', 'products', "
    "['weight_grams'])\n\n\ndef downgrade"))
await alembic_run(command.upgrade, "head")


async def index_names(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as connection:
        return await connection.run_sync(
            lambda c: sorted(i["name"] for i in sa.inspect(c).get_indexes("products")))


print("weight index present:", "ix_products_weight_grams" in await index_names(scratch))
_ = migration_file.write_text(fixed)  # undo the edit

# %% [markdown]
# `upgrade head` was a no-op: the database is "at head" already, so the edited step never
# runs there, while a fresh database would get it. Two databases now disagree while
# claiming the same version. A change to an applied migration is always a **new**
# migration.
#
# ### Why `batch_alter_table` on SQLite
#
# SQLite's `ALTER TABLE` can add, rename and drop a column, and little else: it cannot
# change a column's type or nullability, or add and drop constraints. Alembic's *batch*
# mode does those by creating the new table, copying the rows, dropping the old table and
# renaming. Make `products.description` nullable, plainly and in batch mode:

# %%
from alembic.migration import MigrationContext
from alembic.operations import Operations


def make_description_nullable(connection: Any, batch: bool) -> str:
    operations = Operations(MigrationContext.configure(connection))
    try:
        if batch:
            with operations.batch_alter_table("products") as batch_op:
                batch_op.alter_column("description", existing_type=sa.Text(), nullable=True)
        else:
            operations.alter_column("products", "description", existing_type=sa.Text(),
                                    nullable=True)
    except sa.exc.OperationalError as exc:
        return f"failed: {exc.orig}"
    column = next(c for c in sa.inspect(connection).get_columns("products")
                  if c["name"] == "description")
    return f"done: description nullable={column['nullable']}"


for batch in (False, True):
    async with scratch.begin() as connection:
        outcome = await connection.run_sync(make_description_nullable, batch)
    print(f"batch={batch!s:5} {outcome}")
print("rows kept:", await product_rows(scratch))

# %% [markdown]
# ### The catch: batch mode and foreign keys
#
# "Recreate and copy" means `DROP TABLE products`. With `foreign_keys=ON` (section 2),
# SQLite refuses to drop a table that other rows point to. The scratch database has had no
# orders so far. Give it one, and run the downgrade that worked a minute ago (its
# `drop_column` is done in batch mode too):

# %%
async with scratch.begin() as connection:
    for statement in [
        "INSERT INTO users (email, full_name, hashed_password, role, is_active)"
        " VALUES ('ann@example.com', 'Ann', 'x', 'user', 1)",
        "INSERT INTO orders (user_id, status, total_cents) VALUES (1, 'pending', 1299)",
        "INSERT INTO order_items (order_id, product_id, quantity, unit_price_cents)"
        " VALUES (1, 1, 1, 1299)",
    ]:
        await connection.exec_driver_sql(statement)
try:
    await alembic_run(command.downgrade, "-1")
except sa.exc.IntegrityError as exc:
    print("downgrade failed:", exc.orig)
tables, version = await tables_and_version(scratch)
print("still at:", version, "| left behind:", [t for t in tables if t.startswith("_alembic")])

# %% [markdown]
# Worse, the failure left the half-built copy behind. Python's `sqlite3` (and so
# aiosqlite) does not open a transaction before DDL statements, so on SQLite a failed
# migration is **not rolled back**: Alembic itself marks SQLite as a backend without
# transactional DDL. Take a backup (copy the file) before migrating a SQLite database.
#
# The fix, from SQLite's and Alembic's documentation: switch foreign keys off **on the
# migration's connection, before its transaction starts** (inside a transaction the
# pragma is silently ignored), run the migration, ask `PRAGMA foreign_key_check` whether
# every reference still resolves, and switch them back on before the connection returns
# to the pool:

# %%
async def alembic_run_fk_off(action: Any, *args: Any) -> list[Any]:
    def run(connection: Any) -> None:
        config = scratch_config()
        config.attributes["connection"] = connection
        action(config, *args)

    async with scratch.connect() as connection:
        await connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        await connection.run_sync(run)
        broken = (await connection.exec_driver_sql("PRAGMA foreign_key_check")).all()
        await (connection.rollback() if broken else connection.commit())
        await connection.exec_driver_sql("PRAGMA foreign_keys=ON")
    return broken


async with scratch.begin() as connection:
    await connection.exec_driver_sql("DROP TABLE _alembic_tmp_products")  # the debris
print("broken references:", await alembic_run_fk_off(command.downgrade, "-1"))
print("now at:", (await tables_and_version(scratch))[1], await product_rows(scratch))
async with scratch.connect() as connection:
    print("order items:", (await connection.exec_driver_sql(
        "SELECT order_id, product_id FROM order_items")).all())
await scratch.dispose()

# %% [markdown]
# ### The migration rules
#
# | rule (seed) | why | how the course checks it |
# |---|---|---|
# | Always review autogenerated migrations before applying | autogenerate cannot know about existing rows, renames (it writes drop + add: data loss) or data moves | the failed `NOT NULL` upgrade above |
# | Never edit applied migrations: create new ones | an applied step is never run again on that database | the no-op upgrade above |
# | Test migrations in staging before production | staging has production-shaped data; an empty test database hides `NOT NULL` problems | `tests/app/test_migrations.py` runs them on SQLite and PostgreSQL |
# | Include `downgrade()` for every `upgrade()` | a bad release is rolled back in minutes, not restored from backup | the tests run upgrade → downgrade to `base` → upgrade |
# | Use `batch_alter_table` for SQLite compatibility | SQLite's `ALTER TABLE` cannot alter columns or constraints | `render_as_batch=True` in `env.py`; the cell above |
#
# The course adds two. **The models and the migrations must agree:** a test runs
# autogenerate's comparison against a freshly migrated database and fails on any
# difference, so a model change without its migration cannot be merged. And **on SQLite,
# migrate with foreign keys off and check them after**, or the first batch migration on a
# database with real rows fails (as above), and test migrations on a database *with*
# rows that reference each other. `course_app` does both: `python -m course_app migrate`
# runs on `migration_connection()` (`course_app/core/migrations.py`, the function above
# made reusable), and `tests/app/test_migrations.py` recreates a referenced table with
# rows in it.
#
# ## 7. Choosing an ORM
#
# The seed's selection guide, with the course's reading of it:
#
# | ORM | best for | async | type safety | learning curve | course's take |
# |---|---|---|---|---|---|
# | SQLAlchemy 2.0 | complex queries, enterprise | yes | yes (`Mapped[]`) | medium | **use it in production** (this course): one library from simple CRUD to window functions, Alembic, every database |
# | SQLModel | simple CRUD, Pydantic in sync | yes | yes | low | fine for prototypes; it is SQLAlchemy underneath, so moving on is a rewrite of the models, not of the queries |
# | Tortoise | a Django-like feel | yes | partial | low | pick it only if the team wants Django's style; its own migration tool (Aerich) |
# | Piccolo | modern, migrations built in | yes | yes | low | pleasant, smaller ecosystem; check your database and hosting support it |
#
# Recommendation (seed and course agree): **SQLAlchemy 2.0 for production, SQLModel for
# prototypes.** Keep table models (SQLAlchemy) and API schemas (Pydantic) separate either
# way: the API contract must not change when a column does.

# %%
for engine in (course_engine, shop.engine, orders10.engine, orders50.engine, orders200.engine):
    await engine.dispose()
WORK.cleanup()
print("temporary databases removed:", not TMP.exists())

# %% [markdown]
# ## Summary
#
# - One engine per process, built by a function and opened/disposed in the **lifespan**;
#   one session per request; `expire_on_commit=False` so objects stay readable after a
#   commit.
# - SQLite in production-like use needs `journal_mode=WAL` (readers never block the
#   writer), `busy_timeout` (wait for the lock, do not fail), `foreign_keys=ON` (otherwise
#   not enforced) and, with WAL, `synchronous=NORMAL`.
# - Repositories own the queries. Filters are an **allow-list** of named fields mapped to
#   SQL by hand; visibility rules are part of every query, never a filter.
# - Count queries with an engine event. N+1 grows with the data (11 → 51 queries above);
#   `selectinload` is constant (2), and a bounded page can be one joined query (1).
#   `lazy="raise"` turns an accidental lazy load into an error in tests.
# - **Commit before responding.** Code after `yield` in a dependency runs after the
#   response: a failed commit there followed a 201 and lost the row.
# - Alembic: autogenerate, **read** the script, upgrade, downgrade, upgrade; never edit an
#   applied migration; batch mode on SQLite, with foreign keys off during the migration
#   and checked after; migrations ship in the package and run as a deployment step
#   (`python -m course_app migrate`).
#
# **Production checklist items covered**
# - [x] Engine and pool created in the lifespan, disposed at shutdown; `pool_pre_ping` on
#       server databases
# - [x] SQLite pragmas: WAL, `busy_timeout`, `foreign_keys`
# - [x] No user input turned into a column name (allow-listed filters and sorts)
# - [x] No N+1 queries on list endpoints (`selectinload`, `lazy="raise"`)
# - [x] Writes committed before the response is sent
# - [x] Schema changes only through reviewed, reversible migrations, run as their own step
#
# **Next:** the lab, `exercises/06_database.ipynb`: an allow-listed repository filter, an
# N+1 fixed under a query counter, a write endpoint that commits before it answers, and a
# migration that survives existing rows and a downgrade. Then lesson 07, testing.
