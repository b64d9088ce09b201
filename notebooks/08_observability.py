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
# # 08 · Observability: structured logs, request ids, metrics, probes
#
# When a user reports "checkout failed at 14:02", an operator needs three things: every log
# line of *that* request (and only that one), the error rate of the route it hit, and a way
# for the orchestrator to stop sending traffic to an instance that cannot serve. This lesson
# builds all three from `course_app.core.logging`, `core.middleware`, `core.metrics` and
# `features/health`, and runs the seed's versions beside them.
#
# **Objectives.** After this lesson you can
#
# - configure structlog for JSON logs, and explain why the seed's configuration drops every
#   `info` line and still pays to render the `debug` ones;
# - give every request an id with a **pure ASGI** middleware and contextvars, keep a
#   well-formed incoming `X-Request-ID`, replace a malformed one, and find every log line of
#   one request by that id — including the lines a service writes;
# - write one access-log line per request (status and duration), also for a request that
#   crashed;
# - show, and measure, what `BaseHTTPMiddleware` costs and which contextvars it loses;
# - scrape Prometheus metrics from a running server, count requests per **route template**,
#   and say why raw paths must never become labels;
# - tell liveness from readiness, and make `/ready` answer **503 with a body** (never a 500)
#   when the database goes away, then 200 when it comes back.
#
# **Time estimate:** about 45 minutes (lesson) + 40 minutes (lab `exercises/08_observability.ipynb`).
#
# **Prerequisites:** lesson 01 (the app factory, lifespan, `serve()`), lesson 04 (the error
# envelope and its `request_id`), lesson 06 (the `Database` object and its pool).

# %% [markdown]
# ## 1. The seed's logging set-up, run as published
#
# The method this course started from configures structlog like this: contextvars merged into
# every line, level, logger name, ISO timestamp, exception formatting, JSON rendering — and
# `structlog.stdlib.LoggerFactory()`, which hands each finished line to Python's `logging`
# module. The seed never configures `logging` itself. We run it as written and catch whatever
# reaches stderr:

# %%
import contextlib
import io
import logging

import structlog



def configure_seed_logging() -> None:
    """Seed 000's configuration, as published."""
    structlog.reset_defaults()
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.stdlib.add_log_level,
            structlog.stdlib.add_logger_name,
            structlog.processors.TimeStamper(fmt="iso"),
            structlog.processors.StackInfoRenderer(),
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
    )


configure_seed_logging()
seed_logger = structlog.get_logger("seed")
stderr = io.StringIO()
with contextlib.redirect_stderr(stderr):
    seed_logger.info("order_created", order_id=7)
    seed_logger.warning("payment_slow", order_id=7)
print("root logger level:", logging.getLevelName(logging.getLogger().level))
print("handlers on the root logger:", logging.getLogger().handlers)
print(stderr.getvalue().strip() or "(nothing)")

# %% [markdown]
# The `info` line is gone without a trace. `logging`'s root logger starts at `WARNING` with
# no handler; the warning only appears because of `logging.lastResort`, an emergency handler
# meant for misconfigured programs. In production that means: every `request_completed`
# line of the seed's middleware is silently dropped.
#
# There is a second, quieter cost. The stdlib level check happens at the *end* of the chain:
# structlog first builds the event, stamps the time and renders the JSON, and only then does
# `logging` decide to throw the line away. `course_app` does not route through `logging` at
# all. Its chain (`course_app/core/logging.py`) ends in a `PrintLogger`, and the level check
# happens *before* the chain, in the bound logger's class:

# %%
import tempfile
from pathlib import Path

from course_app.config import load_settings
from course_app.core.logging import configure_logging

workdir = tempfile.TemporaryDirectory(prefix="lesson08-")
WORK = Path(workdir.name)
settings = load_settings(
    environment="test",
    app_name="Lesson 08 Shop",
    database_url=f"sqlite+aiosqlite:///{WORK}/data/shop.db",
    log_json=True,  # what production renders; development defaults to the console renderer
)
configure_logging(settings)
config = structlog.get_config()
for processor in config["processors"]:
    print(" ", getattr(processor, "__name__", type(processor).__name__))
print("logger factory:", type(config["logger_factory"]).__name__)
print("debug method at level INFO:", config["wrapper_class"].debug.__name__)

