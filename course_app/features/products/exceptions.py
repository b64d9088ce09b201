"""Errors of the ``products`` feature.

Each one is an :class:`~course_app.core.errors.AppError`, so the global handlers render
it as the one error envelope; routers and services raise these, never ``HTTPException``.
"""

from __future__ import annotations

from course_app.core.errors import (
    ConflictError,
    NotFoundError,
    PayloadTooLargeError,
    UnsupportedMediaTypeError,
)


class ProductNotFoundError(NotFoundError):
    """404 for an unknown product id, and for an inactive one on the public endpoints
    (an inactive product must look exactly like a missing one to the public)."""

    def __init__(self, product_id: int) -> None:
        super().__init__("Product", product_id)


class ProductImageNotFoundError(NotFoundError):
    """404: the product exists but has no image (or its file is gone)."""

    def __init__(self, product_id: int) -> None:
        super().__init__("Product image", product_id)


class DuplicateSkuError(ConflictError):
    """409: another product already uses this SKU (the unique index is the guarantee;
    the service checks first only to give this friendlier message)."""

    def __init__(self, sku: str) -> None:
        super().__init__(f"A product with SKU {sku!r} already exists", details={"field": "sku"})


class ProductInUseError(ConflictError):
    """409: rows elsewhere (orders) still reference the product, so it cannot be deleted.
    Deactivating it (``is_active: false``) hides it from the shop and keeps the history."""

    def __init__(self, product_id: int) -> None:
        super().__init__(
            f"Product {product_id} is referenced by other records; "
            "deactivate it instead (PATCH is_active=false)",
            details={"product_id": product_id},
        )


class ImageTooLargeError(PayloadTooLargeError):
    """413: the uploaded image, or the request that carries it, is over the limit."""


class UnsupportedImageTypeError(UnsupportedMediaTypeError):
    """415: the file's first bytes are not those of an accepted image format.

    The client's ``Content-Type`` and the file name are never trusted: both are just
    strings the client chose."""

    def __init__(self, accepted: list[str]) -> None:
        super().__init__(
            "The file is not an accepted image (" + ", ".join(accepted) + ")",
            details={"accepted": accepted},
        )
