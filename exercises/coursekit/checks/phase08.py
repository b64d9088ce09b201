"""Checkers of lab 08, observability.

8.1 drives the learner's middleware directly at the ASGI boundary (so buffering, leaked
contextvars and swallowed exceptions are visible) and then on a real FastAPI app.
8.2 and 8.3 build real apps from ``course_app``'s layers on a SQLite file in a temporary
directory, and take the database away by moving that directory and disposing of the pool.
Logging is kept at CRITICAL while a check runs, so the lab's output does not depend on it.
"""

from __future__ import annotations

import asyncio
import io
import json
import re
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fastapi import WebSocket
from fastapi.responses import StreamingResponse

from coursekit.checking import Checker, exercise
from coursekit.settings import course_settings

VALID_ID = re.compile(r"[A-Za-z0-9._:-]{8,128}")
GOOD_ID = "checkout-7f3a9c01"
BAD_IDS = {
    "too short": "abc",
    "too long": "x" * 200,
    "a forged log line": 'id"}\n{"event": "admin_login"',
    "spaces and markup": "<b>hello there</b>",
}


# --- shared helpers -------------------------------------------------------------------------
def _settings(data: Path, **values: Any) -> Any:
    base: dict[str, Any] = {
        "environment": "test",
        "app_name": "Lab 08 Shop",
        "database_url": f"sqlite+aiosqlite:///{data}/lab.db",
        "log_level": "CRITICAL",
        "log_json": True,
        "cors_origins": [],
        "allowed_hosts": ["testserver", "localhost", "127.0.0.1"],
        "redis_url": None,
    }
    base.update(values)
    return course_settings(**base)


@contextmanager
def _workdir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="lab08-check-") as name:
        yield Path(name)


def _quiet_logging(data: Path) -> None:
    """course_app's logging at CRITICAL: nothing from a passing check reaches the notebook."""
    from course_app.core.logging import configure_logging

    configure_logging(_settings(data))


class _DatabaseSwitch:
    """Take a running app's database away (its directory moves, the pool is emptied) and
    bring it back; or make the next connection hang."""

    def __init__(self, client: Any, data: Path) -> None:
        self.client = client
        self.data = data
        self.moved = data.with_name(data.name + "-moved")
        self.database = client.app_state["database"]

    def down(self) -> None:
        self.data.rename(self.moved)
        self.client.portal.call(self.database.engine.dispose)

    def up(self) -> None:
        if self.moved.exists():
            self.moved.rename(self.data)

    def hang_next_connection(self, seconds: float) -> None:
        from sqlalchemy import event
        from sqlalchemy.util import await_only

        def hang(_dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
            await_only(asyncio.sleep(seconds))  # the server accepted, then never answered

        event.listen(self.database.engine.sync_engine, "checkout", hang, once=True)


def _course_app_without_health(settings: Any) -> Any:
    from fastapi import FastAPI

    from course_app.core.errors import install_error_handlers
    from course_app.core.metrics import install_metrics
    from course_app.core.middleware import install_middleware
    from course_app.main import build_lifespan

    app = FastAPI(title=settings.app_name, lifespan=build_lifespan(settings))
    app.state.settings = settings
    install_error_handlers(app)
    metrics = install_metrics(app)
    install_middleware(app, settings, metrics=metrics)
    return app


def _stop(client: Any) -> None:
    """End the app's lifespan now (the checker's own clean-up then finds it stopped)."""
    client.__exit__(None, None, None)


def _json_or_text(response: Any) -> Any:
    try:
        return response.status_code, response.json()
    except ValueError:
        return response.status_code, response.text[:120]


# --- 8.1 --------------------------------------------------------------------------------------
def _http_scope(headers: list[tuple[bytes, bytes]] | None = None) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/whoami",
        "raw_path": b"/whoami",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"testserver"), *(headers or [])],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
        "state": {},
    }


