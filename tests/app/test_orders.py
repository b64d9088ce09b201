"""The ``orders`` feature over HTTP, on SQLite and on PostgreSQL.

Decisions these tests pin down:

* duplicate product ids in one order are rejected (422), not merged;
* an unknown or inactive product is a 422 ``PRODUCT_UNAVAILABLE`` (the body is wrong,
  the URL is fine), the same answer for both so unlisted products are not revealed;
* another user's order is a 404 on every route, indistinguishable from a missing one;
* a customer may only cancel their own order: any other status change is a 403, checked
  before the workflow; a cancellation the workflow forbids is a 409.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, delete, event, func, select, update
from structlog.testing import capture_logs

from course_app.config import Settings
from course_app.core.database import build_engine
from course_app.core.notifications import Message, NotifierError
from course_app.dependencies import get_notifier
from course_app.features.orders.models import (
    MAX_ITEMS_PER_ORDER,
    TRANSITIONS,
    Order,
    OrderItem,
    OrderStatus,
)
from course_app.features.orders.repository import OrderRepository
from course_app.features.products.models import Product
from course_app.features.users.models import Role, User
from tests.app.factories import auth_headers, create_product, create_user, insert

pytestmark = pytest.mark.anyio


# --- helpers ------------------------------------------------------------------------------
def error_of(response: httpx.Response, status_code: int, code: str) -> dict[str, Any]:
    """Assert the status and the error envelope; return the error object."""
    assert response.status_code == status_code, response.text
    body = response.json()
    assert set(body) == {"error"}
    error: dict[str, Any] = body["error"]
    assert set(error) == {"code", "message", "details", "request_id"}
    assert error["code"] == code, error
    return error


async def scalar(database_url: str, statement: Any) -> Any:
    """Run a SELECT on a connection of its own and return the first column of its row."""
    engine = build_engine(database_url)
    try:
        async with engine.connect() as connection:
            return (await connection.execute(statement)).scalar()
    finally:
        await engine.dispose()


async def run_sql(database_url: str, statement: Any) -> None:
    """Run a write on a connection of its own, committed: "someone else" changing data."""
    engine = build_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(statement)
    finally:
        await engine.dispose()


async def stock_of(database_url: str, product_id: int) -> int:
    stock: int = await scalar(database_url, select(Product.stock).where(Product.id == product_id))
    return stock


async def insert_order(
    database_url: str,
    user: User,
    lines: list[tuple[Product, int]],
    status: OrderStatus = OrderStatus.PENDING,
) -> Order:
    """An order straight into the database, in any status (stock is not touched)."""
    items = [
        OrderItem(product_id=p.id, quantity=q, unit_price_cents=p.price_cents) for p, q in lines
    ]
    order = Order(
        user_id=user.id,
        status=status,
        total_cents=sum(i.unit_price_cents * i.quantity for i in items),
        items=items,
    )
    return await insert(database_url, order)


@dataclass
class Shop:
    settings: Settings
    url: str
    alice: User
    bob: User
    admin: User
    pen: Product  # 250 cents, stock 10
    ink: Product  # 100 cents, stock 5

    def as_(self, user: User) -> dict[str, str]:
        return auth_headers(self.settings, user)


@pytest.fixture
async def shop(client: httpx.AsyncClient, settings: Settings, database_url: str) -> Shop:
    return Shop(
        settings=settings,
        url=database_url,
        alice=await create_user(database_url),
        bob=await create_user(database_url),
        admin=await create_user(database_url, role=Role.ADMIN),
        pen=await create_product(database_url, price_cents=250, stock=10),
        ink=await create_product(database_url, price_cents=100, stock=5),
    )


async def place(
    client: httpx.AsyncClient, shop: Shop, user: User, *lines: tuple[Product, int]
) -> dict[str, Any]:
    response = await client.post(
        "/api/orders",
        json={"items": [{"product_id": p.id, "quantity": q} for p, q in lines]},
        headers=shop.as_(user),
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


# --- create ---------------------------------------------------------------------------------
async def test_create_order_records_lines_prices_total_and_takes_stock(
    client: httpx.AsyncClient, shop: Shop
) -> None:
    response = await client.post(
        "/api/orders",
        json={
            "items": [
                {"product_id": shop.ink.id, "quantity": 2},
                {"product_id": shop.pen.id, "quantity": 3},
            ]
        },
        headers=shop.as_(shop.alice),
    )
    assert response.status_code == 201
    order = response.json()
    assert order["user_id"] == shop.alice.id
    assert order["status"] == "pending"
    assert order["total_cents"] == 3 * 250 + 2 * 100
    lines = {item["product_id"]: item for item in order["items"]}
    assert lines[shop.pen.id] == {
        "product_id": shop.pen.id,
        "quantity": 3,
        "unit_price_cents": 250,
        "line_total_cents": 750,
    }
    assert lines[shop.ink.id]["line_total_cents"] == 200
    assert order["created_at"].endswith("Z")
    assert await stock_of(shop.url, shop.pen.id) == 7
    assert await stock_of(shop.url, shop.ink.id) == 3
    # Committed before the 201: another connection sees it.
    assert await scalar(shop.url, select(func.count()).select_from(Order)) == 1


async def test_order_keeps_the_price_paid_when_the_product_price_changes(
    client: httpx.AsyncClient, shop: Shop
) -> None:
    order = await place(client, shop, shop.alice, (shop.pen, 1))
    await run_sql(
        shop.url, update(Product).where(Product.id == shop.pen.id).values(price_cents=999)
    )
    response = await client.get(f"/api/orders/{order['id']}", headers=shop.as_(shop.alice))
    assert response.json()["items"][0]["unit_price_cents"] == 250
    assert response.json()["total_cents"] == 250


async def test_create_schedules_the_confirmation_as_a_background_task(
    client: httpx.AsyncClient, shop: Shop
) -> None:
    with capture_logs() as logs:
        order = await place(client, shop, shop.alice, (shop.pen, 2), (shop.ink, 1))
    confirmations = [entry for entry in logs if entry["event"] == "order_confirmation"]
    assert confirmations == [
        {
            "event": "order_confirmation",
            "log_level": "info",
            "order_id": order["id"],
            "user_id": shop.alice.id,
            "total_cents": 600,
            "item_count": 2,
        }
    ]


async def test_out_of_stock_is_409_and_reserves_nothing(
    client: httpx.AsyncClient, shop: Shop
) -> None:
    # The pen line (lower id) is reserved first, then the ink line fails: the pen
    # reservation must be rolled back with it.
    response = await client.post(
        "/api/orders",
        json={
            "items": [
                {"product_id": shop.pen.id, "quantity": 2},
                {"product_id": shop.ink.id, "quantity": 6},
            ]
        },
        headers=shop.as_(shop.alice),
    )
    error = error_of(response, 409, "OUT_OF_STOCK")
    assert error["details"] == {"product_id": shop.ink.id, "requested": 6, "available": 5}
    assert await stock_of(shop.url, shop.pen.id) == 10
    assert await stock_of(shop.url, shop.ink.id) == 5
    assert await scalar(shop.url, select(func.count()).select_from(Order)) == 0


async def test_the_last_units_can_be_bought_exactly(client: httpx.AsyncClient, shop: Shop) -> None:
    await place(client, shop, shop.alice, (shop.ink, 5))
    assert await stock_of(shop.url, shop.ink.id) == 0
    response = await client.post(
        "/api/orders",
        json={"items": [{"product_id": shop.ink.id, "quantity": 1}]},
        headers=shop.as_(shop.bob),
    )
    assert error_of(response, 409, "OUT_OF_STOCK")["details"]["available"] == 0


async def test_unknown_and_inactive_products_get_the_same_422(
    client: httpx.AsyncClient, shop: Shop
) -> None:
    hidden = await create_product(shop.url, stock=50, is_active=False)
    for product_id in (hidden.id, 987_654):
        response = await client.post(
            "/api/orders",
            json={"items": [{"product_id": product_id, "quantity": 1}]},
            headers=shop.as_(shop.alice),
        )
        error = error_of(response, 422, "PRODUCT_UNAVAILABLE")
        assert error["details"] == {"product_id": product_id}
    assert await stock_of(shop.url, hidden.id) == 50


@pytest.mark.parametrize(
    ("items", "why"),
    [
        ([], "no items"),
        ([{"product_id": 1, "quantity": 0}], "quantity 0"),
        ([{"product_id": 1, "quantity": 101}], "quantity over 100"),
        ([{"product_id": 1, "quantity": -1}], "negative quantity"),
        ([{"product_id": 0, "quantity": 1}], "product id 0"),
        ([{"product_id": 2**70, "quantity": 1}], "product id beyond any integer column"),
        ([{"product_id": 1, "quantity": 2**70}], "quantity beyond any integer column"),
        ([{"product_id": 1}], "missing quantity"),
        ([{"product_id": 1, "quantity": 1, "unit_price_cents": 1}], "client-chosen price"),
        ([{"product_id": 1, "quantity": 1}, {"product_id": 1, "quantity": 2}], "duplicate"),
        (
            [{"product_id": n, "quantity": 1} for n in range(1, MAX_ITEMS_PER_ORDER + 2)],
            "too many lines",
        ),
    ],
)
async def test_invalid_order_bodies_are_422(
    client: httpx.AsyncClient, shop: Shop, items: list[dict[str, int]], why: str
) -> None:
    response = await client.post("/api/orders", json={"items": items}, headers=shop.as_(shop.alice))
    error_of(response, 422, "VALIDATION_ERROR")
    assert await stock_of(shop.url, shop.pen.id) == 10, why


@pytest.mark.parametrize(
    "extra", [{"status": "paid"}, {"user_id": 1}, {"total_cents": 0}], ids=lambda e: next(iter(e))
)
async def test_mass_assignment_is_rejected(
    client: httpx.AsyncClient, shop: Shop, extra: dict[str, Any]
) -> None:
    body = {"items": [{"product_id": shop.pen.id, "quantity": 1}], **extra}
    response = await client.post("/api/orders", json=body, headers=shop.as_(shop.alice))
    error = error_of(response, 422, "VALIDATION_ERROR")
    assert error["details"]["errors"][0]["type"] == "extra_forbidden"


async def test_duplicate_product_ids_are_named_in_the_error(
    client: httpx.AsyncClient, shop: Shop
) -> None:
    items = [{"product_id": shop.pen.id, "quantity": 1}] * 2
    response = await client.post("/api/orders", json={"items": items}, headers=shop.as_(shop.alice))
    error = error_of(response, 422, "VALIDATION_ERROR")
    assert str(shop.pen.id) in error["details"]["errors"][0]["msg"]


# --- read -----------------------------------------------------------------------------------
async def test_customers_list_their_own_orders_admins_list_all(
    client: httpx.AsyncClient, shop: Shop
) -> None:
    mine = await place(client, shop, shop.alice, (shop.pen, 1))
    theirs = await place(client, shop, shop.bob, (shop.ink, 1))

    alice = (await client.get("/api/orders", headers=shop.as_(shop.alice))).json()
    assert [o["id"] for o in alice["items"]] == [mine["id"]]
    assert alice["total"] == 1
    assert alice["items"][0]["items"][0]["product_id"] == shop.pen.id  # items included

    admin = (await client.get("/api/orders", headers=shop.as_(shop.admin))).json()
    assert {o["id"] for o in admin["items"]} == {mine["id"], theirs["id"]}

    only_bob = await client.get(
        "/api/orders", params={"user_id": shop.bob.id}, headers=shop.as_(shop.admin)
    )
    assert [o["id"] for o in only_bob.json()["items"]] == [theirs["id"]]


async def test_a_customer_cannot_list_someone_elses_orders_by_user_id(
    client: httpx.AsyncClient, shop: Shop
) -> None:
    await place(client, shop, shop.bob, (shop.ink, 1))
    mine = await place(client, shop, shop.alice, (shop.pen, 1))
    response = await client.get(
        "/api/orders", params={"user_id": shop.bob.id}, headers=shop.as_(shop.alice)
    )
    assert response.status_code == 200
    assert response.json()["items"] == []
    assert response.json()["total"] == 0
    own = await client.get(
        "/api/orders", params={"user_id": shop.alice.id}, headers=shop.as_(shop.alice)
    )
    assert [o["id"] for o in own.json()["items"]] == [mine["id"]]


async def test_list_filters_by_status_sorts_and_pages(
    client: httpx.AsyncClient, shop: Shop
) -> None:
    small = await insert_order(shop.url, shop.alice, [(shop.ink, 1)])
    big = await insert_order(shop.url, shop.alice, [(shop.pen, 4)], OrderStatus.PAID)
    medium = await insert_order(shop.url, shop.alice, [(shop.pen, 2)])
    headers = shop.as_(shop.alice)

    paid = (await client.get("/api/orders", params={"status": "paid"}, headers=headers)).json()
    assert [o["id"] for o in paid["items"]] == [big.id]

    cheapest_first = await client.get(
        "/api/orders", params={"sort": "total_cents", "page_size": 2}, headers=headers
    )
    page = cheapest_first.json()
    assert [o["id"] for o in page["items"]] == [small.id, medium.id]
    assert (page["total"], page["pages"], page["has_next"]) == (3, 2, True)

    second = await client.get(
        "/api/orders", params={"sort": "-total_cents", "page": 2, "page_size": 2}, headers=headers
    )
    assert [o["id"] for o in second.json()["items"]] == [small.id]

    newest_first = await client.get("/api/orders", headers=headers)
    assert [o["id"] for o in newest_first.json()["items"]] == [medium.id, big.id, small.id]
    oldest_first = await client.get("/api/orders", params={"sort": "created_at"}, headers=headers)
    assert [o["id"] for o in oldest_first.json()["items"]] == [small.id, big.id, medium.id]


@pytest.mark.parametrize(
    "params",
    [
        {"sort": "hashed_password"},
        {"sort": "user_id; DROP TABLE orders"},
        {"status": "lost"},
        {"page_size": 101},
        {"page": 0},
        {"user_id": 0},
        {"user_id": 2**70},
    ],
    ids=lambda p: "-".join(f"{k}={v}" for k, v in p.items())[:30],
)
async def test_list_rejects_anything_off_the_allow_list(
    client: httpx.AsyncClient, shop: Shop, params: dict[str, Any]
) -> None:
    response = await client.get("/api/orders", params=params, headers=shop.as_(shop.admin))
    error_of(response, 422, "VALIDATION_ERROR")


@contextmanager
def count_statements() -> Iterator[list[str]]:
    """Record every SQL statement any engine sends while the block runs."""
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(Engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(Engine, "before_cursor_execute", record)


async def test_listing_costs_the_same_queries_for_1_or_many_orders(
    client: httpx.AsyncClient, shop: Shop
) -> None:
    """No N+1: the items of the whole page are joined into the page's one query."""
    headers = shop.as_(shop.admin)
    await insert_order(shop.url, shop.alice, [(shop.pen, 1), (shop.ink, 1)])
    with count_statements() as one:
        first = await client.get("/api/orders", headers=headers)
    assert len(first.json()["items"]) == 1

    for user in (shop.alice, shop.bob, shop.admin, shop.bob, shop.alice, shop.bob):
        await insert_order(shop.url, user, [(shop.pen, 2), (shop.ink, 3)])
    with count_statements() as many:
        second = await client.get("/api/orders", headers=headers)
    assert len(second.json()["items"]) == 7
    assert sum(len(o["items"]) for o in second.json()["items"]) == 14

    assert len(many) == len(one), many
    # the user; the page of orders with their items and the total
    assert len(one) <= 2, one


