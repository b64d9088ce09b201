"""Every ORM model, imported once so ``Base.metadata`` knows the whole schema
(Alembic's autogenerate and the schema bootstrap read it from here)."""

from course_app.core.database import Base
from course_app.features.products.models import Product
from course_app.features.users.models import Role, User

__all__ = ["Base", "Product", "Role", "User"]