def _request_through(
    middleware: Any, request_id: str | None = None, *, fail: bool = False
) -> dict[str, Any]:
    """One request through ``middleware(inner)``: what was sent, what the inner app saw in
    structlog's contextvars, what is still bound afterwards, and the exception if any."""
    import structlog

    seen: list[Any] = []

    async def inner(scope: Any, receive: Any, send: Any) -> None:
        seen.append(structlog.contextvars.get_contextvars().get("request_id"))
        if fail:
            raise RuntimeError("a bug in the endpoint")
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"text/plain"), (b"x-app", b"kept")],
            }
        )
        await send({"type": "http.response.body", "body": b"ok"})

    async def main() -> dict[str, Any]:
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        headers = [] if request_id is None else [(b"x-request-id", request_id.encode())]
        error: Exception | None = None
        try:
            await middleware(inner)(_http_scope(headers), receive, send)
        except NotImplementedError:
            raise
        except Exception as exc:
            error = exc
        after = dict(structlog.contextvars.get_contextvars())
        return {"sent": sent, "seen": seen, "after": after, "error": error}

    result: dict[str, Any] = asyncio.run(main())
    return result


def _response_headers(result: dict[str, Any]) -> list[tuple[str, str]]:
    start = next(m for m in result["sent"] if m["type"] == "http.response.start")
    return [
        (bytes(k).decode("latin-1").lower(), bytes(v).decode("latin-1"))
        for k, v in start["headers"]
    ]


def _id_header(result: dict[str, Any]) -> str | None:
    values = [v for k, v in _response_headers(result) if k == "x-request-id"]
    return values[0] if len(values) == 1 else None


def _streams(middleware: Any) -> str:
    """Does the first chunk reach the server before the app has finished?"""

    async def main() -> str:
        first_chunk_out = asyncio.Event()

        async def inner(scope: Any, receive: Any, send: Any) -> None:
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"first", "more_body": True})
            await asyncio.wait_for(first_chunk_out.wait(), 1.0)
            await send({"type": "http.response.body", "body": b"second", "more_body": False})

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.body" and message.get("body") == b"first":
                first_chunk_out.set()

        try:
            await middleware(inner)(_http_scope(), receive, send)
        except TimeoutError:
            return "the first chunk was held back until the app had finished"
        return "streamed"

    return asyncio.run(main())


@exercise("8.1", "RequestIdMiddleware: a pure ASGI request id")
def _check_8_1(c: Checker, middleware: Any) -> None:
    if middleware is None:
        raise NotImplementedError("RequestIdMiddleware is None: write the class")
    ok, plain = c.run(
        "a request without X-Request-ID goes through the middleware",
        lambda: _request_through(middleware),
        accept=lambda r: (
            r["error"] is None and any(m["type"] == "http.response.start" for m in r["sent"])
        ),
        expected="the app's response passed on, no exception",
        hint="Call `await self.app(scope, receive, send_with_id)` for http scopes.",
        show=lambda r: f"error={r['error']!r}, {len(r['sent'])} message(s) sent",
    )
    if not ok:
        return
    header_hint = (
        "In your send wrapper, when message['type'] == 'http.response.start', append "
        "(b'x-request-id', request_id.encode()) to message['headers'] — exactly once."
    )
    if not c.that(
        "the response carries one generated X-Request-ID that matches VALID_REQUEST_ID",
        lambda: _id_header(plain),
        lambda value: isinstance(value, str) and VALID_ID.fullmatch(value) is not None,
        expected="one header like 'a3f0…' (uuid.uuid4().hex)",
        hint=header_hint,
    ):
        return
    c.equal(
        "the endpoint sees the same id in structlog's contextvars (request_id)",
        lambda: plain["seen"],
        [_id_header(plain)],
        hint="Run the app inside `with structlog.contextvars.bound_contextvars(request_id=...):`.",
    )
    c.that(
        "two requests get two different ids",
        lambda: _id_header(_request_through(middleware)),
        lambda other: other is not None and other != _id_header(plain),
        expected=f"an id other than {_id_header(plain)!r}",
        hint="Generate the id per request, inside __call__, not once in __init__.",
    )
    _check_8_1_incoming(c, middleware)
    c.equal(
        "the app's own response headers are kept",
        lambda: sorted(k for k, _ in _response_headers(plain)),
        ["content-type", "x-app", "x-request-id"],
        hint="Add the id to the existing headers; do not replace message['headers'].",
    )
    c.equal(
        "after the request, request_id is no longer bound (no leak into the next request)",
        lambda: "request_id" in plain["after"],
        False,
        hint="bind_contextvars() without unbinding leaves it set; use "
        "`with structlog.contextvars.bound_contextvars(request_id=...):` around the app.",
    )
    crashed = _request_through(middleware, fail=True)
    c.equal(
        "when the app raises, the exception propagates and request_id is unbound",
        lambda: (type(crashed["error"]).__name__, "request_id" in crashed["after"]),
        ("RuntimeError", False),
        hint="Do not catch the app's exception (the 500 handler outside must see it); the "
        "`with bound_contextvars(...)` block unbinds on the way out.",
    )
    c.equal(
        "a streamed response stays streamed",
        lambda: _streams(middleware),
        "streamed",
        hint="Pass each message to `send` as soon as the app sends it; never collect them.",
    )
    _check_8_1_real_app(c, middleware)


