"""HTTP layer of the ``products`` feature: thin handlers over the service.

Each handler parses (FastAPI + the schemas do that), calls one service method and
returns a schema. Reads are public; writes need an admin (``AdminUser``: 401 without
credentials, 403 for a normal user).
"""

from __future__ import annotations

from typing import Annotated, Any, Final

from fastapi import APIRouter, FastAPI, File, Path, Query, Response, UploadFile
from fastapi.responses import FileResponse
from starlette import status

from course_app.config import Settings
from course_app.core.errors import ErrorResponse
from course_app.core.middleware import BodyLimit
from course_app.features.auth.dependencies import AdminUser
from course_app.features.products.dependencies import ProductCatalogDep, ProductServiceDep
from course_app.features.products.schemas import (
    MAX_PRODUCT_ID,
    ProductCreate,
    ProductListQuery,
    ProductResponse,
    ProductUpdate,
)
from course_app.features.products.storage import ACCEPTED_TYPES
from course_app.shared.pagination import MAX_PAGE_SIZE, CursorPage, Page, PageDep

# Room for the multipart framing around the file: boundaries and part headers.
MULTIPART_OVERHEAD_BYTES: Final = 16 * 1024

ProductId = Annotated[int, Path(ge=1, le=MAX_PRODUCT_ID, description="Product id")]


def _error(description: str) -> dict[str, Any]:
    return {"model": ErrorResponse, "description": description}


Responses = dict[int | str, dict[str, Any]]
NOT_FOUND: Final[Responses] = {
    status.HTTP_404_NOT_FOUND: _error("No such product (or it is inactive)")
}
ADMIN_ONLY: Final[Responses] = {
    status.HTTP_401_UNAUTHORIZED: _error("Missing or invalid bearer token"),
    status.HTTP_403_FORBIDDEN: _error("The user is not an admin"),
}


IMAGE_PATH: Final = "/api/products/{product_id}/image"


def upload_body_limit(settings: Settings) -> int:
    """The whole request may be the file plus its multipart framing, no more."""
    return settings.max_upload_bytes + MULTIPART_OVERHEAD_BYTES


def body_limits(settings: Settings) -> list[BodyLimit]:
    """The upload route's own body limit, enforced by the core body-limit middleware
    (``create_app`` passes it there): a ``Content-Length`` over it is refused before a
    byte is read, a chunked body is cut off at it, and the file itself is held to
    ``max_upload_bytes`` by the storage while it streams to disk."""
    return [BodyLimit("POST", IMAGE_PATH, upload_body_limit(settings))]


router = APIRouter(prefix="/api/products", tags=["products"])


# --- public reads --------------------------------------------------------------------


@router.get(
    "",
    summary="List active products (cached)",
    response_model=Page[ProductResponse],
    responses={
        status.HTTP_200_OK: {
            "headers": {
                "X-Cache": {
                    "description": "`hit` when served from the cache, else `miss`",
                    "schema": {"type": "string", "enum": ["hit", "miss"]},
                }
            }
        }
    },
)
async def list_products(
    query: Annotated[ProductListQuery, Query()],
    page: PageDep,
    catalog: ProductCatalogDep,
) -> Response:
    """Filter, sort and page the catalogue. Pages are cached as serialized JSON, so a
    hit is returned as raw bytes; ``response_model`` keeps the schema in OpenAPI."""
    listing = await catalog.list_public(query, page)
    return Response(
        content=listing.body,
        media_type="application/json",
        headers={"X-Cache": "hit" if listing.hit else "miss"},
    )


@router.get("/feed", summary="Walk the catalogue with a cursor (keyset pagination)")
async def product_feed(
    service: ProductServiceDep,
    cursor: Annotated[
        str | None, Query(max_length=512, description="`next_cursor` of the previous page")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 20,
) -> CursorPage[ProductResponse]:
    return await service.feed(cursor, limit)


@router.get("/{product_id}", summary="One active product", responses=NOT_FOUND)
async def get_product(product_id: ProductId, service: ProductServiceDep) -> ProductResponse:
    return await service.get_public(product_id)


@router.get(
    "/{product_id}/image",
    summary="The product's image",
    response_class=FileResponse,
    responses={
        status.HTTP_200_OK: {
            "description": "The image, with the media type detected at upload",
            "content": {
                image_type.media_type: {"schema": {"type": "string", "format": "binary"}}
                for image_type in ACCEPTED_TYPES
            },
        },
        **NOT_FOUND,
    },
)
async def get_product_image(product_id: ProductId, service: ProductServiceDep) -> FileResponse:
    image = await service.image_file(product_id)
    # no-cache: the URL stays the same when the image is replaced, so clients must
    # revalidate (FileResponse sends an ETag, so that costs a 304, not the bytes).
    return FileResponse(
        image.path, media_type=image.media_type, headers={"Cache-Control": "no-cache"}
    )


# --- admin writes --------------------------------------------------------------------


@router.post(
    "",
    summary="Create a product (admin)",
    status_code=status.HTTP_201_CREATED,
    responses={**ADMIN_ONLY, status.HTTP_409_CONFLICT: _error("The SKU is taken")},
)
async def create_product(
    data: ProductCreate, _admin: AdminUser, service: ProductServiceDep, response: Response
) -> ProductResponse:
    product = await service.create(data)
    response.headers["Location"] = f"{router.prefix}/{product.id}"
    return product


@router.patch(
    "/{product_id}",
    summary="Change some fields of a product (admin)",
    responses={**ADMIN_ONLY, **NOT_FOUND, status.HTTP_409_CONFLICT: _error("The SKU is taken")},
)
async def update_product(
    product_id: ProductId, data: ProductUpdate, _admin: AdminUser, service: ProductServiceDep
) -> ProductResponse:
    return await service.update(product_id, data)


@router.delete(
    "/{product_id}",
    summary="Delete a product (admin)",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={
        **ADMIN_ONLY,
        **NOT_FOUND,
        status.HTTP_409_CONFLICT: _error("Orders still reference it: deactivate it instead"),
    },
)
async def delete_product(
    product_id: ProductId, _admin: AdminUser, service: ProductServiceDep
) -> None:
    await service.delete(product_id)


@router.post(
    "/{product_id}/image",
    summary="Upload or replace the product's image (admin)",
    responses={
        **ADMIN_ONLY,
        **NOT_FOUND,
        status.HTTP_413_CONTENT_TOO_LARGE: _error("The file or the request is too large"),
        status.HTTP_415_UNSUPPORTED_MEDIA_TYPE: _error("Not a PNG, JPEG, WebP or GIF image"),
    },
    form_limits={"max_files": 1, "max_fields": 0},
)
async def upload_product_image(
    product_id: ProductId,
    file: Annotated[UploadFile, File(description="PNG, JPEG, WebP or GIF; type read from content")],
    _admin: AdminUser,
    service: ProductServiceDep,
) -> ProductResponse:
    return await service.set_image(product_id, file)


def include_products(app: FastAPI) -> None:
    app.include_router(router)
