"""Checkers of lab 09, performance.

9.1 and 9.3 build the real app from the learner's function on a SQLite file in a
temporary directory and measure it the way the lesson does: concurrent requests through
Starlette's ``TestClient`` (one event loop, so a blocked loop shows). The thresholds are
wide (a factor of two or more from what a correct answer measures) so a busy machine does
not fail a right answer. 9.2 runs the learner's decorator with a clock the checker
controls; 9.4 runs the learner's query on a database of known rows and reads the SQL it
sent.
"""

from __future__ import annotations

import asyncio
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from coursekit.checking import Checker, exercise
from coursekit.settings import course_settings

RATES_DELAY = 0.2  # fetch_exchange_rates() in the lab
CONCURRENT = 6


# --- shared helpers -------------------------------------------------------------------------
def _settings(data: Path, **values: Any) -> Any:
    base: dict[str, Any] = {
        "environment": "test",
        "app_name": "Lab 09 Shop",
        "database_url": f"sqlite+aiosqlite:///{data}/lab.db",
        "upload_dir": str(data / "uploads"),
        "log_level": "CRITICAL",
        "redis_url": None,
        "cache_enabled": True,
        "allowed_hosts": ["testserver", "localhost", "127.0.0.1"],
    }
    base.update(values)
    return course_settings(**base)


@contextmanager
def _workdir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="lab09-check-") as name:
        yield Path(name)


def _concurrently(count: int, call: Callable[[], Any]) -> tuple[float, list[Any]]:
    """Run ``call`` ``count`` times at once, each in its own thread: (wall time, results)."""
    with ThreadPoolExecutor(count) as pool:
        started = time.perf_counter()
        futures = [pool.submit(call) for _ in range(count)]
        results = [future.result() for future in futures]
        return time.perf_counter() - started, results


def _json(response: Any) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text[:120]


# --- 9.1 -------------------------------------------------------------------------------------
@exercise("9.1", "GET /api/rates without blocking the event loop", time_limit=40)
def _check_9_1(c: Checker, build_rates_app: Any) -> None:
    with _workdir() as data:
        ok, app = c.run(
            "build_rates_app(settings) returns the app",
            lambda: build_rates_app(_settings(data)),
            accept=callable,
            expected="a FastAPI app built with create_app(settings)",
            hint="Build the app with create_app(settings), add the route, return the app.",
            show=lambda value: type(value).__name__,
        )
        if not ok:
            return
        client = c.client(app)
        _check_9_1_app(c, client)


def _check_9_1_app(c: Checker, client: Any) -> None:
    def one() -> Any:
        response = client.get("/api/rates")
        return response.status_code, _json(response)

    ok, _first = c.run(
        "GET /api/rates answers 200 with the rates",
        one,
        accept=lambda value: (
            value[0] == 200
            and isinstance(value[1], dict)
            and {"EUR", "GBP", "fetch"} <= set(value[1])
        ),
        expected="(200, {'EUR': 0.92, 'GBP': 0.79, 'fetch': <n>})",
        hint="Register GET /api/rates and return what fetch_exchange_rates() returns; a "
        "coroutine returned without `await` is not JSON (500).",
    )
    if not ok:
        return
    serial = CONCURRENT * RATES_DELAY
    ok, timed = c.run(
        f"{CONCURRENT} concurrent GET /api/rates overlap (serial would take {serial:.1f} s)",
        lambda: _concurrently(CONCURRENT, one),
        accept=lambda value: value[0] < serial / 2 and all(status == 200 for status, _ in value[1]),
        expected=f"all 200, in under {serial / 2:.1f} s",
        hint="A blocking call inside `async def` runs on the event loop, so the requests "
        "run one after another. Use a plain `def` endpoint (FastAPI runs it in the thread "
        "pool) or `await run_in_threadpool(fetch_exchange_rates)`.",
        show=lambda value: f"{value[0]:.2f} s, statuses {[s for s, _ in value[1]]}",
    )
    if ok:
        c.equal(
            "every response is a fresh fetch (no cached rates)",
            lambda: len({body["fetch"] for _, body in timed[1]}),
            CONCURRENT,
            hint="Call fetch_exchange_rates() on every request: rates change, so a result "
            "fetched once at start-up (or cached) is the wrong answer, however fast.",
            show=lambda value: f"{value} distinct fetch numbers out of {CONCURRENT}",
        )
    health_limit = RATES_DELAY / 2
    attempts: list[float] = []

    def health_latency() -> float:
        # A blocked loop makes /health wait at least RATES_DELAY * 3/4 on every attempt, so
        # the best of three separates right from wrong; a single slow attempt on a busy
        # machine (a GC pause, a CPU-starved thread) no longer fails a right answer.
        for _ in range(3):
            attempts.append(round(_health_during_rates(client), 3))
            if attempts[-1] < health_limit:
                break
        return min(attempts)

    c.that(
        f"GET /health answers within {health_limit:g} s while 3 rates requests are in flight",
        health_latency,
        lambda seconds: seconds < health_limit,
        expected=f"under {health_limit:.2f} s",
        hint="While the event loop is blocked, nothing else is served, not even /health; "
        "a liveness probe that times out gets the pod restarted. Keep blocking calls off "
        "the loop.",
        show=lambda best: f"best of {len(attempts)} attempt(s): {best:.2f} s ({attempts})",
    )


