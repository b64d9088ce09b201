"""Shared dependencies: everything a request needs from the lifespan, typed.

Routers declare ``SessionDep``, ``SettingsDep`` … instead of reaching into
``request.state``; tests replace any of them with ``app.dependency_overrides``.

Two details matter here:

* they take an ``HTTPConnection`` (the base of ``Request`` and ``WebSocket``), so HTTP
  and WebSocket routes share them;
* they are ``async def`` although they await nothing: FastAPI runs a plain ``def``
  dependency in the thread pool, a thread hop per dependency per request for a dict
  lookup.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import HTTPConnection

from course_app.config import Settings
from course_app.core.cache import Cache, SingleFlight
from course_app.core.database import Database
from course_app.core.notifications import Notifier
from course_app.core.rate_limit import RateLimiter


async def get_app_settings(connection: HTTPConnection) -> Settings:
    settings: Settings = connection.app.state.settings
    return settings


async def get_database(connection: HTTPConnection) -> Database:
    database: Database = connection.state.database
    return database


async def get_session(
    database: Annotated[Database, Depends(get_database)],
) -> AsyncIterator[AsyncSession]:
    """One session per request. Services ``commit()`` explicitly *before* they return, so
    a response is never sent for a write that later fails; whatever was not committed is
    rolled back when the session closes."""
    async with database.sessions() as session:
        yield session


async def get_cache(connection: HTTPConnection) -> Cache:
    cache: Cache = connection.state.cache
    return cache


async def get_cache_fills(connection: HTTPConnection) -> SingleFlight[bytes]:
    fills: SingleFlight[bytes] = connection.state.cache_fills
    return fills


async def get_rate_limiter(connection: HTTPConnection) -> RateLimiter:
    limiter: RateLimiter = connection.state.rate_limiter
    return limiter


async def get_notifier(connection: HTTPConnection) -> Notifier:
    notifier: Notifier = connection.state.notifier
    return notifier


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
DatabaseDep = Annotated[Database, Depends(get_database)]
SessionDep = Annotated[AsyncSession, Depends(get_session)]
CacheDep = Annotated[Cache, Depends(get_cache)]
RateLimiterDep = Annotated[RateLimiter, Depends(get_rate_limiter)]
NotifierDep = Annotated[Notifier, Depends(get_notifier)]
