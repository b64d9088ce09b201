"""SQLite through aiosqlite, one thread trip per statement.

aiosqlite runs every call on its own thread: the event loop queues the call, the thread
wakes up, runs it, and wakes the loop with the result. SQLAlchemy's adapter makes one
such trip for each of ``cursor()``, ``execute()``, ``fetchall()`` and ``close()``, so a
``SELECT`` costs four, and every session end adds a ``rollback()`` (two when the pool
resets the connection too) even when nothing was written. On a 2-core machine each trip
costs about 80 µs of context switches, far more than SQLite's own work for a page of 20
rows (about 30 µs): the public product listing made 10 trips (bench/README.md).

This module plugs a thinner cursor into SQLAlchemy's own aiosqlite dialect (through
``create_async_engine(module=...)``; the dialect, its SQL and its types are unchanged):

* ``execute`` runs cursor, execute, fetchall and close together on aiosqlite's thread,
  one trip, and keeps the rows, description, row count and last row id;
* ``commit`` and ``rollback`` are skipped when SQLite has no transaction open (a request
  that only read): SQLite would do nothing, after a trip to find that out.

The listing now costs 2 trips and a page of orders 4 (``tests/app/test_sqlite_adapter.py``
counts them). PostgreSQL is not concerned: asyncpg speaks to the server from the event
loop itself. Streaming (server-side) cursors keep SQLAlchemy's own class.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)

Description = tuple[tuple[Any, ...], ...] | None
Outcome = tuple[Description, int, int | None, list[Any]]


def _run(connection: aiosqlite.Connection, operation: str, parameters: Any, many: bool) -> Outcome:
    """On aiosqlite's thread: the whole statement, from cursor to close."""
    cursor = connection._conn.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        rows = cursor.fetchall() if cursor.description else []
        return cursor.description, cursor.rowcount, cursor.lastrowid, rows
    finally:
        cursor.close()


class OneTripCursor:
    """The cursor protocol SQLAlchemy's adapter drives, with one thread trip per
    statement: the results are already here when it asks for them."""

    __slots__ = ("_connection", "_description", "_lastrowid", "_rowcount", "_rows", "arraysize")

    def __init__(self, connection: aiosqlite.Connection) -> None:
        self._connection = connection
        self._description: Description = None
        self._rowcount = -1
        self._lastrowid: int | None = None
        self._rows: list[Any] = []
        self.arraysize = 1

    @property
    def description(self) -> Description:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._lastrowid

    async def _trip(self, operation: str, parameters: Any, many: bool) -> None:
        outcome = await self._connection._execute(  # type: ignore[no-untyped-call]
            _run, self._connection, operation, parameters, many
        )
        self._description, self._rowcount, self._lastrowid, self._rows = outcome

    async def execute(self, operation: str, parameters: Any = None) -> None:
        await self._trip(operation, parameters, many=False)

    async def executemany(self, operation: str, parameters: Sequence[Any]) -> None:
        await self._trip(operation, parameters, many=True)

    async def fetchall(self) -> list[Any]:
        rows, self._rows = self._rows, []
        return rows

    def close(self) -> None:
        """Nothing left to release: the sqlite3 cursor was closed on the thread."""
        self._rows = []


class _Cursor(AsyncAdapt_aiosqlite_cursor):
    __slots__ = ()
    _awaitable_cursor_close = False  # close() is local: no trip

    def _make_new_cursor(self, connection: Any) -> Any:
        return OneTripCursor(connection)

    def _aenter_cursor(self, cursor: Any) -> Any:
        return cursor  # nothing to open: the statement opens its own cursor on the thread


class _Connection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()
    _cursor_cls = _Cursor

    def _in_transaction(self) -> bool:
        # sqlite3's flag (sqlite3_get_autocommit); reading it needs no trip
        connection: sqlite3.Connection | None = self._connection._connection
        return connection is not None and connection.in_transaction

    def rollback(self) -> None:
        if self._in_transaction():
            super().rollback()

    def commit(self) -> None:
        if self._in_transaction():
            super().commit()


class OneTripAiosqlite(AsyncAdapt_aiosqlite_dbapi):
    """SQLAlchemy's aiosqlite DBAPI adapter, handing out :class:`_Connection`."""

    def connect(self, *args: Any, **kwargs: Any) -> AsyncAdapt_aiosqlite_connection:
        adapted = super().connect(*args, **kwargs)
        return _Connection(self, adapted._connection)


def one_trip_aiosqlite() -> OneTripAiosqlite:
    """The ``module=`` to give ``create_async_engine`` for a ``sqlite+aiosqlite`` URL."""
    return OneTripAiosqlite(aiosqlite, sqlite3)