def _health_during_rates(client: Any) -> float:
    with ThreadPoolExecutor(3) as pool:
        pending = [pool.submit(client.get, "/api/rates") for _ in range(3)]
        time.sleep(RATES_DELAY / 4)  # the rates requests are now being served
        started = time.perf_counter()
        status = client.get("/health").status_code
        elapsed = time.perf_counter() - started
        for future in pending:
            future.result()
    if status != 200:
        raise AssertionError(f"/health answered {status}")
    return elapsed


# --- 9.2 -------------------------------------------------------------------------------------
class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class _Source:
    """An async function that counts its calls and returns what it is told to."""

    def __init__(self, result: Any = "value") -> None:
        self.calls = 0
        self.result = result

    async def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        await asyncio.sleep(0)
        if self.result == "echo":
            return {"args": list(args), "kwargs": kwargs}
        return self.result


def _calls_after(
    cached: Any,
    result: Any,
    arguments: list[tuple[tuple[Any, ...], dict[str, Any]]],
    *,
    ttl: float = 60,
    advance: float = 0.0,
) -> tuple[int, list[Any]]:
    """Decorate a fresh source, call it with each (args, kwargs), advancing the clock by
    ``advance`` before every call after the first; return (source calls, results)."""
    clock, source = _Clock(), _Source(result)
    function = cached(ttl, clock=clock)(source)

    async def run() -> list[Any]:
        values = []
        for index, (args, kwargs) in enumerate(arguments):
            if index:
                clock.now += advance
            values.append(await function(*args, **kwargs))
        return values

    values = asyncio.run(run())
    return source.calls, values


