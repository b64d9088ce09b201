"""course_app.core.pool: requests waiting for a connection are served in arrival order.

The control case runs SQLAlchemy's own asyncio pool through the same steps and shows the
race the fair pool removes: a connection handed back is taken by a request that arrives
after it, ahead of the requests already waiting.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import TimeoutError as SATimeoutError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import AsyncAdaptedQueuePool

from course_app.core.database import build_engine
from course_app.core.pool import FairAsyncQueuePool

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # the pool is asyncio's (SQLAlchemy's asyncio extension)


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """A SQLite file with one connection, as the app builds it."""
    engine = build_engine(
        f"sqlite+aiosqlite:///{tmp_path / 'line.db'}", sqlite_connections=1, pool_timeout=5
    )
    yield engine
    await engine.dispose()


async def served_order(engine: AsyncEngine) -> list[str]:
    """Three requests queue for the only connection; it is handed back; a fourth
    request arrives at that moment. Who gets the connection, in which order?"""
    order: list[str] = []

    async def request(name: str) -> None:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
            order.append(name)

    held = await engine.connect()
    await held.execute(text("SELECT 1"))
    waiting = [asyncio.create_task(request(f"waiting-{n}")) for n in range(3)]
    await asyncio.sleep(0.05)  # all three are in line
    await held.close()  # the connection goes back: the first in line is woken...
    await request("newcomer")  # ...and this one arrives before it runs
    await asyncio.gather(*waiting)
    return order


async def test_waiting_requests_are_served_in_arrival_order(engine: AsyncEngine) -> None:
    assert isinstance(engine.pool, FairAsyncQueuePool)
    assert await served_order(engine) == ["waiting-0", "waiting-1", "waiting-2", "newcomer"]


async def test_control_sqlalchemys_own_pool_lets_the_newcomer_jump_the_line(
    tmp_path: Path,
) -> None:
    engine = create_async_engine(
        f"sqlite+aiosqlite:///{tmp_path / 'stock.db'}",
        poolclass=AsyncAdaptedQueuePool,
        pool_size=1,
        max_overflow=0,
    )
    try:
        order = await served_order(engine)
    finally:
        await engine.dispose()
    assert order[0] == "newcomer"  # the race course_app.core.pool exists to remove


async def test_a_request_cancelled_in_line_leaves_no_gap(engine: AsyncEngine) -> None:
    """A client that disconnects while its request waits for a connection: the request
    leaves the line, and the connection, once free, goes to the next request at once."""
    held = await engine.connect()

    async def wait_for_a_connection() -> None:
        async with engine.connect():
            pass

    waiting = asyncio.create_task(wait_for_a_connection())
    await asyncio.sleep(0.05)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    await held.close()
    async with asyncio.timeout(1), engine.connect() as connection:
        assert (await connection.execute(text("SELECT 1"))).scalar() == 1


async def test_a_request_cancelled_while_holding_a_connection_returns_it(
    engine: AsyncEngine,
) -> None:
    started = asyncio.Event()

    async def slow_request() -> None:
        async with engine.connect():
            started.set()
            await asyncio.sleep(10)

    request = asyncio.create_task(slow_request())
    await started.wait()
    request.cancel()
    with pytest.raises(asyncio.CancelledError):
        await request
    async with asyncio.timeout(1), engine.connect() as connection:  # the place came back
        assert (await connection.execute(text("SELECT 1"))).scalar() == 1


async def test_a_request_that_waits_too_long_gets_the_pools_timeout(tmp_path: Path) -> None:
    engine = build_engine(
        f"sqlite+aiosqlite:///{tmp_path / 'timeout.db'}", sqlite_connections=1, pool_timeout=0.1
    )
    try:
        async with engine.connect():
            with pytest.raises(SATimeoutError, match="QueuePool limit of size 1"):
                async with engine.connect():
                    pass
        # the request that gave up took no permit with it: the connection is free again
        async with engine.connect() as connection:
            assert (await connection.execute(text("SELECT 1"))).scalar() == 1
    finally:
        await engine.dispose()


async def test_a_failed_connect_gives_its_place_back(tmp_path: Path) -> None:
    """A connection that cannot be opened must not cost the pool one of its places,
    or after ``size`` failures no request would ever get a connection again."""
    path = tmp_path / "missing-dir" / "db.sqlite"
    engine = create_async_engine(
        f"sqlite+aiosqlite:///{path}", poolclass=FairAsyncQueuePool, pool_size=1,
        max_overflow=0, pool_timeout=0.2,
    )  # fmt: skip
    try:
        for _ in range(2):  # more failures than places
            with pytest.raises(Exception, match="unable to open database file"):
                async with engine.connect():
                    pass
        path.parent.mkdir()
        async with engine.connect() as connection:  # no time-out: the place is free
            assert (await connection.execute(text("SELECT 1"))).scalar() == 1
    finally:
        await engine.dispose()


async def test_an_unbounded_pool_has_no_line(tmp_path: Path) -> None:
    """``pool_size=0`` means no limit in SQLAlchemy: nothing to wait for."""
    engine = create_async_engine(
        f"sqlite+aiosqlite:///{tmp_path / 'open.db'}", poolclass=FairAsyncQueuePool, pool_size=0
    )
    connections: list[Any] = []
    try:
        for _ in range(4):
            connections.append(await engine.connect())
        assert len(connections) == 4
    finally:
        for connection in connections:
            await connection.close()
        await engine.dispose()


async def test_server_databases_get_the_fair_pool_too() -> None:
    engine = build_engine("postgresql+asyncpg://user@127.0.0.1:1/none", pool_size=3)
    try:
        assert isinstance(engine.pool, FairAsyncQueuePool)
        assert engine.pool.size() == 3
    finally:
        await engine.dispose()
