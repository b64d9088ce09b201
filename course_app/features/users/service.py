"""Business rules of the ``users`` feature.

Each public method is one unit of work: it validates what the schemas cannot, changes
state through the repositories, and commits *before* returning, so a 2xx is never sent
for a write that could still fail.
"""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from course_app.config import Settings
from course_app.core.database import utcnow
from course_app.core.errors import RateLimitError
from course_app.core.rate_limit import RateLimiter
from course_app.core.security import hash_password_async, verify_password_async
from course_app.features.auth.repository import RefreshTokenRepository
from course_app.features.users.exceptions import (
    EmailAlreadyRegisteredError,
    InvalidCurrentPasswordError,
    SelfLockoutError,
    UserNotFoundError,
)
from course_app.features.users.models import Role, User
from course_app.features.users.repository import UserRepository
from course_app.features.users.schemas import (
    AdminUserUpdate,
    UserCreate,
    UserListQuery,
    UserResponse,
    UserUpdate,
)
from course_app.shared.pagination import Page, PageParams


class UserService:
    def __init__(self, session: AsyncSession, settings: Settings, limiter: RateLimiter) -> None:
        self.session = session
        self.settings = settings
        self.limiter = limiter
        self.users = UserRepository(session)
        self.tokens = RefreshTokenRepository(session)

    async def register(self, data: UserCreate, *, client_ip: str) -> UserResponse:
        """Create a ``user``-role account. The role is not the caller's to choose.

        Sign-ups are rate-limited per address: each one costs an Argon2 hash (CPU and
        memory on purpose) and a row, and the 409 for a taken email is an enumeration
        oracle that must not answer at machine speed."""
        retry_after = await self.limiter.hit(
            f"register:{client_ip}",
            self.settings.register_rate_limit,
            self.settings.register_rate_window_seconds,
        )
        if retry_after:
            raise RateLimitError(retry_after)
        # The look-up gives the common case a clear 409 without paying for a hash; the
        # unique index (IntegrityError) still decides when two sign-ups race.
        if await self.users.get_by_email(data.email) is not None:
            raise EmailAlreadyRegisteredError()
        user = User(
            email=data.email,
            full_name=data.full_name,
            hashed_password=await hash_password_async(data.password),
            role=Role.USER,
            is_active=True,
        )
        try:
            await self.users.add(user)
            await self.session.commit()
        except IntegrityError as exc:
            await self.session.rollback()
            raise EmailAlreadyRegisteredError() from exc
        return UserResponse.model_validate(user)

    async def update_me(self, user: User, data: UserUpdate) -> UserResponse:
        """Change the caller's own profile. A new password needs the current one, and
        ends every other session: all refresh tokens of the account are revoked."""
        if data.password is not None:
            assert data.current_password is not None  # guaranteed by UserUpdate
            await self._confirm_password(user, data.current_password)
            user.hashed_password = await hash_password_async(data.password)
            await self.tokens.revoke_all_for_user(user.id, now=utcnow())
        if data.full_name is not None:
            user.full_name = data.full_name
        await self.session.commit()
        return UserResponse.model_validate(user)

    async def list_users(self, query: UserListQuery, page: PageParams) -> Page[UserResponse]:
        items, total = await self.users.list(query, offset=page.offset, limit=page.limit)
        return Page[UserResponse](
            items=[UserResponse.model_validate(user) for user in items],
            total=total,
            page=page.page,
            page_size=page.page_size,
        )

    async def get_user(self, user_id: int) -> UserResponse:
        return UserResponse.model_validate(await self._get_or_raise(user_id))

    async def admin_update(self, actor: User, user_id: int, data: AdminUserUpdate) -> UserResponse:
        """Change another account's privileged fields. Deactivation revokes the account's
        refresh tokens; access tokens stop working at once because every request reloads
        the user and checks ``is_active`` (and the role)."""
        user = await self._get_or_raise(user_id)
        demotes = data.role is not None and data.role is not Role.ADMIN
        if user.id == actor.id and (demotes or data.is_active is False):
            raise SelfLockoutError()
        if data.full_name is not None:
            user.full_name = data.full_name
        if data.role is not None:
            user.role = data.role
        if data.is_active is not None:
            if user.is_active and not data.is_active:
                await self.tokens.revoke_all_for_user(user.id, now=utcnow())
            user.is_active = data.is_active
        await self.session.commit()
        return UserResponse.model_validate(user)

    async def _get_or_raise(self, user_id: int) -> User:
        user = await self.users.get(user_id)
        if user is None:
            raise UserNotFoundError(user_id)
        return user

    async def _confirm_password(self, user: User, password: str) -> None:
        """Check the current password, rate-limited like a login: with a stolen access
        token this endpoint would otherwise be an unthrottled password oracle."""
        key = f"password-confirm:{user.id}"
        retry_after = await self.limiter.hit(
            key, self.settings.login_rate_limit, self.settings.login_rate_window_seconds
        )
        if retry_after:
            raise RateLimitError(retry_after)
        valid, _ = await verify_password_async(password, user.hashed_password)
        if not valid:
            raise InvalidCurrentPasswordError()
        await self.limiter.reset(key)
