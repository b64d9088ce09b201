"""course_app.core.sqlite: one aiosqlite thread trip per statement, none for an empty
commit or rollback, and SQLite's answers (rows, counts, ids, errors) unchanged."""

from __future__ import annotations

import collections
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiosqlite.core
import httpx
import pytest
from asgi_lifespan import LifespanManager
from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    String,
    Table,
    event,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as SATimeoutError

from course_app.config import load_settings
from course_app.core.database import Database, build_engine
from course_app.core.security import create_token, hash_password
from course_app.core.sqlite import OneTripCursor
from course_app.features.orders.models import Order, OrderItem
from course_app.features.products.models import Product
from course_app.features.users.models import User
from course_app.main import create_app

pytestmark = pytest.mark.anyio
SECRET = "t" * 40


@pytest.fixture
def trips(monkeypatch: pytest.MonkeyPatch) -> collections.Counter[str]:
    """Count every function sent to an aiosqlite connection's thread, by name."""
    counted: collections.Counter[str] = collections.Counter()
    original = aiosqlite.core.Connection._execute

    async def counting(self: Any, fn: Any, *args: Any, **kwargs: Any) -> Any:
        counted[getattr(fn, "__name__", type(fn).__name__)] += 1
        return await original(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.core.Connection, "_execute", counting)
    return counted


@pytest.fixture
async def shop(tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    settings = load_settings(
        _env_file=None,
        environment="test",
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'shop.db'}",
        jwt_secret=SECRET,
        cache_enabled=False,
    )
    app = create_app(settings)
    async with LifespanManager(app) as manager:
        database = manager._state["database"]
        async with database.sessions() as session:
            user = User(
                email="trips@example.com", full_name="T", hashed_password=hash_password("p" * 12)
            )
            session.add(user)
            products = [
                Product(
                    sku=f"SKU-{i:03d}",
                    name=f"P{i}",
                    description="",
                    category="c",
                    price_cents=100,
                    stock=5,
                )
                for i in range(1, 31)
            ]
            session.add_all(products)
            await session.flush()
            for product in products[:3]:
                session.add(
                    Order(
                        user_id=user.id,
                        total_cents=100,
                        items=[OrderItem(product_id=product.id, quantity=1, unit_price_cents=100)],
                    )
                )
            await session.commit()
            token = create_token(settings, str(user.id), "access")
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client, token


async def test_a_listing_page_costs_one_trip(
    shop: tuple[httpx.AsyncClient, str], trips: collections.Counter[str]
) -> None:
    client, _ = shop
    await client.get("/api/products?page_size=20")  # first call: connection opened
    trips.clear()
    response = await client.get("/api/products?page_size=20")
    assert response.status_code == 200
    assert len(response.json()["items"]) == 20
    assert response.json()["total"] == 30
    # page and total in one statement; no cursor(), fetchall(), close() or rollback() trips
    assert dict(trips) == {"_run": 1}


async def test_a_listing_page_past_the_end_counts_in_a_second_trip(
    shop: tuple[httpx.AsyncClient, str], trips: collections.Counter[str]
) -> None:
    client, _ = shop
    await client.get("/api/products?page_size=20")
    trips.clear()
    response = await client.get("/api/products?page_size=20&page=3")
    assert response.status_code == 200
    assert response.json()["items"] == []
    assert response.json()["total"] == 30  # no row carried it: the count did
    assert dict(trips) == {"_run": 2}


async def test_a_page_of_orders_costs_two_trips(
    shop: tuple[httpx.AsyncClient, str], trips: collections.Counter[str]
) -> None:
    client, token = shop
    headers = {"Authorization": f"Bearer {token}"}
    await client.get("/api/orders", headers=headers)
    trips.clear()
    response = await client.get("/api/orders", headers=headers)
    assert response.status_code == 200
    assert len(response.json()["items"]) == 3
    assert response.json()["total"] == 3
    assert all(len(order["items"]) == 1 for order in response.json()["items"])
    assert dict(trips) == {"_run": 2}  # the user; the page with its items and total


async def test_one_order_costs_two_trips(
    shop: tuple[httpx.AsyncClient, str], trips: collections.Counter[str]
) -> None:
    client, token = shop
    headers = {"Authorization": f"Bearer {token}"}
    first = (await client.get("/api/orders", headers=headers)).json()["items"][0]
    trips.clear()
    response = await client.get(f"/api/orders/{first['id']}", headers=headers)
    assert response.status_code == 200
    assert response.json()["items"] == first["items"]
    assert dict(trips) == {"_run": 2}  # the user; the order joined to its items


# --- the adapter on its own ------------------------------------------------------------------

metadata = MetaData()
notes = Table(
    "notes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("body", String(50), nullable=False, unique=True),
)


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Any]:
    engine = build_engine(f"sqlite+aiosqlite:///{tmp_path / 'notes.db'}")
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    yield engine
    await engine.dispose()


async def test_a_write_is_committed_with_one_trip_and_read_back(
    engine: Any, trips: collections.Counter[str]
) -> None:
    async with engine.connect() as connection:
        trips.clear()
        result = await connection.execute(insert(notes).values(body="first"))
        assert result.inserted_primary_key == (1,)  # lastrowid came back from the thread
        await connection.commit()
        assert trips["commit"] == 1  # a transaction was open: the commit is real
    async with engine.connect() as connection:
        assert (await connection.execute(select(notes.c.body))).scalars().all() == ["first"]


