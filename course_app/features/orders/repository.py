"""Every query of the ``orders`` feature, and nothing else (no commits, no HTTP).

Two patterns worth copying:

* **Atomic conditional updates** instead of read-modify-write. ``reserve_stock`` is one
  ``UPDATE products SET stock = stock - :q WHERE id = :id AND stock >= :q`` whose row
  count (here: the row it returns) says whether it happened. Two concurrent buyers of the
  last unit cannot both succeed: the database serialises the two updates and re-checks
  the ``WHERE`` for the second one. ``set_status`` does the same for the order workflow
  (compare-and-set on the status the caller saw).
* **Allow-listed filters and sorts**: the caller picks from fixed options; no user input
  is ever turned into a column name (no ``getattr(Order, field)``).

A page of orders is one statement (:func:`page_statement`): the page of orders, with
their total as a scalar subquery, in a subquery of its own, and their items joined to
it. The ``LIMIT`` applies to orders, so a page holds ``limit`` orders however many items
they have. It is a read, so it selects columns and builds plain records
(:class:`ListedOrder`): no unit of work, no identity map, nothing to lazy-load. Lesson
06's rule of thumb prefers ``selectinload`` for collections, and for ORM objects it is
the right default: a join repeats each order's columns on every item row. Here a page is
capped at 100 orders of a few items each, and one round trip of rows measured much
cheaper than three with ORM objects (bench/README.md). As in the products listing, each
query shape's statement is built once and its values are bound at execution.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, Final, TypedDict

from sqlalchemy import (
    ColumnElement,
    Select,
    UnaryExpression,
    asc,
    bindparam,
    desc,
    func,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from course_app.features.orders.models import Order, OrderItem, OrderStatus
from course_app.features.orders.schemas import OrderSort
from course_app.features.products.models import Product

#: Sort key and direction (descending?) per allowed sort. ``id`` breaks ties: without it,
#: rows with equal keys may swap between pages.
_SORTS: Final[dict[OrderSort, tuple[str, bool]]] = {
    "-created_at": ("created_at", True),
    "created_at": ("created_at", False),
    "-total_cents": ("total_cents", True),
    "total_cents": ("total_cents", False),
}


def _ordering(
    column: Callable[[str], ColumnElement[Any]], sort: OrderSort
) -> tuple[UnaryExpression[Any], ...]:
    name, descending = _SORTS[sort]
    direction = desc if descending else asc
    return direction(column(name)), direction(column("id"))


class ListedItem(TypedDict):
    product_id: int
    quantity: int
    unit_price_cents: int


class ListedOrder(TypedDict):
    """An order as a listing reads it: a plain record (a dict), not a tracked ORM object.
    ``OrderResponse`` validates it like an ``Order``, and faster: a dict is the quickest
    input for Pydantic, and the cheapest record to build for 100 orders."""

    id: int
    user_id: int
    status: OrderStatus
    total_cents: int
    created_at: datetime
    updated_at: datetime
    items: list[ListedItem]


@dataclass(frozen=True)
class OrderFilters:
    """The only ways to narrow an order listing. ``user_id`` is also how the service
    scopes a customer to their own orders."""

    user_id: int | None = None
    status: OrderStatus | None = None

    def parameters(self) -> dict[str, Any]:
        """The values of the bound parameters :func:`filter_conditions` names."""
        values: dict[str, Any] = {}
        if self.user_id is not None:
            values["user_id"] = self.user_id
        if self.status is not None:
            values["status"] = self.status
        return values


@cache
def filter_conditions(by_user: bool, by_status: bool) -> tuple[ColumnElement[bool], ...]:
    """The ``WHERE`` of a listing: which filters are set decides the SQL, their values
    are bound parameters (see :meth:`OrderFilters.parameters`)."""
    conditions: list[ColumnElement[bool]] = []
    if by_user:
        conditions.append(Order.__table__.c.user_id == bindparam("user_id"))
    if by_status:
        conditions.append(Order.__table__.c.status == bindparam("status"))
    return tuple(conditions)


@cache
def count_statement(by_user: bool, by_status: bool) -> Select[int]:
    return (
        select(func.count())
        .select_from(Order.__table__)
        .where(*filter_conditions(by_user, by_status))
    )


@cache
def page_statement(by_user: bool, by_status: bool, sort: OrderSort) -> Select[Any]:
    """A page of orders joined to their items; every row carries the page's ``total``.
    Built once per shape (16 of them); ``offset`` and ``limit`` are bound at execution.

    It selects the tables' columns (``Order.__table__.c``), not the mapped attributes
    (``Order.id``): a statement of plain columns runs on SQLAlchemy's Core path, without
    the ORM's compile and row-loading steps, which only serve ORM objects."""
    orders, items = Order.__table__.c, OrderItem.__table__.c
    total = count_statement(by_user, by_status).scalar_subquery().label("total")
    page = (
        select(
            orders.id,
            orders.user_id,
            orders.status,
            orders.total_cents,
            orders.created_at,
            orders.updated_at,
            total,
        )
        .where(*filter_conditions(by_user, by_status))
        .order_by(*_ordering(lambda name: orders[name], sort))
        .offset(bindparam("offset"))
        .limit(bindparam("limit"))
        .subquery("page")
    )
    return (
        select(page, items.product_id, items.quantity, items.unit_price_cents)
        .outerjoin(OrderItem.__table__, items.order_id == page.c.id)
        .order_by(*_ordering(lambda name: page.c[name], sort), items.id)
    )


