"""Shared dependencies: everything a request needs from the lifespan, typed.

Routers declare ``SessionDep``, ``SettingsDep`` … instead of reaching into
``request.state``; tests replace any of them with ``app.dependency_overrides``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import HTTPConnection

from course_app.config import Settings
from course_app.core.cache import Cache
from course_app.core.database import Database
from course_app.core.notifications import Notifier
from course_app.core.rate_limit import RateLimiter


def get_app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_database(request: Request) -> Database:
    database: Database = request.state.database
    return database


async def get_session(
    database: Annotated[Database, Depends(get_database)],
) -> AsyncIterator[AsyncSession]:
    """One session per request. Services ``commit()`` explicitly *before* they return, so
    a response is never sent for a write that later fails; whatever was not committed is
    rolled back when the session closes."""
    async with database.sessions() as session:
        yield session


def get_cache(request: Request) -> Cache:
    cache: Cache = request.state.cache
    return cache


def get_rate_limiter(request: Request) -> RateLimiter:
    limiter: RateLimiter = request.state.rate_limiter
    return limiter


def get_notifier(connection: HTTPConnection) -> Notifier:
    """``HTTPConnection``, not ``Request``: WebSocket routes need the notifier too."""
    notifier: Notifier = connection.state.notifier
    return notifier


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
DatabaseDep = Annotated[Database, Depends(get_database)]
SessionDep = Annotated[AsyncSession, Depends(get_session)]
CacheDep = Annotated[Cache, Depends(get_cache)]
RateLimiterDep = Annotated[RateLimiter, Depends(get_rate_limiter)]
NotifierDep = Annotated[Notifier, Depends(get_notifier)]
