"""The app factory: every layer is installed here, in one readable place.

Run it with ``python -m course_app`` or ``uvicorn course_app.main:create_app --factory``.
There is deliberately no module-level ``app``: importing this module reads no
environment and opens no connection.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TypedDict

from fastapi import FastAPI

from course_app import __version__
from course_app.config import Settings, get_settings
from course_app.core.database import Database, open_database
from course_app.core.errors import install_error_handlers
from course_app.core.logging import configure_logging, get_logger
from course_app.features.health.router import include_health

log = get_logger(__name__)


class State(TypedDict):
    """What the lifespan hands to every request as ``request.state``."""

    settings: Settings
    database: Database


def build_lifespan(settings: Settings) -> Callable[[FastAPI], AbstractAsyncContextManager[State]]:
    """Return the lifespan for these settings: open resources, yield them, close them."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[State]:
        async with open_database(settings) as database:
            log.info(
                "startup",
                app=settings.app_name,
                environment=settings.environment.value,
                database=database.backend,
            )
            yield {"settings": settings, "database": database}
        log.info("shutdown")

    return lifespan


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
        debug=False,  # never render tracebacks to clients, even in development
    )
    app.state.settings = settings
    install_error_handlers(app)
    include_health(app)
    return app
