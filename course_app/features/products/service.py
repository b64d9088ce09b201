"""Business rules of the ``products`` feature: who sees what, what a write must check,
when the listing cache is trusted and when it is thrown away.

Every write commits *before* it returns (so the router never answers 201 for a row
that is not in the database), then invalidates the listing cache, then cleans up files.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from pydantic import TypeAdapter
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from course_app.core.cache import Cache, SingleFlight
from course_app.core.database import Database
from course_app.core.logging import get_logger
from course_app.features.products.exceptions import (
    DuplicateSkuError,
    ProductImageNotFoundError,
    ProductInUseError,
    ProductNotFoundError,
)
from course_app.features.products.models import Product
from course_app.features.products.repository import (
    LISTING_KEYS,
    ProductRepository,
    public_page,
)
from course_app.features.products.schemas import (
    MAX_PRODUCT_ID,
    ProductCreate,
    ProductListQuery,
    ProductResponse,
    ProductUpdate,
    image_url,
)
from course_app.features.products.storage import AsyncReader, ImageStorage, UnsafePathError
from course_app.shared.pagination import (
    CursorPage,
    InvalidCursorError,
    Page,
    PageParams,
    decode_cursor,
    encode_cursor,
)

CACHE_NAMESPACE: Final = "products"
#: One page of the public listing, as validated and serialized by ``ProductCatalog``.
LISTING_PAGE: Final = TypeAdapter(Page[ProductResponse])
log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class CachedBody:
    """A serialized listing page and whether it came from the cache."""

    body: bytes
    hit: bool


@dataclass(frozen=True, slots=True)
class ImageFile:
    path: str
    media_type: str


class ProductCatalog:
    """The public listing, cache first: a hit touches neither a session nor the database.

    It is not a ``ProductService`` method because that service is built on the request's
    session, and a session handed out by a dependency costs about as much as a whole cache
    hit (FastAPI opens it before the handler and closes it after, under a cancel-shield,
    even when nothing used it: bench/README.md measures it). The catalog opens a
    connection only on a miss, for the one query, and returns it at once; it needs no
    session at all, since a read has no unit of work to track.
    """

    def __init__(
        self,
        database: Database,
        cache: Cache,
        fills: SingleFlight[bytes] | None,
        *,
        cache_ttl: int,
    ) -> None:
        self.database = database
        self.cache = cache
        self.fills = fills
        self.cache_ttl = cache_ttl

    async def list_public(self, query: ProductListQuery, page: PageParams) -> CachedBody:
        """The JSON body of one listing page, from the cache when possible.

        What is cached is the *serialized* page: a hit costs the namespace's version and
        one cache read, and no database, no ORM and no Pydantic work at all. ``is not
        None`` (not the seed's ``if cached:``) makes an empty page a hit too. Concurrent
        misses for one page share one refill (``SingleFlight``): an expired popular page
        costs one query, not one per waiting request. Writes (``ProductService``) drop
        the whole namespace, so a changed product never stays listed at its old price,
        not even when the write lands while a refill is reading the database (the refill
        stores under the version it began from, and later requests do not join it).
        """
        key = f"list:page={page.page}:size={page.page_size}:{query.cache_key()}"
        # The version this request reads, and its refill stores under: a write during
        # the refill makes the stored page unreachable instead of stale (core/cache.py).
        version = await self.cache.version(CACHE_NAMESPACE)
        cached = await self.cache.get(CACHE_NAMESPACE, key, version=version)
        if cached is not None:
            return CachedBody(cached, hit=True)
        if self.fills is None:  # caching is off: every request reads the database itself
            return CachedBody(await self._fill(key, version, query, page), hit=False)
        # Keyed by version too: a request that arrives after a write never shares the
        # refill of one that began before it.
        body = await self.fills.run(
            f"v{version}:{key}", lambda: self._fill(key, version, query, page)
        )
        return CachedBody(body, hit=False)

    async def _fill(
        self, key: str, version: int, query: ProductListQuery, page: PageParams
    ) -> bytes:
        # A read needs no session (no unit of work): a bare connection, returned at once.
        async with self.database.engine.connect() as connection:
            rows, total = await public_page(connection, query, offset=page.offset, limit=page.limit)
        # Validated and serialized in one call each, not a model built per row.
        listing = {
            "items": [_listed(row) for row in rows],
            "total": total,
            "page": page.page,
            "page_size": page.page_size,
        }
        body = LISTING_PAGE.dump_json(LISTING_PAGE.validate_python(listing))
        await self.cache.set(CACHE_NAMESPACE, key, body, self.cache_ttl, version=version)
        return body


def _listed(row: Sequence[Any]) -> dict[str, Any]:
    """A listing row as a dict for validation. Built by position (``zip`` with the column
    names): a ``row._mapping`` and lookups by name cost more. The row's last column,
    ``total``, has no name here, and ``image_path`` is no field of the response:
    neither reaches the client."""
    item = dict(zip(LISTING_KEYS, row, strict=False))
    item["image_url"] = image_url(item["id"], item["image_path"])
    return item


class ProductService:
    def __init__(
        self, session: AsyncSession, cache: Cache, storage: ImageStorage, *, cache_ttl: int
    ) -> None:
        self.session = session
        self.repository = ProductRepository(session)
        self.cache = cache
        self.storage = storage
        self.cache_ttl = cache_ttl

    # --- public reads ------------------------------------------------------------

    async def feed(self, cursor: str | None, limit: int) -> CursorPage[ProductResponse]:
        """Keyset pagination by id; the cursor is opaque to clients."""
        after_id = None if cursor is None else _cursor_id(cursor)
        rows = await self.repository.list_after(after_id, limit + 1)  # one more: is there a next?
        items = rows[:limit]
        next_cursor = encode_cursor({"id": items[-1].id}) if len(rows) > limit else None
        return CursorPage[ProductResponse](
            items=[ProductResponse.from_product(product) for product in items],
            next_cursor=next_cursor,
        )

    async def get_public(self, product_id: int) -> ProductResponse:
        return ProductResponse.from_product(await self._get_active(product_id))

    async def image_file(self, product_id: int) -> ImageFile:
        product = await self._get_active(product_id)
        if product.image_path is None:
            raise ProductImageNotFoundError(product_id)
        try:
            path = await self.storage.path_of(product.image_path)
        except (FileNotFoundError, UnsafePathError) as exc:
            log.warning("product_image_unavailable", product_id=product_id, reason=str(exc))
            raise ProductImageNotFoundError(product_id) from exc
        return ImageFile(str(path), self.storage.media_type_of(product.image_path))

    # --- admin writes ------------------------------------------------------------

    async def create(self, data: ProductCreate) -> ProductResponse:
        if await self.repository.get_by_sku(data.sku) is not None:
            raise DuplicateSkuError(data.sku)
        product = Product(**data.model_dump())
        self.repository.add(product)
        await self._commit_or_duplicate_sku(data.sku)
        await self._invalidate()
        return ProductResponse.from_product(product)

    async def update(self, product_id: int, data: ProductUpdate) -> ProductResponse:
        product = await self._get(product_id)
        changes = data.changes()
        sku = changes.get("sku")
        if (
            sku is not None
            and sku != product.sku
            and await self.repository.get_by_sku(sku) is not None
        ):
            raise DuplicateSkuError(sku)
        for field, value in changes.items():  # field names of ProductUpdate only
            setattr(product, field, value)
        await self._commit_or_duplicate_sku(product.sku)
        await self._invalidate()
        return ProductResponse.from_product(product)

    async def delete(self, product_id: int) -> None:
        product = await self._get(product_id)
        image = product.image_path
        await self.repository.delete(product)
        try:
            await self.session.commit()
        except IntegrityError as exc:  # a foreign key (an order line) still points here
            await self.session.rollback()
            raise ProductInUseError(product_id) from exc
        await self._invalidate()
        await self.storage.delete(image)

    async def set_image(self, product_id: int, upload: AsyncReader) -> ProductResponse:
        """Store a new image and point the product at it; the old file is deleted only
        after the new path is committed, and the new file is deleted if the commit fails."""
        product = await self._get(product_id)
        stored = await self.storage.save(upload)
        previous = product.image_path
        product.image_path = stored.key
        try:
            await self.session.commit()
        except Exception:
            await self.storage.delete(stored.key)
            raise
        await self._invalidate()
        await self.storage.delete(previous)
        log.info("product_image_stored", product_id=product_id, bytes=stored.size)
        return ProductResponse.from_product(product)

    # --- helpers -----------------------------------------------------------------

    async def _get(self, product_id: int) -> Product:
        product = await self.repository.get(product_id)
        if product is None:
            raise ProductNotFoundError(product_id)
        return product

    async def _get_active(self, product_id: int) -> Product:
        product = await self._get(product_id)
        if not product.is_active:
            raise ProductNotFoundError(product_id)
        return product

    async def _commit_or_duplicate_sku(self, sku: str) -> None:
        """Commit; a unique violation here means another request took the SKU between
        our check and our commit (the only unique column the schemas let through)."""
        try:
            await self.session.commit()
        except IntegrityError as exc:
            await self.session.rollback()
            raise DuplicateSkuError(sku) from exc

    async def _invalidate(self) -> None:
        """Drop every cached listing page: one version bump, however many keys exist.

        Runs after the commit: invalidating first would let a concurrent reader cache
        the old rows again before the new ones are visible. (A reader that queried just
        before the commit can still store its stale page; the TTL bounds that window.)
        """
        await self.cache.invalidate(CACHE_NAMESPACE)


def _cursor_id(cursor: str) -> int:
    value = decode_cursor(cursor).get("id")
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_PRODUCT_ID:
        raise InvalidCursorError("Malformed cursor")
    return value
