"""Baseline 1: a bare FastAPI app answering a list of 20 products from memory.

No database, no middleware: the ceiling for a FastAPI JSON endpoint on this machine.
"""

from __future__ import annotations

from fastapi import FastAPI

ITEMS = [
    {
        "id": index,
        "sku": f"SKU-{index:05d}",
        "name": f"Product {index}",
        "description": "",
        "category": "general",
        "price_cents": 1999,
        "stock": 10,
    }
    for index in range(1, 21)
]

app = FastAPI()


@app.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok", "version": "0.1.0"}


@app.get("/items")
async def items() -> list[dict[str, object]]:
    return ITEMS
