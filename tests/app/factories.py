"""Test data straight into the database (fast: no HTTP, password hashes computed once)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import lru_cache
from itertools import count
from typing import TypeVar

import httpx
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from course_app.config import Settings
from course_app.core.database import build_engine
from course_app.core.security import create_token, hash_password
from course_app.features.products.models import Product
from course_app.features.users.models import Role, User

DEFAULT_PASSWORD = "correct horse battery"
_sequence = count(1)
T = TypeVar("T")


@asynccontextmanager
async def app_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An async client for ``app`` with its lifespan running (as a server would run it)."""
    async with (
        LifespanManager(app) as manager,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=manager.app), base_url="http://testserver"
        ) as client,
    ):
        yield client


async def insert(database_url: str, row: T) -> T:
    """Insert one ORM object in its own transaction and return it (ids filled in)."""
    engine = build_engine(database_url)
    try:
        async with (
            engine.begin() as connection,
            AsyncSession(bind=connection, expire_on_commit=False) as session,
        ):
            session.add(row)
            await session.flush()
    finally:
        await engine.dispose()
    return row


@lru_cache
def password_hash_for(password: str) -> str:
    """Argon2 costs ~0.2 s by design; hash each test password once per session."""
    return hash_password(password)


async def create_user(
    database_url: str,
    *,
    email: str | None = None,
    password: str = DEFAULT_PASSWORD,
    role: Role = Role.USER,
    full_name: str = "Test User",
    is_active: bool = True,
) -> User:
    number = next(_sequence)
    user = User(
        email=email or f"user{number}@example.com",
        full_name=full_name,
        hashed_password=password_hash_for(password),
        role=role,
        is_active=is_active,
    )
    return await insert(database_url, user)


async def create_product(
    database_url: str,
    *,
    sku: str | None = None,
    name: str | None = None,
    price_cents: int = 1999,
    stock: int = 10,
    category: str = "general",
    is_active: bool = True,
) -> Product:
    number = next(_sequence)
    product = Product(
        sku=sku or f"SKU-{number:05d}",
        name=name or f"Product {number}",
        description="",
        category=category,
        price_cents=price_cents,
        stock=stock,
        is_active=is_active,
    )
    return await insert(database_url, product)


def auth_headers(settings: Settings, user: User) -> dict[str, str]:
    return {"Authorization": f"Bearer {create_token(settings, str(user.id), 'access')}"}
