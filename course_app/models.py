"""Every ORM model, imported once so ``Base.metadata`` knows the whole schema
(Alembic's autogenerate and the schema bootstrap read it from here)."""

from course_app.core.database import Base
from course_app.features.auth.models import RefreshToken
from course_app.features.orders.models import Order, OrderItem, OrderStatus
from course_app.features.products.models import Product
from course_app.features.users.models import Role, User

__all__ = [
    "Base",
    "Order",
    "OrderItem",
    "OrderStatus",
    "Product",
    "RefreshToken",
    "Role",
    "User",
]
