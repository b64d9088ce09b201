"""Checkers of lab 06, database patterns.

Every checker works on SQLite databases of its own, in a temporary folder removed when
the check ends, so results never depend on the machine or on an earlier run. Learner
coroutines are awaited inside one ``asyncio.run`` per check, on an engine created (and
disposed of) in that same event loop.
"""

from __future__ import annotations

import asyncio
import inspect
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from coursekit.checking import Checker, exercise
from coursekit.settings import course_settings


@dataclass(frozen=True)
class Outcome:
    """What one call of learner code did: a value, or the exception it raised."""

    value: Any = None
    error: BaseException | None = None

    def get(self) -> Any:
        if self.error is not None:
            raise self.error
        return self.value


@contextmanager
def _folder() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="lab06-") as name:
        yield Path(name)


def _url(folder: Path, name: str) -> str:
    return f"sqlite+aiosqlite:///{folder / name}"


async def _maybe_await(value: Any) -> Any:
    if inspect.isawaitable(value):
        return await value
    raise TypeError(f"expected a coroutine (an `async def` function), got {type(value).__name__}")


async def _create_schema(engine: Any) -> None:
    import course_app.models as models

    async with engine.begin() as connection:
        await connection.run_sync(models.Base.metadata.create_all)


# --- 6.1 ---------------------------------------------------------------------------------
# (sku, name, category, price_cents, is_active), inserted in this order: ids 1..6
_PRODUCTS_61 = (
    ("MUG-0001", "Enamel mug", "kitchen", 1299, True),
    ("TEA-0001", "Green tea", "kitchen", 650, True),
    ("BAG-0001", "Tote bag", "bags", 1800, True),
    ("PROTO-9", "Prototype mug", "kitchen", 500, False),
    ("SALE-50", "50% off mug", "kitchen", 999, True),
    ("CUP-0001", "Cup holder", "kitchen", 1300, True),
)
_ACTIVE_61 = [sku for sku, *_rest, active in _PRODUCTS_61 if active]

_FOUND_61: tuple[tuple[str, dict[str, Any], list[str], str], ...] = (
    (
        "no filters: every active product, in id order",
        {},
        _ACTIVE_61,
        "Start from `Product.is_active.is_(True)` and `.order_by(Product.id)`; the "
        "prototype (inactive) must never come back.",
    ),
    (
        "category='kitchen': the active kitchen products, not the inactive prototype",
        {"category": "kitchen"},
        ["MUG-0001", "TEA-0001", "SALE-50", "CUP-0001"],
        "Compare Product.category with the value, and keep the is_active condition in every query.",
    ),
    (
        "max_price_cents=1299: the bound is included (1299 yes, 1300 no)",
        {"max_price_cents": 1299},
        ["MUG-0001", "TEA-0001", "SALE-50"],
        "Use `Product.price_cents <= value`: 'at most' includes the bound.",
    ),
    (
        "name_contains='MUG' ignores case",
        {"name_contains": "MUG"},
        ["MUG-0001", "SALE-50"],
        "Use Product.name.icontains(value, autoescape=True).",
    ),
    (
        "name_contains='%' is a literal percent sign, not 'anything'",
        {"name_contains": "%"},
        ["SALE-50"],
        "Pass autoescape=True to icontains(): without it, a '%' typed by the user is a "
        "wildcard that matches every name.",
    ),
    (
        "category='kitchen' and max_price_cents=1000: both must hold",
        {"category": "kitchen", "max_price_cents": 1000},
        ["TEA-0001", "SALE-50"],
        "Add one condition per filter and pass them all to .where(*conditions).",
    ),
    (
        "filters whose value is None are ignored",
        {"category": None, "name_contains": None, "max_price_cents": None},
        _ACTIVE_61,
        "Skip a filter when its value is None (after checking that its name is allowed).",
    ),
)

