"""The products API: public reads (filters, sorts, pages, cursor feed) and admin writes."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from course_app.config import Settings
from course_app.core.database import build_engine
from course_app.features.products.models import Product
from course_app.features.products.repository import ProductRepository
from course_app.features.products.schemas import ProductSort
from course_app.features.users.models import Role
from tests.app.factories import auth_headers, create_product, create_user
from tests.app.test_errors import envelope

pytestmark = pytest.mark.anyio

NEW_PRODUCT: dict[str, Any] = {
    "sku": "MUG-0001",
    "name": "Enamel mug",
    "description": "Holds 350 ml.",
    "category": "kitchen",
    "price_cents": 1299,
    "stock": 25,
}


@pytest.fixture
async def admin(database_url: str, settings: Settings, client: httpx.AsyncClient) -> dict[str, str]:
    """Headers of an admin (``client`` first: it resets the tables)."""
    return auth_headers(settings, await create_user(database_url, role=Role.ADMIN))


@pytest.fixture
async def shopper(
    database_url: str, settings: Settings, client: httpx.AsyncClient
) -> dict[str, str]:
    return auth_headers(settings, await create_user(database_url))


async def catalogue(database_url: str) -> dict[str, int]:
    """Four active products (one sold out) and one inactive; name -> id."""
    rows = [
        ("Apple mug", "kitchen", 500, 0, True),
        ("Blue mug", "kitchen", 1500, 5, True),
        ("Cotton shirt", "clothing", 2500, 3, True),
        ("Wool 100% scarf", "clothing", 4000, 1, True),
        ("Hidden mug", "kitchen", 700, 9, False),
    ]
    ids = {}
    for name, category, price, stock, active in rows:
        product = await create_product(
            database_url,
            name=name,
            category=category,
            price_cents=price,
            stock=stock,
            is_active=active,
        )
        ids[name] = product.id
    return ids


def names(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["name"] for item in response.json()["items"]]


def validation_errors(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.status_code == 422, response.text
    error = envelope(response)
    assert error["code"] == "VALIDATION_ERROR"
    return error["details"]["errors"]  # type: ignore[index,no-any-return]


def cursor_of(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


# --- listing: happy paths ------------------------------------------------------------


async def test_listing_is_public_and_hides_inactive_products(
    client: httpx.AsyncClient, database_url: str
) -> None:
    await catalogue(database_url)
    response = await client.get("/api/products")
    assert names(response) == ["Apple mug", "Blue mug", "Cotton shirt", "Wool 100% scarf"]
    body = response.json()
    assert body["total"] == 4
    assert (body["page"], body["page_size"], body["pages"], body["has_next"]) == (1, 20, 1, False)
    item = body["items"][0]
    assert set(item) == {
        "id",
        "sku",
        "name",
        "description",
        "category",
        "price_cents",
        "stock",
        "is_active",
        "image_url",
        "created_at",
        "updated_at",
    }
    assert item["image_url"] is None
    assert "image_path" not in response.text


async def test_listing_pages(client: httpx.AsyncClient, database_url: str) -> None:
    await catalogue(database_url)
    response = await client.get("/api/products", params={"page": 2, "page_size": 3})
    assert names(response) == ["Wool 100% scarf"]
    body = response.json()
    assert (body["total"], body["pages"], body["has_next"]) == (4, 2, False)
    first = (await client.get("/api/products", params={"page_size": 3})).json()
    assert first["has_next"] is True
    # past the last page: no row carries the total, so it is counted apart
    past = (await client.get("/api/products", params={"page": 3, "page_size": 3})).json()
    assert (past["items"], past["total"], past["has_next"]) == ([], 4, False)


async def test_listing_search_escapes_every_like_metacharacter(
    client: httpx.AsyncClient, database_url: str
) -> None:
    """``%``, ``_`` and the escape character itself are literals in ``q``."""
    for name in ("Mug 50/50", "Mug 50_50", "Mug 50%50", "Mug 5050"):
        await create_product(database_url, name=name)
    cases = {
        "/": ["Mug 50/50"],
        "0/5": ["Mug 50/50"],
        "//": [],
        "_": ["Mug 50_50"],
        "%": ["Mug 50%50"],
        "50": ["Mug 50/50", "Mug 50_50", "Mug 50%50", "Mug 5050"],
    }
    for q, expected in cases.items():
        response = await client.get("/api/products", params={"q": q})
        assert names(response) == expected, q


async def test_listing_filters(client: httpx.AsyncClient, database_url: str) -> None:
    await catalogue(database_url)
    cases: list[tuple[dict[str, Any], list[str]]] = [
        ({"category": "kitchen"}, ["Apple mug", "Blue mug"]),
        ({"min_price_cents": 1500}, ["Blue mug", "Cotton shirt", "Wool 100% scarf"]),
        ({"max_price_cents": 1500}, ["Apple mug", "Blue mug"]),
        ({"min_price_cents": 1500, "max_price_cents": 1500}, ["Blue mug"]),
        ({"q": "MUG"}, ["Apple mug", "Blue mug"]),
        ({"q": "  shirt "}, ["Cotton shirt"]),
        ({"q": "100%"}, ["Wool 100% scarf"]),  # % is a literal, not a wildcard
        ({"q": "%"}, ["Wool 100% scarf"]),
        ({"q": "_"}, []),
        ({"in_stock": "true"}, ["Blue mug", "Cotton shirt", "Wool 100% scarf"]),
        ({"in_stock": "false"}, ["Apple mug"]),
        ({"category": "clothing", "in_stock": "1", "max_price_cents": 3000}, ["Cotton shirt"]),
        ({"category": "garden"}, []),
        ({"unknown": "ignored"}, ["Apple mug", "Blue mug", "Cotton shirt", "Wool 100% scarf"]),
    ]
    for params, expected in cases:
        response = await client.get("/api/products", params=params)
        assert names(response) == expected, params
        assert response.json()["total"] == len(expected)


async def test_listing_sorts(client: httpx.AsyncClient, database_url: str) -> None:
    ids = await catalogue(database_url)
    by_id = ["Apple mug", "Blue mug", "Cotton shirt", "Wool 100% scarf"]
    by_price = ["Apple mug", "Blue mug", "Cotton shirt", "Wool 100% scarf"]
    assert ids["Apple mug"] < ids["Blue mug"]
    expected = {
        "id": by_id,
        "name": by_id,
        "-name": by_id[::-1],
        "price_cents": by_price,
        "-price_cents": by_price[::-1],
        "created_at": by_id,
        "-created_at": by_id[::-1],
    }
    assert set(expected) == {sort.value for sort in ProductSort}
    for sort, order in expected.items():
        assert names(await client.get("/api/products", params={"sort": sort})) == order, sort


async def test_ties_are_broken_by_id_so_pages_never_overlap(
    client: httpx.AsyncClient, database_url: str
) -> None:
    for _ in range(5):
        await create_product(database_url, name="Same", price_cents=100)
    seen: list[int] = []
    for page in (1, 2, 3):
        response = await client.get(
            "/api/products", params={"sort": "-price_cents", "page": page, "page_size": 2}
        )
        seen += [item["id"] for item in response.json()["items"]]
    assert seen == sorted(seen, reverse=True)
    assert len(set(seen)) == 5


# --- listing: sad paths --------------------------------------------------------------


BAD_QUERIES: list[tuple[dict[str, Any], str]] = [
    ({"page_size": 101}, "page_size"),
    ({"page_size": 0}, "page_size"),
    ({"page": 0}, "page"),
    ({"page": 2**70}, "page"),
    ({"min_price_cents": -1}, "min_price_cents"),
    ({"max_price_cents": 10_000_001}, "max_price_cents"),
    ({"min_price_cents": 2**70}, "min_price_cents"),
    ({"q": "x" * 101}, "q"),
    ({"q": "   "}, "q"),
    ({"in_stock": "maybe"}, "in_stock"),
    ({"category": "Not A Slug"}, "category"),
]


async def test_listing_rejects_bad_query_values(client: httpx.AsyncClient) -> None:
    for params, field in BAD_QUERIES:
        errors = validation_errors(await client.get("/api/products", params=params))
        assert [e["loc"] for e in errors] == [["query", field]], params


async def test_min_price_above_max_price_is_422(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/api/products", params={"min_price_cents": 500, "max_price_cents": 100}
    )
    [error] = validation_errors(response)
    assert error["loc"] == ["query", "max_price_cents"]
    assert "min_price_cents" in error["msg"]


async def test_unknown_sort_is_422_listing_the_allowed_values(client: httpx.AsyncClient) -> None:
    [error] = validation_errors(await client.get("/api/products", params={"sort": "password"}))
    assert error["loc"] == ["query", "sort"]
    for allowed in ProductSort:
        assert f"'{allowed.value}'" in error["msg"]


# --- one product ---------------------------------------------------------------------


async def test_get_one_product(client: httpx.AsyncClient, database_url: str) -> None:
    product = await create_product(database_url, name="Teapot", price_cents=3100)
    response = await client.get(f"/api/products/{product.id}")
    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["name"], body["price_cents"]) == (product.id, "Teapot", 3100)


async def test_unknown_and_inactive_products_are_the_same_404(
    client: httpx.AsyncClient, database_url: str
) -> None:
    hidden = await create_product(database_url, is_active=False)
    for product_id in (hidden.id, 999_999):
        response = await client.get(f"/api/products/{product_id}")
        assert response.status_code == 404
        error = envelope(response)
        assert error["code"] == "NOT_FOUND"
        assert error["details"] == {"resource": "Product", "identifier": str(product_id)}


async def test_product_id_is_a_bounded_positive_int(client: httpx.AsyncClient) -> None:
    for product_id in ("0", "-1", "abc", str(2**31), str(2**70), "1.5"):
        errors = validation_errors(await client.get(f"/api/products/{product_id}"))
        assert errors[0]["loc"] == ["path", "product_id"], product_id


# --- cursor feed -----------------------------------------------------------------------


async def test_feed_walks_every_active_product_once(
    client: httpx.AsyncClient, database_url: str
) -> None:
    ids = await catalogue(database_url)
    active = sorted(v for k, v in ids.items() if k != "Hidden mug")
    seen: list[int] = []
    cursor: str | None = None
    for _ in range(10):
        params: dict[str, Any] = {"limit": 3}
        if cursor is not None:
            params["cursor"] = cursor
        response = await client.get("/api/products/feed", params=params)
        assert response.status_code == 200
        body = response.json()
        seen += [item["id"] for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == active


async def test_feed_exact_fit_has_no_next_cursor(
    client: httpx.AsyncClient, database_url: str
) -> None:
    for _ in range(2):
        await create_product(database_url)
    body = (await client.get("/api/products/feed", params={"limit": 2})).json()
    assert len(body["items"]) == 2
    assert body["next_cursor"] is None
    empty = (await client.get("/api/products/feed")).json()
    assert len(empty["items"]) == 2


async def test_feed_rejects_malformed_cursors(client: httpx.AsyncClient) -> None:
    cursors = [
        "not base64 at all!",
        cursor_of([1, 2]),
        cursor_of({"id": "7"}),
        cursor_of({"id": True}),
        cursor_of({"id": 0}),
        cursor_of({"id": 2**70}),
        cursor_of({"offset": 3}),
    ]
    for cursor in cursors:
        response = await client.get("/api/products/feed", params={"cursor": cursor})
        assert response.status_code == 422, cursor
        assert envelope(response)["code"] == "INVALID_CURSOR"


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 101}, {"cursor": "x" * 513}])
async def test_feed_bounds_its_parameters(
    client: httpx.AsyncClient, params: dict[str, Any]
) -> None:
    validation_errors(await client.get("/api/products/feed", params=params))


# --- admin: create -----------------------------------------------------------------------


async def test_admin_creates_a_product(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    response = await client.post("/api/products", json=NEW_PRODUCT, headers=admin)
    assert response.status_code == 201, response.text
    body = response.json()
    assert {k: body[k] for k in NEW_PRODUCT} == NEW_PRODUCT
    assert body["is_active"] is True
    assert response.headers["Location"] == f"/api/products/{body['id']}"
    fetched = await client.get(response.headers["Location"])
    assert fetched.json() == body


async def test_create_fills_defaults_and_strips_whitespace(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    response = await client.post(
        "/api/products",
        json={"sku": " CUP-1 ", "name": "  Cup ", "price_cents": 0},
        headers=admin,
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["sku"], body["name"], body["description"]) == ("CUP-1", "Cup", "")
    assert (body["category"], body["stock"], body["price_cents"]) == ("general", 0, 0)


async def test_create_needs_a_token(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/products", json=NEW_PRODUCT)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert envelope(response)["code"] == "UNAUTHORIZED"


async def test_create_needs_an_admin(client: httpx.AsyncClient, shopper: dict[str, str]) -> None:
    response = await client.post("/api/products", json=NEW_PRODUCT, headers=shopper)
    assert response.status_code == 403
    assert envelope(response)["code"] == "FORBIDDEN"
    assert (await client.get("/api/products")).json()["total"] == 0


async def test_duplicate_sku_is_409(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    assert (await client.post("/api/products", json=NEW_PRODUCT, headers=admin)).status_code == 201
    response = await client.post(
        "/api/products", json={**NEW_PRODUCT, "name": "Other"}, headers=admin
    )
    assert response.status_code == 409
    error = envelope(response)
    assert error["code"] == "CONFLICT"
    assert error["details"] == {"field": "sku"}


async def test_duplicate_sku_found_only_at_commit_is_still_409(
    client: httpx.AsyncClient, admin: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two requests race for one SKU: both pass the friendly check, the unique index
    stops the second at commit, and it still gets the 409 (not a 500)."""
    assert (await client.post("/api/products", json=NEW_PRODUCT, headers=admin)).status_code == 201

    async def nobody_has_it(_self: ProductRepository, _sku: str) -> None:
        return None

    monkeypatch.setattr(ProductRepository, "get_by_sku", nobody_has_it)
    response = await client.post("/api/products", json=NEW_PRODUCT, headers=admin)
    assert response.status_code == 409
    assert envelope(response)["code"] == "CONFLICT"


