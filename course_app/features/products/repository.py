"""Every query of the ``products`` feature, and nothing else.

The seed's generic ``list(**filters)`` did ``getattr(Model, field)`` for whatever names
the caller passed: any column (``hashed_password`` on another model) became filterable.
Here the filters are the fields of :class:`ProductListQuery` and the sort orders are the
keys of :data:`SORT_ORDERS`: an allow-list, with no name from the request ever turned
into an attribute lookup.

N+1 note: products have no relationships today, so one ``SELECT`` returns everything a
page needs. The list query still says ``raiseload("*")``: if a relationship is added
later and a response touches it, the test suite fails loudly instead of the listing
silently issuing one extra query per row. Load it with ``selectinload`` then.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import raiseload

from course_app.features.products.models import Product
from course_app.features.products.schemas import ProductListQuery, ProductSort

# Every order ends with the primary key: rows with equal names or prices would
# otherwise come back in any order, and a row could appear on two pages or on none.
SORT_ORDERS: Final[Mapping[ProductSort, tuple[ColumnElement[Any], ...]]] = {
    ProductSort.ID: (Product.id.asc(),),
    ProductSort.NAME: (Product.name.asc(), Product.id.asc()),
    ProductSort.NAME_DESC: (Product.name.desc(), Product.id.desc()),
    ProductSort.PRICE: (Product.price_cents.asc(), Product.id.asc()),
    ProductSort.PRICE_DESC: (Product.price_cents.desc(), Product.id.desc()),
    ProductSort.CREATED: (Product.created_at.asc(), Product.id.asc()),
    ProductSort.CREATED_DESC: (Product.created_at.desc(), Product.id.desc()),
}


def public_conditions(query: ProductListQuery) -> list[ColumnElement[bool]]:
    """The ``WHERE`` clause of the public listing, shared by the page and the count
    queries so the two can never disagree."""
    conditions: list[ColumnElement[bool]] = [Product.is_active.is_(True)]
    if query.category is not None:
        conditions.append(Product.category == query.category)
    if query.min_price_cents is not None:
        conditions.append(Product.price_cents >= query.min_price_cents)
    if query.max_price_cents is not None:
        conditions.append(Product.price_cents <= query.max_price_cents)
    if query.q is not None:
        # ILIKE on PostgreSQL, lower() LIKE lower() on SQLite; autoescape makes a "%" or
        # "_" typed by the user match itself instead of acting as a wildcard.
        conditions.append(Product.name.icontains(query.q, autoescape=True))
    if query.in_stock is True:
        conditions.append(Product.stock > 0)
    elif query.in_stock is False:
        conditions.append(Product.stock == 0)
    return conditions


class ProductRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, product_id: int) -> Product | None:
        return await self.session.get(Product, product_id)

    async def get_by_sku(self, sku: str) -> Product | None:
        result = await self.session.scalars(select(Product).where(Product.sku == sku))
        return result.one_or_none()

    def add(self, product: Product) -> None:
        self.session.add(product)

    async def delete(self, product: Product) -> None:
        await self.session.delete(product)

    async def list_public(
        self, query: ProductListQuery, *, offset: int, limit: int
    ) -> tuple[Sequence[Product], int]:
        """One page of active products and the total matching the same filters.

        Two queries: the page, and ``SELECT count(*)`` over the same ``WHERE`` (not
        ``len()`` of a full fetch, not a window function that some backends plan badly).
        """
        conditions = public_conditions(query)
        total = await self.session.scalar(
            select(func.count()).select_from(Product).where(*conditions)
        )
        page = (
            select(Product)
            .where(*conditions)
            .order_by(*SORT_ORDERS[query.sort])
            .offset(offset)
            .limit(limit)
            .options(raiseload("*"))
        )
        rows = await self.session.scalars(page)
        return rows.all(), total or 0

    async def list_after(self, after_id: int | None, limit: int) -> Sequence[Product]:
        """Keyset page: active products with ``id > after_id``, in id order.

        ``WHERE id > :last ORDER BY id LIMIT n`` walks the primary-key index; unlike
        ``OFFSET`` it costs the same on page 1 and on page 10 000, and rows inserted
        while a client pages through do not shift what it sees.
        """
        statement = select(Product).where(Product.is_active.is_(True))
        if after_id is not None:
            statement = statement.where(Product.id > after_id)
        rows = await self.session.scalars(
            statement.order_by(Product.id.asc()).limit(limit).options(raiseload("*"))
        )
        return rows.all()
