"""Checkers of lab 12, production readiness.

12.1 and 12.2 build the learner's app from ``create_app`` with the checker's own settings
(an in-memory SQLite, logging at CRITICAL, no Redis, no ``.env``) and drive it over HTTP;
12.2 also measures concurrency against an instrumented copy of the blocking SDK, which
records on which thread each call ran. 12.3 runs the learner's audit check on apps with and
without a Host check; 12.4 feeds the gate hand-made reports.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import Any

from coursekit.checking import Checker, exercise
from coursekit.settings import course_settings

CATEGORIES = ("books", "games", "tools")
TOTAL_ITEMS = 250
SDK_DELAY = 0.1  # seconds per stock lookup in the instrumented SDK
CONCURRENT = 8
WAREHOUSE = {f"SKU-{n:04d}": n * 3 for n in range(1, 21)}


def _settings(**values: Any) -> Any:
    base: dict[str, Any] = {
        "environment": "test",
        "app_name": "Lab 12 Shop",
        "database_url": "sqlite+aiosqlite:///:memory:",
        "log_level": "CRITICAL",
        "redis_url": None,
        "cors_origins": [],
        "allowed_hosts": ["testserver", "localhost", "127.0.0.1"],
    }
    base.update(values)
    return course_settings(**base)


def _is_app(value: Any) -> bool:
    from fastapi import FastAPI

    return isinstance(value, FastAPI)


def _has_health(app: Any) -> bool:
    return "/health" in app.openapi()["paths"]


# --- 12.1 --------------------------------------------------------------------------------
def _ids(body: Any) -> Any:
    try:
        return [item["id"] for item in body["items"]]
    except (TypeError, KeyError):
        return body


@exercise("12.1", "GET /api/catalog: paginated, capped, filterable, on the real app")
def _check_12_1(c: Checker, build: Callable[..., Any]) -> None:
    ok, app = c.run(
        "build_catalog_app(settings) returns a FastAPI app",
        lambda: build(_settings()),
        accept=_is_app,
        expected="a FastAPI instance",
        hint="Return the app: `app = create_app(settings)`, add the route, `return app`.",
    )
    if not ok:
        return
    c.that(
        "it is the real app: /health is still served",
        lambda: app,
        _has_health,
        expected="/health among the app's paths",
        hint="Start from create_app(settings), not FastAPI(): the probes and the error "
        "envelope come with it.",
        show=lambda a: "no /health" if not _has_health(a) else "served",
    )
    client = c.client(app)

    def get(**params: Any) -> Any:
        return client.get("/api/catalog", params=params)

    def body(**params: Any) -> Any:
        response = get(**params)
        return response.status_code, response.json()

    ok, first = c.run(
        "GET /api/catalog answers 200 with a page",
        lambda: body(),
        accept=lambda got: got[0] == 200 and isinstance(got[1], dict) and "items" in got[1],
        expected="200 and {'items': [...], 'total': ..., 'page': ..., 'page_size': ...}",
        hint="Declare the return type Page[CatalogItem] and return Page[CatalogItem](items=..., "
        "total=..., page=..., page_size=...).",
    )
    if not ok:
        return
    page_hint = "Slice with the page's offset: items[offset : offset + limit], offset = " + (
        "(page - 1) * page_size."
    )
    c.equal(
        "no parameters: the first 20 items, ids 1..20",
        lambda: _ids(first[1]),
        list(range(1, 21)),
        hint="The default page size is 20 and pages start at 1. " + page_hint,
    )
    c.equal(
        "no parameters: total, page, page_size, has_next, pages",
        lambda: {k: first[1].get(k) for k in ("total", "page", "page_size", "has_next", "pages")},
        {"total": 250, "page": 1, "page_size": 20, "has_next": True, "pages": 13},
        hint="total counts every matching item, not the page; Page computes has_next and pages.",
    )
    c.equal(
        "page=3&page_size=7: ids 15..21",
        lambda: _ids(body(page=3, page_size=7)[1]),
        list(range(15, 22)),
        hint=page_hint,
    )
    c.equal(
        "page=13 (the last): ids 241..250 and has_next false",
        lambda: (_ids(body(page=13)[1]), body(page=13)[1].get("has_next")),
        (list(range(241, 251)), False),
        hint=page_hint,
    )
    c.equal(
        "page=99 (past the end): no items, the same total",
        lambda: (lambda got: (got[0], got[1].get("items"), got[1].get("total")))(body(page=99)),
        (200, [], 250),
        hint="A page past the end is an empty page, not an error: the slice is simply empty.",
    )
    c.equal(
        "page_size=100 (the cap) is allowed",
        lambda: len(body(page_size=100)[1]["items"]),
        100,
        hint="The cap is 100 inclusive: le=100.",
    )
    for params, what in [
        ({"page_size": 101}, "page_size=101"),
        ({"page_size": 1000}, "page_size=1000"),
        ({"page": 0}, "page=0"),
        ({"page_size": 0}, "page_size=0"),
    ]:
        c.equal(
            f"{what} is a 422 in the error envelope",
            lambda params=params: (
                lambda r: (r.status_code, r.json().get("error", {}).get("code"))
            )(get(**params)),
            (422, "VALIDATION_ERROR"),
            hint="Use PageDep (page ≥ 1, 1 ≤ page_size ≤ 100): FastAPI refuses out-of-range "
            "values before your code runs, and create_app's handlers render the envelope.",
        )
    tools = [n for n in range(1, 251) if CATEGORIES[n % 3] == "tools"]
    c.equal(
        "category=tools: only tools, counted in total",
        lambda: (lambda got: (_ids(got[1]), got[1].get("total")))(body(category="tools")),
        (tools[:20], len(tools)),
        hint="Filter first, then count the filtered list for total, then slice the page.",
    )
    c.equal(
        "category=tools&page=5: the 5th page of tools",
        lambda: _ids(body(category="tools", page=5)[1]),
        tools[80:100],
        hint="Paginate the filtered list, not the whole catalog.",
    )
    c.equal(
        "category=food (not a category) is a 422",
        lambda: get(category="food").status_code,
        422,
        hint="Type the parameter as Literal['books', 'games', 'tools'] | None.",
    )
    c.that(
        "the audit's pagination check passes on the app",
        lambda: _audit_pagination(app),
        lambda finding: finding.passed,
        expected="pagination ✓ (no bare list, page size capped at 100)",
        hint="Return a Page, not a list, and cap page_size at 100.",
        show=lambda finding: f"✗ {finding.reason}",
    )


def _audit_pagination(app: Any) -> Any:
    from coursekit.audit import CHECKS, audit

    checks = [check for check in CHECKS if check.id == "pagination"]
    return audit(app, checks=checks).finding("pagination")


# --- 12.2 --------------------------------------------------------------------------------
class _Sdk:
    """The blocking SDK, instrumented: it records every SKU asked for and whether the call
    ran on a thread with a running event loop (that is: it blocked the loop)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, bool]] = []
        self.lock = threading.Lock()

    def __call__(self, sku: str) -> int:
        try:
            asyncio.get_running_loop()
            on_loop = True
        except RuntimeError:
            on_loop = False
        with self.lock:
            self.calls.append((sku, on_loop))
        time.sleep(SDK_DELAY)
        if sku not in WAREHOUSE:
            raise LookupError(sku)
        return WAREHOUSE[sku]


