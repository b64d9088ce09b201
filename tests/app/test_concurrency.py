"""Concurrent writes against a REAL uvicorn process, on SQLite and on PostgreSQL.

Every test here is named ``test_concurrency_*`` (run them alone with
``pytest -k concurrency``). In-process tests run one request at a time and cannot show
a race; these fire dozens of requests at once with ``asyncio.gather`` at a server in
another process, then check the database:

* every 201 is a row in the database (nothing acknowledged was lost), no 5xx, and the
  server never logged "database is locked";
* stock never goes negative: a stock of 30 and 50 one-unit orders give exactly 30
  orders and 20 ``OUT_OF_STOCK`` (the conditional ``UPDATE ... WHERE stock >= :q``);
* orders listing the same products in opposite orders do not deadlock (lines are
  reserved in ``product_id`` order);
* a burst of cancellations of one order restocks it exactly once (compare-and-set).
"""

from __future__ import annotations

import asyncio
import functools
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

import anyio
import httpx
import pytest
from sqlalchemy import select

from course_app.config import Settings, load_settings
from course_app.core.database import build_engine
from course_app.core.security import create_token
from course_app.features.orders.models import Order, OrderStatus
from course_app.features.products.models import Product
from course_app.features.users.models import User
from coursekit.server import Server, serve
from tests.app.conftest import STRONG_SECRET, reset_schema
from tests.app.factories import create_product, create_user
from tests.conftest import POSTGRES_URL, need_service

P = ParamSpec("P")
R = TypeVar("R")
REQUESTS = 50


def run(function: Callable[P, Awaitable[R]], *args: P.args, **kwargs: P.kwargs) -> R:
    return anyio.run(functools.partial(function, *args, **kwargs))


@dataclass
class LiveShop:
    server: Server
    url: str  # the database the server uses
    settings: Settings  # same JWT secret as the server, to mint tokens

    def headers(self, user: User) -> dict[str, str]:
        token = create_token(self.settings, str(user.id), "access")
        return {"Authorization": f"Bearer {token}"}

    def log_since(self, offset: int) -> str:
        return self.server.log()[offset:]


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def live(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveShop]:
    """One uvicorn process per backend for the whole module (tests use fresh rows)."""
    if request.param == "postgres":
        need_service("PostgreSQL", "127.0.0.1", 5432)
        url = POSTGRES_URL
        run(reset_schema, url)
    else:
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('live') / 'shop.db'}"
    env = {"ENVIRONMENT": "test", "DATABASE_URL": url, "JWT_SECRET": STRONG_SECRET}
    settings = load_settings(_env_file=None, environment="test", jwt_secret=STRONG_SECRET)
    with serve("course_app.main:create_app", factory=True, env=env) as server:
        # The server created the schema at start-up; tests insert their rows next to it.
        yield LiveShop(server=server, url=url, settings=settings)


async def fire(
    base_url: str, method: str, requests: list[tuple[str, dict[str, Any], dict[str, str]]]
) -> list[httpx.Response]:
    """Send every request at once, each on its own connection."""
    limits = httpx.Limits(max_connections=len(requests), max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=base_url, timeout=30, limits=limits) as client:
        return await asyncio.gather(
            *(client.request(method, path, json=body, headers=h) for path, body, h in requests)
        )


async def stored(url: str, statement: Any) -> list[Any]:
    engine = build_engine(url)
    try:
        async with engine.connect() as connection:
            return list((await connection.execute(statement)).scalars())
    finally:
        await engine.dispose()


def assert_healthy(responses: list[httpx.Response], log: str) -> None:
    assert not [r.text for r in responses if r.status_code >= 500]
    assert "database is locked" not in log
    assert "Traceback" not in log
    assert "deadlock" not in log.lower()


def test_concurrency_stock_is_sold_exactly_once(live: LiveShop) -> None:
    log_start = len(live.server.log())
    users = [run(create_user, live.url) for _ in range(5)]
    product = run(create_product, live.url, stock=30, price_cents=500)
    body = {"items": [{"product_id": product.id, "quantity": 1}]}
    requests = [("/api/orders", body, live.headers(users[n % len(users)])) for n in range(REQUESTS)]

    responses = run(fire, live.server.url, "POST", requests)

    assert_healthy(responses, live.log_since(log_start))
    assert Counter(r.status_code for r in responses) == {201: 30, 409: 20}
    assert {r.json()["error"]["code"] for r in responses if r.status_code == 409} == {
        "OUT_OF_STOCK"
    }
    acknowledged = {r.json()["id"] for r in responses if r.status_code == 201}
    in_database = run(
        stored, live.url, select(Order.id).where(Order.user_id.in_([u.id for u in users]))
    )
    assert set(in_database) == acknowledged  # every 201 was durable, nothing extra
    assert run(stored, live.url, select(Product.stock).where(Product.id == product.id)) == [0]


def test_concurrency_orders_for_the_same_products_do_not_deadlock(live: LiveShop) -> None:
    """Half the orders list (pen, ink), half (ink, pen). Reserved in id order, they queue
    behind each other; in request order, PostgreSQL would abort some as deadlocked."""
    log_start = len(live.server.log())
    user = run(create_user, live.url)
    pen = run(create_product, live.url, stock=1000)
    ink = run(create_product, live.url, stock=1000)
    lines = [{"product_id": pen.id, "quantity": 1}, {"product_id": ink.id, "quantity": 2}]
    requests = [
        ("/api/orders", {"items": lines if n % 2 else lines[::-1]}, live.headers(user))
        for n in range(40)
    ]

    responses = run(fire, live.server.url, "POST", requests)

    assert_healthy(responses, live.log_since(log_start))
    assert [r.status_code for r in responses] == [201] * 40
    stocks = run(
        stored,
        live.url,
        select(Product.stock).where(Product.id.in_([pen.id, ink.id])).order_by(Product.id),
    )
    assert stocks == [1000 - 40, 1000 - 80]


def test_concurrency_a_burst_of_cancellations_restocks_once(live: LiveShop) -> None:
    log_start = len(live.server.log())
    user = run(create_user, live.url)
    product = run(create_product, live.url, stock=10)
    created = httpx.post(
        f"{live.server.url}/api/orders",
        json={"items": [{"product_id": product.id, "quantity": 4}]},
        headers=live.headers(user),
    )
    assert created.status_code == 201
    path = f"/api/orders/{created.json()['id']}/status"
    requests = [(path, {"status": "cancelled"}, live.headers(user))] * 20

    responses = run(fire, live.server.url, "PATCH", requests)

    assert_healthy(responses, live.log_since(log_start))
    codes = Counter(r.status_code for r in responses)
    assert codes[200] == 1, codes
    assert codes[409] == 19, codes
    assert {r.json()["error"]["code"] for r in responses if r.status_code == 409} <= {
        "INVALID_TRANSITION",
        "ORDER_CHANGED",
    }
    assert run(stored, live.url, select(Product.stock).where(Product.id == product.id)) == [10]
    status = run(stored, live.url, select(Order.status).where(Order.id == created.json()["id"]))
    assert status == [OrderStatus.CANCELLED]
