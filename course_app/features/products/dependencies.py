"""Dependencies of the ``products`` feature: the service, built per request from the
shared session, cache and settings, and the catalog (the cached public listing), built
without a session (tests replace any of them with ``app.dependency_overrides``).

They are ``async def`` although they await nothing: FastAPI runs a plain ``def``
dependency in a worker thread, a thread hop per request for no benefit."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from starlette.requests import HTTPConnection

from course_app.dependencies import (
    CacheDep,
    SessionDep,
    SettingsDep,
    get_app_settings,
    get_cache,
    get_cache_fills,
    get_database,
)
from course_app.features.products.service import ProductCatalog, ProductService
from course_app.features.products.storage import ImageStorage


async def get_image_storage(settings: SettingsDep) -> ImageStorage:
    return ImageStorage(settings.upload_dir, max_bytes=settings.max_upload_bytes)


ImageStorageDep = Annotated[ImageStorage, Depends(get_image_storage)]


async def get_product_service(
    session: SessionDep, cache: CacheDep, storage: ImageStorageDep, settings: SettingsDep
) -> ProductService:
    return ProductService(session, cache, storage, cache_ttl=settings.cache_ttl_seconds)


ProductServiceDep = Annotated[ProductService, Depends(get_product_service)]


async def get_product_catalog(connection: HTTPConnection) -> ProductCatalog:
    """The catalog behind the public listing, from the lifespan's shared objects.

    One dependency that calls the shared accessors itself instead of declaring four
    chained dependencies (database, cache, shared refills, settings): the listing is the
    busiest route, and FastAPI resolves each dependency on every request, about 10 µs
    apiece here; a cached page cost 290 µs in-process with the chain, 250 without
    (bench/README.md). Tests replace this one dependency to swap the catalog."""
    settings = await get_app_settings(connection)
    return ProductCatalog(
        await get_database(connection),
        await get_cache(connection),
        # no cache, no shared refills either
        await get_cache_fills(connection) if settings.cache_enabled else None,
        cache_ttl=settings.cache_ttl_seconds,
    )


ProductCatalogDep = Annotated[ProductCatalog, Depends(get_product_catalog)]
