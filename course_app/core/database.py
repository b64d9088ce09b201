"""Database engine and sessions: one ``Database`` per process, opened in the lifespan.

SQLite (through aiosqlite) is the zero-configuration default; PostgreSQL (asyncpg)
is used when ``DATABASE_URL`` says so. The same code path serves both.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, Dialect, MetaData, TypeDecorator, event, func, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from course_app.config import DEFAULT_SQLITE_CONNECTIONS, Settings
from course_app.core.pool import FairAsyncQueuePool
from course_app.core.sqlite import one_trip_aiosqlite

SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",  # readers do not block the writer
    "PRAGMA busy_timeout=5000",  # wait for a lock instead of failing with "database is locked"
    "PRAGMA foreign_keys=ON",  # SQLite ignores foreign keys unless asked
    "PRAGMA synchronous=NORMAL",  # safe with WAL, far fewer fsyncs
)


# Deterministic constraint names: Alembic can then drop and alter them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base every feature's ORM models inherit from."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that is always timezone-aware UTC in Python, on every database.

    PostgreSQL stores ``timestamptz`` and returns aware values; SQLite has no time zone
    type and hands back naive ones. Normalising here, once, means no schema or service
    ever has to ask which database it is running on.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime: pass an aware UTC value (utcnow())")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class TimestampMixin:
    """``created_at`` / ``updated_at`` in UTC, set by the application (same on every DB)."""

    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, server_default=func.now()
    )
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, onupdate=utcnow, server_default=func.now()
    )


def _set_sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    for pragma in SQLITE_PRAGMAS:
        cursor.execute(pragma)
    cursor.close()


def _sqlite_file_pool(connections: int, pool: dict[str, Any]) -> dict[str, Any]:
    """A SQLite file's pool: ``connections`` connections, kept open, none in overflow.

    ``DB_POOL_SIZE`` and ``DB_MAX_OVERFLOW`` size a server's pool. A SQLite file is not a
    server: each connection is a thread of this process (aiosqlite), a statement takes
    microseconds, and one writer at a time is all SQLite allows. More connections add
    threads that compete with the event loop for the GIL. Measured under wrk (16
    clients, bench/README.md), as multiples of the tutorial app's throughput in the same
    run: 15 connections served the listing at 1.16x and orders at 0.80x; 2 connections
    (with the fair line) at 1.25x and 0.93x, with lower p99s. Two also let a read proceed
    during a write (WAL). Overflow connections would be closed on return and
    reopened (a new thread, connect, four pragmas): a SQLite pool keeps all it opens.
    Only the wait limit (``pool_timeout``) is taken from the server settings.
    """
    timeout = {"pool_timeout": pool["pool_timeout"]} if "pool_timeout" in pool else {}
    return {"pool_size": connections, "max_overflow": 0, **timeout}


def build_engine(
    url: str,
    *,
    echo: bool = False,
    sqlite_connections: int = DEFAULT_SQLITE_CONNECTIONS,
    **pool: Any,
) -> AsyncEngine:
    """Create an async engine with a fair pool (:mod:`course_app.core.pool`).

    A server database gets ``pool`` (``pool_size``, ``max_overflow``, ``pool_timeout``)
    and ``pool_pre_ping``; a SQLite file gets its pragmas and ``sqlite_connections``
    connections (:func:`_sqlite_file_pool`); an in-memory SQLite database is a single
    connection, with no pool to size.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        on_disk = database not in ("", ":memory:") and not database.startswith("file:")
        if on_disk:
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        # one thread trip per statement instead of four (course_app/core/sqlite.py)
        module = {"module": one_trip_aiosqlite()} if parsed.get_driver_name() == "aiosqlite" else {}
        pooled = (
            {"poolclass": FairAsyncQueuePool, **_sqlite_file_pool(sqlite_connections, pool)}
            if on_disk
            else {}
        )
        engine = create_async_engine(url, echo=echo, **module, **pooled)
        event.listen(engine.sync_engine, "connect", _set_sqlite_pragmas)
        return engine
    return create_async_engine(
        url, echo=echo, pool_pre_ping=True, poolclass=FairAsyncQueuePool, **pool
    )


class Database:
    """Owns the engine and the session factory for the life of the app."""

    def __init__(self, engine: AsyncEngine, *, ping_timeout: float = 2.0) -> None:
        self.engine = engine
        self.ping_timeout = ping_timeout
        self.sessions = async_sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> Database:
        return cls(
            build_engine(
                settings.database_url_value,
                echo=settings.db_echo,
                pool_size=settings.db_pool_size,
                max_overflow=settings.db_max_overflow,
                pool_timeout=settings.db_pool_timeout,
                sqlite_connections=settings.db_sqlite_connections,
            )
        )

    @property
    def backend(self) -> str:
        return self.engine.url.get_backend_name()

    async def ping(self) -> None:
        """Run ``SELECT 1``; raise on failure or after ``ping_timeout`` seconds."""
        async with asyncio.timeout(self.ping_timeout), self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()


@asynccontextmanager
async def open_database(settings: Settings) -> AsyncIterator[Database]:
    """Lifespan helper: create the engine at start-up, dispose of its pool at shutdown."""
    database = Database.from_settings(settings)
    try:
        yield database
    finally:
        await database.dispose()