async def _concurrent_wall_time(app: Any, skus: list[str]) -> tuple[float, list[int]]:
    import httpx

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        started = time.perf_counter()
        answers = await asyncio.gather(*(client.get(f"/api/stock/{sku}") for sku in skus))
        return time.perf_counter() - started, [a.status_code for a in answers]


@exercise("12.2", "GET /api/stock/{sku}: a blocking SDK off the event loop", time_limit=40)
def _check_12_2(c: Checker, build: Callable[..., Any]) -> None:
    sdk = _Sdk()
    ok, app = c.run(
        "build_stock_app(settings, lookup) returns a FastAPI app",
        lambda: build(_settings(), sdk),
        accept=_is_app,
        expected="a FastAPI instance",
        hint="Return the app: `app = create_app(settings)`, add the route, `return app`.",
    )
    if not ok:
        return
    c.that(
        "it is the real app: /health is still served",
        lambda: app,
        _has_health,
        expected="/health among the app's paths",
        hint="Start from create_app(settings), not FastAPI().",
        show=lambda a: "no /health" if not _has_health(a) else "served",
    )
    client = c.client(app)
    c.equal(
        "GET /api/stock/SKU-0007 answers 200 {'sku': 'SKU-0007', 'level': 21}",
        lambda: (lambda r: (r.status_code, r.json()))(client.get("/api/stock/SKU-0007")),
        (200, {"sku": "SKU-0007", "level": 21}),
        hint="Call lookup(sku) — the function you are given, not legacy_stock_level — and "
        "return StockLevel(sku=sku, level=...).",
    )
    c.equal(
        "the SDK was called once, with that SKU",
        lambda: [sku for sku, _ in sdk.calls],
        ["SKU-0007"],
        hint="Call the lookup you are given exactly once per request; do not fake or cache it.",
    )
    c.equal(
        "the SDK did not run on the event loop's thread",
        lambda: [on_loop for _, on_loop in sdk.calls],
        [False],
        hint="A blocking call inside `async def` holds the loop. Use a plain `def` endpoint, or "
        "`await run_in_threadpool(lookup, sku)` (pass the function, do not call it).",
    )
    c.equal(
        "an unknown SKU is a 404 NOT_FOUND envelope, not a 500",
        lambda: (lambda r: (r.status_code, r.json().get("error", {}).get("code")))(
            client.get("/api/stock/NOPE-0000")
        ),
        (404, "NOT_FOUND"),
        hint="Catch LookupError around the call and raise NotFoundError('Stock', sku) from it.",
    )
    skus = list(WAREHOUSE)[:CONCURRENT]
    serial = CONCURRENT * SDK_DELAY
    attempts: list[float] = []

    def measure() -> float:
        for _ in range(3):  # a busy machine gets a second and a third chance
            elapsed, statuses = asyncio.run(_concurrent_wall_time(app, skus))
            if statuses != [200] * CONCURRENT:
                raise AssertionError(f"statuses {statuses}")
            attempts.append(round(elapsed, 3))
            if elapsed < serial / 2:
                break
        return min(attempts)

    c.that(
        f"{CONCURRENT} concurrent requests overlap their {SDK_DELAY:g} s SDK calls",
        measure,
        lambda best: best < serial / 2,
        expected=f"a wall time under {serial / 2:.2f} s (serial would be {serial:.2f} s)",
        hint="The requests queued one after another: the SDK call still holds the event loop. "
        "Move it to the thread pool.",
        show=lambda best: f"best of {len(attempts)} attempt(s): {best:.2f} s ({attempts})",
    )