@dataclass(frozen=True)
class ProductStock:
    is_active: bool
    stock: int


class OrderRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, order_id: int, *, owner_id: int | None = None) -> Order | None:
        """The order with its items; with ``owner_id``, only if that user owns it.

        Ownership is part of the query, not a check after loading: another user's order
        is simply not found.
        """
        query = select(Order).options(joinedload(Order.items)).where(Order.id == order_id)
        if owner_id is not None:
            query = query.where(Order.user_id == owner_id)
        return (await self.session.execute(query)).unique().scalar_one_or_none()

    async def find_page(
        self, filters: OrderFilters, *, sort: OrderSort, offset: int, limit: int
    ) -> tuple[list[ListedOrder], int]:
        """One page of orders with their items, and the total: one statement.

        An empty page has no row to carry the total: on the first page that means there
        are none; past the last page, one ``SELECT count(*)`` says how many there are.
        """
        by_user, by_status = filters.user_id is not None, filters.status is not None
        values = filters.parameters()
        result = await self.session.execute(
            page_statement(by_user, by_status, sort), {**values, "offset": offset, "limit": limit}
        )
        rows = result.all()
        if not rows:
            if offset == 0:
                return [], 0
            return [], await self.session.scalar(count_statement(by_user, by_status), values) or 0
        orders: dict[int, ListedOrder] = {}  # rows arrive in page order, an order's items together
        # Unpacked by position, in the statement's column order (a name lookup per value
        # cost more than the rest of the loop).
        for (
            order_id, user_id, status, total_cents, created, updated, _total,
            product_id, quantity, unit_price_cents,
        ) in rows:  # fmt: skip
            order = orders.get(order_id)
            if order is None:
                order = orders[order_id] = {
                    "id": order_id,
                    "user_id": user_id,
                    "status": status,
                    "total_cents": total_cents,
                    "created_at": created,
                    "updated_at": updated,
                    "items": [],
                }
            if product_id is not None:  # an order without items (none are created)
                item: ListedItem = {
                    "product_id": product_id,
                    "quantity": quantity,
                    "unit_price_cents": unit_price_cents,
                }
                order["items"].append(item)
        return list(orders.values()), rows[0].total

    def add(self, order: Order) -> None:
        self.session.add(order)

    async def reserve_stock(self, product_id: int, quantity: int) -> int | None:
        """Take ``quantity`` units of an active product off its stock, atomically.

        Returns the product's current price (read by the same statement, so the price
        and the reservation belong together), or ``None`` when no row matched: the
        product is unknown, inactive, or has fewer than ``quantity`` units left.
        """
        statement = (
            update(Product)
            .where(
                Product.id == product_id,
                Product.is_active.is_(True),
                Product.stock >= quantity,
            )
            .values(stock=Product.stock - quantity)
            .returning(Product.price_cents)
            # No Product objects live in this unit of work: nothing to synchronise.
            .execution_options(synchronize_session=False)
        )
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def release_stock(self, product_id: int, quantity: int) -> None:
        """Put ``quantity`` units back (a cancelled order). Relative, so it cannot
        overwrite a concurrent change to the same product."""
        await self.session.execute(
            update(Product)
            .where(Product.id == product_id)
            .values(stock=Product.stock + quantity)
            .execution_options(synchronize_session=False)
        )

    async def product_stock(self, product_id: int) -> ProductStock | None:
        """Why did a reservation fail? Read only to build the error message."""
        row = (
            await self.session.execute(
                select(Product.is_active, Product.stock).where(Product.id == product_id)
            )
        ).one_or_none()
        return None if row is None else ProductStock(is_active=row.is_active, stock=row.stock)

    async def set_status(
        self, order: Order, *, expected: OrderStatus, new: OrderStatus, at: datetime
    ) -> bool:
        """Compare-and-set: move ``order`` to ``new`` only if it is still ``expected``.

        ``False`` means a concurrent request changed it first (and nothing was written).
        The in-memory ``order`` is updated too (``synchronize_session``).
        """
        statement = (
            update(Order)
            .where(Order.id == order.id, Order.status == expected)
            .values(status=new, updated_at=at)
            .returning(Order.id)
            .execution_options(synchronize_session="fetch")
        )
        return (await self.session.execute(statement)).scalar_one_or_none() is not None
