"""Pure ASGI middleware: no ``BaseHTTPMiddleware`` anywhere (lesson 08 measures why).

Each class wraps ``send`` (or ``receive``) and passes everything else straight through,
so streaming responses stay streaming and ``contextvars`` set here are visible in the
endpoint and in every log line of the request.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import structlog
from fastapi import FastAPI
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.cors import CORSMiddleware as StarletteCORSMiddleware
from starlette.middleware.gzip import GZipMiddleware as StarletteGZipMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from course_app.config import Environment, Settings, check_host_pattern
from course_app.core.logging import AccessLog

if TYPE_CHECKING:
    from course_app.core.metrics import Metrics

REQUEST_ID_HEADER = "X-Request-ID"
HSTS = "max-age=63072000; includeSubDomains"  # two years: browsers then refuse plain HTTP
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")


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
        # Built once, with the logging configuration of the app that built this stack
        # (an unbound module-level logger re-assembles its processors on every call).
        self.log = AccessLog()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = ""
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                incoming = value.decode("latin-1")
                break
        # 128 random bits as 32 hex characters, like uuid4().hex without building a UUID
        request_id = incoming if _VALID_REQUEST_ID.match(incoming) else secrets.token_hex(16)
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

        # bind + reset by token: O(1), and restores whatever an outer layer had bound
        tokens = structlog.contextvars.bind_contextvars(request_id=request_id)
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
            structlog.contextvars.reset_contextvars(**tokens)


class SecurityHeadersMiddleware:
    """Headers every API response should carry; HSTS only where HTTPS is the rule.

    The headers are encoded once, here; per response the wrapper only appends the ones
    the endpoint did not set itself (an endpoint's own value wins).

    ``vary`` lists the request headers responses depend on: ``Origin`` when CORS is on,
    ``Accept-Encoding`` when compression is. The CORS and GZip layers below only run for
    requests they can change (see ``CORSMiddleware``), so this layer, which sees every
    response, merges those tokens into ``Vary`` once: a shared cache never serves one
    origin's (or one encoding's) response to another.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        hsts: bool,
        docs_paths: Iterable[str] = (),
        vary: Sequence[str] = (),
    ) -> None:
        self.app = app
        self.docs_paths = tuple(docs_paths)
        headers = {
            "x-content-type-options": "nosniff",
            "x-frame-options": "DENY",
            "referrer-policy": "no-referrer",
            "cross-origin-opener-policy": "same-origin",
        }
        if hsts:
            headers["strict-transport-security"] = HSTS
        self.vary = tuple(vary)
        if self.vary:
            headers["vary"] = ", ".join(self.vary)
        self.headers = [(name.encode(), value.encode()) for name, value in headers.items()]
        # The interactive docs load scripts and styles; the JSON API needs none.
        self.strict_headers = [
            *self.headers,
            (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        docs = bool(self.docs_paths) and scope["path"].startswith(self.docs_paths)
        extra = self.headers if docs else self.strict_headers

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = {name.lower() for name, _ in headers}
                if self.vary and b"vary" in present:
                    headers = merge_vary(headers, self.vary)
                headers.extend(item for item in extra if item[0] not in present)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def merge_vary(
    headers: list[tuple[bytes, bytes]], tokens: Sequence[str]
) -> list[tuple[bytes, bytes]]:
    """One ``Vary`` header holding the response's own tokens and ``tokens``, each once
    (compared case-insensitively, as HTTP field names are)."""
    values: list[str] = []
    rest = []
    for name, value in headers:
        if name.lower() == b"vary":
            values.extend(v.strip() for v in value.decode("latin-1").split(",") if v.strip())
        else:
            rest.append((name, value))
    seen = {v.lower() for v in values}
    values.extend(t for t in tokens if t.lower() not in seen)
    return [*rest, (b"vary", ", ".join(values).encode("latin-1"))]


def _has_header(scope: Scope, name: bytes, containing: bytes = b"") -> bool:
    # a plain loop: any() over a generator costs more than the few headers it scans
    for key, value in scope["headers"]:  # noqa: SIM110
        if key == name and containing in value.lower():
            return True
    return False


class CORSMiddleware(StarletteCORSMiddleware):
    """Starlette's CORS, entered only by requests that carry an ``Origin`` header.

    Without one, Starlette's layer changes nothing but ``Vary: Origin`` (which
    ``SecurityHeadersMiddleware`` adds to every response), yet it parses the headers and
    wraps ``send`` on every request. Same-origin calls, probes and server-to-server
    clients send no ``Origin``: they skip the layer entirely.
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not _has_header(scope, b"origin"):
            await self.app(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


class GZipMiddleware(StarletteGZipMiddleware):
    """Starlette's GZip, entered only by requests that accept gzip.

    For any other request Starlette's layer compresses nothing: it only adds
    ``Vary: Accept-Encoding`` (``SecurityHeadersMiddleware`` does that for every response),
    after wrapping ``send`` and holding back the response start until the first body chunk.
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not _has_header(scope, b"accept-encoding", b"gzip"):
            await self.app(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


class TrustedHostMiddleware:
    """Refuse requests addressed to a host this deployment does not serve.

    A forged ``Host`` header is how password-reset links and cached pages get poisoned:
    anything that builds a URL from the request would use the attacker's host. Patterns
    are Starlette's: ``shop.example``, ``*.shop.example`` (subdomains), ``*`` (any).
    Starlette's own ``TrustedHostMiddleware`` answers with a plain-text 400 from outside
    every handler; this one answers with the error envelope and the request id, like
    every other bad input. (It has no ``www.`` redirect: an API has no use for one.)
    """

    def __init__(self, app: ASGIApp, *, allowed_hosts: Sequence[str]) -> None:
        for pattern in allowed_hosts:
            check_host_pattern(pattern)
        self.app = app
        self.allow_any = "*" in allowed_hosts
        self.exact = frozenset(p.lower() for p in allowed_hosts if not p.startswith("*"))
        self.suffixes = tuple(p[1:].lower() for p in allowed_hosts if p.startswith("*."))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.allow_any or scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        host = request_host(scope)
        if host is not None and (host in self.exact or host.endswith(self.suffixes)):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})  # before accept: a 403
            return
        from course_app.core.errors import error_response

        response = error_response(Request(scope), 400, "INVALID_HOST", "Invalid Host header")
        await response(scope, receive, send)


def request_host(scope: Scope) -> str | None:
    """The host of the ``Host`` header, lower-cased, without the port; ``None`` if absent."""
    for name, value in scope["headers"]:
        if name == b"host":
            text = value.decode("latin-1").strip().lower()
            if text.startswith("["):  # IPv6 literal: [::1]:8000
                end = text.find("]")
                return text[1:end] if end > 0 else None
            host = text.partition(":")[0]
            return host or None
    return None


class BodyTooLargeError(StarletteHTTPException):
    """Raised from ``receive`` when a streamed body passes the limit. An HTTPException,
    so FastAPI's body parsing re-raises it untouched and our handler renders the envelope
    (with ``details``, which the handler reads from any HTTP exception that has them)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"Request body exceeds {limit} bytes")
        self.details = {"max_bytes": limit}


@dataclass(frozen=True)
class BodyLimit:
    """A route's own body limit, instead of the global ``max_body_bytes``: an image upload
    needs more than a JSON body (or a webhook less). ``path`` is the route template."""

    method: str
    path: str  # e.g. "/api/products/{product_id}/image"
    max_bytes: int

    def pattern(self) -> re.Pattern[str]:
        """The template as a regex: each ``{parameter}`` matches one path segment."""
        parts = re.split(r"\{[^/{}]+\}", self.path)
        return re.compile("^" + "[^/]+".join(re.escape(part) for part in parts) + "$")


class BodySizeLimitMiddleware:
    """Refuse bodies over the limit: by ``Content-Length`` before the app runs, and by
    counting while the body streams in (a chunked request has no ``Content-Length``).

    The limit is ``max_bytes``, or the ``route_limits`` entry matching the request's
    method and path: one place enforces every body limit of the app.

    FastAPI's own ``max_body_size`` does the same counting, but answers a declared
    oversize body with a plain-text 413 from outside every handler; this one answers
    with the app's error envelope and request id, like every other error.
    """

    def __init__(
        self, app: ASGIApp, *, max_bytes: int, route_limits: Sequence[BodyLimit] = ()
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.routes = [(r.method.upper(), r.pattern(), r.max_bytes) for r in route_limits]

    def limit_for(self, scope: Scope) -> int:
        for method, pattern, max_bytes in self.routes:
            if scope["method"] == method and pattern.match(scope["path"]):
                return max_bytes
        return self.max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope) if self.routes else self.max_bytes
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            response = too_large_response(scope, limit)
            await response(scope, receive, send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLargeError(limit)
            return message

        await self.app(scope, limited_receive, send)


def _content_length(scope: Scope) -> int | None:
    """``Content-Length`` as a number; ``None`` when absent or malformed (the server
    rejects those, and the bytes are counted as they arrive anyway)."""
    for name, value in scope["headers"]:
        if name == b"content-length":
            if not value.isdigit():  # bytes.isdigit: ASCII digits only
                return None
            # int() refuses 4300+ digits; 16 digits is already beyond any body
            return int(value) if len(value) <= 15 else 10**16
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


def install_middleware(
    app: FastAPI,
    settings: Settings,
    *,
    metrics: Metrics | None = None,
    body_limits: Sequence[BodyLimit] = (),
) -> None:
    """The whole stack, outermost first once added (``add_middleware`` prepends):

    request id + access log → trusted host → security headers → CORS → body limit → gzip.

    Security headers sit outside CORS and GZip so that they see, and complete, the
    ``Vary`` those layers set (and CORS preflight answers get the headers too).
    """
    app.add_middleware(GZipMiddleware, minimum_size=1000)
    app.add_middleware(
        BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes, route_limits=body_limits
    )
    vary = ["Accept-Encoding"]
    if settings.cors_origins:
        vary.insert(0, "Origin")
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_credentials="*" not in settings.cors_origins,  # never both
            allow_methods=["GET", "POST", "PATCH", "PUT", "DELETE", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type", REQUEST_ID_HEADER],
            expose_headers=[REQUEST_ID_HEADER, "Retry-After"],
        )
    app.add_middleware(
        SecurityHeadersMiddleware,
        hsts=settings.environment is Environment.PRODUCTION,
        docs_paths=("/docs",) if settings.serve_docs else (),
        vary=vary,
    )
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=settings.allowed_hosts)
    app.add_middleware(RequestContextMiddleware, metrics=metrics)
