"""What the ``orders`` API accepts and returns. Input and output are separate models:
a client can never send ``status``, ``user_id`` or a price when it creates an order."""

from __future__ import annotations

from collections import Counter
from typing import Final, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    computed_field,
    field_validator,
)

from course_app.features.orders.models import MAX_ITEMS_PER_ORDER, MAX_QUANTITY, OrderStatus

#: Largest id the API accepts: a PostgreSQL INTEGER. A bigger number is a 422, not a 500.
MAX_ID: Final = 2**31 - 1

OrderSort = Literal["-created_at", "created_at", "-total_cents", "total_cents"]


_INPUT = ConfigDict(extra="forbid", str_strip_whitespace=True)


class OrderItemCreate(BaseModel):
    model_config = _INPUT

    product_id: int = Field(ge=1, le=MAX_ID, examples=[1])
    quantity: int = Field(ge=1, le=MAX_QUANTITY, examples=[2])


class OrderCreate(BaseModel):
    """A new order: products and quantities only. The price is read from the product at
    order time and the owner is the caller, so neither can be forged."""

    model_config = ConfigDict(
        **_INPUT,
        json_schema_extra={
            "examples": [
                {"items": [{"product_id": 1, "quantity": 2}, {"product_id": 3, "quantity": 1}]}
            ]
        },
    )

    items: list[OrderItemCreate] = Field(min_length=1, max_length=MAX_ITEMS_PER_ORDER)

    @field_validator("items")
    @classmethod
    def _one_line_per_product(cls, items: list[OrderItemCreate]) -> list[OrderItemCreate]:
        """Rejected rather than merged: merging could silently exceed the per-line
        quantity limit, and a client sending the same product twice is usually a bug."""
        counts = Counter(item.product_id for item in items)
        duplicates = sorted(product_id for product_id, n in counts.items() if n > 1)
        if duplicates:
            raise ValueError(f"each product may appear once; repeated: {duplicates}")
        return items


class OrderStatusUpdate(BaseModel):
    model_config = ConfigDict(**_INPUT, json_schema_extra={"examples": [{"status": "cancelled"}]})

    status: OrderStatus


class OrderItemResponse(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    product_id: int = Field(examples=[1])
    quantity: int = Field(examples=[2])
    unit_price_cents: int = Field(examples=[1999], description="Price when the order was placed")

    @computed_field(examples=[3998])  # type: ignore[prop-decorator]
    @property
    def line_total_cents(self) -> int:
        return self.unit_price_cents * self.quantity


class OrderResponse(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": 7,
                    "user_id": 3,
                    "status": "pending",
                    "total_cents": 3998,
                    "items": [
                        {
                            "product_id": 1,
                            "quantity": 2,
                            "unit_price_cents": 1999,
                            "line_total_cents": 3998,
                        }
                    ],
                    "created_at": "2025-01-31T12:00:00Z",
                    "updated_at": "2025-01-31T12:00:00Z",
                }
            ]
        },
    )

    id: int
    user_id: int
    status: OrderStatus
    total_cents: int
    items: list[OrderItemResponse]
    created_at: AwareDatetime
    updated_at: AwareDatetime


class OrderStatusEvent(BaseModel):
    """One message on an order's WebSocket: its status and when it took it.

    Also the shape published on the notifier, and validated again when it is received:
    a message from Redis is input like any other.
    """

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"order_id": 7, "status": "paid", "at": "2025-01-31T12:05:00Z"}]
        }
    )

    order_id: int
    status: OrderStatus
    at: AwareDatetime
