"""Every query of the ``products`` feature, and nothing else.

The seed's generic ``list(**filters)`` did ``getattr(Model, field)`` for whatever names
the caller passed: any column (``hashed_password`` on another model) became filterable.
Here the filters are the fields of :class:`ProductListQuery` and the sort orders are the
keys of :data:`SORT_ORDERS`: an allow-list, with no name from the request ever turned
into an attribute lookup.

The public listing is the busiest query of the app, and it is built to be cheap:

* **One statement per page.** The total is a scalar subquery in the same ``SELECT``:
  one round trip instead of two, and the page and its total come from one snapshot, so
  they cannot disagree (two statements can, under PostgreSQL's READ COMMITTED).
* **Built once per shape.** The SQL of a listing depends only on *which* filters are set
  and on the sort, never on their values: the values travel as bound parameters. Each
  shape's statement is built on first use and kept (:func:`listing_statement`), and
  SQLAlchemy remembers the cache key of a statement object, so a repeated query skips
  both building the statement and walking it to find its compiled form (about 250 µs
  a statement here, measured in bench/README.md).
* **Columns, not entities.** The listing only reads, so it selects columns and gets
  rows: no identity map, no change tracking, and no relationship that could lazy-load
  (an N+1) from a row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, Final

from sqlalchemy import ColumnElement, Row, Select, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
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

#: What a listing row holds: what ``ProductResponse`` shows (``image_path`` becomes its URL).
LISTING_COLUMNS: Final = (
    Product.id,
    Product.sku,
    Product.name,
    Product.description,
    Product.category,
    Product.price_cents,
    Product.stock,
    Product.is_active,
    Product.image_path,
    Product.created_at,
    Product.updated_at,
)

#: Their names, in the same order.
LISTING_KEYS: Final = tuple(column.key for column in LISTING_COLUMNS)

LIKE_ESCAPE: Final = "/"


def escape_like(text: str) -> str:
    """``text`` as a literal inside a LIKE pattern: ``%`` and ``_`` typed by a user match
    themselves instead of acting as wildcards (escaped with :data:`LIKE_ESCAPE`)."""
    return (
        text.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2)
        .replace("%", LIKE_ESCAPE + "%")
        .replace("_", LIKE_ESCAPE + "_")
    )


@dataclass(frozen=True, slots=True)
class ListingShape:
    """Which filters a listing query sets, and its sort: everything its SQL depends on.
    There are 336 shapes (four optional filters, three stock choices, seven sorts), so
    keeping one statement per shape is bounded."""

    category: bool
    min_price: bool
    max_price: bool
    search: bool
    in_stock: bool | None
    sort: ProductSort

    @classmethod
    def of(cls, query: ProductListQuery) -> ListingShape:
        return cls(
            category=query.category is not None,
            min_price=query.min_price_cents is not None,
            max_price=query.max_price_cents is not None,
            search=query.q is not None,
            in_stock=query.in_stock,
            sort=query.sort,
        )


def listing_parameters(query: ProductListQuery) -> dict[str, Any]:
    """The values of the bound parameters that :func:`public_conditions` names."""
    values: dict[str, Any] = {}
    if query.category is not None:
        values["category"] = query.category
    if query.min_price_cents is not None:
        values["min_price_cents"] = query.min_price_cents
    if query.max_price_cents is not None:
        values["max_price_cents"] = query.max_price_cents
    if query.q is not None:
        values["q"] = escape_like(query.q)
    return values


@cache
def public_conditions(shape: ListingShape) -> tuple[ColumnElement[bool], ...]:
    """The ``WHERE`` clause of the public listing, shared by the page and the count
    queries so the two can never disagree. Values are bound parameters named as in
    :func:`listing_parameters`."""
    conditions: list[ColumnElement[bool]] = [Product.is_active.is_(True)]
    if shape.category:
        conditions.append(Product.category == bindparam("category"))
    if shape.min_price:
        conditions.append(Product.price_cents >= bindparam("min_price_cents"))
    if shape.max_price:
        conditions.append(Product.price_cents <= bindparam("max_price_cents"))
    if shape.search:
        # ILIKE on PostgreSQL, lower() LIKE lower() on SQLite; the value is escaped by
        # escape_like, so "%" or "_" typed by the user matches itself.
        conditions.append(Product.name.icontains(bindparam("q"), escape=LIKE_ESCAPE))
    if shape.in_stock is True:
        conditions.append(Product.stock > 0)
    elif shape.in_stock is False:
        conditions.append(Product.stock == 0)
    return tuple(conditions)


@cache
def count_statement(shape: ListingShape) -> Select[int]:
    return select(func.count()).select_from(Product).where(*public_conditions(shape))


@cache
def listing_statement(shape: ListingShape) -> Select[*tuple[Any, ...]]:
    """One page of listing rows, each carrying the total number of matches as ``total``
    (a scalar subquery: the database computes it once per statement, not per row)."""
    total = count_statement(shape).scalar_subquery().label("total")
    return (
        select(*LISTING_COLUMNS, total)
        .where(*public_conditions(shape))
        .order_by(*SORT_ORDERS[shape.sort])
        .offset(bindparam("offset"))
        .limit(bindparam("limit"))
    )


async def public_page(
    db: AsyncSession | AsyncConnection, query: ProductListQuery, *, offset: int, limit: int
) -> tuple[Sequence[Row[*tuple[Any, ...]]], int]:
    """One page of active products (rows of :data:`LISTING_COLUMNS`) and the total
    matching the same filters, in one statement.

    It takes a session or a bare connection: it only reads, and the public listing
    (``ProductCatalog``) runs it on a connection, skipping the session's unit of work.
    An empty page has no row to carry the total: on page 1 that means there are no
    matches; past the last page, one ``SELECT count(*)`` says how many there are.
    """
    shape = ListingShape.of(query)
    values = listing_parameters(query)
    result = await db.execute(
        listing_statement(shape), {**values, "offset": offset, "limit": limit}
    )
    rows = result.all()
    if rows:
        return rows, int(rows[0].total)
    if offset == 0:
        return rows, 0
    total = await db.scalar(count_statement(shape), values)
    return rows, total or 0


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
    ) -> tuple[Sequence[Row[*tuple[Any, ...]]], int]:
        """:func:`public_page` in this repository's session."""
        return await public_page(self.session, query, offset=offset, limit=limit)

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
