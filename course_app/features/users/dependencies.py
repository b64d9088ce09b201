"""Dependencies of the ``users`` feature: the service, wired from the request's
session, settings and rate limiter (tests can override any of them)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from course_app.dependencies import RateLimiterDep, SessionDep, SettingsDep
from course_app.features.users.service import UserService


async def get_user_service(
    session: SessionDep, settings: SettingsDep, limiter: RateLimiterDep
) -> UserService:
    return UserService(session, settings, limiter)


UserServiceDep = Annotated[UserService, Depends(get_user_service)]
