# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (FastAPI course)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Lab 08 · Observability
#
# Four exercises, about 40 minutes. Each exercise cell is followed by a check cell: run
# both. A check never crashes the notebook; it prints ✓ or, for each failing case, what was
# expected, what came back and a hint. Replace each `# YOUR CODE HERE` and the line after it.
#
# | # | you write | it proves |
# |---|---|---|
# | 8.1 | `RequestIdMiddleware` (pure ASGI) | a safe id per request, in the header and every log line |
# | 8.2 | `include_probes(app)` | the real app's `/ready` says 503 with a body when the DB goes |
# | 8.3 | `drop_probe_noise` (structlog) | the real app's log loses only successful probe lines |
# | 8.4 | `error_ratios(metrics_text)` | you can read a scrape: 5xx ratio per route template |
#
# Lesson 08 (`notebooks/08_observability.ipynb`) shows every tool you need.

# %%
import re
import uuid
from typing import Any

import structlog
from fastapi import APIRouter, FastAPI, Request, Response
from prometheus_client.parser import text_string_to_metric_families
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from coursekit import check

# %% [markdown]
# ## Exercise 8.1 — a pure ASGI request-id middleware
#
# Write the `__call__` of `RequestIdMiddleware`, a **pure ASGI** middleware (no
# `BaseHTTPMiddleware`):
#
# - scopes that are not `"http"` (`"lifespan"`, `"websocket"`) go to the app unchanged;
# - the id is the request's `X-Request-ID` header when it matches `VALID_REQUEST_ID`,
#   otherwise a fresh `uuid.uuid4().hex`;
# - while the app runs, the id is bound in structlog's contextvars under `request_id`, so
#   the endpoint and every log line see it; when the request ends (also when the app
#   raises), it is **no longer bound** — `structlog.contextvars.bound_contextvars(...)`
#   does both;
# - the response carries the id in an `X-Request-ID` header, added to the headers of the
#   `http.response.start` message — keep the app's own headers;
# - every message is passed on as soon as the app sends it: a streamed response must stay
#   streamed.
#
# Hints: `Headers(scope=scope).get("x-request-id", "")` reads the header;
# `MutableHeaders(scope=message).append(name, value)` adds one to a start message.

# %%
REQUEST_ID_HEADER = "X-Request-ID"
VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{8,128}")  # use .fullmatch()


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        ### BEGIN SOLUTION
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = Headers(scope=scope).get("x-request-id", "")
        request_id = incoming if VALID_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).append(REQUEST_ID_HEADER, request_id)
            await send(message)

        with structlog.contextvars.bound_contextvars(request_id=request_id):
            await self.app(scope, receive, send_with_id)
        ### END SOLUTION


# %%
check("8.1", RequestIdMiddleware)

# %% [markdown]
# ## Exercise 8.2 — liveness and readiness on the real app
#
# The checker builds a real app from `course_app`'s layers (lifespan with the database, error
# handlers, middleware) **without** its health feature, and calls your
# `include_probes(app)`, which must add:
#
# - `GET /health` → 200 `{"status": "ok"}`, always: it touches nothing else;
# - `GET /ready` → ask the database with `await request.state.database.ping()` (a
#   `SELECT 1` under a timeout); 200 `{"status": "ready", "checks": {"database": "ok"}}`
#   when it answers; when it fails **in any way** (refused, dropped, timed out), 503
#   `{"status": "unavailable", "checks": {"database": "unavailable"}}` — never a 500, and no
#   error text in the body. Log the reason instead, e.g.
#   `log.warning("readiness_check_failed", error=type(exc).__name__)`.
#
# The checker then takes the database away (its directory disappears), makes it hang, and
# brings it back.

# %%
log = structlog.get_logger("lab08")


def include_probes(app: FastAPI) -> None:
    """Add GET /health (liveness) and GET /ready (readiness) to ``app``."""
    ### BEGIN SOLUTION
    router = APIRouter(tags=["health"])

    @router.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/ready")
    async def ready(request: Request, response: Response) -> dict[str, Any]:
        try:
            await request.state.database.ping()
        except Exception as exc:  # any failure means "not ready"
            log.warning("readiness_check_failed", check="database", error=type(exc).__name__)
            response.status_code = 503
            return {"status": "unavailable", "checks": {"database": "unavailable"}}
        return {"status": "ready", "checks": {"database": "ok"}}

    app.include_router(router)
    ### END SOLUTION


# %%
check("8.2", include_probes)

# %% [markdown]
# ## Exercise 8.3 — a structlog processor that drops probe noise
#
# An orchestrator calls `/health` and `/ready` every few seconds on every replica, and
# Prometheus scrapes `/metrics`: most access lines of a quiet service are those, and they
# drown the real traffic. Write the processor `drop_probe_noise(logger, method_name,
# event_dict)`:
#
# - an **access line** (`event_dict["event"] == "request"`) whose `route` is one of
#   `PROBE_ROUTES` **and** whose `status` is below 400 is dropped: `raise
#   structlog.DropEvent` (returning `None` is not the same: the next processor would get
#   `None`);
# - every other line is returned unchanged — a probe that *fails* is exactly what you want
#   to see, and so is every line that is not an access line.
#
# The checker calls it directly, then puts it into the real app's processor chain (just
# before the renderer) and reads what the app logs.

# %%
PROBE_ROUTES = frozenset({"/health", "/ready", "/metrics"})


def drop_probe_noise(logger: Any, method_name: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    ### BEGIN SOLUTION
    if (
        event_dict.get("event") == "request"
        and event_dict.get("route") in PROBE_ROUTES
        and int(event_dict.get("status", 500)) < 400
    ):
        raise structlog.DropEvent
    return event_dict
    ### END SOLUTION


# %%
check("8.3", drop_probe_noise)

# %% [markdown]
# ## Exercise 8.4 — error ratios from a scrape
#
# An alert says "more than 1 % of the requests to one route fail". Write
# `error_ratios(metrics_text)`, which reads the text a `/metrics` endpoint returns (the
# course app's `http_requests_total{method, route, status}` counter) and returns
# `{route: ratio}`:
#
# - `ratio` = requests of that route with a **5xx** status / all requests of that route,
#   summed over every method and status (4xx are the client's errors: they do not count);
# - every route with at least one request appears, `0.0` when none failed;
# - parse with `text_string_to_metric_families` (imported above); beware that the family
#   `http_requests` also holds `http_requests_created` samples (timestamps, not counts).
#
# The checker feeds it a scrape of a real app and a few hand-written texts.

# %%
def error_ratios(metrics_text: str) -> dict[str, float]:
    ### BEGIN SOLUTION
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
    return {route: errors.get(route, 0.0) / total for route, total in totals.items() if total}
    ### END SOLUTION


# %%
check("8.4", error_ratios)

# %% [markdown]
# ## Done?
#
# Run `course check 8` in a terminal to see all four results at once. Next: lesson 09,
# performance.
