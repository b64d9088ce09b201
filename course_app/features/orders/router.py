"""HTTP layer of the ``orders`` feature: thin handlers over the service."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

router = APIRouter(prefix="/api/orders", tags=["orders"])


def include_orders(app: FastAPI) -> None:
    app.include_router(router)