# %% [markdown]
# At level `INFO`, `debug` *is* `_nop`: a call that does nothing, before any processor runs.
# How much that saves is measured, not claimed. The next cell calls `debug` 20 000 times
# through both configurations, with their output going nowhere:

# %%
# NBVAL_IGNORE_OUTPUT
import os
import time

NULL = open(os.devnull, "w")  # noqa: SIM115 - closed at the end of the lesson


def per_call(log: object, calls: int = 20_000) -> float:
    started = time.perf_counter()
    for index in range(calls):
        log.debug("cache_miss", key=index)  # type: ignore[attr-defined]
    return (time.perf_counter() - started) / calls


configure_seed_logging()
logging.basicConfig(stream=NULL, level=logging.INFO, force=True)  # stdlib configured, at INFO
seed_cost = per_call(structlog.get_logger("seed").bind())
configure_logging(settings)
structlog.configure(logger_factory=structlog.PrintLoggerFactory(file=NULL))
course_cost = per_call(structlog.get_logger("course").bind())
logging.basicConfig(force=True, level=logging.WARNING, handlers=[logging.NullHandler()])
print(f"a filtered debug call: seed {seed_cost * 1e6:.2f} µs, course_app "
      f"{course_cost * 1e6:.3f} µs ({seed_cost / course_cost:.0f}× cheaper)")
assert course_cost < seed_cost

# %% [markdown]
# The fix for the seed is either to configure `logging` (a handler, a level, and
# `structlog.stdlib.filter_by_level` as the *first* processor) or, as `course_app` does, to
# skip `logging` for the app's own lines: `make_filtering_bound_logger(level)` plus a
# `PrintLoggerFactory` writing to stderr, where the container runtime collects it. One JSON
# object per line, no multi-line tracebacks breaking a log shipper's line parser
# (`format_exc_info` puts the traceback into a JSON string).
#
# The same configuration renders for humans in development (`log_json` defaults to off
# there). One event, both ways:

# %%
import json

for json_logs in (False, True):
    configure_logging(settings.model_copy(update={"log_json": json_logs}))
    buffer = io.StringIO()
    structlog.configure(logger_factory=structlog.PrintLoggerFactory(file=buffer))
    structlog.get_logger("course_app.demo").info("order_created", order_id=7, total_cents=1999)
    print(buffer.getvalue().strip())
print("keys of the JSON line:", sorted(json.loads(buffer.getvalue())))

# %% [markdown]
# ## 2. The lesson-08 app, and a log we can read
#
# The app grows by composition: the layers of lessons 01–07 plus this lesson's three —
# `install_metrics` (a Prometheus registry and `GET /metrics`), `install_middleware` (the
# pure ASGI stack, request context outermost) and the health feature. This is, layer for
# layer, what `create_app()` does; lesson 12's app *is* `create_app()`.
#
# As in lesson 04, the app keeps its real processors and we point the output at a buffer.
# One detail matters: the access logger is bound when the middleware stack is built (at the
# first request), so we redirect the output *before* the first request.

# %%
from typing import Any

from fastapi import FastAPI

from course_app import __version__
from course_app.core.errors import install_error_handlers
from course_app.core.metrics import install_metrics
from course_app.core.middleware import install_middleware
from course_app.features.auth.router import include_auth
from course_app.features.health.router import include_health
from course_app.features.orders.router import include_orders
from course_app.features.products.router import include_products
from course_app.features.users.router import include_users
from course_app.main import build_lifespan

configure_logging(settings)
app = FastAPI(title=settings.app_name, version=__version__, lifespan=build_lifespan(settings))
app.state.settings = settings
install_error_handlers(app)
metrics = install_metrics(app)
install_middleware(app, settings, metrics=metrics)  # added last: the outermost layer
for include in (include_health, include_auth, include_users, include_products, include_orders):
    include(app)
print("middleware, outermost first:", [m.cls.__name__ for m in app.user_middleware])

# %% [markdown]
# A crash is part of observability too, so the app gets one endpoint with a bug in it:

# %%
@app.get("/api/reports/daily", include_in_schema=False)
async def daily_report() -> dict[str, float]:
    totals: dict[str, float] = {}
    return {"revenue": totals["revenue"]}  # a bug: KeyError


