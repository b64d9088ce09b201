"""Plausible wrong answers for lab 12: each must be rejected by its checker.

Each string replaces the body of the exercise's ``### BEGIN SOLUTION`` region.
"""

from __future__ import annotations

MUTANTS: dict[str, list[str]] = {
    "12.1": [
        # mistake 9 itself: the whole catalog, as a bare list
        """
        app = create_app(settings)

        @app.get("/api/catalog")
        async def list_catalog() -> list[CatalogItem]:
            return CATALOG

        return app
        """,
        # a page, but page_size has no cap: ?page_size=1000000 is a huge answer
        """
        app = create_app(settings)

        @app.get("/api/catalog")
        async def list_catalog(
            page: int = Query(default=1, ge=1),
            page_size: int = Query(default=20, ge=1),
            category: Literal["books", "games", "tools"] | None = None,
        ) -> Page[CatalogItem]:
            matching = [i for i in CATALOG if category is None or i.category == category]
            start = (page - 1) * page_size
            return Page[CatalogItem](items=matching[start : start + page_size],
                                     total=len(matching), page=page, page_size=page_size)

        return app
        """,
        # off by one page: offset = page * page_size, so page 1 starts at item 21
        """
        app = create_app(settings)

        @app.get("/api/catalog")
        async def list_catalog(
            page: PageDep, category: Literal["books", "games", "tools"] | None = None
        ) -> Page[CatalogItem]:
            matching = [i for i in CATALOG if category is None or i.category == category]
            start = page.page * page.page_size
            return Page[CatalogItem](items=matching[start : start + page.page_size],
                                     total=len(matching), page=page.page,
                                     page_size=page.page_size)

        return app
        """,
        # total counts the page, not the matching items: has_next is always false
        """
        app = create_app(settings)

        @app.get("/api/catalog")
        async def list_catalog(
            page: PageDep, category: Literal["books", "games", "tools"] | None = None
        ) -> Page[CatalogItem]:
            matching = [i for i in CATALOG if category is None or i.category == category]
            items = matching[page.offset : page.offset + page.limit]
            return Page[CatalogItem](items=items, total=len(items), page=page.page,
                                     page_size=page.page_size)

        return app
        """,
        # paginates first, filters after: pages of tools are short and total is wrong
        """
        app = create_app(settings)

        @app.get("/api/catalog")
        async def list_catalog(
            page: PageDep, category: Literal["books", "games", "tools"] | None = None
        ) -> Page[CatalogItem]:
            window = CATALOG[page.offset : page.offset + page.limit]
            items = [i for i in window if category is None or i.category == category]
            return Page[CatalogItem](items=items, total=len(CATALOG), page=page.page,
                                     page_size=page.page_size)

        return app
        """,
        # the category as a free string: ?category=food is a 200 with nothing in it
        """
        app = create_app(settings)

        @app.get("/api/catalog")
        async def list_catalog(page: PageDep, category: str | None = None) -> Page[CatalogItem]:
            matching = [i for i in CATALOG if category is None or i.category == category]
            items = matching[page.offset : page.offset + page.limit]
            return Page[CatalogItem](items=items, total=len(matching), page=page.page,
                                     page_size=page.page_size)

        return app
        """,
    ],
    "12.2": [
        # mistake 1: the blocking SDK called straight from async def
        """
        app = create_app(settings)

        @app.get("/api/stock/{sku}")
        async def stock_level(sku: str) -> StockLevel:
            try:
                level = lookup(sku)
            except LookupError:
                raise NotFoundError("Stock", sku) from None
            return StockLevel(sku=sku, level=level)

        return app
        """,
        # the thread pool, but the function is *called* before it is handed over
        """
        import asyncio

        app = create_app(settings)

        @app.get("/api/stock/{sku}")
        async def stock_level(sku: str) -> StockLevel:
            try:
                level = await asyncio.get_running_loop().run_in_executor(None, lookup(sku))
            except LookupError:
                raise NotFoundError("Stock", sku) from None
            return StockLevel(sku=sku, level=level)

        return app
        """,
        # off the loop, but an unknown SKU escapes as a 500
        """
        app = create_app(settings)

        @app.get("/api/stock/{sku}")
        def stock_level(sku: str) -> StockLevel:
            return StockLevel(sku=sku, level=lookup(sku))

        return app
        """,
        # calls the notebook's own SDK function instead of the one it is given
        """
        app = create_app(settings)

        @app.get("/api/stock/{sku}")
        def stock_level(sku: str) -> StockLevel:
            try:
                level = legacy_stock_level(sku)
            except LookupError:
                raise NotFoundError("Stock", sku) from None
            return StockLevel(sku=sku, level=level)

        return app
        """,
        # "fast" by not asking: awaits a sleep and answers a made-up level
        """
        import asyncio

        app = create_app(settings)

        @app.get("/api/stock/{sku}")
        async def stock_level(sku: str) -> StockLevel:
            await asyncio.sleep(0.05)
            return StockLevel(sku=sku, level=0)

        return app
        """,
    ],
    "12.3": [
        # presence only: a wildcard list passes
        """
        @audit_check("trusted-hosts", dimension="Security", points=2,
                     title="Requests for unknown hosts are refused", fix="Add the middleware.")
        def trusted_hosts(ctx):
            names = [cls.__name__ for cls, _ in ctx.middleware()]
            if "TrustedHostMiddleware" in names:
                return True, "a TrustedHostMiddleware is installed"
            return False, "no TrustedHostMiddleware"
        """,
        # Starlette's class only: course_app's own middleware is not recognised
        """
        from starlette.middleware.trustedhost import TrustedHostMiddleware

        @audit_check("trusted-hosts", dimension="Security", points=2,
                     title="Requests for unknown hosts are refused", fix="Add the middleware.")
        def trusted_hosts(ctx):
            for cls, options in ctx.middleware():
                if cls is TrustedHostMiddleware:
                    hosts = list(options.get("allowed_hosts", ["*"]))
                    if "*" in hosts:
                        return False, "allows '*'"
                    return True, f"allowed hosts: {', '.join(hosts)}"
            return False, "no TrustedHostMiddleware"
        """,
        # reads the settings, not the middleware: apps without settings crash the check
        """
        @audit_check("trusted-hosts", dimension="Security", points=2,
                     title="Requests for unknown hosts are refused", fix="Set ALLOWED_HOSTS.")
        def trusted_hosts(ctx):
            hosts = list(ctx.settings.allowed_hosts)
            if "*" in hosts:
                return False, "allows '*'"
            return True, f"allowed hosts: {', '.join(hosts)}"
        """,
        # any middleware at all counts as protection
        """
        @audit_check("trusted-hosts", dimension="Security", points=2,
                     title="Requests for unknown hosts are refused", fix="Add the middleware.")
        def trusted_hosts(ctx):
            if ctx.middleware():
                return True, "middleware installed"
            return False, "no middleware"
        """,
        # a plain function, not a Check: the audit cannot run it
        """
        def trusted_hosts(ctx):
            for cls, options in ctx.middleware():
                if cls.__name__ == "TrustedHostMiddleware":
                    return "*" not in options.get("allowed_hosts", ["*"]), "checked"
            return False, "no TrustedHostMiddleware"
        """,
    ],
    "12.4": [
        # off by one: a score equal to the minimum is refused
        """
        reasons = []
        if report.score <= minimum:
            reasons.append(f"score {report.score} is below the minimum {minimum}")
        found = {finding.check_id: finding for finding in report.findings}
        for check_id in blocking:
            finding = found.get(check_id)
            if finding is None:
                reasons.append(f"{check_id}: not run")
            elif not finding.passed:
                reasons.append(f"{check_id}: {finding.reason}")
        return reasons
        """,
        # a high score overrides everything: blocking checks only count below the minimum
        """
        if report.score >= minimum:
            return []
        reasons = [f"score {report.score} is below the minimum {minimum}"]
        for finding in report.findings:
            if finding.check_id in blocking and not finding.passed:
                reasons.append(f"{finding.check_id}: {finding.reason}")
        return reasons
        """,
        # a missing blocking check passes silently
        """
        reasons = []
        if report.score < minimum:
            reasons.append(f"score {report.score} is below the minimum {minimum}")
        for finding in report.findings:
            if finding.check_id in blocking and not finding.passed:
                reasons.append(f"{finding.check_id}: {finding.reason}")
        return reasons
        """,
        # stops at the first reason
        """
        if report.score < minimum:
            return [f"score {report.score} is below the minimum {minimum}"]
        found = {finding.check_id: finding for finding in report.findings}
        for check_id in blocking:
            finding = found.get(check_id)
            if finding is None:
                return [f"{check_id}: not run"]
            if not finding.passed:
                return [f"{check_id}: {finding.reason}"]
        return []
        """,
        # the module's BLOCKING constant instead of the argument
        """
        reasons = []
        if report.score < minimum:
            reasons.append(f"score {report.score} is below the minimum {minimum}")
        found = {finding.check_id: finding for finding in report.findings}
        for check_id in BLOCKING:
            finding = found.get(check_id)
            if finding is None:
                reasons.append(f"{check_id}: not run")
            elif not finding.passed:
                reasons.append(f"{check_id}: {finding.reason}")
        return reasons
        """,
    ],
}
