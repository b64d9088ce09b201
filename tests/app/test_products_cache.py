"""The cached product listing: hit/miss, keys, invalidation on every write; in-process
(``MemoryCache``) and shared (``RedisCache``, when Redis is reachable)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from redis import Redis
from sqlalchemy import event
from sqlalchemy.pool import Pool

from course_app.config import Settings, load_settings
from course_app.features.products import service as product_service
from course_app.features.users.models import Role
from course_app.main import create_app
from tests.app.conftest import STRONG_SECRET
from tests.app.factories import app_client, auth_headers, create_product, create_user
from tests.app.test_uploads import png_bytes
from tests.conftest import REDIS_URL, need_service

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["memory", "redis"])
def cache_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def settings(database_url: str, cache_backend: str, tmp_path: Path) -> Settings:
    overrides: dict[str, Any] = {}
    if cache_backend == "redis":
        need_service("Redis", "127.0.0.1", 6379)
        with Redis.from_url(REDIS_URL) as redis:
            redis.flushdb()  # every test starts with an empty cache
        overrides["redis_url"] = REDIS_URL
    return load_settings(
        _env_file=None,
        environment="test",
        database_url=database_url,
        jwt_secret=STRONG_SECRET,
        upload_dir=str(tmp_path / "uploads"),
        **overrides,
    )


@pytest.fixture
async def admin(database_url: str, settings: Settings, client: httpx.AsyncClient) -> dict[str, str]:
    return auth_headers(settings, await create_user(database_url, role=Role.ADMIN))


async def get(
    client: httpx.AsyncClient, url: str = "/api/products", **params: Any
) -> httpx.Response:
    response = await client.get(url, params=params)
    assert response.status_code == 200, response.text
    return response


@pytest.fixture
def checkouts() -> Iterator[list[int]]:
    """Every database connection any engine's pool hands out during the test, to a
    session or to a bare ``engine.connect()`` alike (``clear()`` it to start counting)."""
    taken: list[int] = []

    def record(*_args: Any) -> None:
        taken.append(1)

    event.listen(Pool, "checkout", record)
    yield taken
    event.remove(Pool, "checkout", record)


def cache_of(response: httpx.Response) -> str:
    return response.headers["X-Cache"]


async def test_first_request_misses_then_hits(
    client: httpx.AsyncClient, database_url: str, settings: Settings, cache_backend: str
) -> None:
    assert (settings.redis_url is not None) == (cache_backend == "redis")
    await create_product(database_url, name="Lamp")
    first = await get(client)
    second = await get(client)
    assert (cache_of(first), cache_of(second)) == ("miss", "hit")
    assert second.content == first.content  # the very bytes that were cached
    assert second.headers["content-type"] == "application/json"
    assert [item["name"] for item in second.json()["items"]] == ["Lamp"]


async def test_a_hit_does_not_query_the_database(
    client: httpx.AsyncClient, database_url: str
) -> None:
    """A row written behind the app's back is not seen until the TTL expires: proof
    that a hit is served from the cache (and why writes go through the service)."""
    await get(client)
    await create_product(database_url)
    stale = await get(client)
    assert cache_of(stale) == "hit"
    assert stale.json()["total"] == 0


async def test_a_hit_takes_no_connection_and_a_miss_takes_one(
    client: httpx.AsyncClient, checkouts: list[int]
) -> None:
    """The listing's catalog takes a database connection only on a miss: a hit costs the
    cache read alone (bench/README.md measures what a per-request session costs)."""
    checkouts.clear()
    opened = checkouts
    assert cache_of(await get(client, page_size=7)) == "miss"
    assert len(opened) == 1
    assert cache_of(await get(client, page_size=7)) == "hit"
    assert len(opened) == 1


async def test_an_empty_page_is_cached_as_a_hit(client: httpx.AsyncClient) -> None:
    """The seed's ``if cached:`` treats a cached empty value as a miss: every query for
    a category with no products would reach the database."""
    for params in ({}, {"category": "nothing-here"}):
        first = await get(client, **params)
        assert first.json()["items"] == []
        assert cache_of(first) == "miss"
        assert cache_of(await get(client, **params)) == "hit"


async def test_different_queries_are_different_keys(
    client: httpx.AsyncClient, database_url: str
) -> None:
    await create_product(database_url, name="Chair", category="home", price_cents=5000)
    queries: list[dict[str, Any]] = [
        {},
        {"page": 2},
        {"page_size": 5},
        {"sort": "-name"},
        {"category": "home"},
        {"min_price_cents": 100},
        {"max_price_cents": 100},
        {"q": "chair"},
        {"q": "Chair"},
        {"in_stock": "true"},
        {"in_stock": "false"},
    ]
    for params in queries:
        assert cache_of(await get(client, **params)) == "miss", params
    for params in queries:
        assert cache_of(await get(client, **params)) == "hit", params
    assert (await get(client, max_price_cents=100)).json()["total"] == 0
    assert (await get(client, min_price_cents=100)).json()["total"] == 1


async def test_equivalent_queries_share_one_key(client: httpx.AsyncClient) -> None:
    """The key is built from the validated query, not the raw query string."""
    assert cache_of(await get(client, "/api/products?category=home&in_stock=1&q=%20mug%20")) == (
        "miss"
    )
    for url in (
        "/api/products?in_stock=true&q=mug&category=home",
        "/api/products?q=mug&category=home&in_stock=yes&page=1&page_size=20&sort=id",
        "/api/products?category=home&in_stock=on&q=mug&utm_source=newsletter",
    ):
        assert cache_of(await get(client, url)) == "hit", url


async def test_every_write_invalidates_the_listing(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    await get(client)
    created = await client.post(
        "/api/products", json={"sku": "LAMP-1", "name": "Lamp", "price_cents": 100}, headers=admin
    )
    assert created.status_code == 201
    product_id = created.json()["id"]
    after_create = await get(client)
    assert cache_of(after_create) == "miss"
    assert after_create.json()["total"] == 1
    assert cache_of(await get(client)) == "hit"

    patched = await client.patch(
        f"/api/products/{product_id}", json={"name": "Desk lamp"}, headers=admin
    )
    assert patched.status_code == 200
    after_patch = await get(client)
    assert cache_of(after_patch) == "miss"
    assert after_patch.json()["items"][0]["name"] == "Desk lamp"
    await get(client)

    uploaded = await client.post(
        f"/api/products/{product_id}/image", files={"file": ("l.png", png_bytes())}, headers=admin
    )
    assert uploaded.status_code == 200
    after_upload = await get(client)
    assert cache_of(after_upload) == "miss"
    assert after_upload.json()["items"][0]["image_url"] == f"/api/products/{product_id}/image"
    await get(client)

    deleted = await client.delete(f"/api/products/{product_id}", headers=admin)
    assert deleted.status_code == 204
    after_delete = await get(client)
    assert cache_of(after_delete) == "miss"
    assert after_delete.json()["total"] == 0


async def test_one_write_invalidates_every_cached_query(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    queries: list[dict[str, Any]] = [{}, {"sort": "-name"}, {"category": "lights"}, {"page": 3}]
    for params in queries:
        await get(client, **params)
    created = await client.post(
        "/api/products",
        json={"sku": "LAMP-2", "name": "Lamp", "category": "lights", "price_cents": 1},
        headers=admin,
    )
    assert created.status_code == 201
    for params in queries:
        assert cache_of(await get(client, **params)) == "miss", params


async def test_failed_writes_keep_the_cache(
    client: httpx.AsyncClient, admin: dict[str, str], database_url: str
) -> None:
    product = await create_product(database_url, sku="TAKEN-1")
    await get(client)
    duplicate = await client.post(
        "/api/products", json={"sku": "TAKEN-1", "name": "X", "price_cents": 1}, headers=admin
    )
    assert duplicate.status_code == 409
    invalid = await client.patch(
        f"/api/products/{product.id}", json={"price_cents": -1}, headers=admin
    )
    assert invalid.status_code == 422
    anonymous = await client.delete(f"/api/products/{product.id}")
    assert anonymous.status_code == 401
    assert cache_of(await get(client)) == "hit"


async def test_errors_are_never_cached(client: httpx.AsyncClient) -> None:
    for _ in range(2):
        response = await client.get("/api/products", params={"page_size": 101})
        assert response.status_code == 422
        assert "X-Cache" not in response.headers


async def test_two_app_processes_share_only_a_redis_cache(
    client: httpx.AsyncClient, settings: Settings, cache_backend: str
) -> None:
    """Two instances of the app (two workers): a page cached by one is a hit in the
    other only with Redis; each ``MemoryCache`` belongs to one process."""
    assert cache_of(await get(client)) == "miss"
    second_process = create_app(settings)
    async with app_client(second_process) as other:
        expected = "hit" if cache_backend == "redis" else "miss"
        assert cache_of(await get(other)) == expected


async def test_a_write_during_a_refill_does_not_leave_the_old_page_cached(
    client: httpx.AsyncClient, admin: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The refill reads the database, a write lands, then the refill stores what it
    read. Stored under the version it began from, that page is unreachable: the next
    request misses and sees the write. A request arriving after the write does not
    share the old refill either."""
    created = await client.post(
        "/api/products", json={"sku": "LAMP-9", "name": "Lamp", "price_cents": 100}, headers=admin
    )
    product_id = created.json()["id"]
    read, release = asyncio.Event(), asyncio.Event()
    original = product_service.public_page

    async def slow_first_read(*args: Any, **kwargs: Any) -> Any:
        rows = await original(*args, **kwargs)
        if not read.is_set():  # only the first refill is held back, after its read
            read.set()
            await release.wait()
        return rows

    monkeypatch.setattr(product_service, "public_page", slow_first_read)
    before = asyncio.create_task(get(client))
    try:
        await asyncio.wait_for(read.wait(), 10)
        patched = await client.patch(
            f"/api/products/{product_id}", json={"price_cents": 250}, headers=admin
        )
        assert patched.status_code == 200
        # after the write, while the old refill is held back: it must not wait for it
        during = await asyncio.wait_for(get(client), 10)
    finally:
        release.set()
    assert (await before).json()["items"][0]["price_cents"] == 100  # it read before the write
    assert during.json()["items"][0]["price_cents"] == 250
    after = await get(client)
    assert after.json()["items"][0]["price_cents"] == 250  # never the held-back page