LOG = io.StringIO()


def capture_logs() -> None:
    """Keep the app's processors (JSON, timestamps, request ids); write lines to LOG."""
    configure_logging(settings)
    structlog.configure(logger_factory=structlog.PrintLoggerFactory(file=LOG))


def log_records() -> list[dict[str, Any]]:
    return [json.loads(line) for line in LOG.getvalue().splitlines() if line.strip()]


capture_logs()

# %% [markdown]
# `TestClient` as a context manager runs the lifespan (the database opens) and keeps it
# running until we close it at the end of the lesson. `raise_server_exceptions=False` makes
# it behave like a server for the crash: it returns the 500 instead of raising into the cell.

# %%
from fastapi.testclient import TestClient

client = TestClient(app, raise_server_exceptions=False)
client.__enter__()
print([record["event"] for record in log_records()])

# %% [markdown]
# ## 3. One request, one id, in every line
#
# `RequestContextMiddleware` (`course_app/core/middleware.py`) gives each request an id and
# binds it with `structlog.contextvars.bound_contextvars(request_id=...)` around the rest of
# the app. `merge_contextvars`, the first processor, copies it into every line written while
# the request runs — by any module, without passing anything around.
#
# A failed login is a good test: the auth *service* logs `login_failed` deep inside the
# request, and the middleware logs the access line after it.

# %%
def lines_of(request_id: str) -> list[dict[str, Any]]:
    return [record for record in log_records() if record.get("request_id") == request_id]


before = len(log_records())
answer = client.post("/api/auth/login", json={"email": "nobody@example.com", "password": "x" * 12})
request_id = answer.headers["X-Request-ID"]
print(answer.status_code, "X-Request-ID:", request_id)
for record in log_records()[before:]:
    print(f"  {record['event']:<14} request_id={record.get('request_id')}  "
          f"{ {k: v for k, v in record.items() if k in ('reason', 'route', 'status')} }")
assert len(lines_of(request_id)) == len(log_records()) - before == 2

# %% [markdown]
# Both lines carry the id the client received in the `X-Request-ID` header, and lesson 04's
# error envelope carries it too. A user who quotes it lets you find every line of their
# request with one search, even among thousands of concurrent ones.
#
# **Incoming ids.** A gateway or another service may already have given the request an id;
# keeping it lets one search follow a request across services. But the header is *input*:
# `course_app` keeps it only when it is 8–128 characters of `A-Z a-z 0-9 . _ : -`, and
# generates a fresh one otherwise: `secrets.token_hex(16)`, 32 random hex characters like
# `uuid4().hex`, at a third of the cost (no `UUID` object is built).

# %%
candidates = {
    "a gateway's id": "checkout-7f3a9c01",
    "a UUID": "0b9d5f8e-6c1a-4f7e-9a3b-2d4c6e8f0a1b",
    "too short": "abc",
    "too long (4 KB)": "x" * 4096,
    "a forged log line": 'id"}\n{"event": "admin_login", "user": "root',
    "spaces and markup": "<script>alert(1)</script>",
}
for label, sent in candidates.items():
    answered = client.get("/health", headers={"X-Request-ID": sent}).headers["X-Request-ID"]
    verdict = "kept" if answered == sent else f"replaced by {answered}"
    print(f"{label:<20} {verdict}")

# %% [markdown]
# Why refuse instead of escaping? The id lands in log lines, response headers and, via the
# envelope, in client bug reports: a 4 KB id bloats every line, a newline or quote is an
# attempt to forge lines in a text log, and anything unbounded becomes an index entry in your
# log store. A strict allow-list is simpler than knowing every sink's escaping rules. (For
# distributed tracing across many services the standard is W3C `traceparent`, which
# OpenTelemetry reads and writes; a request id is its small, always-on sibling.)
#
# ## 4. The access log: one line per request, crashes included
#
# The same middleware writes the access line when the request has finished: method, raw
# path, **route template**, status and duration. The status comes from the
# `http.response.start` message it sees passing by; the duration from one clock per request.

# %%
requests = [
    ("GET", "/health"), ("GET", "/api/products?limit=2"), ("GET", "/api/products/41"),
    ("GET", "/no-such-page"), ("POST", "/api/users"), ("GET", "/api/reports/daily"),
]
def id_of(answer: Any) -> str:
    """The request id: in the header, or (for a 500 rendered outside the middleware) the body."""
    return answer.headers.get("X-Request-ID") or answer.json()["error"]["request_id"]


