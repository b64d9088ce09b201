"""The pure ASGI stack: request ids, access log, security headers, CORS, hosts, gzip,
body limit and metrics."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI, Request

from course_app.config import Settings, SettingsError, load_settings
from course_app.core.middleware import (
    BodyLimit,
    BodySizeLimitMiddleware,
    BodyTooLargeError,
    TrustedHostMiddleware,
    merge_vary,
)
from course_app.main import create_app

pytestmark = pytest.mark.anyio
HEX32 = re.compile(r"^[0-9a-f]{32}$")


def make_settings(tmp_path: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "environment": "test",
        "database_url": f"sqlite+aiosqlite:///{tmp_path / 'mw.db'}",
        "jwt_secret": "m" * 40,
        "log_json": True,
        "max_body_bytes": 2048,
        **overrides,
    }
    return load_settings(_env_file=None, **values)


def build(settings: Settings) -> FastAPI:
    app = create_app(settings)

    @app.post("/echo-size")
    async def echo_size(request: Request) -> dict[str, int]:
        return {"bytes": len(await request.body())}

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("kaboom")

    return app


async def open_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with (
        LifespanManager(app) as manager,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=manager.app, raise_app_exceptions=False),
            base_url="http://testserver",
        ) as client,
    ):
        yield client


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    async for http in open_client(build(make_settings(tmp_path))):
        yield http


def log_records(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


# --- request id ---------------------------------------------------------------------------


async def test_request_id_is_generated_and_echoed(client: httpx.AsyncClient) -> None:
    response = await client.get("/health")
    assert HEX32.match(response.headers["X-Request-ID"])


async def test_well_formed_incoming_request_id_is_kept(client: httpx.AsyncClient) -> None:
    response = await client.get("/health", headers={"X-Request-ID": "trace-abc-123456"})
    assert response.headers["X-Request-ID"] == "trace-abc-123456"


@pytest.mark.parametrize(
    "incoming", [b"short", b"has spaces in it", b"x" * 200, b"semi;colon;inject", b"\xc3\xa9" * 10]
)
async def test_malformed_incoming_request_id_is_replaced(
    client: httpx.AsyncClient, incoming: bytes
) -> None:
    response = await client.get("/health", headers={b"X-Request-ID": incoming})
    assert HEX32.match(response.headers["X-Request-ID"])


async def test_error_envelope_carries_the_request_id(client: httpx.AsyncClient) -> None:
    response = await client.get("/nope", headers={"X-Request-ID": "find-me-in-logs-1"})
    assert response.status_code == 404
    assert response.json()["error"]["request_id"] == "find-me-in-logs-1"


async def test_500_carries_the_request_id_and_logs_the_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async for client in open_client(build(make_settings(tmp_path))):
        response = await client.get("/boom", headers={"X-Request-ID": "boom-request-01"})
    assert response.status_code == 500
    assert response.json()["error"]["request_id"] == "boom-request-01"
    assert "kaboom" not in response.text
    records = log_records(capsys.readouterr().err)
    errors = [r for r in records if r["event"] == "unhandled_exception"]
    assert errors
    assert errors[0]["request_id"] == "boom-request-01"
    assert "kaboom" in str(errors[0]["exception"])


# --- access log ---------------------------------------------------------------------------


async def test_one_access_line_per_request_with_status_duration_and_route(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async for client in open_client(build(make_settings(tmp_path))):
        await client.get("/health", headers={"X-Request-ID": "access-line-01"})
        await client.get("/missing")
    access = [r for r in log_records(capsys.readouterr().err) if r["event"] == "request"]
    assert len(access) == 2
    first, second = access
    assert first["request_id"] == "access-line-01"
    assert (first["method"], first["path"], first["route"], first["status"]) == (
        "GET",
        "/health",
        "/health",
        200,
    )
    assert isinstance(first["duration_ms"], float)
    assert (second["status"], second["route"]) == (404, "<unmatched>")


# --- security headers, CORS, hosts, gzip ----------------------------------------------------


async def test_security_headers_on_api_responses(client: httpx.AsyncClient) -> None:
    headers = (await client.get("/health")).headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert "Strict-Transport-Security" not in headers  # only in production


async def test_docs_page_is_not_broken_by_the_api_csp(client: httpx.AsyncClient) -> None:
    response = await client.get("/docs")
    assert response.status_code == 200
    assert "Content-Security-Policy" not in response.headers


async def test_hsts_in_production(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, environment="production", allowed_hosts="testserver")
    async for client in open_client(build(settings)):
        response = await client.get("/health")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


@pytest.mark.parametrize("host", ["evil.example", "evil.example:80", "[::2]:8000", ""])
async def test_untrusted_host_is_an_enveloped_400(client: httpx.AsyncClient, host: str) -> None:
    response = await client.get("/health", headers={"Host": host})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "INVALID_HOST"
    assert error["request_id"] == response.headers["X-Request-ID"]
    assert "evil" not in response.text  # the forged value is not reflected


@pytest.mark.parametrize(
    ("allowed", "host", "status"),
    [
        ("shop.example", "SHOP.example:8443", 200),
        ("*.shop.example", "api.shop.example", 200),
        ("*.shop.example", "shop.example", 400),
        ("*.shop.example", "evilshop.example", 400),
        ("::1", "[::1]:8000", 200),
        ("*", "anything.example", 200),
    ],
)
async def test_host_patterns(tmp_path: Path, allowed: str, host: str, status: int) -> None:
    async for client in open_client(build(make_settings(tmp_path, allowed_hosts=allowed))):
        response = await client.get("/health", headers={"Host": host})
    assert response.status_code == status


@pytest.mark.parametrize("pattern", ["shop.*", "*shop.example", "localhost:8000", "https://a.b"])
def test_bad_host_patterns_are_refused_with_the_settings(tmp_path: Path, pattern: str) -> None:
    with pytest.raises(SettingsError, match="ALLOWED_HOSTS"):
        make_settings(tmp_path, allowed_hosts=pattern)


def test_the_middleware_refuses_bad_patterns_too() -> None:
    with pytest.raises(ValueError, match=r"\*\.example\.com"):
        TrustedHostMiddleware(create_app, allowed_hosts=["shop.*"])


async def test_cors_allows_listed_origins_only(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, cors_origins="https://shop.example")
    async for client in open_client(build(settings)):
        allowed = await client.options(
            "/health",
            headers={"Origin": "https://shop.example", "Access-Control-Request-Method": "GET"},
        )
        denied = await client.options(
            "/health",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
        )
    assert allowed.headers["access-control-allow-origin"] == "https://shop.example"
    assert allowed.headers["access-control-allow-credentials"] == "true"
    assert "access-control-allow-origin" not in denied.headers


async def test_no_cors_headers_when_no_origins_are_configured(client: httpx.AsyncClient) -> None:
    response = await client.get("/health", headers={"Origin": "https://shop.example"})
    assert "access-control-allow-origin" not in response.headers


async def test_large_responses_are_gzipped(client: httpx.AsyncClient) -> None:
    response = await client.get("/openapi.json", headers={"Accept-Encoding": "gzip"})
    assert response.headers["content-encoding"] == "gzip"
    assert response.json()["info"]["title"]  # httpx decompressed it


def vary_tokens(response: httpx.Response) -> list[str]:
    values = response.headers.get_list("vary")
    return [token.strip() for value in values for token in value.split(",") if token.strip()]


async def test_a_request_without_origin_or_gzip_still_gets_the_full_vary(tmp_path: Path) -> None:
    """CORS and GZip are skipped for it, yet caches must key on both headers."""
    settings = make_settings(tmp_path, cors_origins="https://shop.example")
    async for client in open_client(build(settings)):
        response = await client.get("/health", headers={"Accept-Encoding": "identity"})
    assert response.status_code == 200
    assert vary_tokens(response) == ["Origin", "Accept-Encoding"]
    assert "access-control-allow-origin" not in response.headers
    assert "content-encoding" not in response.headers


async def test_cross_origin_response_names_each_vary_token_once(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, cors_origins="https://shop.example")
    async for client in open_client(build(settings)):
        response = await client.get(
            "/openapi.json",
            headers={"Origin": "https://shop.example", "Accept-Encoding": "gzip"},
        )
    assert response.headers["access-control-allow-origin"] == "https://shop.example"
    assert response.headers["content-encoding"] == "gzip"
    assert sorted(vary_tokens(response)) == ["Accept-Encoding", "Origin"]


async def test_a_disallowed_origin_gets_no_cors_headers_but_the_vary(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, cors_origins="https://shop.example")
    async for client in open_client(build(settings)):
        response = await client.get("/health", headers={"Origin": "https://evil.example"})
    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers
    assert vary_tokens(response).count("Origin") == 1


async def test_preflight_answers_carry_the_security_headers(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, cors_origins="https://shop.example")
    async for client in open_client(build(settings)):
        response = await client.options(
            "/api/products",
            headers={"Origin": "https://shop.example", "Access-Control-Request-Method": "GET"},
        )
    assert response.status_code == 200
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_without_cors_origins_vary_names_accept_encoding_only(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/health")
    assert vary_tokens(response) == ["Accept-Encoding"]


async def test_small_responses_to_gzip_clients_stay_plain(client: httpx.AsyncClient) -> None:
    response = await client.get("/health", headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in response.headers  # under minimum_size: not worth it
    assert vary_tokens(response) == ["Accept-Encoding"]


async def test_large_responses_are_not_gzipped_for_clients_that_do_not_ask(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/openapi.json", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in response.headers
    assert response.json()["info"]["title"]


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ([], "Origin"),
        ([(b"vary", b"Cookie")], "Cookie, Origin"),
        ([(b"Vary", b"origin, Cookie"), (b"vary", b" ")], "origin, Cookie"),
        ([(b"vary", b"Accept-Encoding"), (b"x-a", b"1")], "Accept-Encoding, Origin"),
    ],
)
def test_merge_vary_names_each_token_once(
    headers: list[tuple[bytes, bytes]], expected: str
) -> None:
    merged = merge_vary(headers, ["Origin"])
    assert [value for name, value in merged if name == b"vary"] == [expected.encode()]
    assert [item for item in merged if item[0].lower() != b"vary"] == [
        item for item in headers if item[0].lower() != b"vary"
    ]


# --- body size ----------------------------------------------------------------------------


async def test_body_within_the_limit_is_accepted(client: httpx.AsyncClient) -> None:
    response = await client.post("/echo-size", content=b"x" * 2048)
    assert response.json() == {"bytes": 2048}


async def test_oversized_body_with_content_length_is_413(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/echo-size", content=b"x" * 4096, headers={"X-Request-ID": "too-big-request"}
    )
    assert response.status_code == 413
    error = response.json()["error"]
    assert error["code"] == "PAYLOAD_TOO_LARGE"
    assert error["details"] == {"max_bytes": 2048}
    assert error["request_id"] == response.headers["X-Request-ID"] == "too-big-request"


async def test_oversized_chunked_body_is_413(client: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(8):
            yield b"y" * 512

    response = await client.post("/echo-size", content=chunks())
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"


# --- metrics -------------------------------------------------------------------------------


async def test_metrics_count_requests_by_route_template(client: httpx.AsyncClient) -> None:
    for _ in range(3):
        await client.get("/health")
    await client.get("/no/such/thing")
    text = (await client.get("/metrics")).text
    assert 'http_requests_total{method="GET",route="/health",status="200"} 3.0' in text
    assert 'route="<unmatched>",status="404"' in text
    assert "/no/such/thing" not in text  # raw paths would explode cardinality
    assert 'http_request_duration_seconds_count{method="GET",route="/health"} 3.0' in text
    assert 'route="/metrics"' not in text


async def test_two_apps_do_not_share_metrics(tmp_path: Path) -> None:
    first, second = build(make_settings(tmp_path)), build(make_settings(tmp_path))
    async for client in open_client(first):
        await client.get("/health")
    async for client in open_client(second):
        text = (await client.get("/metrics")).text
    assert 'route="/health"' not in text


async def test_a_websocket_to_an_untrusted_host_is_closed_before_accept() -> None:
    sent: list[dict[str, object]] = []
    reached: list[str] = []

    async def inner(scope: object, receive: object, send: object) -> None:
        reached.append("app")

    async def receive() -> dict[str, object]:
        return {"type": "websocket.connect"}

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    guard = TrustedHostMiddleware(inner, allowed_hosts=["shop.example"])
    scope = {"type": "websocket", "path": "/ws", "headers": [(b"host", b"evil.example")]}
    await guard(scope, receive, send)
    assert sent == [{"type": "websocket.close", "code": 1008}]
    assert reached == []
    await guard({**scope, "headers": [(b"host", b"shop.example")]}, receive, send)
    assert reached == ["app"]


@pytest.mark.parametrize(
    ("path", "matches"),
    [
        ("/api/products/7/image", True),
        ("/api/products/abc/image", True),  # the route then answers 422, not the limiter
        ("/api/products/7/image/extra", False),
        ("/api/products/7", False),
        ("/api/products//image", False),
    ],
)
def test_a_body_limit_matches_its_route_template(path: str, matches: bool) -> None:
    limit = BodyLimit("POST", "/api/products/{product_id}/image", 10)
    assert bool(limit.pattern().match(path)) is matches


async def test_a_route_limit_replaces_the_global_one_for_that_route_only() -> None:
    received: list[int] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        received.append(len(body))
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    guard = BodySizeLimitMiddleware(
        app, max_bytes=100, route_limits=[BodyLimit("post", "/upload/{name}", 1000)]
    )

    async def call(method: str, path: str, size: int) -> int:
        statuses: list[int] = []
        scope = {"type": "http", "method": method, "path": path, "headers": [], "state": {}}

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"x" * size, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                statuses.append(message["status"])

        try:
            await guard(scope, receive, send)
        except BodyTooLargeError:
            return 413
        return statuses[0]

    assert await call("POST", "/upload/a.png", 900) == 200  # over the global 100
    assert await call("POST", "/upload/a.png", 1001) == 413
    assert await call("PUT", "/upload/a.png", 900) == 413  # another method: global limit
    assert await call("POST", "/elsewhere", 101) == 413
    assert received == [900]