_REFUSED_61: tuple[tuple[dict[str, Any], str], ...] = (
    ({"is_active": False}, "the visibility rule is not a filter: it would list the prototype"),
    ({"sku": "MUG-0001"}, "a real column, but not on the allow-list"),
    ({"hashed_password": "x"}, "a column of another table"),
    ({"nmae": "mug"}, "a typo"),
    ({"metadata": 1}, "an attribute of the model class that is not a column"),
    ({"is_active": None}, "a refused name is refused even with a None value"),
)


async def _run_61(function: Any, calls: Sequence[Mapping[str, Any]]) -> list[Outcome]:
    from sqlalchemy.ext.asyncio import async_sessionmaker

    from course_app.core.database import build_engine
    from course_app.features.products.models import Product

    outcomes: list[Outcome] = []
    with _folder() as folder:
        engine = build_engine(_url(folder, "lab61.db"))
        try:
            await _create_schema(engine)
            sessions = async_sessionmaker(engine, expire_on_commit=False)
            async with sessions() as session:
                session.add_all(
                    Product(sku=s, name=n, category=c, price_cents=p, is_active=a)
                    for s, n, c, p, a in _PRODUCTS_61
                )
                await session.commit()
            for filters in calls:
                async with sessions() as session:
                    try:
                        rows = await _maybe_await(function(session, dict(filters)))
                        outcomes.append(Outcome(_skus(rows, Product)))
                    except Exception as exc:
                        outcomes.append(Outcome(error=exc))
        finally:
            await engine.dispose()
    return outcomes


def _skus(rows: Any, product_type: type) -> list[str]:
    if not isinstance(rows, list):
        raise TypeError(f"find_products returned {type(rows).__name__}, not a list")
    for row in rows:
        if not isinstance(row, product_type):
            raise TypeError(f"the list holds {type(row).__name__} objects, not Product")
    return [row.sku for row in rows]


@exercise("6.1", "find_products: an allow-listed repository query", arity=2)
def _check_6_1(c: Checker, find_products: Any, unknown_filter_error: Any) -> None:
    if not c.that(
        "find_products is an async function",
        lambda: find_products,
        inspect.iscoroutinefunction,
        expected="an `async def` function taking (session, filters)",
        hint="Keep the signature `async def find_products(session, filters)`.",
    ):
        return
    if not c.that(
        "UnknownFilterError is an exception class",
        lambda: unknown_filter_error,
        lambda cls: isinstance(cls, type) and issubclass(cls, Exception),
        expected="the exception class defined in the lab",
    ):
        return
    calls = [filters for _, filters, _, _ in _FOUND_61] + [f for f, _ in _REFUSED_61]
    ok, outcomes = c.run(
        "the checker's database is set up and your function is called",
        lambda: asyncio.run(_run_61(find_products, calls)),
        expected="a result or an exception for every call",
        show=lambda _value: "done",
    )
    if not ok:
        return
    if any(isinstance(outcome.error, NotImplementedError) for outcome in outcomes):
        name, _filters, expected, hint = _FOUND_61[0]
        c.equal(name, outcomes[0].get, expected, hint=hint)  # one line, not sixteen
        return
    for (name, _filters, expected, hint), outcome in zip(_FOUND_61, outcomes, strict=False):
        c.equal(name, outcome.get, expected, hint=hint)
    refused_hint = (
        "Check every name against ALLOWED_FILTERS first and `raise UnknownFilterError(name)` "
        "for any other: never getattr(Product, name), never ignore it silently."
    )
    for (filters, why), outcome in zip(_REFUSED_61, outcomes[len(_FOUND_61) :], strict=False):
        c.raises(
            f"{filters} raises UnknownFilterError ({why})",
            outcome.get,
            unknown_filter_error,
            hint=refused_hint,
        )


# --- 6.2 ---------------------------------------------------------------------------------
_MAX_QUERIES_62 = 2


@dataclass(frozen=True)
class Listing:
    result: Any
    queries: int


