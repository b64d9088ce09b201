"""The ``orders`` and ``order_items`` tables, and the order status workflow.

Two rules live here because they are facts about the data, not about HTTP:

* the status workflow (:data:`TRANSITIONS`): the one place that says which status may
  follow which; the service, the error details and the tests all read it;
* an order item records ``unit_price_cents`` *at order time*: a later price change on the
  product must not rewrite what the customer agreed to pay.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Final

from sqlalchemy import BigInteger, CheckConstraint, Enum, ForeignKey, Integer
from sqlalchemy.orm import Mapped, mapped_column, relationship

from course_app.core.database import Base, TimestampMixin

MAX_QUANTITY: Final = 100
MAX_ITEMS_PER_ORDER: Final = 50


class OrderStatus(StrEnum):
    PENDING = "pending"
    PAID = "paid"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"


#: The whole workflow: ``status -> statuses it may move to``. Anything else is a 409.
TRANSITIONS: Final[Mapping[OrderStatus, frozenset[OrderStatus]]] = {
    OrderStatus.PENDING: frozenset({OrderStatus.PAID, OrderStatus.CANCELLED}),
    OrderStatus.PAID: frozenset({OrderStatus.SHIPPED, OrderStatus.CANCELLED}),
    OrderStatus.SHIPPED: frozenset({OrderStatus.DELIVERED}),
    OrderStatus.DELIVERED: frozenset(),
    OrderStatus.CANCELLED: frozenset(),
}

#: Statuses nothing can follow: a watcher of such an order has nothing left to wait for.
TERMINAL_STATUSES: Final = frozenset(status for status, nxt in TRANSITIONS.items() if not nxt)


def allowed_transitions(current: OrderStatus) -> list[OrderStatus]:
    """The statuses ``current`` may move to, in workflow order (stable for error details)."""
    return [status for status in OrderStatus if status in TRANSITIONS[current]]


class Order(TimestampMixin, Base):
    __tablename__ = "orders"
    __table_args__ = (CheckConstraint("total_cents >= 0", name="total_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # The database deletes a user's orders with the user (GDPR erasure is one statement).
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    status: Mapped[OrderStatus] = mapped_column(
        Enum(
            OrderStatus,
            native_enum=False,
            length=16,
            values_callable=lambda e: [m.value for m in e],
        ),
        default=OrderStatus.PENDING,
        index=True,
    )
    # BigInteger: 50 lines x 100 units x a large price overflows a 32-bit INTEGER.
    total_cents: Mapped[int] = mapped_column(BigInteger, default=0)

    # lazy="raise": an accidental lazy load (an N+1, and an error under asyncio anyway)
    # fails loudly in tests instead of silently issuing one query per order.
    items: Mapped[list[OrderItem]] = relationship(
        back_populates="order",
        cascade="all, delete-orphan",
        passive_deletes=True,
        lazy="raise",
        order_by="OrderItem.id",
    )

    def __repr__(self) -> str:
        return f"Order(id={self.id!r}, user_id={self.user_id!r}, status={self.status!r})"


class OrderItem(Base):
    __tablename__ = "order_items"
    __table_args__ = (
        CheckConstraint(f"quantity BETWEEN 1 AND {MAX_QUANTITY}", name="quantity_in_range"),
        CheckConstraint("unit_price_cents >= 0", name="unit_price_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    # RESTRICT: a product that was ever ordered cannot be deleted (deactivate it instead),
    # or the order history would lose what was bought.
    product_id: Mapped[int] = mapped_column(
        ForeignKey("products.id", ondelete="RESTRICT"), index=True
    )
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price_cents: Mapped[int] = mapped_column(Integer)

    order: Mapped[Order] = relationship(back_populates="items", lazy="raise")

    def __repr__(self) -> str:
        return (
            f"OrderItem(order_id={self.order_id!r}, product_id={self.product_id!r}, "
            f"quantity={self.quantity!r})"
        )
