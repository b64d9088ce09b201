"""Liveness and readiness probes.

``/health`` answers while the process can serve at all (it touches nothing else).
``/ready`` answers 200 only when the database answers; otherwise 503 *with a body*,
never a 500: an orchestrator takes the instance out of rotation and puts it back
when the database returns.
"""

from __future__ import annotations

from enum import Enum
from typing import Any, Final

from fastapi import FastAPI, Request, Response, status

from course_app import __version__
from course_app.core.database import Database
from course_app.core.logging import get_logger
from course_app.features.health.schemas import Liveness, Readiness

log = get_logger(__name__)
TAGS: Final[list[str | Enum]] = ["health"]
READY_RESPONSES: Final[dict[int | str, dict[str, Any]]] = {
    503: {"model": Readiness, "description": "A dependency is unavailable"}
}


async def health() -> Liveness:
    return Liveness(version=__version__)


async def ready(request: Request, response: Response) -> Readiness:
    database: Database = request.state.database
    try:
        await database.ping()
    except Exception as exc:  # any failure means "not ready"; the reason goes to the log
        log.warning("readiness_check_failed", check="database", error=type(exc).__name__)
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
        return Readiness(status="unavailable", checks={"database": "unavailable"})
    return Readiness(status="ready", checks={"database": "ok"})


def include_health(app: FastAPI) -> None:
    """Register the probes on the app itself, not on an ``APIRouter``.

    An included router is a node of FastAPI's routing tree: a request is matched against
    the app's entries, then again inside the router. Probes are the most frequent
    requests a server gets (every few seconds, from every orchestrator and load
    balancer), so they sit at the top level and are matched once (bench/README.md)."""
    app.get("/health", summary="Liveness probe", tags=TAGS)(health)
    app.get("/ready", summary="Readiness probe", tags=TAGS, responses=READY_RESPONSES)(ready)
