"""Plausible wrong answers to lab 01. Each body replaces an exercise's solution region.

Every mutant is a mistake a learner really makes; each checker must reject all of its mutants.
"""

from __future__ import annotations

MUTANTS: dict[str, list[str]] = {
    "1.1": [
        # reads the notebook's own `settings` instead of the serving app's
        """
        router = APIRouter()

        @router.get("/version")
        async def version() -> VersionInfo:
            return VersionInfo(
                name=settings.app_name,
                version=__version__,
                environment=settings.environment.value,
            )

        app.include_router(router)
        """,
        # reads the process-wide settings from the environment
        """
        from course_app.config import get_settings

        router = APIRouter()

        @router.get("/version")
        async def version() -> VersionInfo:
            current = get_settings()
            return VersionInfo(
                name=current.app_name, version=__version__, environment=current.environment.value
            )

        app.include_router(router)
        """,
        # builds the router but never includes it
        """
        router = APIRouter()

        @router.get("/version")
        async def version(request: Request) -> VersionInfo:
            s = request.app.state.settings
            return VersionInfo(
                name=s.app_name, version=__version__, environment=s.environment.value
            )
        """,
        # hard-codes a version string instead of the package's
        """
        @app.get("/version")
        async def version(request: Request) -> dict[str, str]:
            s = request.app.state.settings
            return {"name": s.app_name, "version": "1.0.0", "environment": s.environment.value}
        """,
    ],
    "1.2": [
        # the deprecated on_event handlers: work, but warn (and are ignored next to a lifespan)
        """
        app = FastAPI()
        pool = ConnectionPool(events)

        @app.on_event("startup")
        async def open_pool() -> None:
            await pool.open()

        @app.on_event("shutdown")
        async def close_pool() -> None:
            await pool.close()

        @app.get("/pool")
        async def pool_state() -> dict[str, bool]:
            return {"open": pool.is_open}

        return app
        """,
        # forgets the shutdown half of the lifespan
        """
        @asynccontextmanager
        async def lifespan(_app: FastAPI) -> AsyncIterator[dict[str, ConnectionPool]]:
            pool = ConnectionPool(events)
            await pool.open()
            yield {"pool": pool}

        app = FastAPI(lifespan=lifespan)

        @app.get("/pool")
        async def pool_state(request: Request) -> dict[str, bool]:
            return {"open": request.state.pool.is_open}

        return app
        """,
        # opens and closes a pool per request instead of once per app
        """
        app = FastAPI()

        @app.get("/pool")
        async def pool_state() -> dict[str, bool]:
            pool = ConnectionPool(events)
            await pool.open()
            try:
                return {"open": pool.is_open}
            finally:
                await pool.close()

        return app
        """,
        # opens the pool while building the app, not at start-up
        """
        pool = ConnectionPool(events)
        asyncio.run(pool.open())

        @asynccontextmanager
        async def lifespan(_app: FastAPI) -> AsyncIterator[dict[str, ConnectionPool]]:
            try:
                yield {"pool": pool}
            finally:
                await pool.close()

        app = FastAPI(lifespan=lifespan)

        @app.get("/pool")
        async def pool_state(request: Request) -> dict[str, bool]:
            return {"open": request.state.pool.is_open}

        return app
        """,
    ],
    "1.3": [
        # copied the fat router verbatim: an HTTP error inside the service
        """
        subtotal = sum(item.unit_price_cents * item.quantity for item in request.items)
        discount = 0
        if request.coupon is not None:
            code = request.coupon.strip().upper()
            if code == "SAVE10":
                discount = subtotal // 10
            elif code == "FIVEOFF":
                discount = min(500, subtotal)
            else:
                raise HTTPException(status_code=400, detail=f"unknown coupon {request.coupon!r}")
        return Quote(
            subtotal_cents=subtotal, discount_cents=discount, total_cents=subtotal - discount
        )
        """,
        # rounds the percentage instead of rounding down
        """
        subtotal = sum(item.unit_price_cents * item.quantity for item in request.items)
        discount = 0
        if request.coupon is not None:
            code = request.coupon.strip().upper()
            if code == "SAVE10":
                discount = round(subtotal * 0.10)
            elif code == "FIVEOFF":
                discount = min(500, subtotal)
            else:
                raise UnknownCouponError(request.coupon)
        return Quote(
            subtotal_cents=subtotal, discount_cents=discount, total_cents=subtotal - discount
        )
        """,
        # lost the normalisation of the coupon code on the way
        """
        subtotal = sum(item.unit_price_cents * item.quantity for item in request.items)
        discount = 0
        if request.coupon == "SAVE10":
            discount = subtotal // 10
        elif request.coupon == "FIVEOFF":
            discount = min(500, subtotal)
        elif request.coupon is not None:
            raise UnknownCouponError(request.coupon)
        return Quote(
            subtotal_cents=subtotal, discount_cents=discount, total_cents=subtotal - discount
        )
        """,
        # lost the cap: FIVEOFF on a small basket gives a negative total
        """
        subtotal = sum(item.unit_price_cents * item.quantity for item in request.items)
        discount = 0
        if request.coupon is not None:
            code = request.coupon.strip().upper()
            if code == "SAVE10":
                discount = subtotal // 10
            elif code == "FIVEOFF":
                discount = 500
            else:
                raise UnknownCouponError(request.coupon)
        return Quote(
            subtotal_cents=subtotal, discount_cents=discount, total_cents=subtotal - discount
        )
        """,
        # a bare AppError: a domain error, but it becomes a 500 INTERNAL_ERROR
        """
        subtotal = sum(item.unit_price_cents * item.quantity for item in request.items)
        discount = 0
        if request.coupon is not None:
            code = request.coupon.strip().upper()
            if code == "SAVE10":
                discount = subtotal // 10
            elif code == "FIVEOFF":
                discount = min(500, subtotal)
            else:
                raise AppError(f"Unknown coupon: {request.coupon}")
        return Quote(
            subtotal_cents=subtotal, discount_cents=discount, total_cents=subtotal - discount
        )
        """,
    ],
    "1.4": [
        # "async by default": the blocking lookup runs on the event loop
        """
        @app.get("/stock/{sku}")
        async def stock(sku: str) -> dict[str, str | int]:
            return {"sku": sku, "quantity": blocking_stock_lookup(sku)}

        @app.get("/price/{sku}")
        async def price(sku: str) -> dict[str, str | int]:
            return {"sku": sku, "price_cents": await async_price_lookup(sku)}
        """,
        # "def when unsure": the coroutine is never awaited
        """
        @app.get("/stock/{sku}")
        def stock(sku: str) -> dict[str, object]:
            return {"sku": sku, "quantity": blocking_stock_lookup(sku)}

        @app.get("/price/{sku}")
        def price(sku: str) -> dict[str, object]:
            return {"sku": sku, "price_cents": async_price_lookup(sku)}
        """,
        # an `await` somewhere does not make a blocking call non-blocking
        """
        @app.get("/stock/{sku}")
        async def stock(sku: str) -> dict[str, str | int]:
            await asyncio.sleep(0)
            quantity = blocking_stock_lookup(sku)
            return {"sku": sku, "quantity": quantity}

        @app.get("/price/{sku}")
        async def price(sku: str) -> dict[str, str | int]:
            return {"sku": sku, "price_cents": await async_price_lookup(sku)}
        """,
    ],
}
