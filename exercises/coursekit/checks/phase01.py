"""Checkers of lab 01, architecture: every one checks behaviour, never source text.

* 1.1 ``include_version(app)``: a layer added to a real ``create_app(...)`` app.
* 1.2 ``make_app(events)``: a lifespan that opens a resource before serving and closes it after.
* 1.3 ``PricingService`` + ``include_quotes``: rules in a service, called without HTTP and through
  the app, with a domain error turned into the error envelope.
* 1.4 ``include_lookups(app)``: endpoints that do not block the event loop, by concurrent timing.
"""

from __future__ import annotations

import asyncio
import time
import warnings
from typing import Any

from pydantic import BaseModel

from coursekit.checking import Checker, exercise
from coursekit.settings import course_settings

MEMORY_DB = "sqlite+aiosqlite:///:memory:"


def _course_app(**overrides: Any) -> Any:
    """A real course_app app with test settings; quiet logs so check output stays readable."""
    from course_app.main import create_app

    settings = course_settings(database_url=MEMORY_DB, log_level="WARNING", **overrides)
    return create_app(settings)


def _json(response: Any) -> Any:
    """The JSON body, or a short description of what came back instead."""
    try:
        return response.json()
    except ValueError:
        return f"<{response.status_code}, not JSON: {response.text[:60]!r}>"


def _field(body: Any, key: str) -> Any:
    return body.get(key, f"<no {key!r} key>") if isinstance(body, dict) else body


# --- 1.1 -----------------------------------------------------------------------------------------
@exercise("1.1", "GET /version on the real app")
def _check_1_1(c: Checker, include_version: Any) -> None:
    from course_app import __version__

    if not c.that(
        "include_version is a function",
        lambda: include_version,
        callable,
        expected="a function include_version(app)",
        hint="Define `def include_version(app: FastAPI) -> None:` and pass it to check().",
    ):
        return
    app = _course_app(app_name="Checker Shop", environment="test")
    if not c.run(
        "include_version(app) runs on an app from create_app(...)",
        lambda: include_version(app),
        hint="Build an APIRouter with the route, then app.include_router(router).",
    )[0]:
        return
    client = c.client(app)
    if not c.equal(
        "GET /version answers 200",
        lambda: client.get("/version").status_code,
        200,
        hint="Register the path '/version' (GET) on a router and include that router in `app`.",
    ):
        return
    body = _json(client.get("/version"))
    c.equal(
        "the body has exactly the keys environment, name, version",
        lambda: sorted(body) if isinstance(body, dict) else body,
        ["environment", "name", "version"],
        hint="Return a VersionInfo(name=..., version=..., environment=...).",
    )
    c.equal(
        "name is the app_name from this app's settings",
        _field(body, "name"),
        "Checker Shop",
        hint="Read the settings of the app serving the request: request.app.state.settings "
        "(not get_settings(), not the notebook's `settings`).",
    )
    c.equal(
        "version is course_app.__version__",
        _field(body, "version"),
        __version__,
        hint="Use the package's version: `from course_app import __version__`.",
    )
    c.equal(
        "environment is the settings' environment, as text",
        _field(body, "environment"),
        "test",
        hint="Take it from the same settings as the name; settings.environment is an "
        "Environment enum, and its .value is the text.",
    )
    c.equal(
        "GET /health still answers 200 (the other layers are untouched)",
        lambda: client.get("/health").status_code,
        200,
        hint="Add a route to the app you are given; do not replace its router.",
    )
    other = _course_app(app_name="Another Shop", environment="development")
    if c.run(
        "include_version works on a second app",
        lambda: include_version(other),
        hint="include_version must not depend on state left by an earlier call.",
    )[0]:
        second = c.client(other)
        c.equal(
            "a second app with other settings reports its own name and environment",
            lambda: [_field(_json(second.get("/version")), k) for k in ("name", "environment")],
            ["Another Shop", "development"],
            hint="Read the settings at request time from request.app.state.settings, "
            "not from a variable captured elsewhere.",
        )