async def _seed_orders(sessions: Any, count: int, start: int) -> list[tuple[int, list[int]]]:
    """Add ``count`` orders; order k gets k % 4 items (so some orders have none).
    Returns the expected (order_id, product ids) of the new orders."""
    from course_app.features.orders.models import Order, OrderItem

    async with sessions() as session:
        orders = []
        for k in range(start, start + count):
            product_ids = [1 + (k + j) % 3 for j in range(k % 4)]
            items = [
                OrderItem(product_id=p, quantity=1, unit_price_cents=100 * p) for p in product_ids
            ]
            orders.append((Order(user_id=1, total_cents=0, items=items), product_ids))
        session.add_all(order for order, _ in orders)
        await session.commit()
        return [(order.id, ids) for order, ids in orders]


async def _run_62(function: Any) -> list[Outcome]:
    from sqlalchemy import event
    from sqlalchemy.ext.asyncio import async_sessionmaker

    from course_app.core.database import build_engine
    from course_app.features.products.models import Product
    from course_app.features.users.models import User

    expected: list[tuple[int, list[int]]] = []
    outcomes: list[Outcome] = []
    with _folder() as folder:
        engine = build_engine(_url(folder, "lab62.db"))
        statements: list[str] = []

        def record(_c: Any, _cur: Any, statement: str, *_rest: Any) -> None:
            statements.append(" ".join(statement.split()))

        try:
            await _create_schema(engine)
            sessions = async_sessionmaker(engine, expire_on_commit=False)
            async with sessions() as session:
                ann = User(email="ann@example.com", full_name="Ann", hashed_password="x")  # noqa: S106
                session.add(ann)
                session.add_all(
                    Product(sku=f"SKU-{i}", name=f"Item {i}", price_cents=100 * i)
                    for i in (1, 2, 3)
                )
                await session.commit()
            for count in (5, 35):
                expected += await _seed_orders(sessions, count, start=len(expected))
                snapshot = list(expected)
                statements.clear()
                event.listen(engine.sync_engine, "before_cursor_execute", record)
                try:
                    async with sessions() as session:
                        value = await _maybe_await(function(session))
                        queries = len(statements)
                    outcomes.append(Outcome((Listing(value, queries), snapshot)))
                except Exception as exc:
                    outcomes.append(Outcome(error=exc))
                finally:
                    event.remove(engine.sync_engine, "before_cursor_execute", record)
        finally:
            await engine.dispose()
    return outcomes


def _as_plain(value: Any) -> Any:
    """[(id, [ids])] from whatever sequence of pairs came back (tuples or lists)."""
    return [(pair[0], list(pair[1])) for pair in value]


@exercise("6.2", "orders_with_items: no N+1")
def _check_6_2(c: Checker, orders_with_items: Any) -> None:
    if not c.that(
        "orders_with_items is an async function",
        lambda: orders_with_items,
        inspect.iscoroutinefunction,
        expected="an `async def` function taking (session)",
        hint="Keep the signature `async def orders_with_items(session)`.",
    ):
        return
    ok, outcomes = c.run(
        "the checker's database is set up and your function is called",
        lambda: asyncio.run(_run_62(orders_with_items)),
        expected="a result or an exception for each call",
        show=lambda _value: "done",
    )
    if not ok:
        return
    lazy_hint = (
        "Order.items is lazy='raise': load it in the query with "
        ".options(selectinload(Order.items))."
    )
    counts: list[int] = []
    for size, outcome in zip((5, 40), outcomes, strict=False):
        passed, pair = c.run(
            f"with {size} orders, your function runs",
            outcome.get,
            expected="a list of (order_id, [product_id, ...])",
            hint=lazy_hint,
            show=lambda _value: "it returned",
        )
        if not passed:
            continue
        listing, expected = pair
        c.equal(
            f"with {size} orders: every order in id order, with its items' product ids "
            "(an order without items has [])",
            lambda listing=listing: _as_plain(listing.result),
            expected,
            hint="Select Order (not OrderItem: orders without items would vanish), order by "
            "Order.id, and read order.items for each.",
            show=lambda v: repr(v) if len(repr(v)) < 160 else repr(v)[:150] + "…]",
        )
        counts.append(listing.queries)
        c.that(
            f"with {size} orders: at most {_MAX_QUERIES_62} SQL queries",
            lambda listing=listing: listing.queries,
            lambda n: n <= _MAX_QUERIES_62,
            expected=f"≤ {_MAX_QUERIES_62} queries",
            hint="One query per order is the N+1 problem. selectinload(Order.items) loads the "
            "items of all orders in one extra query (WHERE order_id IN (...)).",
            show=lambda n: f"{n} queries",
        )
    if len(counts) == 2:  # both sizes ran
        c.equal(
            "the number of queries does not grow with the number of orders",
            lambda: counts[1] - counts[0],
            0,
            hint="A count that grows with the data is N+1, even when it is small today.",
            show=lambda n: f"{n} more queries for 35 more orders",
        )