async def test_concurrent_misses_share_one_refill(tmp_path: Path, checkouts: list[int]) -> None:
    """A stampede: 8 requests for a page that is not cached arrive together. One of them
    queries the database; the others wait for its result instead of querying too."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'stampede.db'}"
    settings = load_settings(
        _env_file=None, environment="test", database_url=url, jwt_secret=STRONG_SECRET
    )
    app = create_app(settings)
    async with app_client(app) as client:
        await create_product(url, name="Lamp")
        checkouts.clear()
        opened = checkouts
        responses = await asyncio.gather(*(client.get("/api/products") for _ in range(8)))
        assert [r.status_code for r in responses] == [200] * 8
        assert {r.content for r in responses} == {responses[0].content}
        assert [cache_of(r) for r in responses] == ["miss"] * 8
        assert len(opened) == 1  # one refill for eight misses
        assert cache_of(await get(client)) == "hit"


async def test_without_a_cache_every_request_reads_the_database(
    tmp_path: Path, checkouts: list[int]
) -> None:
    """CACHE_ENABLED=false means fresh reads: concurrent requests are not coalesced."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'nocache.db'}"
    settings = load_settings(
        _env_file=None,
        environment="test",
        database_url=url,
        jwt_secret=STRONG_SECRET,
        cache_enabled=False,
    )
    app = create_app(settings)
    async with app_client(app) as client:
        checkouts.clear()
        opened = checkouts
        responses = await asyncio.gather(*(client.get("/api/products") for _ in range(4)))
    assert [r.status_code for r in responses] == [200] * 4
    assert len(opened) == 4
