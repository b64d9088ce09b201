"""HTTP layer of the ``auth`` feature: thin handlers over :class:`AuthService`.

Two ways in, one rule behind them: ``/token`` speaks the OAuth2 password grant as a
form (what the docs' "Authorize" button and OAuth2 clients send), ``/login`` takes JSON
(what a first-party front end prefers). Both share the rate limit and the response.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Form, Response, status

from course_app.core.errors import ErrorResponse
from course_app.features.auth.dependencies import AuthServiceDep, ClientIP
from course_app.features.auth.schemas import LoginRequest, RefreshTokenRequest, TokenForm, TokenPair


def no_store(response: Response) -> None:
    """Token responses must not be cached by browsers or proxies (RFC 6749 §5.1)."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"


router = APIRouter(prefix="/api/auth", tags=["auth"], dependencies=[Depends(no_store)])

_401: dict[int | str, dict[str, Any]] = {
    status.HTTP_401_UNAUTHORIZED: {"model": ErrorResponse, "description": "Not authenticated"}
}
_422: dict[int | str, dict[str, Any]] = {
    status.HTTP_422_UNPROCESSABLE_CONTENT: {"model": ErrorResponse, "description": "Invalid input"}
}
_LOGIN_RESPONSES = {
    **_401,
    **_422,
    status.HTTP_429_TOO_MANY_REQUESTS: {
        "model": ErrorResponse,
        "description": "Too many attempts for this email from this address; see Retry-After",
    },
}


@router.post("/token", summary="Get tokens (OAuth2 password form)", responses=_LOGIN_RESPONSES)
async def token(
    form: Annotated[TokenForm, Form()], service: AuthServiceDep, ip: ClientIP
) -> TokenPair:
    """OAuth2 password grant: ``username`` is the email address."""
    return await service.login(form.username, form.password, client_ip=ip)


@router.post("/login", summary="Get tokens (JSON)", responses=_LOGIN_RESPONSES)
async def login(body: LoginRequest, service: AuthServiceDep, ip: ClientIP) -> TokenPair:
    return await service.login(body.email, body.password, client_ip=ip)


@router.post("/refresh", summary="Rotate a refresh token", responses={**_401, **_422})
async def refresh(body: RefreshTokenRequest, service: AuthServiceDep) -> TokenPair:
    """Spend the refresh token and get a new pair. Presenting a spent token again ends
    every session of the account."""
    return await service.refresh(body.refresh_token)


@router.post(
    "/logout",
    summary="Revoke a refresh token",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={**_401, **_422},
)
async def logout(body: RefreshTokenRequest, service: AuthServiceDep) -> None:
    await service.logout(body.refresh_token)


def include_auth(app: FastAPI) -> None:
    app.include_router(router)