# --- 12.3 --------------------------------------------------------------------------------
def _bare_app() -> Any:
    from fastapi import FastAPI

    return FastAPI(title="Bare")


def _starlette_app(hosts: list[str]) -> Any:
    from fastapi import FastAPI
    from starlette.middleware.trustedhost import TrustedHostMiddleware

    app = FastAPI(title="Starlette hosts")
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=hosts)
    return app


def _gzip_app() -> Any:
    from fastapi import FastAPI
    from fastapi.middleware.gzip import GZipMiddleware

    app = FastAPI(title="Only gzip")
    app.add_middleware(GZipMiddleware)
    return app


def _course_app(hosts: list[str]) -> Any:
    from course_app.main import create_app

    return create_app(_settings(allowed_hosts=hosts))


@exercise("12.3", "trusted-hosts: a check of your own in the audit")
def _check_12_3(c: Checker, check: Any) -> None:
    from coursekit.audit import CHECKS, Check, audit

    if check is None:
        raise NotImplementedError("trusted_hosts is still None: write the check in the cell above")
    if not c.that(
        "trusted_hosts is an audit Check (made with @audit_check)",
        lambda: check,
        lambda value: isinstance(value, Check),
        expected="a coursekit.audit.Check",
        hint="Decorate a function `def trusted_hosts(ctx): ...` with @audit_check(...): the "
        "decorator turns it into a Check.",
    ):
        return
    c.equal(
        "id, dimension and points",
        lambda: (check.id, check.dimension, check.points),
        ("trusted-hosts", "Security", 2),
        hint="@audit_check('trusted-hosts', dimension='Security', points=2, title=..., fix=...)",
    )
    c.that(
        "it has a title and a fix",
        lambda: (check.title, check.fix),
        lambda got: all(isinstance(text, str) and text.strip() for text in got),
        expected="two non-empty strings",
        hint="A finding without a fix tells the reader what is wrong but not what to do.",
    )

    def finding(app: Any) -> Any:
        return audit(app, checks=[check]).finding("trusted-hosts")

    def verdict(app_factory: Callable[[], Any]) -> tuple[bool, str]:
        found = finding(app_factory())
        return found.passed, found.reason

    cases: list[tuple[str, Callable[[], Any], bool, str]] = [
        (
            "a bare FastAPI() fails",
            _bare_app,
            False,
            "No TrustedHostMiddleware among ctx.middleware() means no Host check: fail.",
        ),
        (
            "an app with only GZipMiddleware fails",
            _gzip_app,
            False,
            "Look for the class named TrustedHostMiddleware, not for any middleware.",
        ),
        (
            "Starlette's TrustedHostMiddleware with ['shop.example'] passes",
            lambda: _starlette_app(["shop.example"]),
            True,
            "Starlette's class counts: compare cls.__name__, not one package's class object.",
        ),
        (
            "Starlette's TrustedHostMiddleware with ['*'] fails",
            lambda: _starlette_app(["*"]),
            False,
            "A wildcard accepts every Host header: check options['allowed_hosts'] for '*'.",
        ),
        (
            "the real create_app() (its own TrustedHostMiddleware) passes",
            lambda: _course_app(["testserver", "shop.example"]),
            True,
            "course_app's middleware is its own class with the same name: match on the name.",
        ),
        (
            "the real create_app() with ALLOWED_HOSTS=* fails",
            lambda: _course_app(["*"]),
            False,
            "Read the hosts from the middleware's options: allowed_hosts=['*'] must fail.",
        ),
    ]
    for name, factory, expected, hint in cases:
        c.that(
            name,
            lambda factory=factory: verdict(factory),
            lambda got, expected=expected: got[0] is expected and bool(got[1].strip()),
            expected=("passed" if expected else "failed") + ", with a reason",
            hint=hint,
            show=lambda got: f"{'passed' if got[0] else 'failed'}: {got[1]!r}",
        )
    c.that(
        "the wildcard's reason shows the '*'",
        lambda: finding(_starlette_app(["*"])).reason,
        lambda reason: "*" in reason,
        expected="a reason containing '*'",
        hint="Say why it failed: the reader should see the wildcard in the report.",
    )
    c.that(
        "the passing reason names the allowed hosts",
        lambda: finding(_starlette_app(["shop.example"])).reason,
        lambda reason: "shop.example" in reason,
        expected="a reason containing 'shop.example'",
        hint="Put the hosts in the reason, e.g. f\"allowed hosts: {', '.join(hosts)}\".",
    )
    c.that(
        "added to the built-in checks, the score stays out of 100",
        lambda: audit(_starlette_app(["shop.example"]), extra_checks=[check]),
        lambda report: (
            report.max == 100
            and "trusted-hosts" in {f.check_id for f in report.findings}
            and len(report.findings) == len(CHECKS) + 1
        ),
        expected="a report with every built-in check plus trusted-hosts",
        hint="Use a new id: a duplicate id is refused when it joins the built-in checks.",
        show=lambda report: f"{len(report.findings)} findings, max {report.max}",
    )