for method, path in requests:
    answer = client.request(method, path, json={} if method == "POST" else None)
    for record in lines_of(id_of(answer)):
        if record["event"] == "request":
            print(f"{record['method']:<5} {record['path']:<22} route={record['route']:<28} "
                  f"status={record['status']}  duration_ms={record['duration_ms']}")
        else:
            print(f"      + {record['level']} line {record['event']!r}, same request_id")

# %% [markdown]
# Note three things:
#
# - `route` is the template (`/api/products/{product_id}`), `<unmatched>` for a path no route
#   matches: the value metrics will group by (section 6).
# - The crash has an access line with status 500, although no response passed through the
#   middleware: the exception propagated through it, `status_code` kept its default of 500,
#   and the line is written in a `finally`. The outer 500 handler (lesson 04) then logs the
#   traceback with the **same** request id, taken from `request.state.request_id`.
# - Only the app writes access lines. `python -m course_app` starts uvicorn with
#   `access_log=False`; otherwise every request would be logged twice, once as plain text.

# %% [markdown]
# ## 5. The seed's middleware: `BaseHTTPMiddleware`
#
# The seed writes the request-id middleware as a `BaseHTTPMiddleware` subclass. Here it is,
# unchanged apart from formatting, mounted on a two-route app; the same app gets
# `course_app`'s pure ASGI middleware for comparison. The endpoint `/me` binds `user_id` the
# way an authentication dependency would, so that every *later* line carries the user.

# %%
import uuid

from starlette.middleware.base import BaseHTTPMiddleware

logger = structlog.get_logger()


class RequestIDMiddleware(BaseHTTPMiddleware):
    async def dispatch(self, request, call_next):  # type: ignore[no-untyped-def]  # the seed's
        request_id = request.headers.get("X-Request-ID", str(uuid.uuid4()))
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(
            request_id=request_id, method=request.method, path=request.url.path
        )
        response = await call_next(request)
        response.headers["X-Request-ID"] = request_id
        logger.info("request_completed", status_code=response.status_code)
        return response

# %%
from course_app.core.middleware import RequestContextMiddleware


def two_route_app(middleware: type) -> FastAPI:
    demo = FastAPI()

    @demo.get("/me")
    async def me() -> dict[str, int]:
        structlog.contextvars.bind_contextvars(user_id=42)
        structlog.get_logger("demo").info("profile_read")
        return {"user_id": 42}

    @demo.get("/boom")
    async def boom() -> None:
        raise RuntimeError("a bug")

    demo.add_middleware(middleware)
    return demo

# %%
for middleware in (RequestIDMiddleware, RequestContextMiddleware):
    capture_logs()
    before = len(log_records())
    with TestClient(two_route_app(middleware), raise_server_exceptions=False) as demo_client:
        statuses = [demo_client.get(path).status_code for path in ("/me", "/boom")]
        forged = demo_client.get("/me", headers={"X-Request-ID": "x" * 4096})
    lines = log_records()[before:]
    print(f"{middleware.__name__} (answers {statuses})")
    for record in lines:
        print(f"  {record['event']:<18} status={record.get('status', record.get('status_code'))}"
              f"  user_id={record.get('user_id')}  id length={len(record['request_id'])}")
    print("  4 KB id echoed:", len(forged.headers["X-Request-ID"]) == 4096)

# %% [markdown]
# Three differences, all deterministic:
#
# 1. **The completion line lost `user_id`** with `BaseHTTPMiddleware`. `call_next` runs the
#    rest of the app in a *new task*; a task runs in a *copy* of the context, so whatever the
#    endpoint binds never flows back to `dispatch`. (Values bound *before* `call_next` do
#    reach the endpoint, which is why this goes unnoticed.) A pure ASGI middleware `await`s
#    the app in its own task and context, so the endpoint's bindings reach the access line.
# 2. **The crash left no line at all**: the exception went straight through `call_next`
#    and past the `logger.info`. The most important request is the one not logged.
# 3. **Any incoming id is trusted**, 4 KB included.
#
# And `clear_contextvars()` at the start of every request is a symptom: it is needed only
# because bindings could leak between requests; `bound_contextvars(...)` as a context
# manager restores the previous values when the request ends.
#
# ### What `BaseHTTPMiddleware` costs, measured
#
# Like `bench/middleware_overhead.py`, we call each app directly at the ASGI boundary (no
# HTTP client, no socket), so the time is the stack's own: a bare app, a do-nothing
# middleware written both ways, and the two request-id middlewares. Log output goes to
# `/dev/null`; rendering it is part of the cost.