def _check_8_1_incoming(c: Checker, middleware: Any) -> None:
    kept = _request_through(middleware, GOOD_ID)
    c.equal(
        f"a well-formed incoming id ({GOOD_ID!r}) is kept: header and contextvars",
        lambda: (_id_header(kept), kept["seen"]),
        (GOOD_ID, [GOOD_ID]),
        hint="Read the header with Headers(scope=scope).get('x-request-id', '') and keep it "
        "when VALID_REQUEST_ID.fullmatch(it).",
    )
    for label, bad in BAD_IDS.items():
        result = _request_through(middleware, bad)

        def replaced(result: dict[str, Any] = result, bad: str = bad) -> bool:
            value = _id_header(result)
            return (
                value is not None
                and value != bad
                and VALID_ID.fullmatch(value) is not None
                and result["seen"] == [value]
            )

        c.that(
            f"a malformed incoming id ({label}) is replaced by a fresh one",
            lambda result=result: _id_header(result),
            lambda _value, replaced=replaced: replaced(),
            expected="a new valid id, in the header and in the contextvars",
            hint="The header is input: trust it only when VALID_REQUEST_ID.fullmatch() accepts "
            "it (match() alone accepts a valid prefix), otherwise generate one.",
            show=lambda value: repr(value)[:60],
        )


def _lifespan_through(middleware: Any) -> str:
    received: list[Any] = []

    async def inner(scope: Any, receive: Any, send: Any) -> None:
        received.append(scope)
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})

    async def main() -> str:
        scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
        sent: list[Any] = []

        async def receive() -> dict[str, Any]:
            return {"type": "lifespan.startup"}

        async def send(message: Any) -> None:
            sent.append(message)

        await middleware(inner)(scope, receive, send)
        if received and received[0] is scope and sent == [{"type": "lifespan.startup.complete"}]:
            return "the app received the lifespan scope"
        return "the app was not called" if not received else f"the app answered {sent!r}"

    return asyncio.run(main())


def _text_and_valid_id(response: Any) -> tuple[str, bool]:
    return response.text, VALID_ID.fullmatch(response.headers.get("x-request-id", "")) is not None


