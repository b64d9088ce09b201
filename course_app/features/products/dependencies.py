"""Dependencies of the ``products`` feature: the service, built per request from the
shared session, cache and settings, and the catalog (the cached public listing), built
without a session (tests replace any of them with ``app.dependency_overrides``).

They are ``async def`` although they await nothing: FastAPI runs a plain ``def``
dependency in a worker thread, a thread hop per request for no benefit."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from course_app.dependencies import CacheDep, CacheFillsDep, DatabaseDep, SessionDep, SettingsDep
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


async def get_product_catalog(
    database: DatabaseDep, cache: CacheDep, fills: CacheFillsDep, settings: SettingsDep
) -> ProductCatalog:
    return ProductCatalog(
        database,
        cache,
        fills if settings.cache_enabled else None,  # no cache, no shared refills either
        cache_ttl=settings.cache_ttl_seconds,
    )


ProductCatalogDep = Annotated[ProductCatalog, Depends(get_product_catalog)]
