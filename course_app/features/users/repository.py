"""Queries on ``users``. The only place that knows how users are stored.

The repository adds and flushes but never commits: the service decides where a unit of
work ends. Filters and sort orders come from an allow-list, so no request value is ever
turned into a column name.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from sqlalchemy import ColumnElement, UnaryExpression, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from course_app.features.users.models import User
from course_app.features.users.schemas import UserListQuery, UserSort

# Every sort ends on the primary key, so pages are stable when the first key ties.
SORTS: Final[dict[UserSort, tuple[UnaryExpression[Any], ...]]] = {
    "created_at": (User.created_at.asc(), User.id.asc()),
    "-created_at": (User.created_at.desc(), User.id.desc()),
    "email": (User.email.asc(), User.id.asc()),
    "-email": (User.email.desc(), User.id.desc()),
}

#: Built once, run by every authenticated request with its id bound at execution:
#: SQLAlchemy remembers a statement object's cache key, so reusing the object skips
#: building the query and walking it again (``session.get`` builds its query each time).
BY_ID: Final = select(User).where(User.id == bindparam("user_id"))


def _conditions(query: UserListQuery) -> list[ColumnElement[bool]]:
    """Translate the allow-listed filters into SQL conditions."""
    conditions: list[ColumnElement[bool]] = []
    if query.role is not None:
        conditions.append(User.role == query.role)
    if query.is_active is not None:
        conditions.append(User.is_active.is_(query.is_active))
    if query.email_contains is not None:
        # Emails are stored lower-cased; autoescape makes % and _ literal characters,
        # so "_" matches an underscore and "%" cannot turn the filter into "everything".
        conditions.append(User.email.contains(query.email_contains.lower(), autoescape=True))
    return conditions


class UserRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, user_id: int) -> User | None:
        result = await self.session.execute(BY_ID, {"user_id": user_id})
        return result.scalar_one_or_none()

    async def get_by_email(self, email: str) -> User | None:
        """Look an address up exactly; callers pass it already normalised (lower-case)."""
        result = await self.session.scalars(select(User).where(User.email == email))
        return result.one_or_none()

    async def add(self, user: User) -> User:
        self.session.add(user)
        await self.session.flush()  # assigns the id; raises IntegrityError on a duplicate
        return user

    async def list(
        self, query: UserListQuery, *, offset: int, limit: int
    ) -> tuple[Sequence[User], int]:
        """One page of users matching ``query`` and the total number of matches."""
        conditions = _conditions(query)
        count = select(func.count()).select_from(User).where(*conditions)
        total = await self.session.scalar(count) or 0
        page = (
            select(User).where(*conditions).order_by(*SORTS[query.sort]).offset(offset).limit(limit)
        )
        items = (await self.session.scalars(page)).all()
        return items, total
