"""Plausible wrong answers for lab 09: each must be rejected by its checker.

Each string replaces the body of the exercise's ``### BEGIN SOLUTION`` region.
"""

from __future__ import annotations

MUTANTS: dict[str, list[str]] = {
    "9.1": [
        # the colleague's version: a blocking call inside async def
        """
        @app.get("/api/rates")
        async def rates() -> dict[str, float]:
            return fetch_exchange_rates()
        """,
        # looks async, still blocks: awaiting something first does not move the call
        """
        @app.get("/api/rates")
        async def rates() -> dict[str, float]:
            await asyncio.sleep(0)
            return fetch_exchange_rates()
        """,
        # fast, but stale: fetched once at start-up
        """
        snapshot = fetch_exchange_rates()

        @app.get("/api/rates")
        async def rates() -> dict[str, float]:
            return snapshot
        """,
        # forgot the await: returns a coroutine, which is not JSON
        """
        @app.get("/api/rates")
        async def rates() -> dict[str, float]:
            return asyncio.to_thread(fetch_exchange_rates)
        """,
    ],
    "9.2": [
        # the seeds' `if cached:`: an empty result is a miss every time
        """
        def decorate(function):
            entries = {}

            @functools.wraps(function)
            async def wrapper(*args, **kwargs):
                key = (args, tuple(sorted(kwargs.items())))
                expires, value = entries.get(key, (0.0, None))
                if value and clock() < expires:
                    return value
                value = await function(*args, **kwargs)
                entries[key] = (clock() + ttl, value)
                return value

            return wrapper

        return decorate
        """,
        # `is not None` on the value: a cached None is indistinguishable from a miss
        """
        def decorate(function):
            values, expiry = {}, {}

            @functools.wraps(function)
            async def wrapper(*args, **kwargs):
                key = (args, tuple(sorted(kwargs.items())))
                value = values.get(key)
                if value is not None and clock() < expiry[key]:
                    return value
                value = await function(*args, **kwargs)
                values[key], expiry[key] = value, clock() + ttl
                return value

            return wrapper

        return decorate
        """,
        # never expires
        """
        def decorate(function):
            entries = {}

            @functools.wraps(function)
            async def wrapper(*args, **kwargs):
                key = (args, tuple(sorted(kwargs.items())))
                if key not in entries:
                    entries[key] = await function(*args, **kwargs)
                return entries[key]

            return wrapper

        return decorate
        """,
        # keyword arguments left out of the key
        """
        def decorate(function):
            entries = {}

            @functools.wraps(function)
            async def wrapper(*args, **kwargs):
                entry = entries.get(args)
                if entry is not None and clock() < entry[0]:
                    return entry[1]
                value = await function(*args, **kwargs)
                entries[args] = (clock() + ttl, value)
                return value

            return wrapper

        return decorate
        """,
    ],
    "9.3": [
        # set at build time: there is no running event loop yet
        """
        anyio.to_thread.current_default_thread_limiter().total_tokens = threads
        """,
        # replaced the lifespan instead of wrapping it: no database, no request.state
        """
        @asynccontextmanager
        async def lifespan(app_: FastAPI) -> AsyncIterator[None]:
            anyio.to_thread.current_default_thread_limiter().total_tokens = threads
            yield

        app.router.lifespan_context = lifespan
        """,
        # wrapped it but dropped its state: request.state has no database
        """
        inner = app.router.lifespan_context

        @asynccontextmanager
        async def lifespan(app_: FastAPI) -> AsyncIterator[None]:
            anyio.to_thread.current_default_thread_limiter().total_tokens = threads
            async with inner(app_):
                yield

        app.router.lifespan_context = lifespan
        """,
        # after the yield: that runs at shutdown
        """
        inner = app.router.lifespan_context

        @asynccontextmanager
        async def lifespan(app_: FastAPI) -> AsyncIterator[Any]:
            async with inner(app_) as state:
                yield state
            anyio.to_thread.current_default_thread_limiter().total_tokens = threads

        app.router.lifespan_context = lifespan
        """,
        # a number of its own instead of `threads`
        """
        inner = app.router.lifespan_context

        @asynccontextmanager
        async def lifespan(app_: FastAPI) -> AsyncIterator[Any]:
            anyio.to_thread.current_default_thread_limiter().total_tokens = 64
            async with inner(app_) as state:
                yield state

        app.router.lifespan_context = lifespan
        """,
    ],
    "9.4": [
        # whole ORM objects, converted afterwards
        """
        products = await session.scalars(
            sa.select(Product).where(Product.is_active.is_(True)).order_by(Product.id)
            .offset((page - 1) * page_size).limit(page_size)
        )
        return [ProductSummary(id=p.id, name=p.name, price_cents=p.price_cents)
                for p in products]
        """,
        # three columns, but the page is cut in Python: the whole table is read
        """
        result = await session.execute(
            sa.select(Product.id, Product.name, Product.price_cents)
            .where(Product.is_active.is_(True)).order_by(Product.id)
        )
        rows = result.all()[(page - 1) * page_size: page * page_size]
        return [ProductSummary(id=r.id, name=r.name, price_cents=r.price_cents) for r in rows]
        """,
        # forgot the active filter
        """
        result = await session.execute(
            sa.select(Product.id, Product.name, Product.price_cents)
            .order_by(Product.id).offset((page - 1) * page_size).limit(page_size)
        )
        return [ProductSummary(id=r.id, name=r.name, price_cents=r.price_cents) for r in result]
        """,
        # pages counted from 0: page 1 skips the first page
        """
        result = await session.execute(
            sa.select(Product.id, Product.name, Product.price_cents)
            .where(Product.is_active.is_(True)).order_by(Product.id)
            .offset(page * page_size).limit(page_size)
        )
        return [ProductSummary(id=r.id, name=r.name, price_cents=r.price_cents) for r in result]
        """,
        # no ORDER BY: the database may return rows in any order, pages may overlap
        """
        result = await session.execute(
            sa.select(Product.id, Product.name, Product.price_cents)
            .where(Product.is_active.is_(True))
            .offset((page - 1) * page_size).limit(page_size)
        )
        return [ProductSummary(id=r.id, name=r.name, price_cents=r.price_cents) for r in result]
        """,
    ],
}