INVALID_FIELDS: list[tuple[dict[str, Any], str]] = [
    ({"price_cents": 10_000_001}, "price_cents"),
    ({"price_cents": -1}, "price_cents"),
    ({"price_cents": 2**70}, "price_cents"),
    ({"price_cents": 12.5}, "price_cents"),
    ({"stock": 1_000_001}, "stock"),
    ({"stock": -1}, "stock"),
    ({"name": "   "}, "name"),
    ({"name": "x" * 121}, "name"),
    ({"sku": "lower-case"}, "sku"),
    ({"sku": "X" * 33}, "sku"),
    ({"category": "Kitchen Stuff"}, "category"),
    ({"description": "x" * 5001}, "description"),
    ({"role": "admin"}, "role"),  # mass assignment: unknown keys are refused
    ({"id": 7}, "id"),
    ({"image_path": "/etc/passwd"}, "image_path"),
]


async def test_create_validates_every_field(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    for change, field in INVALID_FIELDS:
        response = await client.post("/api/products", json={**NEW_PRODUCT, **change}, headers=admin)
        errors = validation_errors(response)
        assert [e["loc"] for e in errors] == [["body", field]], change
    assert (await client.get("/api/products")).json()["total"] == 0


async def test_create_requires_sku_name_and_price(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    errors = validation_errors(await client.post("/api/products", json={}, headers=admin))
    assert sorted(e["loc"][-1] for e in errors) == ["name", "price_cents", "sku"]


# --- control characters: a 422 on every backend, never PostgreSQL's 500 ----------------
# PostgreSQL cannot store NUL in text and fails the statement; SQLite stores it. Both
# backends must answer the same: the field is refused before any query runs.


@pytest.mark.parametrize("term", ["a\x00b", "\x00", "mug\x1b[31m", "tab\there"])
async def test_a_search_term_with_control_characters_is_422(
    client: httpx.AsyncClient, term: str
) -> None:
    errors = validation_errors(await client.get("/api/products", params={"q": term}))
    assert [e["loc"] for e in errors] == [["query", "q"]]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "Enamel\x00mug"),
        ("name", "Enamel\nmug"),  # a name is one line
        ("description", "Holds\x00350 ml."),
        ("description", "Bell\x07"),
    ],
)
async def test_control_characters_in_a_new_product_are_422_and_store_nothing(
    client: httpx.AsyncClient, admin: dict[str, str], field: str, value: str
) -> None:
    response = await client.post("/api/products", json={**NEW_PRODUCT, field: value}, headers=admin)
    assert [e["loc"] for e in validation_errors(response)] == [["body", field]]
    assert (await client.get("/api/products")).json()["total"] == 0


