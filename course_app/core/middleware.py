"""Pure ASGI middleware: no ``BaseHTTPMiddleware`` anywhere (lesson 08 measures why).

Each class wraps ``send`` (or ``receive``) and passes everything else straight through,
so streaming responses stay streaming and ``contextvars`` set here are visible in the
endpoint and in every log line of the request.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING

import structlog
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.middleware.trustedhost import TrustedHostMiddleware
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from course_app.config import Environment, Settings
from course_app.core.logging import get_logger

if TYPE_CHECKING:
    from course_app.core.metrics import Metrics

REQUEST_ID_HEADER = "X-Request-ID"
HSTS = "max-age=63072000; includeSubDomains"  # two years: browsers then refuse plain HTTP
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")
access_log = get_logger("course_app.access")


def route_template(scope: Scope) -> str:
    """The matched route's path template (``/api/orders/{order_id}``), never the raw
    path: raw paths would give metrics and logs unbounded cardinality."""
    route = scope.get("route")
    path = getattr(route, "path_format", None) or getattr(route, "path", None)
    return path if isinstance(path, str) else "<unmatched>"


class RequestContextMiddleware:
    """Give every request an id, then account for it once it has finished.

    The id comes from ``X-Request-ID`` when the caller sent a well-formed one (so a
    trace can cross services), otherwise it is generated. It is stored in
    ``request.state.request_id``, bound into structlog's contextvars (every log line
    of the request carries it) and echoed in the response header.

    When the request ends, one measurement (status, duration, route template) feeds
    both the access-log line and, if given, the Prometheus metrics: one wrapper and one
    clock per request instead of one per concern.
    """

    def __init__(self, app: ASGIApp, *, metrics: Metrics | None = None) -> None:
        self.app = app
        self.metrics = metrics
        # Bound once, with the logging configuration of the app that built this stack
        # (an unbound module-level logger re-assembles its processors on every call).
        self.log = access_log.bind()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = ""
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                incoming = value.decode("latin-1")
                break
        request_id = incoming if _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        # The server gives each request its own shallow copy of the lifespan state (ASGI
        # spec), so this is per request, and outer layers (the 500 handler) see it too.
        scope.setdefault("state", {})["request_id"] = request_id
        header = (b"x-request-id", request_id.encode("latin-1"))
        status_code = 500  # if the app raises before starting a response
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status_code
            if message["type"] == "http.response.start":
                status_code = message["status"]
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        with structlog.contextvars.bound_contextvars(request_id=request_id):
            try:
                await self.app(scope, receive, send_with_id)
            finally:
                elapsed = time.perf_counter() - started
                route = route_template(scope)
                self.log.info(
                    "request",
                    method=scope["method"],
                    path=scope["path"],
                    route=route,
                    status=status_code,
                    duration_ms=round(elapsed * 1000, 2),
                )
                if self.metrics is not None and scope["path"] != "/metrics":
                    self.metrics.observe(scope["method"], route, status_code, elapsed)


class SecurityHeadersMiddleware:
    """Headers every API response should carry; HSTS only where HTTPS is the rule."""

    def __init__(self, app: ASGIApp, *, hsts: bool, docs_paths: Iterable[str] = ()) -> None:
        self.app = app
        self.docs_paths = tuple(docs_paths)
        self.headers = [
            ("X-Content-Type-Options", "nosniff"),
            ("X-Frame-Options", "DENY"),
            ("Referrer-Policy", "no-referrer"),
            ("Cross-Origin-Opener-Policy", "same-origin"),
        ]
        if hsts:
            self.headers.append(
                ("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
            )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # The interactive docs load scripts and styles; the JSON API needs none.
        strict_csp = not scope["path"].startswith(self.docs_paths) if self.docs_paths else True

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.headers:
                    headers.setdefault(name, value)
                if strict_csp:
                    headers.setdefault(
                        "Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"
                    )
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyTooLargeError(StarletteHTTPException):
    """Raised from ``receive`` when a streamed body passes the limit. An HTTPException,
    so FastAPI's body parsing re-raises it untouched and our handler renders the envelope."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"Request body exceeds {limit} bytes")


class BodySizeLimitMiddleware:
    """Refuse bodies over ``max_bytes``: by ``Content-Length`` before the app runs, and by
    counting while the body streams in (a chunked request has no ``Content-Length``).

    FastAPI's own ``max_body_size`` does the same counting, but answers a declared
    oversize body with a plain-text 413 from outside every handler; this one answers
    with the app's error envelope and request id, like every other error.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            response = too_large_response(scope, self.max_bytes)
            await response(scope, receive, send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLargeError(self.max_bytes)
            return message

        await self.app(scope, limited_receive, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # malformed: the server rejects it; the counter still applies
    return None


def too_large_response(scope: Scope, limit: int) -> Response:
    from course_app.core.errors import error_response

    return error_response(
        Request(scope),
        413,
        "PAYLOAD_TOO_LARGE",
        f"Request body exceeds {limit} bytes",
        {"max_bytes": limit},
    )


def install_middleware(app: FastAPI, settings: Settings, *, metrics: Metrics | None = None) -> None:
    """The whole stack, outermost first once added (``add_middleware`` prepends):

    request id + access log → trusted host → CORS → security headers → body limit → gzip.
    """
    app.add_middleware(GZipMiddleware, minimum_size=1000)
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(
        SecurityHeadersMiddleware,
        hsts=settings.environment is Environment.PRODUCTION,
        docs_paths=("/docs",) if settings.serve_docs else (),
    )
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_credentials="*" not in settings.cors_origins,  # never both
            allow_methods=["GET", "POST", "PATCH", "PUT", "DELETE", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type", REQUEST_ID_HEADER],
            expose_headers=[REQUEST_ID_HEADER, "Retry-After"],
        )
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=settings.allowed_hosts)
    app.add_middleware(RequestContextMiddleware, metrics=metrics)