async def test_a_page_holds_page_size_orders_however_many_items_they_have(
    client: httpx.AsyncClient, shop: Shop
) -> None:
    """The joined items must not eat into the ``LIMIT``: it applies to orders."""
    placed = [
        await insert_order(shop.url, shop.alice, [(shop.pen, n), (shop.ink, n)]) for n in (1, 2, 3)
    ]
    headers = shop.as_(shop.alice)
    pages = [
        (await client.get("/api/orders", params={"page": n, "page_size": 2}, headers=headers))
        for n in (1, 2, 3)
    ]
    bodies = [page.json() for page in pages]
    assert [[o["id"] for o in body["items"]] for body in bodies] == [
        [placed[2].id, placed[1].id],
        [placed[0].id],
        [],  # past the last page: no row carries the total, so it is counted apart
    ]
    assert [body["total"] for body in bodies] == [3, 3, 3]
    for body in bodies[:2]:
        for order in body["items"]:
            assert sorted(item["product_id"] for item in order["items"]) == sorted(
                [shop.pen.id, shop.ink.id]
            )


async def test_owner_and_admin_can_read_an_order(client: httpx.AsyncClient, shop: Shop) -> None:
    order = await place(client, shop, shop.alice, (shop.pen, 2))
    for user in (shop.alice, shop.admin):
        response = await client.get(f"/api/orders/{order['id']}", headers=shop.as_(user))
        assert response.status_code == 200
        assert response.json() == order