# %%
import statistics

SCOPE: dict[str, Any] = {
    "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
    "scheme": "http", "path": "/me", "raw_path": b"/me", "root_path": "", "query_string": b"",
    "headers": [(b"host", b"testserver")], "client": ("127.0.0.1", 50000),
    "server": ("testserver", 80),
}


async def call(asgi_app: Any) -> int:
    status = 0

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await asgi_app({**SCOPE, "state": {}}, receive, send)
    return status

# %%
class NoOpPureASGI:
    def __init__(self, asgi_app: Any) -> None:
        self.app = asgi_app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)


class NoOpBaseHTTP(BaseHTTPMiddleware):
    async def dispatch(self, request, call_next):  # type: ignore[no-untyped-def]
        return await call_next(request)


def app_with(middleware: type | None) -> FastAPI:
    bench_app = FastAPI()

    @bench_app.get("/me")
    async def me() -> dict[str, int]:
        return {"user_id": 42}

    if middleware is not None:
        bench_app.add_middleware(middleware)
    return bench_app

# %%
# NBVAL_IGNORE_OUTPUT
async def per_request(asgi_app: Any, requests: int) -> float:
    started = time.perf_counter()
    for _ in range(requests):
        await call(asgi_app)
    return (time.perf_counter() - started) / requests


configure_logging(settings)
structlog.configure(logger_factory=structlog.PrintLoggerFactory(file=NULL))
variants = {"bare": None, "no-op pure ASGI": NoOpPureASGI, "no-op BaseHTTP": NoOpBaseHTTP,
            "seed request id": RequestIDMiddleware, "course request id": RequestContextMiddleware}
bench_apps = {name: app_with(middleware) for name, middleware in variants.items()}
for bench_app in bench_apps.values():  # warm-up: builds each middleware stack once
    assert await call(bench_app) == 200
rounds: dict[str, list[float]] = {name: [] for name in bench_apps}
for _ in range(5):  # interleaved rounds: machine noise hits every variant alike
    for name, bench_app in bench_apps.items():
        rounds[name].append(await per_request(bench_app, 1000))
median = {name: statistics.median(times) for name, times in rounds.items()}
for name, seconds in median.items():
    print(f"{name:<18} {seconds * 1e6:7.1f} µs/request  {seconds / median['bare']:5.2f}× bare")
assert median["no-op BaseHTTP"] > median["no-op pure ASGI"]
assert median["seed request id"] > median["course request id"]

# %% [markdown]
# The same numbers as bars (the chart is redrawn from this run's measurements):

# %%
# NBVAL_IGNORE_OUTPUT
import matplotlib.pyplot as plt

names = list(median)
colours = ["#999999", "#2a7ab9", "#d1495b", "#d1495b", "#2a7ab9"]
figure, axes = plt.subplots(figsize=(7.5, 2.6))
axes.barh(names, [median[name] * 1e6 for name in names], color=colours)
axes.invert_yaxis()
axes.set_xlabel("µs per request (median of 5 rounds of 1000, this run)")
axes.set_title("GET /me called at the ASGI boundary: red = BaseHTTPMiddleware")
figure.tight_layout()
plt.show()