@exercise("9.2", "A cache decorator that counts every result")
def _check_9_2(c: Checker, cached: Any) -> None:
    same: list[tuple[tuple[Any, ...], dict[str, Any]]] = [((7,), {})] * 3
    ok, _ = c.run(
        "cached(60, clock=...) decorates an async function; awaiting it gives the result",
        lambda: _calls_after(cached, "value", [((7,), {})]),
        accept=lambda value: value == (1, ["value"]),
        expected="(1 call, ['value'])",
        hint="cached(ttl, clock=...) returns a decorator; the decorator returns an `async "
        "def` wrapper that awaits the function and returns its result.",
        show=lambda value: f"({value[0]} calls, {value[1]!r})",
    )
    if not ok:
        return
    c.equal(
        "three calls with the same argument within the TTL call the function once",
        lambda: _calls_after(cached, "value", same),
        (1, ["value"] * 3),
        hint="Store the result on the first call and return it on the next ones.",
    )
    empties: tuple[Any, ...] = ([], 0, "", None)
    for empty in empties:
        c.equal(
            f"a result of {empty!r} is cached too (three calls, one function call)",
            lambda empty=empty: _calls_after(cached, empty, same)[0],
            1,
            hint="`if cached:` (the seeds') treats an empty page as a miss and queries again "
            "every time; and `dict.get(key) is not None` cannot tell a cached None from a "
            "missing key. Test whether the *key* is present (and fresh).",
            show=lambda calls: f"{calls} function calls",
        )
    c.equal(
        "different positional arguments are different entries",
        lambda: _calls_after(cached, "echo", [((1,), {}), ((2,), {}), ((1,), {})]),
        (
            2,
            [{"args": [1], "kwargs": {}}, {"args": [2], "kwargs": {}}, {"args": [1], "kwargs": {}}],
        ),
        hint="Make the arguments part of the key: (args, tuple(sorted(kwargs.items()))).",
    )
    c.equal(
        "different keyword arguments are different entries",
        lambda: _calls_after(cached, "echo", [((1,), {"sort": "name"}), ((1,), {"sort": "price"})])[
            0
        ],
        2,
        hint="Keyword arguments belong in the key too: f(1, sort='name') and f(1, "
        "sort='price') are different queries.",
        show=lambda calls: f"{calls} function calls",
    )
    c.equal(
        "a call after the TTL has passed calls the function again (ttl=60, clock +61 s)",
        lambda: _calls_after(cached, "value", [((7,), {}), ((7,), {})], advance=61)[0],
        2,
        hint="Store an expiry time (clock() + ttl) with each value and recompute when "
        "clock() has passed it. Use the `clock` you were given, not time.monotonic().",
        show=lambda calls: f"{calls} function calls",
    )
    c.equal(
        "a call before the TTL has passed is still a hit (ttl=60, clock +59 s)",
        lambda: _calls_after(cached, "value", [((7,), {}), ((7,), {})], advance=59)[0],
        1,
        hint="An entry is fresh while clock() < stored time + ttl.",
        show=lambda calls: f"{calls} function calls",
    )


# --- 9.3 -------------------------------------------------------------------------------------
class _Probe:
    """A slow ``def`` endpoint that records how many of its calls run at once. Each call
    waits (up to 2 s) until more than 40 run together, so the peak does not depend on how
    fast this machine starts threads."""

    TARGET = 41

    def __init__(self) -> None:
        self.running = 0
        self.peak = 0
        self.lock = threading.Lock()
        self.enough = threading.Event()

    def report(self) -> dict[str, int]:
        with self.lock:
            self.running += 1
            self.peak = max(self.peak, self.running)
            if self.running >= self.TARGET:
                self.enough.set()
        self.enough.wait(2.0)
        with self.lock:
            self.running -= 1
        return {"ok": 1}


def _add_probes(app: Any, probe: _Probe) -> None:
    import anyio.to_thread

    async def thread_limit() -> dict[str, int]:
        return {"total": int(anyio.to_thread.current_default_thread_limiter().total_tokens)}

    app.add_api_route("/_check/threads", thread_limit, methods=["GET"])
    app.add_api_route("/_check/report", probe.report, methods=["GET"])


def _build_9_3(c: Checker, build_app: Any, data: Path, threads: int) -> Any:
    ok, app = c.run(
        f"build_app(settings, threads={threads}) returns the app",
        lambda: build_app(_settings(data), threads),
        accept=callable,
        expected="a FastAPI app built with create_app(settings)",
        hint="Do not touch the thread limiter here: at build time no event loop runs "
        "(current_default_thread_limiter() raises). Set it inside the lifespan.",
        show=lambda value: type(value).__name__,
    )
    return app if ok else None