# --- status workflow -------------------------------------------------------------------------
async def test_admin_moves_an_order_through_the_whole_workflow(
    client: httpx.AsyncClient, shop: Shop
) -> None:
    order = await place(client, shop, shop.alice, (shop.pen, 1))
    previous = datetime.fromisoformat(order["updated_at"])
    for target in ("paid", "shipped", "delivered"):
        response = await client.patch(
            f"/api/orders/{order['id']}/status",
            json={"status": target},
            headers=shop.as_(shop.admin),
        )
        assert response.status_code == 200, response.text
        assert response.json()["status"] == target
        updated_at = datetime.fromisoformat(response.json()["updated_at"])
        assert updated_at > previous
        previous = updated_at
    stored = await client.get(f"/api/orders/{order['id']}", headers=shop.as_(shop.alice))
    assert stored.json()["status"] == "delivered"
    assert await stock_of(shop.url, shop.pen.id) == 9  # delivered goods stay sold


@pytest.mark.parametrize("start", [OrderStatus.PENDING, OrderStatus.PAID])
@pytest.mark.parametrize("who", ["owner", "admin"])
async def test_cancelling_puts_the_items_back_in_stock(
    client: httpx.AsyncClient, shop: Shop, start: OrderStatus, who: str
) -> None:
    order = await place(client, shop, shop.alice, (shop.pen, 3), (shop.ink, 5))
    if start is OrderStatus.PAID:
        await run_sql(
            shop.url, update(Order).where(Order.id == order["id"]).values(status=OrderStatus.PAID)
        )
    assert (await stock_of(shop.url, shop.pen.id), await stock_of(shop.url, shop.ink.id)) == (7, 0)
    actor = shop.alice if who == "owner" else shop.admin
    response = await client.patch(
        f"/api/orders/{order['id']}/status", json={"status": "cancelled"}, headers=shop.as_(actor)
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "cancelled"
    assert (await stock_of(shop.url, shop.pen.id), await stock_of(shop.url, shop.ink.id)) == (10, 5)


async def test_cancelling_twice_does_not_restock_twice(
    client: httpx.AsyncClient, shop: Shop
) -> None:
    order = await place(client, shop, shop.alice, (shop.ink, 2))
    url = f"/api/orders/{order['id']}/status"
    first = await client.patch(url, json={"status": "cancelled"}, headers=shop.as_(shop.alice))
    assert first.status_code == 200
    second = await client.patch(url, json={"status": "cancelled"}, headers=shop.as_(shop.alice))
    error = error_of(second, 409, "INVALID_TRANSITION")
    assert error["details"] == {"from": "cancelled", "to": "cancelled", "allowed": []}
    assert await stock_of(shop.url, shop.ink.id) == 5


async def test_every_transition_outside_the_table_is_409_with_the_allowed_ones(
    client: httpx.AsyncClient, shop: Shop
) -> None:
    """All 25 (from, to) pairs, as an admin (who may do anything the workflow allows)."""
    for current in OrderStatus:
        for target in OrderStatus:
            order = await insert_order(shop.url, shop.bob, [(shop.pen, 1)], current)
            response = await client.patch(
                f"/api/orders/{order.id}/status",
                json={"status": target.value},
                headers=shop.as_(shop.admin),
            )
            if target in TRANSITIONS[current]:
                assert response.status_code == 200, (current, target)
                continue
            error = error_of(response, 409, "INVALID_TRANSITION")
            assert error["details"]["from"] == current.value
            assert error["details"]["to"] == target.value
            assert set(error["details"]["allowed"]) == {s.value for s in TRANSITIONS[current]}


@pytest.mark.parametrize("target", ["paid", "shipped", "delivered", "pending"])
async def test_a_customer_may_only_cancel_their_order(
    client: httpx.AsyncClient, shop: Shop, target: str
) -> None:
    order = await place(client, shop, shop.alice, (shop.pen, 1))
    response = await client.patch(
        f"/api/orders/{order['id']}/status", json={"status": target}, headers=shop.as_(shop.alice)
    )
    error_of(response, 403, "FORBIDDEN")
    stored = await client.get(f"/api/orders/{order['id']}", headers=shop.as_(shop.alice))
    assert stored.json()["status"] == "pending"


async def test_a_customer_cannot_cancel_a_shipped_order(
    client: httpx.AsyncClient, shop: Shop
) -> None:
    order = await insert_order(shop.url, shop.alice, [(shop.pen, 1)], OrderStatus.SHIPPED)
    response = await client.patch(
        f"/api/orders/{order.id}/status", json={"status": "cancelled"}, headers=shop.as_(shop.alice)
    )
    error = error_of(response, 409, "INVALID_TRANSITION")
    assert error["details"] == {"from": "shipped", "to": "cancelled", "allowed": ["delivered"]}


@pytest.mark.parametrize(
    "body", [{"status": "refunded"}, {}, {"status": "paid", "total_cents": 0}, {"status": None}]
)
async def test_invalid_status_bodies_are_422(
    client: httpx.AsyncClient, shop: Shop, body: dict[str, Any]
) -> None:
    order = await insert_order(shop.url, shop.alice, [(shop.pen, 1)])
    response = await client.patch(
        f"/api/orders/{order.id}/status", json=body, headers=shop.as_(shop.admin)
    )
    error_of(response, 422, "VALIDATION_ERROR")


async def test_a_concurrent_change_between_read_and_write_is_409_order_changed(
    client: httpx.AsyncClient, shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The status write is compare-and-set: if another request changes the order after
    we read it, ours writes nothing (and restocks nothing) instead of overwriting it."""
    order = await place(client, shop, shop.alice, (shop.ink, 2))
    original_get = OrderRepository.get

    async def get_then_someone_else_ships_it(
        self: OrderRepository, order_id: int, *, owner_id: int | None = None
    ) -> Order | None:
        loaded = await original_get(self, order_id, owner_id=owner_id)
        await run_sql(
            shop.url, update(Order).where(Order.id == order_id).values(status=OrderStatus.PAID)
        )
        return loaded  # still says "pending"

    monkeypatch.setattr(OrderRepository, "get", get_then_someone_else_ships_it)
    response = await client.patch(
        f"/api/orders/{order['id']}/status",
        json={"status": "cancelled"},
        headers=shop.as_(shop.alice),
    )
    error = error_of(response, 409, "ORDER_CHANGED")
    assert error["details"] == {"order_id": order["id"]}
    assert await scalar(shop.url, select(Order.status).where(Order.id == order["id"])) == "paid"
    assert await stock_of(shop.url, shop.ink.id) == 3  # nothing restocked


class FailingNotifier:
    """A notifier whose backend is down."""

    async def publish(self, channel: str, message: Message) -> None:
        raise NotifierError("redis is down")

    def subscribe(self, channel: str) -> Any:  # pragma: no cover - not used here
        raise NotifierError("redis is down")

    async def close(self) -> None:  # pragma: no cover - not used here
        return None


async def test_a_notifier_outage_does_not_fail_a_committed_change(
    app: FastAPI, client: httpx.AsyncClient, shop: Shop
) -> None:
    order = await place(client, shop, shop.alice, (shop.pen, 1))
    app.dependency_overrides[get_notifier] = FailingNotifier
    with capture_logs() as logs:
        response = await client.patch(
            f"/api/orders/{order['id']}/status",
            json={"status": "paid"},
            headers=shop.as_(shop.admin),
        )
    assert response.status_code == 200
    assert response.json()["status"] == "paid"
    assert any(entry["event"] == "order_notification_failed" for entry in logs)


# --- who may see what ---------------------------------------------------------------------
ROUTES = [
    ("GET", "/api/orders/{id}", None),
    ("PATCH", "/api/orders/{id}/status", {"status": "cancelled"}),
    ("PATCH", "/api/orders/{id}/status", {"status": "paid"}),
]


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
async def test_another_users_order_is_404_exactly_like_a_missing_one(
    client: httpx.AsyncClient, shop: Shop, method: str, path: str, body: dict[str, str] | None
) -> None:
    order = await place(client, shop, shop.alice, (shop.pen, 1))
    missing = order["id"] + 1000
    foreign = await client.request(
        method, path.format(id=order["id"]), json=body, headers=shop.as_(shop.bob)
    )
    absent = await client.request(
        method, path.format(id=missing), json=body, headers=shop.as_(shop.bob)
    )
    foreign_error = error_of(foreign, 404, "NOT_FOUND")
    absent_error = error_of(absent, 404, "NOT_FOUND")
    assert foreign_error["details"] == {"resource": "Order", "identifier": str(order["id"])}
    assert foreign_error["message"].replace(str(order["id"]), "#") == absent_error[
        "message"
    ].replace(str(missing), "#")
    stored = await client.get(f"/api/orders/{order['id']}", headers=shop.as_(shop.alice))
    assert stored.json()["status"] == "pending"  # and nothing changed


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/orders"),
        ("POST", "/api/orders"),
        ("GET", "/api/orders/1"),
        ("PATCH", "/api/orders/1/status"),
    ],
)
async def test_every_route_needs_a_valid_token(
    client: httpx.AsyncClient, shop: Shop, method: str, path: str
) -> None:
    body = {"items": [{"product_id": 1, "quantity": 1}]} if method == "POST" else None
    for headers in ({}, {"Authorization": "Bearer not-a-token"}):
        response = await client.request(method, path, json=body, headers=headers)
        error_of(response, 401, "UNAUTHORIZED")
        assert response.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize("order_id", ["0", "-1", "abc", str(2**70)])
async def test_malformed_order_ids_are_422(
    client: httpx.AsyncClient, shop: Shop, order_id: str
) -> None:
    response = await client.get(f"/api/orders/{order_id}", headers=shop.as_(shop.alice))
    error_of(response, 422, "VALIDATION_ERROR")


async def test_deleting_a_user_deletes_their_orders(client: httpx.AsyncClient, shop: Shop) -> None:
    await place(client, shop, shop.bob, (shop.pen, 1), (shop.ink, 1))
    await place(client, shop, shop.alice, (shop.pen, 1))
    await run_sql(shop.url, delete(User).where(User.id == shop.bob.id))
    assert await scalar(shop.url, select(func.count()).select_from(Order)) == 1
    assert await scalar(shop.url, select(func.count()).select_from(OrderItem)) == 1


def test_model_reprs_name_the_row_and_nothing_more() -> None:
    order = Order(id=1, user_id=2, status=OrderStatus.PAID)
    item = OrderItem(order_id=1, product_id=3, quantity=4)
    assert repr(order) == "Order(id=1, user_id=2, status=<OrderStatus.PAID: 'paid'>)"
    assert repr(item) == "OrderItem(order_id=1, product_id=3, quantity=4)"
