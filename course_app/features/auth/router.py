"""HTTP layer of the ``auth`` feature: thin handlers over the service."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

router = APIRouter(prefix="/api/auth", tags=["auth"])


def include_auth(app: FastAPI) -> None:
    app.include_router(router)
