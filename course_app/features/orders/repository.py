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

A page of orders is one statement (:func:`page_statement`): the orders, their total as a
scalar subquery, and their items through ``joinedload``. SQLAlchemy applies the
``LIMIT`` to the orders in a subquery and joins the items to that, so the page still
holds ``limit`` orders however many items they have. Lesson 06's rule of thumb prefers
``selectinload`` for collections, and it is the right default: ``joinedload`` repeats each
order's columns on every item row. Here a page is capped at 100 orders of a few items
each, and one round trip instead of three measured faster (bench/README.md). As in the
products listing, each query shape's statement is built once, its values bound at
execution.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, Final

from sqlalchemy import ColumnElement, Select, UnaryExpression, bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from course_app.features.orders.models import Order, OrderStatus
from course_app.features.orders.schemas import OrderSort
from course_app.features.products.models import Product

_SORTS: Final[dict[OrderSort, tuple[UnaryExpression[Any], ...]]] = {
    # ``id`` breaks ties: without it, rows with equal keys may swap between pages.
    "-created_at": (Order.created_at.desc(), Order.id.desc()),
    "created_at": (Order.created_at.asc(), Order.id.asc()),
    "-total_cents": (Order.total_cents.desc(), Order.id.desc()),
    "total_cents": (Order.total_cents.asc(), Order.id.asc()),
}


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
        conditions.append(Order.user_id == bindparam("user_id"))
    if by_status:
        conditions.append(Order.status == bindparam("status"))
    return tuple(conditions)


@cache
def count_statement(by_user: bool, by_status: bool) -> Select[int]:
    return select(func.count()).select_from(Order).where(*filter_conditions(by_user, by_status))


@cache
def page_statement(by_user: bool, by_status: bool, sort: OrderSort) -> Select[Order, int]:
    """A page of orders with their items, each order carrying the total as ``total``.
    Built once per shape (16 of them); ``offset`` and ``limit`` are bound at execution."""
    total = count_statement(by_user, by_status).scalar_subquery().label("total")
    return (
        select(Order, total)
        .where(*filter_conditions(by_user, by_status))
        .order_by(*_SORTS[sort])
        .offset(bindparam("offset"))
        .limit(bindparam("limit"))
        .options(joinedload(Order.items))
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
    ) -> tuple[list[Order], int]:
        """One page of orders with their items, and the total: one statement.

        An empty page has no row to carry the total: on the first page that means there
        are none; past the last page, one ``SELECT count(*)`` says how many there are.
        """
        by_user, by_status = filters.user_id is not None, filters.status is not None
        values = filters.parameters()
        result = await self.session.execute(
            page_statement(by_user, by_status, sort), {**values, "offset": offset, "limit": limit}
        )
        # joinedload repeats an order on each of its item rows: unique() folds them back
        rows = result.unique().all()
        if rows:
            return [order for order, _total in rows], rows[0].total
        if offset == 0:
            return [], 0
        total = await self.session.scalar(count_statement(by_user, by_status), values)
        return [], total or 0

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