# --- 6.3 ---------------------------------------------------------------------------------
ROUTE_63 = "/api/imports/products"
LAMP = {"sku": "LAMP-0001", "name": "Desk lamp", "price_cents": 4900}
LAMP_AGAIN = {"sku": "LAMP-0001", "name": "Floor lamp", "price_cents": 8900}
SHADE = {"sku": "SHADE-0001", "name": "Lamp shade", "price_cents": 1500}


def _settings_63(folder: Path) -> Any:
    """A ``course_app`` test Settings on a fresh SQLite file, ignoring the environment."""
    return course_settings(
        environment="test", log_level="CRITICAL", database_url=_url(folder, "lab63.db")
    )


def _summary(response: Any) -> tuple[int, Any]:
    try:
        body = response.json()
    except ValueError:
        body = response.text[:80]
    return response.status_code, body


def _status_and(response: Any, field: str) -> tuple[int, Any]:
    status, body = _summary(response)
    if isinstance(body, dict) and field not in body and "error" in body:
        return status, body["error"].get("code")
    return status, body.get(field) if isinstance(body, dict) else body


@exercise("6.3", "POST /api/imports/products commits before it answers")
def _check_6_3(c: Checker, build_app: Any) -> None:
    # Registered before the client, so it is removed after the app has shut down.
    folder = Path(c.enter_context(tempfile.TemporaryDirectory(prefix="lab06-")))
    ok, app = c.run(
        "build_app(settings) returns a FastAPI app",
        lambda: build_app(_settings_63(folder)),
        accept=lambda value: hasattr(value, "openapi") and callable(value),
        expected="a FastAPI app built with create_app(settings)",
        hint="Start with `app = create_app(settings)`, add the route, `return app`.",
    )
    if ok:
        _check_6_3_requests(c, c.client(app))