# %% [markdown]
# Even doing nothing, `BaseHTTPMiddleware` adds a task, a memory stream for the body and a
# `Request`/`Response` pair per request; the pure ASGI version adds one `await`. The request
# id middlewares also pay for their log line (JSON rendering) — which is why `course_app`
# has **one** middleware doing request id, access log and metrics with one clock, instead of
# one wrapper per concern. A real endpoint adds its own costs on top (lesson 09 measures
# them), but this one is paid by *every* request, health checks included.
#
# Because every request pays it, `course_app` also trims the two things that layer does per
# request. The access line is written by `AccessLog` (`core/logging.py`): while the JSON
# configuration is the one in force, it renders the line itself with orjson — the same keys,
# order and values structlog's chain would give (a test renders both and compares) — at
# a fraction of the cost, since an access line never carries an exception or a stack;
# under any other configuration it goes through structlog. And the request counters are
# plain numbers on the event loop's thread, handed to prometheus_client by a collector at
# scrape time, instead of `Counter`/`Histogram` objects that take a lock on every update.
# `bench/middleware_overhead.py` measures the whole stack, with these, against a bare app
# and against the seeds' stack; `bench/README.md` has its table.
#
# ## 6. Metrics: scraped from a running server
#
# Logs answer "what happened to this request"; metrics answer "how many, how fast, how
# often failing" over time. `course_app.core.metrics` keeps two series families:
# `http_requests_total` (a counter by method, route template and status) and
# `http_request_duration_seconds` (a histogram by method and route). Each app gets **its own
# registry**, because prometheus_client's default, process-global registry refuses a second
# metric of the same name — which every test or notebook that builds two apps would do:

# %%
from prometheus_client import REGISTRY, Counter

first = Counter("lesson08_requests", "requests", registry=REGISTRY)
try:
    Counter("lesson08_requests", "requests", registry=REGISTRY)
except ValueError as exc:
    print("ValueError:", str(exc).split(":")[0])
REGISTRY.unregister(first)  # tidy the process-global registry again
print("course_app apps share a registry:",
      install_metrics(FastAPI()).registry is install_metrics(FastAPI()).registry)

# %% [markdown]
# Now the real thing: `course_app` under uvicorn, in its own process, with JSON logs and
# uvicorn's own access log off (the app writes its own). We send a few requests over HTTP,
# then scrape `/metrics` the way Prometheus does, and parse the text format with
# prometheus_client's own parser.

# %%
import httpx

from coursekit.server import serve

env = {"ENVIRONMENT": "test", "LOG_JSON": "true", "APP_NAME": "Lesson 08 Shop",
       "DATABASE_URL": f"sqlite+aiosqlite:///{WORK}/server.db"}
paths = ["/api/products", "/api/products/1", "/api/products/2", "/api/products/3",
         "/wp-login.php", "/.env"]
quiet = ["--no-access-log"]  # the app writes its own access lines
with serve("course_app.main:create_app", factory=True, env=env, extra=quiet) as server:
    sent = {path: httpx.get(server.url + path).status_code for path in paths}
    scraped = httpx.get(server.url + "/metrics")
print(sent)
print(scraped.status_code, scraped.headers["content-type"])
print("\n".join(scraped.text.splitlines()[:2]))

# %%
from prometheus_client.parser import text_string_to_metric_families

families = {family.name: family for family in text_string_to_metric_families(scraped.text)}
print("families:", sorted(name for name in families if name.startswith("http_")))
for sample in families["http_requests"].samples:
    labels = sample.labels
    if sample.name == "http_requests_total" and labels["route"] != "/health":
        print(f"{labels['method']} {labels['route']:<28} {labels['status']}  {sample.value:g}")
latency = {s.labels["route"]: s.value for s in families["http_request_duration_seconds"].samples
           if s.name == "http_request_duration_seconds_count" and s.labels["route"] != "/health"}
print("latency observations per route:", latency)

# %% [markdown]
# Read it:
#
# - The three product lookups are **one** series, `/api/products/{product_id}` with status
#   404, counted 3 times. The two scanner probes (`/wp-login.php`, `/.env`) are one
#   `<unmatched>` series.
# - `GET /health` is left out of the printout: `serve()` polls it while the server starts,
#   so its count depends on timing.
# - `/metrics` counts nothing: the middleware skips it, so scraping does not change the data.
# - A family name drops `_total`; its samples are `http_requests_total` and
#   `http_requests_created` (when the series started). Summing a family's samples blindly
#   adds timestamps to counts.
#
# Why templates: Prometheus stores one time series per distinct label set, and the app's
# registry keeps one child per label set in memory for the life of the process. Label by
# raw path and every product id, every user id, every scanner's random URL becomes a new
# series:

# %%
from prometheus_client import CollectorRegistry

