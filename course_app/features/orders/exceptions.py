"""The errors the ``orders`` feature can raise. Each one *is* its HTTP answer: the
global handler turns it into the error envelope, so no router catches anything."""

from __future__ import annotations

from fastapi import status

from course_app.core.errors import AppError, AuthorizationError, ConflictError, NotFoundError
from course_app.features.orders.models import OrderStatus, allowed_transitions


class OrderNotFoundError(NotFoundError):
    """Also raised for *another user's* order: a 403 would confirm that the id exists."""

    def __init__(self, order_id: int) -> None:
        super().__init__("Order", order_id)


class ProductUnavailableError(AppError):
    """The body names a product that does not exist or is not for sale.

    422, not 404: the URL (``/api/orders``) exists; it is the request's content that
    cannot be processed. Inactive and unknown products get the same answer, so the
    endpoint does not reveal unlisted products.
    """

    status_code = status.HTTP_422_UNPROCESSABLE_CONTENT
    code = "PRODUCT_UNAVAILABLE"

    def __init__(self, product_id: int) -> None:
        super().__init__(
            f"Product {product_id} does not exist or is not for sale",
            details={"product_id": product_id},
        )


class OutOfStockError(ConflictError):
    code = "OUT_OF_STOCK"

    def __init__(self, product_id: int, requested: int, available: int) -> None:
        super().__init__(
            f"Not enough stock for product {product_id}: requested {requested}, "
            f"available {available}",
            details={"product_id": product_id, "requested": requested, "available": available},
        )


class InvalidTransitionError(ConflictError):
    """The workflow does not allow this move; ``details.allowed`` says what would be."""

    code = "INVALID_TRANSITION"

    def __init__(self, current: OrderStatus, target: OrderStatus) -> None:
        super().__init__(
            f"An order cannot go from {current.value} to {target.value}",
            details={
                "from": current.value,
                "to": target.value,
                "allowed": [status.value for status in allowed_transitions(current)],
            },
        )


class OrderChangedError(ConflictError):
    """Someone else changed the order's status between our read and our write."""

    code = "ORDER_CHANGED"

    def __init__(self, order_id: int) -> None:
        super().__init__(
            f"Order {order_id} was changed by another request; reload it and retry",
            details={"order_id": order_id},
        )


class OwnerMayOnlyCancelError(AuthorizationError):
    """A customer may cancel their order; every other move is staff work (403).

    Checked *after* ownership (others get 404) and *before* the workflow (so a customer
    learns "not yours to do", not "not possible from this status").
    """

    def __init__(self) -> None:
        super().__init__("You may only cancel your own order; other changes need an admin")
