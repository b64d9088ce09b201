"""Who is calling, and may they? Chained dependencies (seed 000 phase 5, corrected).

``oauth2_scheme`` → ``get_current_user`` → ``require_role(...)``. Missing or bad
credentials are 401 with ``WWW-Authenticate: Bearer``; a valid user without the role is
403. ``OAuth2PasswordBearer`` (rather than ``HTTPBearer``) is used because it also tells
OpenAPI where to get a token, which makes the docs' "Authorize" button work.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from course_app.core.errors import AuthenticationError, AuthorizationError
from course_app.dependencies import RateLimiterDep, SessionDep, SettingsDep
from course_app.features.auth.service import AuthService, authenticate_access_token
from course_app.features.users.models import Role, User

# auto_error=False: we raise our own 401 so every auth failure has the same envelope.
# It returns None for a missing header or a non-Bearer scheme, "" for "Bearer " alone.
oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/auth/token", auto_error=False)


async def get_current_user(
    token: Annotated[str | None, Depends(oauth2_scheme)],
    settings: SettingsDep,
    session: SessionDep,
) -> User:
    """The active user behind the request's bearer access token, or a 401."""
    if not token:
        raise AuthenticationError("Not authenticated")
    return await authenticate_access_token(session, settings, token)


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


async def get_auth_service(
    session: SessionDep, settings: SettingsDep, limiter: RateLimiterDep
) -> AuthService:
    return AuthService(session, settings, limiter)


AuthServiceDep = Annotated[AuthService, Depends(get_auth_service)]


async def client_ip(request: Request) -> str:
    """The peer address, for rate-limit keys. Behind a reverse proxy this is the proxy,
    unless uvicorn runs with ``--proxy-headers --forwarded-allow-ips=<proxy>``, which
    rewrites it from ``X-Forwarded-For`` for trusted proxies only. Never read that
    header yourself: any client can send it."""
    return request.client.host if request.client is not None else "unknown"


ClientIP = Annotated[str, Depends(client_ip)]