@exercise("9.3", "The thread pool, raised in the real app's lifespan", time_limit=40)
def _check_9_3(c: Checker, build_app: Any) -> None:
    with _workdir() as data:
        app = _build_9_3(c, build_app, data, 64)
        if app is None:
            return
        probe = _Probe()
        _add_probes(app, probe)
        client = c.client(app)
        if not c.equal(
            "GET /ready answers 200 (course_app's lifespan still opens the database)",
            lambda: client.get("/ready").status_code,
            200,
            hint="Wrap the app's own lifespan, do not replace it: `inner = "
            "app.router.lifespan_context`, then `async with inner(app) as state: yield state`.",
        ):
            return
        if not c.equal(
            "GET /api/products answers 200 (the lifespan's state reaches request.state)",
            lambda: client.get("/api/products").status_code,
            200,
            hint="Yield the state course_app's lifespan yields (`yield state`, not a bare "
            "`yield`): that dict is what becomes request.state (database, cache, ...).",
        ):
            return
        c.equal(
            "inside a request, the thread limiter has 64 tokens",
            lambda: client.get("/_check/threads").json()["total"],
            64,
            hint="Set anyio.to_thread.current_default_thread_limiter().total_tokens = threads "
            "in the lifespan, before the yield (code after the yield runs at shutdown).",
        )
        c.that(
            "60 concurrent calls of a slow def endpoint: more than 40 run at once",
            lambda: (_concurrently(60, lambda: client.get("/_check/report")), probe.peak)[1],
            lambda peak: peak > 40,
            expected="a peak above 40 (anyio's default)",
            hint="With the default limiter, the 41st call waits for a free thread.",
            show=lambda peak: f"a peak of {peak} at once",
        )
    with _workdir() as data:
        app = _build_9_3(c, build_app, data, 8)
        if app is None:
            return
        _add_probes(app, _Probe())
        other = c.client(app)
        c.equal(
            "build_app(settings, threads=8): the limiter has 8 tokens",
            lambda: other.get("/_check/threads").json()["total"],
            8,
            hint="Use the `threads` argument, not a number of your own.",
        )
        other.__exit__(None, None, None)  # stop it before its folder is removed


# --- 9.4 -------------------------------------------------------------------------------------
PRODUCT_COUNT = 50


def _is_active(number: int) -> bool:
    return number % 5 != 0  # every fifth product is inactive


def _expected_page(page: int, size: int) -> list[tuple[int, str, int]]:
    active = [
        (n, f"Product {n:02d}", 100 * n) for n in range(1, PRODUCT_COUNT + 1) if _is_active(n)
    ]
    return active[(page - 1) * size : page * size]


async def _run_9_4(
    folder: Path, function: Any, calls: list[tuple[int, int]]
) -> list[tuple[Any, list[str]]]:
    """Seed a database, call ``function`` once per (page, size); return, per call, the
    result (or the exception) and the SQL it sent."""
    import sqlalchemy as sa

    import course_app.models as models
    from course_app.core.database import Database, build_engine
    from course_app.features.products.models import Product

    database = Database(build_engine(f"sqlite+aiosqlite:///{folder}/lab.db"))
    try:
        async with database.engine.begin() as connection:
            await connection.run_sync(models.Base.metadata.create_all)
        async with database.sessions() as session:
            session.add_all(
                Product(
                    sku=f"SKU-{n:03d}",
                    name=f"Product {n:02d}",
                    description="long " * 40,
                    price_cents=100 * n,
                    stock=3,
                    is_active=_is_active(n),
                )
                for n in range(1, PRODUCT_COUNT + 1)
            )
            await session.commit()
        outcomes: list[tuple[Any, list[str]]] = []
        for page, size in calls:
            statements: list[str] = []

            def record(
                _c: Any, _k: Any, statement: str, *_: Any, into: list[str] = statements
            ) -> None:
                into.append(" ".join(statement.split()))

            sa.event.listen(database.engine.sync_engine, "before_cursor_execute", record)
            try:
                async with database.sessions() as session:
                    outcome: Any = await function(session, page=page, page_size=size)
            except Exception as exc:  # reported as the case's failure
                outcome = exc
            finally:
                sa.event.remove(database.engine.sync_engine, "before_cursor_execute", record)
            outcomes.append((outcome, statements))
        return outcomes
    finally:
        await database.dispose()