def _check_6_3_requests(c: Checker, client: Any) -> None:
    c.equal(
        "the real app is still there: GET /health answers 200",
        lambda: client.get("/health").status_code,
        200,
        hint="Build on create_app(settings), not on a new FastAPI().",
    )
    ok, created = c.run(
        f"POST {ROUTE_63} with a new SKU answers 201 with the new id and the SKU",
        lambda: _summary(client.post(ROUTE_63, json=LAMP)),
        accept=lambda got: (
            got[0] == 201
            and isinstance(got[1], dict)
            and isinstance(got[1].get("id"), int)
            and got[1].get("sku") == LAMP["sku"]
        ),
        expected="(201, {'id': <int>, 'sku': 'LAMP-0001'})",
        hint="Declare status_code=201 and return ImportResult(id=product.id, sku=product.sku); "
        "the id exists once the row is flushed or committed.",
    )
    if not ok:
        return
    product_id = created[1]["id"]
    c.equal(
        f"the next request finds it: GET /api/products/{product_id} answers 200 with its SKU",
        lambda: _status_and(client.get(f"/api/products/{product_id}"), "sku"),
        (200, LAMP["sku"]),
        hint="SessionDep never commits: `await session.commit()` in the handler before "
        "returning. A flush alone is rolled back when the session closes.",
    )
    duplicate = c.run(
        f"POST {ROUTE_63} with a taken SKU answers 409 with the CONFLICT envelope",
        lambda: _summary(client.post(ROUTE_63, json=LAMP_AGAIN)),
        accept=lambda got: (
            got[0] == 409
            and isinstance(got[1], dict)
            and got[1].get("error", {}).get("code") == "CONFLICT"
        ),
        expected="(409, {'error': {'code': 'CONFLICT', ...}})",
        hint="Wrap the commit: `except IntegrityError: await session.rollback(); raise "
        "DuplicateSkuError(body.sku)`. A 201 here means the client is told 'saved' for a "
        "row that is not; a 500 blames the server for the client's mistake.",
    )[0]
    if duplicate:
        c.equal(
            "the duplicate changed nothing: the first product keeps its name",
            lambda: _status_and(client.get(f"/api/products/{product_id}"), "name"),
            (200, LAMP["name"]),
            hint="Roll back the failed transaction; never update the existing row.",
        )
    c.run(
        "after a conflict, the app still imports the next product (201)",
        lambda: _summary(client.post(ROUTE_63, json=SHADE)),
        accept=lambda got: got[0] == 201 and got[1].get("id") not in (None, product_id),
        expected="(201, {'id': <a new id>, 'sku': 'SHADE-0001'})",
        hint="After an IntegrityError the session must be rolled back before it is used again.",
    )
    c.equal(
        "the public listing shows exactly the two imported products",
        lambda: sorted(p["sku"] for p in client.get("/api/products").json()["items"]),
        sorted([LAMP["sku"], SHADE["sku"]]),
        hint="Each successful import is one committed row; a failed one leaves nothing.",
    )


# --- 6.4 ---------------------------------------------------------------------------------
INDEX_64 = "ix_products_weight_grams"


def _sync_engine(folder: Path) -> Any:
    """A plain SQLite engine (foreign keys off, as a migration runner sets them) with the
    app's schema and two products."""
    import sqlalchemy as sa

    import course_app.models as models

    engine = sa.create_engine(f"sqlite:///{folder / 'lab64.db'}")
    models.Base.metadata.create_all(engine)
    with engine.begin() as connection:
        for sku in ("MUG-0001", "TEA-0001"):
            connection.execute(
                sa.text(
                    "INSERT INTO products (sku, name, description, category, price_cents,"
                    " stock, is_active) VALUES (:sku, 'x', '', 'kitchen', 100, 1, 1)"
                ),
                {"sku": sku},
            )
    return engine


def _migrate(engine: Any, step: Callable[[], Any]) -> None:
    from alembic.migration import MigrationContext
    from alembic.operations import Operations

    with engine.begin() as connection, Operations.context(MigrationContext.configure(connection)):
        step()


@dataclass(frozen=True)
class Schema:
    columns: dict[str, dict[str, Any]]
    indexes: dict[str, list[str]]
    rows: list[tuple[Any, ...]]
    diff: list[Any]


def _schema(engine: Any) -> Schema:
    import sqlalchemy as sa
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    import course_app.models as models

    with engine.connect() as connection:
        inspector = sa.inspect(connection)
        columns = {c["name"]: c for c in inspector.get_columns("products")}
        indexes = {i["name"]: i["column_names"] for i in inspector.get_indexes("products")}
        query = "SELECT sku, weight_grams FROM products" if "weight_grams" in columns else None
        rows = [tuple(r) for r in connection.exec_driver_sql(query or "SELECT sku FROM products")]
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = list(compare_metadata(context, models.Base.metadata))
    return Schema(columns, indexes, rows, diff)


