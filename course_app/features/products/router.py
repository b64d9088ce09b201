"""HTTP layer of the ``products`` feature: thin handlers over the service."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

router = APIRouter(prefix="/api/products", tags=["products"])


def include_products(app: FastAPI) -> None:
    app.include_router(router)
