"""Who is calling, and may they? Chained dependencies (seed 000 phase 5, corrected).

``get_current_user`` → ``require_role(...)``. Missing or bad credentials are 401 with
``WWW-Authenticate: Bearer``; a valid user without the role is 403.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends
from fastapi.security import OAuth2PasswordBearer

from course_app.core.errors import AuthenticationError, AuthorizationError
from course_app.core.security import TokenError, decode_token
from course_app.dependencies import SessionDep, SettingsDep
from course_app.features.users.models import Role, User

# auto_error=False: we raise our own 401 so every auth failure has the same envelope.
oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/auth/token", auto_error=False)


async def get_current_user(
    token: Annotated[str | None, Depends(oauth2_scheme)],
    settings: SettingsDep,
    session: SessionDep,
) -> User:
    if not token:
        raise AuthenticationError("Not authenticated")
    try:
        claims = decode_token(settings, token, "access")
    except TokenError as exc:
        raise AuthenticationError(str(exc)) from exc
    try:
        user_id = int(claims.subject)
    except ValueError as exc:
        raise AuthenticationError("Invalid token subject") from exc
    user = await session.get(User, user_id)
    if user is None or not user.is_active:
        raise AuthenticationError("User not found or inactive")
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


def require_role(*roles: Role) -> Callable[[User], Awaitable[User]]:
    """A dependency that lets through only users holding one of ``roles``."""
    allowed = frozenset(roles)

    async def checker(user: CurrentUser) -> User:
        if user.role not in allowed:
            raise AuthorizationError(
                "Requires role: " + " or ".join(sorted(role.value for role in allowed))
            )
        return user

    return checker


AdminUser = Annotated[User, Depends(require_role(Role.ADMIN))]
