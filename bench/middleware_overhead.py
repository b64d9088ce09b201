"""How much does course_app's middleware stack cost on `GET /health`?

In-process and at the ASGI boundary (no HTTP client, no sockets): each app is called
directly with a minimal HTTP scope, so the number is the stack's own cost, not a
client's. Three apps, measured in the same run, interleaved in rounds:

* bare     FastAPI with only `GET /health`: course_app's own handler and response model;
* seed     the seeds' stack: request-id on `BaseHTTPMiddleware`, structlog through the
           stdlib logging module, CORS, GZip, TrustedHost;
* routes   `create_app()` with its middleware removed: the app's routes and handlers only,
           so routing over the whole API is not mistaken for middleware cost;
* course   `course_app.main.create_app()`: pure ASGI request id + access log, metrics,
           trusted host, CORS, security headers, body limit, gzip, error handlers.

Logs go to /dev/null (rendering them is part of the cost; the terminal is not).
``--layers`` adds one row per middleware layer: course_app with that one layer removed, so
the difference to ``course`` is what the layer costs.
Run: .venv/bin/python bench/middleware_overhead.py [--requests 5000] [--rounds 5] [--layers]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.middleware.trustedhost import TrustedHostMiddleware
from starlette.middleware.base import BaseHTTPMiddleware

from course_app.config import load_settings
from course_app.main import create_app

ASGI = Callable[[dict[str, Any], Callable[[], Awaitable[dict[str, Any]]], Callable[[dict[str, Any]], Awaitable[None]]], Awaitable[None]]


def bare_app() -> FastAPI:
    """A bare FastAPI app with the same route: course_app's own ``/health`` handler (and
    so its response model), registered on a plain ``FastAPI()``."""
    from course_app.features.health.router import health

    app = FastAPI()
    app.get("/health")(health)
    return app


def seed_app() -> FastAPI:
    """The stack seed 000 describes, as it would be written from it."""
    logging.basicConfig(stream=open(os.devnull, "w"), level=logging.INFO, force=True)  # noqa: SIM115
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.stdlib.add_log_level,
            structlog.processors.TimeStamper(fmt="iso"),
            structlog.processors.JSONRenderer(),
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    log = structlog.get_logger()

    class RequestIDMiddleware(BaseHTTPMiddleware):
        async def dispatch(self, request: Request, call_next: Any) -> Any:
            request_id = request.headers.get("X-Request-ID", str(uuid.uuid4()))
            structlog.contextvars.bind_contextvars(request_id=request_id)
            start = time.perf_counter()
            response = await call_next(request)
            log.info(
                "request",
                method=request.method,
                path=request.url.path,
                status=response.status_code,
                duration_ms=round((time.perf_counter() - start) * 1000, 2),
            )
            response.headers["X-Request-ID"] = request_id
            structlog.contextvars.clear_contextvars()
            return response

    app = bare_app()
    app.add_middleware(GZipMiddleware, minimum_size=1000)
    app.add_middleware(CORSMiddleware, allow_origins=["https://shop.example"])
    app.add_middleware(RequestIDMiddleware)
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=["*"])
    return app


def course_app_instance(tmp: str) -> FastAPI:
    """course_app as deployed (staging: JSON logs, an allowed host, CORS for one origin,
    the garbage collector's start-up freeze), on a SQLite file the probe never touches."""
    settings = load_settings(
        _env_file=None,
        environment="staging",
        database_url=f"sqlite+aiosqlite:///{tmp}/bench.db",
        jwt_secret="bench-" + "k" * 40,
        allowed_hosts="127.0.0.1",
        cors_origins="https://shop.example",
    )
    return create_app(settings)


SCOPE: dict[str, Any] = {
    "type": "http",
    "asgi": {"version": "3.0"},
    "http_version": "1.1",
    "method": "GET",
    "scheme": "http",
    "path": "/health",
    "raw_path": b"/health",
    "root_path": "",
    "query_string": b"",
    "headers": [(b"host", b"127.0.0.1"), (b"accept", b"*/*")],
    "client": ("127.0.0.1", 50000),
    "server": ("127.0.0.1", 8000),
}


async def call(app: Any, state: dict[str, Any]) -> int:
    status = 0

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app({**SCOPE, "state": dict(state)}, receive, send)
    return status


async def measure(app: Any, state: dict[str, Any], requests: int) -> float:
    """Seconds per request over ``requests`` sequential calls."""
    assert await call(app, state) == 200
    started = time.perf_counter()
    for _ in range(requests):
        await call(app, state)
    return (time.perf_counter() - started) / requests


async def main(requests: int, rounds: int, layers: bool = False) -> dict[str, float]:
    import tempfile

    from asgi_lifespan import LifespanManager

    tmp = tempfile.mkdtemp()
    apps = {"bare": bare_app(), "seed": seed_app()}
    # course_app configures structlog itself: send its output to /dev/null as well
    devnull = open(os.devnull, "w")  # noqa: SIM115
    with contextlib.redirect_stderr(devnull):
        routes_only = course_app_instance(tmp)
        routes_only.user_middleware.clear()  # same routes and handlers, no middleware
        apps["routes"] = routes_only
        apps["course"] = course_app_instance(tmp)
        if layers:
            for index, middleware in enumerate(apps["course"].user_middleware):
                without = course_app_instance(tmp)
                del without.user_middleware[index]
                apps[f"-{middleware.cls.__name__}"] = without
        results: dict[str, list[float]] = {name: [] for name in apps}
        async with contextlib.AsyncExitStack() as stack:
            states: dict[str, dict[str, Any]] = {}
            for name, app in apps.items():
                manager = await stack.enter_async_context(LifespanManager(app))
                states[name] = dict(manager._state)
            for _ in range(rounds):
                for name, app in apps.items():
                    results[name].append(await measure(app, states[name], requests))
    return {name: statistics.median(values) for name, values in results.items()}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--layers", action="store_true", help="also: course_app minus each layer")
    args = parser.parse_args()
    medians = asyncio.run(main(args.requests, args.rounds, args.layers))
    bare, routes = medians["bare"], medians["routes"]
    width = max(len(name) for name in medians)
    print(f"{'app':<{width}} {'µs/request':>11} {'× bare':>8} {'× routes':>9}")
    for name, seconds in medians.items():
        print(f"{name:<{width}} {seconds * 1e6:>11.1f} {seconds / bare:>8.2f} {seconds / routes:>9.2f}")
    sys.exit(0)