# --- 1.2 -----------------------------------------------------------------------------------------
@exercise("1.2", "A lifespan that owns a resource")
def _check_1_2(c: Checker, make_app: Any) -> None:
    from fastapi import FastAPI
    from starlette.testclient import TestClient

    events: list[str] = []
    built: dict[str, Any] = {}
    deprecations: list[str] = []

    def build() -> Any:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            built["app"] = make_app(events)
        found = {
            " ".join(str(w.message).split()).split(".")[0]  # the first sentence is enough
            for w in caught
            if issubclass(w.category, DeprecationWarning)
        }
        deprecations.extend(sorted(found))
        return built["app"]

    if not c.that(
        "make_app(events) returns a FastAPI app",
        build,
        lambda app: isinstance(app, FastAPI),
        expected="a FastAPI instance",
        hint="Create the app inside make_app with FastAPI(lifespan=...) and return it.",
    ):
        return
    c.equal(
        "building the app emits no DeprecationWarning (no @app.on_event)",
        deprecations,
        [],
        hint="Replace on_event handlers with one lifespan: open before `yield`, close after it.",
    )
    c.equal(
        "building the app opens nothing (start-up work belongs in the lifespan)",
        list(events),
        [],
        hint="Create and open the pool inside the lifespan, before its `yield`.",
    )
    app = built["app"]
    client = TestClient(app, raise_server_exceptions=False)
    if not c.run(
        "the app starts (its lifespan runs)",
        client.__enter__,
        hint="The lifespan must be an async context manager (@asynccontextmanager) "
        "that yields exactly once.",
    )[0]:
        return
    try:
        c.equal(
            "start-up opened the pool exactly once",
            lambda: list(events),
            ["pool opened"],
            hint="In the lifespan: pool = ConnectionPool(events); await pool.open(); then yield.",
        )
        c.equal(
            "GET /pool answers {'open': True} while the app serves",
            lambda: _json(client.get("/pool")),
            {"open": True},
            hint="Yield {'pool': pool} from the lifespan and read request.state.pool.is_open.",
        )
    finally:
        stopped = c.run(
            "the app shuts down without an error",
            lambda: client.__exit__(None, None, None),
            hint="After the yield, close the pool (in a `finally:`) and let the lifespan end.",
        )[0]
    if stopped:
        c.equal(
            "shutdown closed the pool, after serving",
            lambda: list(events),
            ["pool opened", "pool closed"],
            hint="Put `await pool.close()` after the `yield`, in a `finally:` block.",
        )


# --- 1.3 -----------------------------------------------------------------------------------------
class _Item(BaseModel):
    sku: str
    unit_price_cents: int
    quantity: int


class _QuoteRequest(BaseModel):
    items: list[_Item]
    coupon: str | None = None


BASKET = [
    {"sku": "kettle", "unit_price_cents": 1250, "quantity": 2},
    {"sku": "mug", "unit_price_cents": 309, "quantity": 1},
]  # subtotal 2809: 10 % is 280.9, so rounding down and rounding differ
SMALL = [{"sku": "mug", "unit_price_cents": 309, "quantity": 1}]


def _quote(subtotal: int, discount: int) -> dict[str, int]:
    return {
        "subtotal_cents": subtotal,
        "discount_cents": discount,
        "total_cents": subtotal - discount,
    }


def _dump(value: Any) -> Any:
    return value.model_dump() if isinstance(value, BaseModel) else value


@exercise("1.3", "Thin router, thick service", arity=2)
def _check_1_3(c: Checker, service_class: Any, include_quotes: Any) -> None:
    from course_app.core.errors import AppError

    box: dict[str, Any] = {}

    def make() -> Any:
        box["service"] = service_class()
        return box["service"]

    if not c.that(
        "PricingService() builds without arguments",
        make,
        lambda service: callable(getattr(service, "quote", None)),
        expected="an object with a quote(request) method",
        hint="Keep `class PricingService:` with its `def quote(self, request)` method.",
    ):
        return
    service = box["service"]

    def quote(items: list[dict[str, Any]], coupon: str | None = None) -> Any:
        return _dump(
            service.quote(_QuoteRequest.model_validate({"items": items, "coupon": coupon}))
        )

    if not c.equal(
        "quote(basket) without a coupon, called directly (no HTTP)",
        lambda: quote(BASKET),
        _quote(2809, 0),
        hint="Subtotal is the sum of unit_price_cents * quantity; no coupon, no discount. "
        "Return a Quote.",
    ):
        return
    c.equal(
        "SAVE10 takes 10 %, rounded down to the cent",
        lambda: quote(BASKET, "SAVE10"),
        _quote(2809, 280),
        hint="Integer division rounds down: subtotal // 10.",
    )
    c.equal(
        "coupons ignore case and surrounding spaces (' save10 ')",
        lambda: quote(BASKET, " save10 "),
        _quote(2809, 280),
        hint="Normalise the code as the fat router does: coupon.strip().upper().",
    )
    c.equal(
        "FIVEOFF takes 500 cents",
        lambda: quote(BASKET, "FIVEOFF"),
        _quote(2809, 500),
        hint="FIVEOFF is a fixed 500-cent discount.",
    )
    c.equal(
        "FIVEOFF never makes the total negative",
        lambda: quote(SMALL, "FIVEOFF"),
        _quote(309, 309),
        hint="Cap the discount at the subtotal: min(500, subtotal).",
    )
    c.raises(
        "an unknown coupon raises UnknownCouponError (an AppError), not an HTTP error",
        lambda: quote(BASKET, "BOGUS"),
        AppError,
        match="BOGUS",
        hint="A service speaks the domain, not HTTP: raise UnknownCouponError(coupon); the "
        "app's error handlers turn it into a response.",
    )
    app = _course_app(app_name="Checker Shop", environment="test")
    if not c.run(
        "include_quotes(app) runs on an app from create_app(...)",
        lambda: include_quotes(app),
        hint="include_quotes is given: run its cell again, unchanged.",
    )[0]:
        return
    client = c.client(app)

    def post(coupon: str) -> Any:
        return client.post("/quotes", json={"items": BASKET, "coupon": coupon})

    c.equal(
        "POST /quotes through the app returns the service's quote",
        lambda: (post("SAVE10").status_code, _json(post("SAVE10"))),
        (200, _quote(2809, 280)),
        hint="The router only delegates: make PricingService.quote return a Quote.",
    )

    def error_code(response: Any) -> tuple[int, Any]:
        return response.status_code, _field(_field(_json(response), "error"), "code")

    c.equal(
        "an unknown coupon through the app is a 422 error envelope with code UNKNOWN_COUPON",
        lambda: error_code(post("BOGUS")),
        (422, "UNKNOWN_COUPON"),
        hint="Raise UnknownCouponError (status 422, code UNKNOWN_COUPON), not HTTPException "
        "or a bare AppError.",
    )


