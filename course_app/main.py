"""The app factory: every layer is installed here, in one readable place.

Run it with ``python -m course_app`` or ``uvicorn course_app.main:create_app --factory``.
There is deliberately no module-level ``app``: importing this module reads no
environment and opens no connection.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from typing import Any, Final, TypedDict

from fastapi import FastAPI
from redis.asyncio import Redis

from course_app import __version__
from course_app.config import Environment, Settings, get_settings
from course_app.core.cache import (
    Cache,
    FailOpenCache,
    MemoryCache,
    NullCache,
    RedisCache,
    SingleFlight,
)
from course_app.core.database import Database, open_database
from course_app.core.errors import install_error_handlers
from course_app.core.logging import configure_logging, get_logger
from course_app.core.metrics import install_metrics
from course_app.core.middleware import install_middleware
from course_app.core.notifications import MemoryNotifier, Notifier, RedisNotifier
from course_app.core.rate_limit import (
    FallbackRateLimiter,
    MemoryRateLimiter,
    RateLimiter,
    RedisRateLimiter,
)
from course_app.core.schema import prepare_schema
from course_app.features.auth.router import include_auth
from course_app.features.health.router import include_health
from course_app.features.orders.router import include_orders
from course_app.features.products.router import body_limits as product_body_limits
from course_app.features.products.router import include_products
from course_app.features.users.router import include_users

log = get_logger(__name__)


class State(TypedDict):
    """What the lifespan hands to every request as ``request.state``."""

    settings: Settings
    database: Database
    cache: Cache
    rate_limiter: RateLimiter
    notifier: Notifier
    cache_fills: SingleFlight[bytes]


# How long a thread may hold the GIL while another waits: 5 ms by default. Every aiosqlite
# connection has its own thread, and each statement's result comes back to the event loop
# through one; with the default, the loop (which serves every request) could wait several
# intervals per statement behind those threads. Measured on authenticated GET /api/orders
# under wrk: p99 about 0.7 s at 5 ms, 0.16 s at 0.5 ms, same requests/s (bench/README.md).
GIL_SWITCH_INTERVAL = 0.0005


def tune_server_process() -> None:
    """Process-wide settings for a server (staging, production), never for a test or
    notebook process, which builds many apps and shares its interpreter with the tests.

    * ``gc.freeze()``: move everything alive after start-up (modules, routes, schemas, the
      engine) out of the garbage collector's reach. A full collection scans every tracked
      object; with a few hundred thousand of them that is a pause of tens of milliseconds
      for every request in flight, several times a second under load (bench/README.md).
      Objects created later are collected as usual; frozen cycles of apps built later in
      the same process would never be freed, hence server processes only.
    * ``sys.setswitchinterval``: hand the GIL back to the event loop sooner (see
      ``GIL_SWITCH_INTERVAL``).
    """
    gc.collect()
    gc.freeze()
    sys.setswitchinterval(GIL_SWITCH_INTERVAL)


def build_lifespan(settings: Settings) -> Callable[[FastAPI], AbstractAsyncContextManager[State]]:
    """Return the lifespan for these settings: open resources, yield them, close them."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[State]:
        async with AsyncExitStack() as stack:
            database = await stack.enter_async_context(open_database(settings))
            await prepare_schema(database, settings)
            cache: Cache
            limiter: RateLimiter
            notifier: Notifier
            if settings.redis_url is not None:
                redis = Redis.from_url(settings.redis_url.get_secret_value())
                stack.push_async_callback(redis.aclose)
                cache = FailOpenCache(RedisCache(redis))  # an outage is a miss
                limiter = FallbackRateLimiter(RedisRateLimiter(redis))  # per process then
                notifier = RedisNotifier(redis)  # every worker sees every event
            else:
                cache, limiter = MemoryCache(), MemoryRateLimiter()
                notifier = MemoryNotifier()  # this process only
            if not settings.cache_enabled:
                cache = NullCache()
            stack.push_async_callback(notifier.close)  # ends open subscriptions first
            if settings.environment in {Environment.STAGING, Environment.PRODUCTION}:
                tune_server_process()
            log.info(
                "startup",
                app=settings.app_name,
                environment=settings.environment.value,
                database=database.backend,
                cache=type(cache).__name__,
            )
            yield {
                "settings": settings,
                "database": database,
                "cache": cache,
                "rate_limiter": limiter,
                "notifier": notifier,
                "cache_fills": SingleFlight(),  # one refill per expired key, not one per request
            }
        log.info("shutdown")

    return lifespan


#: The sections of the API docs, in reading order (routing order is another matter).
OPENAPI_TAGS: Final[list[dict[str, Any]]] = [
    {"name": "health", "description": "Probes for the orchestrator: liveness and readiness"},
    {"name": "observability", "description": "Prometheus metrics"},
    {"name": "auth", "description": "Tokens: OAuth2 password flow, JSON login, refresh, logout"},
    {"name": "users", "description": "Sign-up, your own account, and user administration"},
    {"name": "products", "description": "The public catalogue, and its administration"},
    {"name": "orders", "description": "Orders, their workflow, and their status live"},
]


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the production app. Pass ``settings`` in tests; otherwise read the environment."""
    settings = settings or get_settings()
    configure_logging(settings)
    app = FastAPI(
        title=settings.app_name,
        version=__version__,
        lifespan=build_lifespan(settings),
        docs_url="/docs" if settings.serve_docs else None,
        redoc_url=None,
        openapi_url="/openapi.json" if settings.serve_docs else None,
        openapi_tags=OPENAPI_TAGS,
        debug=False,  # never render tracebacks to clients, even in development
    )
    app.state.settings = settings
    install_error_handlers(app)
    include_health(app)  # first: the probes are matched before anything else
    metrics = install_metrics(app)
    # added last = outermost; a feature with its own body limit declares it here
    install_middleware(app, settings, metrics=metrics, body_limits=product_body_limits(settings))
    # Routes are matched in the order they were added, one by one, and FastAPI tries every
    # route of an included router before the next (no prefix shortcut): the catalogue,
    # the busiest part of a shop, is tried first, sign-in last. The docs keep their own
    # order (OPENAPI_TAGS).
    include_products(app)
    include_orders(app)
    include_users(app)
    include_auth(app)
    return app