async def test_a_read_only_transaction_makes_no_commit_or_rollback_trip(
    engine: Any, trips: collections.Counter[str]
) -> None:
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))
        trips.clear()
        await connection.commit()
        await connection.rollback()
    assert dict(trips) == {}


async def test_an_uncommitted_write_is_rolled_back(engine: Any) -> None:
    async with engine.connect() as connection:
        await connection.execute(insert(notes).values(body="lost"))
        await connection.rollback()
    async with engine.connect() as connection:
        assert (await connection.execute(select(notes))).all() == []


async def test_executemany_and_rowcount(engine: Any) -> None:
    async with engine.begin() as connection:
        await connection.execute(insert(notes), [{"body": f"n{i}"} for i in range(5)])
        result = await connection.execute(
            update(notes).where(notes.c.id > 2).values(body=notes.c.body + "!")
        )
        assert result.rowcount == 3
    async with engine.connect() as connection:
        bodies = (await connection.execute(select(notes.c.body).order_by(notes.c.id))).scalars()
        assert bodies.all() == ["n0", "n1", "n2!", "n3!", "n4!"]


async def test_a_constraint_violation_is_sqlalchemys_integrity_error(engine: Any) -> None:
    async with engine.connect() as connection:
        await connection.execute(insert(notes).values(body="twice"))
        with pytest.raises(IntegrityError):
            await connection.execute(insert(notes).values(body="twice"))
        await connection.rollback()


async def test_bad_sql_is_an_operational_error_and_the_connection_survives(engine: Any) -> None:
    async with engine.connect() as connection:
        with pytest.raises(OperationalError, match="no such table"):
            await connection.execute(text("SELECT * FROM no_such_table"))
        await connection.rollback()
        assert (await connection.execute(text("SELECT 41 + 1"))).scalar() == 42


async def test_a_closed_connection_refuses_work() -> None:
    connection = await aiosqlite.connect(":memory:")
    cursor = OneTripCursor(connection)
    await cursor.execute("SELECT 1")
    assert await cursor.fetchall() == [(1,)]
    assert await cursor.fetchall() == []  # the rows are handed over once
    assert cursor.rowcount == -1 and cursor.description is not None
    await connection.close()
    with pytest.raises(ValueError, match="Connection closed"):
        await cursor.execute("SELECT 1")


async def test_postgres_urls_keep_their_own_driver() -> None:
    engine = build_engine("postgresql+asyncpg://user@127.0.0.1:1/none")
    try:
        assert type(engine.dialect.loaded_dbapi).__name__ != "OneTripAiosqlite"
    finally:
        await engine.dispose()


@contextlib.asynccontextmanager
async def file_database(path: Path, **pool: Any) -> AsyncIterator[Database]:
    """A ``Database`` on a SQLite file, built from settings as the app builds it, with a
    short pool time-out so a checkout beyond the pool fails fast."""
    settings = load_settings(
        _env_file=None,
        environment="test",
        database_url=f"sqlite+aiosqlite:///{path}",
        jwt_secret="k" * 40,
        db_pool_timeout=0.2,
        **pool,
    )
    database = Database.from_settings(settings)
    try:
        yield database
    finally:
        await database.dispose()


async def test_a_sqlite_file_gets_two_connections_by_default(tmp_path: Path) -> None:
    """Two connections, whatever ``DB_POOL_SIZE`` and ``DB_MAX_OVERFLOW`` say (they size a
    server's pool): a third checkout waits, then times out."""
    async with file_database(tmp_path / "pool.db", db_pool_size=7, db_max_overflow=9) as db:
        async with db.engine.connect(), db.engine.connect():
            with pytest.raises(SATimeoutError):  # a third connection would exceed the pool
                async with db.engine.connect():
                    pass
        assert db.engine.pool.status().startswith("Pool size: 2")


@pytest.mark.parametrize("url", ["sqlite+aiosqlite://", "sqlite+aiosqlite:///:memory:"])
async def test_an_in_memory_database_ignores_pool_settings(url: str) -> None:
    """One in-memory database is one connection (StaticPool): no pool to size, and no
    error for settings that size one."""
    engine = build_engine(url, pool_size=2, max_overflow=0, sqlite_connections=3)
    try:
        async with engine.connect() as connection:
            assert (await connection.execute(text("SELECT 1"))).scalar() == 1
    finally:
        await engine.dispose()


async def test_a_sqlite_file_keeps_every_connection_it_opens(tmp_path: Path) -> None:
    """``DB_SQLITE_CONNECTIONS=5``: five connections open at once, all five kept when
    they come back, so the next burst opens none."""
    async with file_database(tmp_path / "keep.db", db_sqlite_connections=5) as database:
        opened: list[int] = []
        event.listen(database.engine.sync_engine, "connect", lambda *_: opened.append(1))
        for _burst in range(2):
            async with contextlib.AsyncExitStack() as stack:
                for _ in range(5):
                    await stack.enter_async_context(database.engine.connect())
                with pytest.raises(SATimeoutError):  # the sixth exceeds the five
                    async with database.engine.connect():
                        pass
        assert len(opened) == 5  # the second burst reused all five
        assert database.engine.pool.checkedin() == 5