@exercise("6.4", "a migration: NOT NULL column, index, downgrade, SQLite", arity=2)
def _check_6_4(c: Checker, upgrade: Any, downgrade: Any) -> None:
    for name, step in (("upgrade", upgrade), ("downgrade", downgrade)):
        if not c.that(
            f"{name} is a function",
            lambda step=step: step,
            callable,
            expected="a function taking no arguments",
            hint=f"Define `def {name}() -> None:` in the exercise cell.",
        ):
            return
    with _folder() as folder:
        engine = _sync_engine(folder)
        try:
            _check_6_4_steps(c, engine, upgrade, downgrade)
        finally:
            engine.dispose()


def _check_6_4_steps(c: Checker, engine: Any, upgrade: Any, downgrade: Any) -> None:
    if not c.run(
        "upgrade() runs on a products table that already has rows",
        lambda: _migrate(engine, upgrade),
        hint="SQLite refuses to add a NOT NULL column without a default to a table with rows "
        "(and Alembic's batch copy fails the same way): give the column "
        "server_default='0'. ALTER COLUMN does not exist on SQLite: use "
        "op.batch_alter_table('products').",
    )[0]:
        return
    after = _schema(engine)
    column = after.columns.get("weight_grams", {})
    c.that(
        "products.weight_grams exists and is NOT NULL",
        lambda: (bool(column), column.get("nullable")),
        lambda got: got == (True, False),
        expected="(exists, nullable=False)",
        hint="sa.Column('weight_grams', sa.Integer(), server_default='0', nullable=False)",
        show=lambda got: f"(exists={got[0]}, nullable={got[1]})",
    )
    c.equal(
        "the rows that were already there got weight 0",
        lambda: after.rows,
        [("MUG-0001", 0), ("TEA-0001", 0)],
        hint="A server_default fills existing rows when the column is added.",
    )
    c.equal(
        "an insert that does not mention the column gets 0 from the database",
        lambda: _insert_without_weight(engine),
        0,
        hint="server_default (in the database), not default= (only in Python, only for "
        "SQLAlchemy inserts).",
    )
    c.equal(
        f"index {INDEX_64} exists on weight_grams",
        lambda: after.indexes.get(INDEX_64),
        ["weight_grams"],
        hint=f"op.create_index('{INDEX_64}', 'products', ['weight_grams'])",
    )
    skus = _skus_64(engine)
    if not c.run(
        "downgrade() runs afterwards",
        lambda: _migrate(engine, downgrade),
        hint="Drop the index before the column: SQLite's batch copy recreates every index of "
        "the table, and one on a column that no longer exists fails.",
    )[0]:
        return
    before = _schema(engine)
    c.equal(
        "after downgrade(): no weight_grams column, no index",
        lambda: ("weight_grams" in before.columns, INDEX_64 in before.indexes),
        (False, False),
        hint="downgrade() must undo everything upgrade() did.",
    )
    c.equal(
        "after downgrade(): every row is kept",
        lambda: sorted(row[0] for row in before.rows),
        skus,
        hint="Drop the column (batch mode copies the rows), never the table.",
    )
    c.equal(
        "after downgrade(): the table is exactly the app's schema again (autogenerate finds "
        "no difference)",
        lambda: [str(d) for d in before.diff],
        [],
        hint="Leave nothing behind: no extra index, no changed column.",
    )
    c.run(
        "upgrade() runs again after the downgrade (the round trip works)",
        lambda: _migrate(engine, upgrade),
        hint="Each direction must leave the schema the other one expects.",
    )


def _insert_without_weight(engine: Any) -> Any:
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO products (sku, name, description, category, price_cents, stock,"
            " is_active) VALUES ('LAMP-0001', 'x', '', 'kitchen', 100, 1, 1)"
        )
        return connection.exec_driver_sql(
            "SELECT weight_grams FROM products WHERE sku = 'LAMP-0001'"
        ).scalar()


def _skus_64(engine: Any) -> list[str]:
    with engine.connect() as connection:
        return sorted(r[0] for r in connection.exec_driver_sql("SELECT sku FROM products"))