async def test_a_patch_with_a_nul_byte_is_422_and_changes_nothing(
    client: httpx.AsyncClient, admin: dict[str, str], database_url: str
) -> None:
    product = await create_product(database_url, name="Kettle")
    response = await client.patch(
        f"/api/products/{product.id}", json={"name": "Ket\x00tle"}, headers=admin
    )
    assert [e["loc"] for e in validation_errors(response)] == [["body", "name"]]
    assert (await client.get(f"/api/products/{product.id}")).json()["name"] == "Kettle"


async def test_a_description_keeps_its_line_breaks_and_tabs(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    text_ = "Holds 350 ml.\r\n\tDishwasher safe."
    response = await client.post(
        "/api/products", json={**NEW_PRODUCT, "description": text_}, headers=admin
    )
    assert response.status_code == 201, response.text
    assert response.json()["description"] == text_


# --- admin: update -------------------------------------------------------------------


async def test_patch_changes_only_what_was_sent(
    client: httpx.AsyncClient, admin: dict[str, str], database_url: str
) -> None:
    product = await create_product(database_url, name="Kettle", price_cents=4500, stock=3)
    response = await client.patch(
        f"/api/products/{product.id}", json={"price_cents": 3999, "stock": 0}, headers=admin
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["name"], body["price_cents"], body["stock"]) == ("Kettle", 3999, 0)
    assert body["updated_at"] >= body["created_at"]
    assert (await client.get(f"/api/products/{product.id}")).json() == body


async def test_patch_can_deactivate_and_keep_its_own_sku(
    client: httpx.AsyncClient, admin: dict[str, str], database_url: str
) -> None:
    product = await create_product(database_url, sku="KEEP-1")
    response = await client.patch(
        f"/api/products/{product.id}", json={"sku": "KEEP-1", "is_active": False}, headers=admin
    )
    assert response.status_code == 200
    assert response.json()["is_active"] is False
    assert (await client.get(f"/api/products/{product.id}")).status_code == 404
    empty = await client.patch(f"/api/products/{product.id}", json={}, headers=admin)
    assert empty.status_code == 200  # admins still reach inactive products


async def test_patch_to_a_taken_sku_is_409(
    client: httpx.AsyncClient, admin: dict[str, str], database_url: str
) -> None:
    await create_product(database_url, sku="TAKEN-1")
    product = await create_product(database_url, sku="MINE-1")
    response = await client.patch(
        f"/api/products/{product.id}", json={"sku": "TAKEN-1"}, headers=admin
    )
    assert response.status_code == 409
    assert envelope(response)["details"] == {"field": "sku"}


async def test_patch_validates(
    client: httpx.AsyncClient, admin: dict[str, str], database_url: str
) -> None:
    product = await create_product(database_url)
    cases: list[tuple[dict[str, Any], str]] = [
        ({"name": None}, "body"),  # null is not "leave it": omit the key for that
        ({"price_cents": -5}, "price_cents"),
        ({"is_admin": True}, "is_admin"),
        ({"stock": 2**70}, "stock"),
    ]
    for body, field in cases:
        response = await client.patch(f"/api/products/{product.id}", json=body, headers=admin)
        assert validation_errors(response)[0]["loc"][-1] == field, body
    null = await client.patch(f"/api/products/{product.id}", json={"name": None}, headers=admin)
    assert "name" in validation_errors(null)[0]["msg"]


async def test_patch_unknown_product_is_404(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    response = await client.patch("/api/products/4242", json={"stock": 1}, headers=admin)
    assert response.status_code == 404
    assert envelope(response)["code"] == "NOT_FOUND"


async def test_patch_needs_an_admin(
    client: httpx.AsyncClient, shopper: dict[str, str], database_url: str
) -> None:
    product = await create_product(database_url)
    anonymous = await client.patch(f"/api/products/{product.id}", json={"stock": 1})
    assert anonymous.status_code == 401
    user = await client.patch(f"/api/products/{product.id}", json={"stock": 1}, headers=shopper)
    assert user.status_code == 403


# --- admin: delete ---------------------------------------------------------------------


async def test_admin_deletes_a_product(
    client: httpx.AsyncClient, admin: dict[str, str], database_url: str
) -> None:
    product = await create_product(database_url)
    response = await client.delete(f"/api/products/{product.id}", headers=admin)
    assert response.status_code == 204
    assert response.content == b""
    assert (await client.get(f"/api/products/{product.id}")).status_code == 404
    again = await client.delete(f"/api/products/{product.id}", headers=admin)
    assert again.status_code == 404


async def test_delete_needs_an_admin(
    client: httpx.AsyncClient, shopper: dict[str, str], database_url: str
) -> None:
    product = await create_product(database_url)
    assert (await client.delete(f"/api/products/{product.id}")).status_code == 401
    forbidden = await client.delete(f"/api/products/{product.id}", headers=shopper)
    assert forbidden.status_code == 403
    assert (await client.get(f"/api/products/{product.id}")).status_code == 200


async def test_delete_of_a_referenced_product_is_409(
    client: httpx.AsyncClient, admin: dict[str, str], database_url: str
) -> None:
    """A row elsewhere (an order line, in the real schema) points at the product: the
    delete is refused with advice, and the product is still there."""
    product = await create_product(database_url)
    engine = build_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("DROP TABLE IF EXISTS product_refs_test"))
            await connection.execute(
                text(
                    "CREATE TABLE product_refs_test (id INTEGER PRIMARY KEY, "
                    "product_id INTEGER NOT NULL REFERENCES products(id))"
                )
            )
            await connection.execute(
                text("INSERT INTO product_refs_test (id, product_id) VALUES (1, :id)"),
                {"id": product.id},
            )
        response = await client.delete(f"/api/products/{product.id}", headers=admin)
        assert response.status_code == 409
        error = envelope(response)
        assert error["code"] == "CONFLICT"
        assert "deactivate" in str(error["message"])
        assert (await client.get(f"/api/products/{product.id}")).status_code == 200
    finally:
        async with engine.begin() as connection:
            await connection.execute(text("DROP TABLE IF EXISTS product_refs_test"))
        await engine.dispose()


# --- the contract ------------------------------------------------------------------------


async def test_openapi_documents_the_listing_and_its_cache_header(
    client: httpx.AsyncClient,
) -> None:
    schema = (await client.get("/openapi.json")).json()
    listing = schema["paths"]["/api/products"]["get"]["responses"]["200"]
    ref = listing["content"]["application/json"]["schema"]["$ref"]
    assert ref.endswith("Page_ProductResponse_")
    assert "X-Cache" in listing["headers"]
    parameters = {p["name"] for p in schema["paths"]["/api/products"]["get"]["parameters"]}
    assert parameters == {
        "page",
        "page_size",
        "category",
        "min_price_cents",
        "max_price_cents",
        "q",
        "in_stock",
        "sort",
    }
    create = schema["paths"]["/api/products"]["post"]["responses"]
    assert {"201", "401", "403", "409", "422"} <= set(create)
    upload = schema["paths"]["/api/products/{product_id}/image"]["post"]
    assert "multipart/form-data" in upload["requestBody"]["content"]
    assert {"413", "415"} <= set(upload["responses"])


def test_product_repr_names_the_row_only() -> None:
    assert repr(Product(id=3, sku="MUG-1", name="Mug")) == "Product(id=3, sku='MUG-1')"