def _rows(value: Any) -> list[tuple[Any, Any, Any]]:
    if isinstance(value, Exception):
        raise value
    return [(item.id, item.name, item.price_cents) for item in value]


@exercise("9.4", "One page of three columns")
def _check_9_4(c: Checker, product_summaries: Any) -> None:
    calls = [(1, 10), (3, 10), (2, 15), (9, 10)]

    def run() -> list[tuple[Any, list[str]]]:
        with _workdir() as folder:
            outcomes = asyncio.run(_run_9_4(folder, product_summaries, calls))
        for outcome, _sql in outcomes:
            if isinstance(outcome, NotImplementedError):
                raise outcome
        return outcomes

    ok, outcomes = c.run(
        "await product_summaries(session, page=..., page_size=...) on a database of 50 products",
        run,
        expected="it can be awaited",
        hint="Write an `async def` that awaits session.execute(...) and returns a list.",
        show=lambda _: "ran",
    )
    if not ok:
        return
    (first, sql), (third, _), (second_15, _), (past_end, _) = outcomes
    c.equal(
        "no inactive product is listed (products 5, 10, 15, ... are inactive)",
        lambda: sorted(
            {
                row[0]
                for value in (first, third, second_15)
                for row in _rows(value)
                if not _is_active(row[0])
            }
        ),
        [],
        hint="Filter in the query: .where(Product.is_active.is_(True)).",
        show=lambda ids: f"inactive ids {ids}" if ids else "none",
    )
    c.equal(
        "page 1 of 10: the first ten active products, as (id, name, price_cents)",
        lambda: _rows(first),
        _expected_page(1, 10),
        hint="Active products ordered by Product.id; page 1 starts at OFFSET 0.",
    )
    c.equal(
        "page 3 of 10: active products 21st to 30th",
        lambda: _rows(third),
        _expected_page(3, 10),
        hint="OFFSET is (page - 1) * page_size: page numbers start at 1.",
    )
    c.equal(
        "page 2 of 15: active products 16th to 30th",
        lambda: _rows(second_15),
        _expected_page(2, 15),
        hint="Use page_size for the LIMIT and in the OFFSET.",
    )
    c.equal(
        "a page past the end is an empty list",
        lambda: _rows(past_end),
        [],
        hint="Return an empty list when the query finds no rows.",
    )
    c.equal(
        "one SQL statement per call",
        lambda: len(sql),
        1,
        hint="One SELECT with LIMIT and OFFSET; no count, no second query.",
        show=lambda count: f"{count} statements",
    )
    select = sql[0] if sql else ""
    c.that(
        "the SELECT reads only id, name and price_cents",
        lambda: select,
        lambda text: text.startswith(
            "SELECT products.id, products.name, products.price_cents FROM"
        ),
        expected="SELECT products.id, products.name, products.price_cents FROM products ...",
        hint="sa.select(Product.id, Product.name, Product.price_cents): select(Product) "
        "loads every column (the description, timestamps, ...) into ORM objects.",
        show=lambda text: text[:110],
    )
    c.that(
        "the page is cut in SQL (LIMIT and OFFSET) and ordered (ORDER BY)",
        lambda: select,
        lambda text: all(word in text for word in ("ORDER BY", "LIMIT", "OFFSET")),
        expected="... ORDER BY products.id LIMIT ? OFFSET ?",
        hint="Cut and order the page in SQL: .order_by(Product.id).offset(...).limit(...). "
        "Slicing in Python still reads the whole table; without ORDER BY the database may "
        "return rows in any order, and pages can overlap.",
        show=lambda text: text[text.find("FROM") :][:110],
    )
