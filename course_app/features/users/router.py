"""HTTP layer of the ``users`` feature: thin handlers over the service."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

router = APIRouter(prefix="/api/users", tags=["users"])


def include_users(app: FastAPI) -> None:
    app.include_router(router)