# --- 12.4 --------------------------------------------------------------------------------
def _report(score_parts: dict[str, tuple[int, int]], failed: dict[str, str]) -> Any:
    """A report whose dimensions score ``score_parts`` (earned, possible) and whose named
    checks failed with the given reasons; every other listed check passed."""
    from coursekit.audit import AuditReport, Finding

    findings = []
    for dimension, (earned, possible) in score_parts.items():
        findings.append(
            Finding(
                f"{dimension}-main", "t", dimension, earned == possible, earned, possible, "r", "f"
            )
        )
    for check_id in (
        "secret-settings",
        "no-debug",
        "cors",
        "error-envelope",
        "liveness",
        "readiness",
    ):
        reason = failed.get(check_id)
        findings.append(
            Finding(check_id, "t", "Deployment", reason is None, 0, 0, reason or "fine", "f")
        )
    return AuditReport("Gate test", findings)


def _weights(score: int) -> dict[str, tuple[int, int]]:
    """Dimension points giving exactly ``score`` out of 100 (one dimension, weight-scaled)."""
    return {"Testing": (score, 100)}


@exercise("12.4", "release_gate: a low score or a blocking finding stops the release")
def _check_12_4(c: Checker, gate: Callable[..., Any]) -> None:
    clean_90 = _report(_weights(90), {})
    c.equal(
        "score 90, no blocking finding, minimum 80: ship (no reasons)",
        lambda: gate(clean_90, minimum=80),
        [],
        hint="Return an empty list when nothing blocks the release.",
    )
    c.equal(
        "score exactly 80 with minimum 80: ship",
        lambda: gate(_report(_weights(80), {}), minimum=80),
        [],
        hint="A score equal to the minimum passes: refuse only when score < minimum.",
    )
    c.that(
        "score 79 with minimum 80: one reason quoting both numbers",
        lambda: gate(_report(_weights(79), {}), minimum=80),
        lambda got: isinstance(got, list) and len(got) == 1 and "79" in got[0] and "80" in got[0],
        expected="['score 79 is below the minimum 80 ...']",
        hint="Compare report.score with minimum and put both numbers in the reason.",
    )
    cors = "every origin is allowed with credentials"
    c.that(
        "score 95 with a failed blocking check (cors): refused, reason starts with the id",
        lambda: gate(_report(_weights(95), {"cors": cors}), minimum=80),
        lambda got: len(got) == 1 and got[0].startswith("cors") and cors in got[0],
        expected=f"['cors: {cors}']",
        hint="Blocking checks block whatever the score: look at each one's finding.",
    )
    two = {"no-debug": "app.debug is True", "liveness": "none of /health is served"}
    c.that(
        "score 50 and two failed blocking checks: three reasons, all of them",
        lambda: gate(_report(_weights(50), two), minimum=80),
        lambda got: (
            len(got) == 3
            and any(r.startswith("no-debug") for r in got)
            and any(r.startswith("liveness") for r in got)
        ),
        expected="the score reason + 'no-debug: ...' + 'liveness: ...'",
        hint="Collect every reason in a list; do not return at the first one.",
    )
    c.that(
        "a blocking check missing from the report is a reason ('not run')",
        lambda: gate(clean_90, minimum=80, blocking=("cors", "tracing-required")),
        lambda got: len(got) == 1 and got[0].startswith("tracing-required"),
        expected="['tracing-required: not run, ...']",
        hint="Look each blocking id up in report.findings; an id that is not there cannot have "
        "passed.",
    )
    c.equal(
        "blocking=() and a good score: ship",
        lambda: gate(_report(_weights(85), {"cors": cors}), minimum=80, blocking=()),
        [],
        hint="Only the checks listed in `blocking` block; use the argument, not a constant.",
    )
    c.that(
        "the defaults: minimum 80 and the module's BLOCKING tuple",
        lambda: gate(_report(_weights(85), {"readiness": "GET /ready answers 500"})),
        lambda got: len(got) == 1 and got[0].startswith("readiness"),
        expected="['readiness: GET /ready answers 500']",
        hint="Keep the signature: release_gate(report, *, minimum=80, blocking=BLOCKING).",
    )
    c.that(
        "a real audit: the bare FastAPI() app is refused",
        lambda: gate(_bare_report()),
        lambda got: isinstance(got, list) and len(got) >= 4,
        expected="the score and the failed blocking checks (at least 4 reasons)",
        hint="The gate reads any AuditReport: report.score and report.findings.",
        show=lambda got: f"{len(got)} reason(s): {got!r}"[:200],
    )


def _bare_report() -> Any:
    from fastapi import FastAPI

    from coursekit.audit import audit

    return audit(FastAPI())
