"""Plausible wrong answers for lab 08: each must be rejected by its checker.

Each string replaces the body of the exercise's ``### BEGIN SOLUTION`` region.
"""

from __future__ import annotations

MUTANTS: dict[str, list[str]] = {
    "8.1": [
        # the seed's mistake: any incoming header is trusted, 4 KB and newlines included
        """
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = Headers(scope=scope).get("x-request-id") or uuid.uuid4().hex

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).append(REQUEST_ID_HEADER, request_id)
            await send(message)

        with structlog.contextvars.bound_contextvars(request_id=request_id):
            await self.app(scope, receive, send_with_id)
        """,
        # buffers the whole response to add the header "safely": streaming is lost
        """
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = Headers(scope=scope).get("x-request-id", "")
        request_id = incoming if VALID_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
        messages = []

        async def collect(message: Message) -> None:
            messages.append(message)

        with structlog.contextvars.bound_contextvars(request_id=request_id):
            await self.app(scope, receive, collect)
        for message in messages:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).append(REQUEST_ID_HEADER, request_id)
            await send(message)
        """,
        # non-http scopes are swallowed: the lifespan and websockets never reach the app
        """
        if scope["type"] != "http":
            return
        incoming = Headers(scope=scope).get("x-request-id", "")
        request_id = incoming if VALID_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).append(REQUEST_ID_HEADER, request_id)
            await send(message)

        with structlog.contextvars.bound_contextvars(request_id=request_id):
            await self.app(scope, receive, send_with_id)
        """,
        # bind_contextvars and never unbind: the id leaks into whatever runs next
        """
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = Headers(scope=scope).get("x-request-id", "")
        request_id = incoming if VALID_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).append(REQUEST_ID_HEADER, request_id)
            await send(message)

        structlog.contextvars.bind_contextvars(request_id=request_id)
        await self.app(scope, receive, send_with_id)
        """,
        # replaces the app's headers instead of adding one; match() accepts a valid prefix
        """
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = Headers(scope=scope).get("x-request-id", "")
        request_id = incoming if VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [(b"x-request-id", request_id.encode("latin-1"))]
            await send(message)

        with structlog.contextvars.bound_contextvars(request_id=request_id):
            await self.app(scope, receive, send_with_id)
        """,
    ],
    "8.2": [
        # seed 001: HTTPException(503, detail=str(e)) leaks the driver's error text
        """
        from fastapi import HTTPException

        router = APIRouter()

        @router.get("/health")
        async def health() -> dict[str, str]:
            return {"status": "ok"}

        @router.get("/ready")
        async def ready(request: Request) -> dict[str, Any]:
            try:
                await request.state.database.ping()
            except Exception as exc:
                raise HTTPException(status_code=503, detail=str(exc)) from exc
            return {"status": "ready", "checks": {"database": "ok"}}

        app.include_router(router)
        """,
        # forgot the status code: a load balancer sees 200 and keeps sending traffic
        """
        router = APIRouter()

        @router.get("/health")
        async def health() -> dict[str, str]:
            return {"status": "ok"}

        @router.get("/ready")
        async def ready(request: Request) -> dict[str, Any]:
            try:
                await request.state.database.ping()
            except Exception:
                return {"status": "unavailable", "checks": {"database": "unavailable"}}
            return {"status": "ready", "checks": {"database": "ok"}}

        app.include_router(router)
        """,
        # liveness checks the database too: an outage becomes a restart storm
        """
        router = APIRouter()

        async def database_ok(request: Request) -> bool:
            try:
                await request.state.database.ping()
            except Exception:
                return False
            return True

        @router.get("/health")
        async def health(request: Request, response: Response) -> dict[str, str]:
            if not await database_ok(request):
                response.status_code = 503
                return {"status": "down"}
            return {"status": "ok"}

        @router.get("/ready")
        async def ready(request: Request, response: Response) -> dict[str, Any]:
            if not await database_ok(request):
                response.status_code = 503
                return {"status": "unavailable", "checks": {"database": "unavailable"}}
            return {"status": "ready", "checks": {"database": "ok"}}

        app.include_router(router)
        """,
        # catches only SQLAlchemy's errors: a timeout escapes as a 500
        """
        from sqlalchemy.exc import SQLAlchemyError

        router = APIRouter()

        @router.get("/health")
        async def health() -> dict[str, str]:
            return {"status": "ok"}

        @router.get("/ready")
        async def ready(request: Request, response: Response) -> dict[str, Any]:
            try:
                await request.state.database.ping()
            except SQLAlchemyError:
                response.status_code = 503
                return {"status": "unavailable", "checks": {"database": "unavailable"}}
            return {"status": "ready", "checks": {"database": "ok"}}

        app.include_router(router)
        """,
        # SELECT 1 by hand, without a timeout: a hung database hangs the probe
        """
        from sqlalchemy import text

        router = APIRouter()

        @router.get("/health")
        async def health() -> dict[str, str]:
            return {"status": "ok"}

        @router.get("/ready")
        async def ready(request: Request, response: Response) -> dict[str, Any]:
            try:
                async with request.state.database.engine.connect() as connection:
                    await connection.execute(text("SELECT 1"))
            except Exception:
                response.status_code = 503
                return {"status": "unavailable", "checks": {"database": "unavailable"}}
            return {"status": "ready", "checks": {"database": "ok"}}

        app.include_router(router)
        """,
    ],
    "8.3": [
        # no status check: a failing probe disappears from the log too
        """
        if event_dict.get("event") == "request" and event_dict.get("route") in PROBE_ROUTES:
            raise structlog.DropEvent
        return event_dict
        """,
        # returns None instead of raising DropEvent: the renderer receives None
        """
        if (
            event_dict.get("event") == "request"
            and event_dict.get("route") in PROBE_ROUTES
            and int(event_dict.get("status", 500)) < 400
        ):
            return None
        return event_dict
        """,
        # matches the raw path by prefix: /health/history, a real page, is dropped too
        """
        if (
            event_dict.get("event") == "request"
            and str(event_dict.get("path", "")).startswith(tuple(PROBE_ROUTES))
            and int(event_dict.get("status", 500)) < 400
        ):
            raise structlog.DropEvent
        return event_dict
        """,
    ],
    "8.4": [
        # sums every sample of the family: the *_created timestamps become requests
        """
        totals: dict[str, float] = {}
        errors: dict[str, float] = {}
        for family in text_string_to_metric_families(metrics_text):
            for sample in family.samples:
                route = sample.labels["route"]
                totals[route] = totals.get(route, 0.0) + sample.value
                if sample.labels["status"].startswith("5"):
                    errors[route] = errors.get(route, 0.0) + sample.value
        return {route: errors.get(route, 0.0) / total for route, total in totals.items() if total}
        """,
        # 4xx counted as errors
        """
        totals: dict[str, float] = {}
        errors: dict[str, float] = {}
        for family in text_string_to_metric_families(metrics_text):
            for sample in family.samples:
                if sample.name != "http_requests_total":
                    continue
                route = sample.labels["route"]
                totals[route] = totals.get(route, 0.0) + sample.value
                if int(sample.labels["status"]) >= 400:
                    errors[route] = errors.get(route, 0.0) + sample.value
        return {route: errors.get(route, 0.0) / total for route, total in totals.items() if total}
        """,
        # only status 500 counts: a 503 from an overloaded dependency is missed
        """
        totals: dict[str, float] = {}
        errors: dict[str, float] = {}
        for family in text_string_to_metric_families(metrics_text):
            for sample in family.samples:
                if sample.name != "http_requests_total":
                    continue
                route = sample.labels["route"]
                totals[route] = totals.get(route, 0.0) + sample.value
                if sample.labels["status"] == "500":
                    errors[route] = errors.get(route, 0.0) + sample.value
        return {route: errors.get(route, 0.0) / total for route, total in totals.items() if total}
        """,
        # routes whose counter is 0 divide by zero
        """
        totals: dict[str, float] = {}
        errors: dict[str, float] = {}
        for family in text_string_to_metric_families(metrics_text):
            for sample in family.samples:
                if sample.name != "http_requests_total":
                    continue
                route = sample.labels["route"]
                totals[route] = totals.get(route, 0.0) + sample.value
                if sample.labels["status"].startswith("5"):
                    errors[route] = errors.get(route, 0.0) + sample.value
        return {route: errors.get(route, 0.0) / total for route, total in totals.items()}
        """,
    ],
}