naive = Counter("naive_requests", "by raw path", ["path"], registry=CollectorRegistry())
templated = Counter("requests", "by route template", ["route"], registry=CollectorRegistry())
for product_id in range(1, 501):
    naive.labels(f"/api/products/{product_id}").inc()
    templated.labels("/api/products/{product_id}").inc()
for name, counter in (("raw path", naive), ("route template", templated)):
    series = [s for m in counter.collect() for s in m.samples if s.name.endswith("_total")]
    print(f"labelled by {name:<15} {len(series):>4} series for 500 requests")

# %% [markdown]
# Rules that follow: labels only take values from a small, known set (method, route
# template, status code, outcome); ids go in logs, not labels. Two more production notes:
#
# - **Several workers**: each uvicorn worker process has its own registry and a scrape
#   reaches one of them. Run one process per container (lesson 10), or use
#   prometheus_client's multiprocess mode (`PROMETHEUS_MULTIPROC_DIR`).
# - **Exposure**: `/metrics` reveals routes and traffic. Keep it off the public ingress, or
#   serve it on an internal port.
#
# ## 7. Liveness and readiness
#
# An orchestrator asks two different questions:
#
# | probe | question | on failure | `course_app` |
# |---|---|---|---|
# | liveness | is the process able to serve at all? | **restart** the container | `GET /health`: touches nothing |
# | readiness | should traffic be sent here right now? | **remove** from the load balancer, keep running | `GET /ready`: `SELECT 1` with a timeout |
#
# A liveness probe that checks the database turns a database outage into a restart storm:
# every replica is killed and restarted, and none gets better. Readiness must answer fast,
# with a body that says what is wrong, and recover by itself.
#
# To take the database away deterministically, we move its directory (as if a volume had
# been unmounted) and drop the pooled connections (as if the server had restarted):

# %%
capture_logs()  # the benchmark sent log output to /dev/null; read it again
DATA, MOVED = WORK / "data", WORK / "data-moved"
database = client.app_state["database"]  # the lifespan's Database object


def database_down() -> None:
    DATA.rename(MOVED)
    client.portal.call(database.engine.dispose)  # pooled connections gone: reconnect needed


def database_up() -> None:
    MOVED.rename(DATA)


def logged(records: list[dict[str, Any]]) -> list[str]:
    """Each non-access line: its event and, for a traceback, the exception's class."""
    found = []
    for record in records:
        if record["event"] != "request":
            trace = record.get("exception", "").strip().splitlines()
            found.append(f"{record['level']} {record['event']}" + (
                f" ({trace[-1].split(':')[0]})" if trace else f" ({record.get('error')})"))
    return found

# %%
print("before:", client.get("/ready").status_code, client.get("/ready").json())
database_down()
before = len(log_records())
for path in ("/health", "/ready"):
    answer = client.get(path)
    print(f"down:   {path:<8} {answer.status_code} {answer.json()}")
print("logged:", logged(log_records()[before:]))
database_up()
print("after:", client.get("/ready").status_code, client.get("/ready").json())

# %% [markdown]
# `/health` stays 200 while `/ready` says 503, with a body naming the failing check; the
# reason (`OperationalError`) goes to the log with the request id, not to the caller. When
# the directory comes back, the next probe reconnects and answers 200: nothing to restart.
#
# ### The seeds' probes
#
# Seed 000 gets the database session from the `get_db` dependency — the one that commits
# *after* the endpoint has returned. Seed 001 turns any failure into
# `HTTPException(503, detail=str(e))`. Both, adapted only to take the session factory from
# the lifespan state instead of a global:

# %%
from collections.abc import AsyncIterator

from fastapi import Depends, HTTPException, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


async def get_db(request: Request) -> AsyncIterator[AsyncSession]:
    async with request.state.database.sessions() as session:
        try:
            yield session
            await session.commit()
        except Exception:
            await session.rollback()
            raise

# %%
@app.get("/seed000/ready", include_in_schema=False)
async def seed000_ready(db: AsyncSession = Depends(get_db)) -> JSONResponse:  # noqa: B008
    checks = {}
    try:
        await db.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception:
        checks["database"] = "error"
    all_ok = all(v == "ok" for v in checks.values())
    return JSONResponse(status_code=200 if all_ok else 503,
                        content={"status": "ok" if all_ok else "degraded", "checks": checks})


