"""Pydantic models at the edge of the ``products`` feature.

Separate shapes for what comes in (``ProductCreate``, ``ProductUpdate``, the listing
query) and what goes out (``ProductResponse``): an input model never doubles as an
output, so a new internal column (``image_path``) cannot leak, and a client cannot
mass-assign a field it should not control (every input model forbids extra keys).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Final, Self

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from course_app.features.products.models import Product
from course_app.shared.text import MULTILINE_TEXT, NO_CONTROL_CHARS

MAX_PRICE_CENTS: Final = 10_000_000  # 100 000.00 in the shop's currency
MAX_STOCK: Final = 1_000_000
MAX_PRODUCT_ID: Final = 2**31 - 1  # INTEGER on every backend: a bigger id cannot exist
MAX_QUERY_LENGTH: Final = 100

Sku = Annotated[
    str,
    Field(
        min_length=3,
        max_length=32,
        pattern=r"^[A-Z0-9][A-Z0-9-]*$",
        description="Stock-keeping unit: upper-case letters, digits and dashes",
        examples=["MUG-0001"],
    ),
]
ProductName = Annotated[
    str, Field(min_length=1, max_length=120, pattern=NO_CONTROL_CHARS, examples=["Enamel mug"])
]
Description = Annotated[
    str,
    Field(max_length=5000, pattern=MULTILINE_TEXT, examples=["Holds 350 ml. Dishwasher safe."]),
]
Category = Annotated[
    str,
    Field(
        min_length=1,
        max_length=40,
        pattern=r"^[a-z0-9][a-z0-9-]*$",
        description="Lower-case slug",
        examples=["kitchen"],
    ),
]
PriceCents = Annotated[
    int,
    Field(ge=0, le=MAX_PRICE_CENTS, description="Price in cents (integer money)", examples=[1299]),
]
Stock = Annotated[int, Field(ge=0, le=MAX_STOCK, examples=[25])]


class ProductCreate(BaseModel):
    """Body of ``POST /api/products`` (admin)."""

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [
                {
                    "sku": "MUG-0001",
                    "name": "Enamel mug",
                    "description": "Holds 350 ml. Dishwasher safe.",
                    "category": "kitchen",
                    "price_cents": 1299,
                    "stock": 25,
                }
            ]
        },
    )

    sku: Sku
    name: ProductName
    description: Description = ""
    category: Category = "general"
    price_cents: PriceCents
    stock: Stock = 0
    is_active: bool = True


class ProductUpdate(BaseModel):
    """Body of ``PATCH /api/products/{id}`` (admin): send only what changes.

    Every field is optional, but ``null`` is not a value for any of them: an absent key
    means "leave it", and ``{"name": null}`` is a 422 rather than a database error.
    """

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={"examples": [{"price_cents": 999, "stock": 40}, {"is_active": False}]},
    )

    sku: Sku | None = None
    name: ProductName | None = None
    description: Description | None = None
    category: Category | None = None
    price_cents: PriceCents | None = None
    stock: Stock | None = None
    is_active: bool | None = None

    @model_validator(mode="after")
    def _no_explicit_nulls(self) -> Self:
        nulls = sorted(name for name in self.model_fields_set if getattr(self, name) is None)
        if nulls:
            raise ValueError("null is not allowed for: " + ", ".join(nulls) + " (omit the key)")
        return self

    def changes(self) -> dict[str, Any]:
        """The fields the client sent. Keys come from this model's declared fields only
        (``extra="forbid"``), so the service may apply them to the ORM object safely."""
        return self.model_dump(exclude_unset=True)


class ProductSort(StrEnum):
    """The allow-list of sort orders; a ``-`` prefix means descending."""

    ID = "id"
    NAME = "name"
    NAME_DESC = "-name"
    PRICE = "price_cents"
    PRICE_DESC = "-price_cents"
    CREATED = "created_at"
    CREATED_DESC = "-created_at"


class ProductListQuery(BaseModel):
    """The filters and sort of ``GET /api/products``, as one validated query model.

    Only these names reach the repository (an allow-list: no ``getattr`` on user input),
    and the cache key is built from this model, not from the raw query string, so
    ``?in_stock=1`` and ``?in_stock=true`` share one entry and unknown parameters cannot
    fragment the cache.
    """

    model_config = ConfigDict(str_strip_whitespace=True)

    category: Category | None = None
    min_price_cents: PriceCents | None = None
    max_price_cents: PriceCents | None = None
    q: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_QUERY_LENGTH,
        pattern=NO_CONTROL_CHARS,
        description="Case-insensitive search in the product name",
        examples=["mug"],
    )
    in_stock: bool | None = Field(
        default=None, description="true: only stock > 0; false: only sold out"
    )
    sort: ProductSort = Field(default=ProductSort.ID, description="Sort order")

    @field_validator("max_price_cents")
    @classmethod
    def _range_is_ordered(cls, value: int | None, info: ValidationInfo) -> int | None:
        low = info.data.get("min_price_cents")
        if value is not None and low is not None and low > value:
            raise ValueError("must be greater than or equal to min_price_cents")
        return value

    def cache_key(self) -> str:
        """Canonical text of the query: every field, in declaration order, as compact
        JSON (defaults filled in, values normalised by validation)."""
        return self.model_dump_json()


def image_url(product_id: int, image_path: str | None) -> str | None:
    """The public URL of a product's image: clients never see where the file lives."""
    return f"/api/products/{product_id}/image" if image_path else None


class ProductResponse(BaseModel):
    """A product as the API shows it. The file-system path of the image stays private:
    clients get the URL that serves it."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 1,
                    "sku": "MUG-0001",
                    "name": "Enamel mug",
                    "description": "Holds 350 ml. Dishwasher safe.",
                    "category": "kitchen",
                    "price_cents": 1299,
                    "stock": 25,
                    "is_active": True,
                    "image_url": "/api/products/1/image",
                    "created_at": "2025-01-01T12:00:00Z",
                    "updated_at": "2025-01-01T12:00:00Z",
                }
            ]
        }
    )

    id: int
    sku: str
    name: str
    description: str
    category: str
    price_cents: int
    stock: int
    is_active: bool
    image_url: str | None
    created_at: AwareDatetime
    updated_at: AwareDatetime

    @classmethod
    def from_product(cls, product: Product) -> ProductResponse:
        return cls(
            id=product.id,
            sku=product.sku,
            name=product.name,
            description=product.description,
            category=product.category,
            price_cents=product.price_cents,
            stock=product.stock,
            is_active=product.is_active,
            image_url=image_url(product.id, product.image_path),
            created_at=product.created_at,
            updated_at=product.updated_at,
        )
