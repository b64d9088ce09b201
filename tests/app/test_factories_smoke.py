"""The factories write rows the app can read (and tokens it accepts)."""

from __future__ import annotations

import httpx
import pytest

from course_app.config import Settings
from tests.app.factories import auth_headers, create_product, create_user

pytestmark = pytest.mark.anyio


async def test_factory_user_and_product_exist(
    client: httpx.AsyncClient, database_url: str, settings: Settings
) -> None:
    user = await create_user(database_url)
    product = await create_product(database_url)
    assert user.id is not None
    assert product.id is not None
    assert auth_headers(settings, user)["Authorization"].startswith("Bearer ")