@app.get("/seed001/ready", include_in_schema=False)
async def seed001_ready(request: Request) -> dict[str, str]:
    try:
        async with request.state.database.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        return {"status": "ready", "database": "ok"}
    except Exception as e:
        raise HTTPException(status_code=503, detail=str(e)) from e

# %% [markdown]
# With the directory gone, seed 000's probe answers 503, and seed 001's tells every caller
# the driver's error text — for PostgreSQL that is host names, ports, user names:

# %%
database_down()
for path in ("/seed000/ready", "/seed001/ready"):
    answer = client.get(path)
    print(path, answer.status_code, answer.json())
database_up()

# %% [markdown]
# The failure that shows seed 000's real problem is a more common one: the database
# restarted, and the pool still holds a connection the server has closed. We play that by
# closing the next connection handed out by the pool, through SQLAlchemy's `checkout` event:

# %%
from sqlalchemy import event


def drop_next_pooled_connection() -> None:
    def close(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        dbapi_connection.close()  # the server hung up; the pool does not know yet

    event.listen(database.engine.sync_engine, "checkout", close, once=True)


for path in ("/seed000/ready", "/ready"):
    drop_next_pooled_connection()
    before = len(log_records())
    answer = client.get(path)
    print(f"{path:<15} client got {answer.status_code}; logged: {logged(log_records()[before:])}")
    print(f"{'':<15} next probe: {client.get(path).status_code}")

# %% [markdown]
# The client of seed 000's probe got its 503, and *then* `get_db` tried to commit the broken
# transaction: `PendingRollbackError`, logged as an **unhandled exception** with a full
# traceback — on every probe, every few seconds, for as long as the problem lasts. Paging on
# 5xx errors would page for a probe. (Had the dependency's exit run before the response, the
# probe itself would have been a 500.) `course_app`'s probe uses no session and no
# committing dependency: `Database.ping()` opens a connection, runs `SELECT 1` under a
# timeout, and any failure — a refused connection, a dead one, a hang — becomes a 503 with a
# body and one warning line. Never a 500, never a traceback for an expected condition.

# %% [markdown]
# Clean up: stop the app (its lifespan disposes of the engine), close `/dev/null`, and
# remove the temporary folder.

# %%
client.__exit__(None, None, None)
NULL.close()
workdir.cleanup()
print(log_records()[-1]["event"])

# %% [markdown]
# ## Summary
#
# - **structlog, configured once**: `merge_contextvars` first, level, ISO UTC timestamp,
#   exception formatting, then JSON (production) or the console renderer (development);
#   `make_filtering_bound_logger(level)` drops filtered calls before any processor runs. The
#   seed's stdlib factory with an unconfigured `logging` dropped every `info` line and
#   rendered every `debug` line only to throw it away (measured above).
# - **Request ids** come from one pure ASGI middleware: a well-formed `X-Request-ID` is kept,
#   anything else replaced by `secrets.token_hex(16)`; the id is bound with
#   `bind_contextvars(...)` (reset by token at the end), echoed in the response header, stored in
#   `request.state.request_id`, and appears in every log line and error envelope.
# - **One access line per request**, written in a `finally`: method, path, route template,
#   status, duration — a crash is logged as 500, with the same id as its traceback.
# - **`BaseHTTPMiddleware`** runs the app in another task: contextvars bound downstream are
#   lost, a crash skips the code after `call_next`, and it was measurably slower than the
#   pure ASGI form here.
# - **Metrics** per route *template*, per app registry, `/metrics` not counted; raw paths as
#   labels grow one series per id.
# - **Liveness** touches nothing; **readiness** pings the database with a timeout and answers
#   503 with a body when it fails, 200 when it recovers — never a 500, and no session or
#   committing dependency in a probe.
#
# **Production checklist items covered**
#
# - Structured JSON logs with request ids (observability quality dimension: "structlog +
#   request IDs + metrics").
# - `/health` and `/ready` endpoints, the readiness probe answering 503 with a body.
# - Prometheus metrics with bounded label cardinality; `/metrics` kept off the public ingress.
# - No `BaseHTTPMiddleware` in the stack; uvicorn's access log off, the app's own on.
#
# **Next:** the lab `exercises/08_observability.ipynb`, then lesson 09 (performance).