# --- 1.4 -----------------------------------------------------------------------------------------
CONCURRENT = 8
LOOKUP_SECONDS = 0.15  # what the lab's lookups take
SERIAL = CONCURRENT * LOOKUP_SECONDS  # 1.2 s when requests run one after another
LIMIT = SERIAL / 2  # overlapping requests take ~0.15 s; this leaves a wide margin


def _wall_time(app: Any, path: str) -> float:
    """Seconds for CONCURRENT simultaneous requests; retried once on a busy machine.
    A blocking endpoint can never pass: its requests take at least SERIAL seconds."""
    import httpx

    async def measure() -> float:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://check") as client:
            started = time.perf_counter()
            responses = await asyncio.gather(*(client.get(path) for _ in range(CONCURRENT)))
            elapsed = time.perf_counter() - started
        failed = [r.status_code for r in responses if r.status_code != 200]
        if failed:
            raise AssertionError(f"{len(failed)} of {CONCURRENT} requests answered {failed[0]}")
        return elapsed

    elapsed = asyncio.run(measure())
    return elapsed if elapsed < LIMIT else min(elapsed, asyncio.run(measure()))


@exercise("1.4", "Endpoints that do not block the event loop")
def _check_1_4(c: Checker, include_lookups: Any) -> None:
    from fastapi import FastAPI

    app = FastAPI()
    if not c.run(
        "include_lookups(app) runs",
        lambda: include_lookups(app),
        hint="Define both endpoints on a router (or on app) inside include_lookups.",
    )[0]:
        return
    client = c.client(app)
    stock_ok = c.equal(
        "GET /stock/kettle answers {'sku': 'kettle', 'quantity': 3}",
        lambda: _json(client.get("/stock/kettle")),
        {"sku": "kettle", "quantity": 3},
        hint="Return {'sku': sku, 'quantity': blocking_stock_lookup(sku)}.",
    )
    price_ok = c.equal(
        "GET /price/mug answers {'sku': 'mug', 'price_cents': 899}",
        lambda: _json(client.get("/price/mug")),
        {"sku": "mug", "price_cents": 899},
        hint="async_price_lookup is a coroutine function: `await` it inside an async def endpoint.",
    )

    def seconds(value: object) -> str:
        return f"{value:.2f} s" if isinstance(value, float) else repr(value)

    if stock_ok:
        c.that(
            f"{CONCURRENT} simultaneous GET /stock requests overlap "
            f"(one after another they take {SERIAL:.1f} s)",
            lambda: _wall_time(app, "/stock/kettle"),
            lambda elapsed: elapsed < LIMIT,
            expected=f"under {LIMIT:.1f} s",
            show=seconds,
            hint="blocking_stock_lookup blocks its thread: declare the endpoint with plain `def` "
            "so FastAPI runs it in the threadpool. Adding an `await` elsewhere does not help.",
        )
    if price_ok:
        c.that(
            f"{CONCURRENT} simultaneous GET /price requests overlap "
            f"(one after another they take {SERIAL:.1f} s)",
            lambda: _wall_time(app, "/price/mug"),
            lambda elapsed: elapsed < LIMIT,
            expected=f"under {LIMIT:.1f} s",
            show=seconds,
            hint="Use `async def` and `await async_price_lookup(sku)`.",
        )