def _check_8_1_real_app(c: Checker, middleware: Any) -> None:
    from contextlib import asynccontextmanager

    import structlog
    from fastapi import FastAPI

    started: list[str] = []

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> Any:
        started.append("startup")
        yield

    app = FastAPI(lifespan=lifespan)

    @app.get("/whoami")
    async def whoami() -> dict[str, Any]:
        return {"request_id": structlog.contextvars.get_contextvars().get("request_id")}

    @app.get("/stream")
    async def stream() -> StreamingResponse:
        return StreamingResponse(iter([b"a", b"b", b"c"]), media_type="text/plain")

    @app.websocket("/ws")
    async def echo(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text(await websocket.receive_text())
        await websocket.close()

    if not c.equal(
        "a lifespan scope is passed to the app unchanged",
        lambda: _lifespan_through(middleware),
        "the app received the lifespan scope",
        hint="Start __call__ with: if scope['type'] != 'http': await self.app(scope, "
        "receive, send); return — the lifespan and websockets are not yours to handle.",
    ):
        return
    app.add_middleware(middleware)
    client = c.client(app)
    c.equal(
        "on a FastAPI app, the lifespan ran through the middleware",
        lambda: started,
        ["startup"],
        hint="Pass non-http scopes ('lifespan', 'websocket') to self.app unchanged.",
    )

    def whoami_matches() -> tuple[int, bool]:
        response = client.get("/whoami", headers={"X-Request-ID": GOOD_ID})
        return response.status_code, response.json()["request_id"] == response.headers.get(
            "x-request-id"
        ) == GOOD_ID

    c.equal(
        "GET /whoami on the app: the endpoint's contextvars id equals the header",
        whoami_matches,
        (200, True),
        hint="Bind the same id you put in the header.",
    )
    c.equal(
        "a StreamingResponse arrives whole, with the header",
        lambda: _text_and_valid_id(client.get("/stream")),
        ("abc", True),
        hint="Forward every http.response.body message, more_body included.",
    )

    def websocket_echo() -> str:
        with client.websocket_connect("/ws") as ws:
            ws.send_text("ping")
            return str(ws.receive_text())

    c.equal(
        "a websocket still works through the middleware",
        websocket_echo,
        "ping",
        hint="A websocket scope has no http.response.start: pass it to self.app unchanged.",
    )


# --- 8.2 --------------------------------------------------------------------------------------
READY = {"status": "ready", "checks": {"database": "ok"}}
UNAVAILABLE = {"status": "unavailable", "checks": {"database": "unavailable"}}
LEAKS = ("sqlite", "OperationalError", "unable to open", "Timeout", "Traceback", "lab.db")


@exercise("8.2", "Liveness and readiness on the real app", time_limit=45)
def _check_8_2(c: Checker, include_probes: Any) -> None:
    with _workdir() as work:
        data = work / "data"
        _quiet_logging(work)
        settings = _settings(data)
        app = _course_app_without_health(settings)
        built, _ = c.run(
            "include_probes(app) runs on an app built from course_app's layers",
            lambda: include_probes(app),
            expected="no exception",
            hint="Create an APIRouter with the two routes and app.include_router(router).",
            show=lambda _: "None",
        )
        if not built:
            return
        client = c.client(app)
        try:
            _check_8_2_probes(c, client, data)
        finally:
            _stop(client)


def _check_8_2_probes(c: Checker, client: Any, data: Path) -> None:
    if not c.equal(
        "GET /health answers 200 {'status': 'ok'}",
        lambda: _json_or_text(client.get("/health")),
        (200, {"status": "ok"}),
        hint="Register GET /health on the router you include; it returns {'status': 'ok'}.",
    ):
        return
    if not c.equal(
        "GET /ready answers 200 with the checks while the database is up",
        lambda: _json_or_text(client.get("/ready")),
        (200, READY),
        hint="await request.state.database.ping(), then return "
        "{'status': 'ready', 'checks': {'database': 'ok'}}.",
    ):
        return
    switch = _DatabaseSwitch(client, data)
    switch.down()
    try:
        down = client.get("/ready")
        c.equal(
            "database gone: GET /ready answers 503 with the body naming the failed check",
            lambda: _json_or_text(down),
            (503, UNAVAILABLE),
            hint="Catch the failure (`except Exception`), set response.status_code = 503 "
            "and return {'status': 'unavailable', 'checks': {'database': 'unavailable'}}; "
            "an HTTPException gives the error envelope instead of this body.",
        )
        c.that(
            "the 503 body reveals nothing about the failure (no driver error, no path)",
            lambda: down.text,
            lambda text: not any(word.lower() in text.lower() for word in LEAKS),
            expected="no error text: the reason goes to the log",
            hint="Never put str(exc) in a response: log type(exc).__name__ instead.",
            show=lambda text: text[:140],
        )
        c.equal(
            "database gone: GET /health still answers 200 (liveness must not restart the pod)",
            lambda: client.get("/health").status_code,
            200,
            hint="/health touches nothing: a liveness probe that checks the database turns a "
            "database outage into a restart storm.",
        )
    finally:
        switch.up()
    c.equal(
        "database back: GET /ready answers 200 again",
        lambda: _json_or_text(client.get("/ready")),
        (200, READY),
        hint="Check the database on every call; do not remember an earlier failure.",
    )
    _check_8_2_hang(c, client, switch)


def _check_8_2_hang(c: Checker, client: Any, switch: _DatabaseSwitch) -> None:
    switch.database.ping_timeout = 0.3
    switch.hang_next_connection(3.0)

    def timed() -> tuple[int, bool]:
        started = time.perf_counter()
        response = client.get("/ready")
        return response.status_code, time.perf_counter() - started < 2.0

    c.equal(
        "database hangs: GET /ready answers 503 within the ping timeout (0.3 s here)",
        timed,
        (503, True),
        hint="Use database.ping(): it runs SELECT 1 under asyncio.timeout. A TimeoutError is "
        "not a SQLAlchemyError: catch Exception, or the probe answers 500.",
        show=lambda got: f"({got[0]}, {'fast' if got[1] else 'took 2 s or more'})",
    )
    c.equal(
        "after the hang: GET /ready answers 200",
        lambda: client.get("/ready").status_code,
        200,
        hint="Nothing to remember between calls: ask the database each time.",
    )


# --- 8.3 --------------------------------------------------------------------------------------
def _access(route: str, status: int, path: str | None = None) -> dict[str, Any]:
    return {
        "event": "request",
        "method": "GET",
        "path": path or route,
        "route": route,
        "status": status,
        "duration_ms": 1.5,
        "request_id": "abcdef0123456789",
        "level": "info",
    }


def _run_processor(processor: Any, line: dict[str, Any]) -> Any:
    """What the processor does with a copy of ``line``; DropEvent (a BaseException, which a
    case would not catch) becomes a readable value."""
    import structlog

    try:
        return processor(None, "info", dict(line))
    except structlog.DropEvent:
        return "<dropped: raised structlog.DropEvent>"


@exercise("8.3", "drop_probe_noise: a structlog processor", time_limit=40)
def _check_8_3(c: Checker, processor: Any) -> None:
    import structlog

    if not c.that(
        "drop_probe_noise is a function",
        lambda: processor,
        callable,
        expected="a callable (logger, method_name, event_dict)",
        hint="Define def drop_probe_noise(logger, method_name, event_dict): ...",
        show=lambda value: type(value).__name__,
    ):
        return
    for route in ("/health", "/ready", "/metrics"):
        c.raises(
            f"a 200 access line of {route} is dropped (structlog.DropEvent)",
            lambda route=route: processor(None, "info", _access(route, 200)),
            structlog.DropEvent,
            hint="raise structlog.DropEvent for access lines (event 'request') of a probe "
            "route with a status below 400; returning None is not the same.",
        )
        if c.cases[-1].not_started:
            return
    kept = [
        ("a 503 of /ready (a failing probe is what you want to see)", _access("/ready", 503)),
        ("a 200 of /api/products", _access("/api/products", 200)),
        ("a 404 of the unmatched /health-report", _access("<unmatched>", 404, "/health-report")),
        (
            "a 200 of /health/history, a page whose path starts like a probe's",
            _access("/health/history", 200),
        ),
        ("a non-access line ('startup')", {"event": "startup", "level": "info", "app": "x"}),
        (
            "a warning 'readiness_check_failed'",
            {"event": "readiness_check_failed", "check": "database", "level": "warning"},
        ),
    ]
    for label, line in kept:
        c.equal(
            f"kept unchanged: {label}",
            lambda line=line: _run_processor(processor, line),
            line,
            hint="Return event_dict itself, unchanged, for every line you do not drop; match "
            "on event == 'request', the route template and the status.",
        )
    _check_8_3_real_app(c, processor)


def _check_8_3_real_app(c: Checker, processor: Any) -> None:
    import structlog
    from starlette.testclient import TestClient

    from course_app.core.logging import configure_logging
    from course_app.main import create_app

    def drive() -> list[tuple[str, Any, Any]]:
        """The real app with the processor just before the renderer: what does it log?"""
        with _workdir() as work:
            data = work / "data"
            app = create_app(_settings(data, log_level="INFO"))
            processors = list(structlog.get_config()["processors"])
            buffer = io.StringIO()
            structlog.configure(
                processors=[*processors[:-1], processor, processors[-1]],
                logger_factory=structlog.PrintLoggerFactory(file=buffer),
            )
            try:
                with TestClient(app, raise_server_exceptions=False) as client:
                    for path in (
                        "/health",
                        "/ready",
                        "/metrics",
                        "/health",
                        "/api/products",
                        "/nope",
                    ):
                        client.get(path)
                    switch = _DatabaseSwitch(client, data)
                    switch.down()
                    try:
                        client.get("/ready")
                    finally:
                        switch.up()
            finally:
                configure_logging(_settings(data))  # back to quiet
        found = []
        for line in buffer.getvalue().splitlines():
            record = json.loads(line)
            found.append((record["event"], record.get("route"), record.get("status")))
        return found

    c.equal(
        "in the real app's log: startup, the two real requests, the failing probe, shutdown",
        drive,
        [
            ("startup", None, None),
            ("request", "/api/products", 200),
            ("request", "<unmatched>", 404),
            ("readiness_check_failed", None, None),
            ("request", "/ready", 503),
            ("shutdown", None, None),
        ],
        hint="Only successful probe/scrape access lines may disappear.",
    )


# --- 8.4 --------------------------------------------------------------------------------------
CREATED = 1.7634e9  # a *_created sample's value: a Unix timestamp


def _exposition(rows: list[tuple[str, str, str, float]]) -> str:
    lines = [
        "# HELP http_requests_total HTTP requests by method, route template and status",
        "# TYPE http_requests_total counter",
    ]
    for method, route, status, value in rows:
        labels = f'method="{method}",route="{route}",status="{status}"'
        lines.append(f"http_requests_total{{{labels}}} {value}")
    for method, route, status, _ in rows:
        labels = f'method="{method}",route="{route}",status="{status}"'
        lines.append(f"http_requests_created{{{labels}}} {CREATED}")
    return "\n".join(lines) + "\n"


HAND_WRITTEN = {
    "two methods and a 503 on one route": (
        [
            ("GET", "/api/orders", "200", 6.0),
            ("POST", "/api/orders", "201", 2.0),
            ("POST", "/api/orders", "503", 2.0),
        ],
        {"/api/orders": 0.2},
        "Sum over every method and status of the route; 503 is a 5xx too.",
    ),
    "4xx are the client's errors": (
        [("GET", "/api/users/{user_id}", "404", 5.0), ("GET", "/api/users/{user_id}", "200", 5.0)],
        {"/api/users/{user_id}": 0.0},
        "Count only statuses starting with '5' as errors.",
    ),
    "a route whose counter is still 0": (
        [
            ("GET", "/api/products", "200", 4.0),
            ("GET", "/api/products", "500", 0.0),
            ("DELETE", "/api/products/{product_id}", "204", 0.0),
        ],
        {"/api/products": 0.0},
        "Leave out routes with no request at all (and never divide by zero).",
    ),
}


def _rounded(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: round(v, 6) if isinstance(v, int | float) else v for k, v in value.items()}
    return value


@exercise("8.4", "error_ratios: 5xx ratio per route from a scrape", time_limit=40)
def _check_8_4(c: Checker, error_ratios: Any) -> None:
    if not c.that(
        "error_ratios is a function",
        lambda: error_ratios,
        callable,
        expected="a callable (metrics_text) -> dict",
        hint="Define def error_ratios(metrics_text): ...",
        show=lambda value: type(value).__name__,
    ):
        return
    c.equal(
        "an empty scrape gives {}",
        lambda: error_ratios(""),
        {},
        hint="Return a dict with one entry per route seen.",
    )
    if c.cases[-1].not_started:
        return
    for label, (rows, expected, hint) in HAND_WRITTEN.items():
        c.equal(
            f"hand-written scrape: {label}",
            lambda rows=rows: _rounded(error_ratios(_exposition(rows))),
            expected,
            hint=hint + " Skip the http_requests_created samples: they are timestamps.",
        )
    _check_8_4_real_app(c, error_ratios)


def _check_8_4_real_app(c: Checker, error_ratios: Any) -> None:
    from course_app.main import create_app

    with _workdir() as work:
        app = create_app(_settings(work / "data"))
        calls: list[int] = []

        @app.get("/api/flaky")
        async def flaky() -> dict[str, str]:
            calls.append(1)
            if len(calls) % 2 == 0:
                raise RuntimeError("every second call fails")
            return {"status": "ok"}

        client = c.client(app)
        for path in (
            "/api/products",
            "/api/products",
            "/api/products/1",
            "/api/flaky",
            "/api/flaky",
            "/api/flaky",
            "/api/flaky",
            "/nope",
        ):
            client.get(path)
        scraped = client.get("/metrics").text
        _stop(client)
    c.equal(
        "a scrape of the real course app (create_app plus a flaky route)",
        lambda: _rounded(error_ratios(scraped)),
        {
            "/api/products": 0.0,
            "/api/products/{product_id}": 0.0,
            "/api/flaky": 0.5,
            "<unmatched>": 0.0,
        },
        hint="One entry per route label of http_requests_total, 5xx / all.",
    )
