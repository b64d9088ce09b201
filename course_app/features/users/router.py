"""HTTP layer of the ``users`` feature: thin handlers over :class:`UserService`.

Each handler parses (schemas, path and query types), authorises (dependencies), calls
one service method and returns its schema. No business rule and no query lives here.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Path, Query, status

from course_app.core.errors import ErrorResponse
from course_app.features.auth.dependencies import AdminUser, ClientIP, CurrentUser, require_role
from course_app.features.users.dependencies import UserServiceDep
from course_app.features.users.models import Role
from course_app.features.users.schemas import (
    MAX_USER_ID,
    AdminUserUpdate,
    UserCreate,
    UserListQuery,
    UserResponse,
    UserUpdate,
)
from course_app.shared.pagination import Page, PageDep

router = APIRouter(prefix="/api/users", tags=["users"])

# Bounded so an id like 2**70 is a 422, not a database "integer out of range" 500.
UserId = Annotated[int, Path(ge=1, le=MAX_USER_ID, description="The user's id")]


Responses = dict[int | str, dict[str, Any]]


def _error(description: str) -> dict[str, Any]:
    """Document an error status with the envelope's schema (FastAPI's default 422 schema
    describes its own ``{"detail": ...}`` body, which this app never sends)."""
    return {"model": ErrorResponse, "description": description}


_422: Responses = {status.HTTP_422_UNPROCESSABLE_CONTENT: _error("Invalid input")}
_AUTH: Responses = {
    status.HTTP_401_UNAUTHORIZED: _error("Missing, invalid or expired access token")
}
_ADMIN: Responses = {**_AUTH, status.HTTP_403_FORBIDDEN: _error("The caller is not an admin")}
_404: Responses = {status.HTTP_404_NOT_FOUND: _error("No user with this id")}
admin_only = Depends(require_role(Role.ADMIN))


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Register an account",
    responses={
        **_422,
        status.HTTP_409_CONFLICT: _error("The email is already registered"),
        status.HTTP_429_TOO_MANY_REQUESTS: {
            **_error("Too many sign-ups from this address; see Retry-After"),
            "headers": {"Retry-After": {"schema": {"type": "integer"}}},
        },
    },
)
async def register(body: UserCreate, service: UserServiceDep, ip: ClientIP) -> UserResponse:
    return await service.register(body, client_ip=ip)


# "/me" is declared before "/{user_id}": routes match in order, and "me" is not an int.
@router.get("/me", summary="The caller's account", responses=_AUTH)
async def read_me(user: CurrentUser) -> UserResponse:
    return UserResponse.model_validate(user)


@router.patch(
    "/me",
    summary="Update the caller's account",
    responses={
        **_AUTH,
        **_422,
        status.HTTP_429_TOO_MANY_REQUESTS: _error("Too many wrong current passwords"),
    },
)
async def update_me(body: UserUpdate, user: CurrentUser, service: UserServiceDep) -> UserResponse:
    """Change ``full_name``, or the password (with ``current_password``). A wrong current
    password is a 422 on that field; a password change ends all other sessions."""
    return await service.update_me(user, body)


@router.get(
    "", summary="List users (admin)", dependencies=[admin_only], responses={**_ADMIN, **_422}
)
async def list_users(
    query: Annotated[UserListQuery, Query()],
    page: PageDep,
    service: UserServiceDep,
) -> Page[UserResponse]:
    return await service.list_users(query, page)


@router.get(
    "/{user_id}",
    summary="Get a user (admin)",
    dependencies=[admin_only],
    responses={**_ADMIN, **_404, **_422},
)
async def get_user(user_id: UserId, service: UserServiceDep) -> UserResponse:
    return await service.get_user(user_id)


@router.patch(
    "/{user_id}",
    summary="Update a user's role, status or name (admin)",
    responses={
        **_ADMIN,
        **_404,
        **_422,
        status.HTTP_409_CONFLICT: _error("An admin may not demote or deactivate themselves"),
    },
)
async def admin_update_user(
    user_id: UserId, body: AdminUserUpdate, admin: AdminUser, service: UserServiceDep
) -> UserResponse:
    return await service.admin_update(admin, user_id, body)


def include_users(app: FastAPI) -> None:
    app.include_router(router)
