"""Cache and rate-limiter implementations: the same contract in memory and on Redis."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest
from asgi_lifespan import LifespanManager
from redis.asyncio import Redis

from course_app.config import load_settings
from course_app.core.cache import (
    UNKNOWN_VERSION,
    Cache,
    FailOpenCache,
    MemoryCache,
    NullCache,
    RedisCache,
    SingleFlight,
)
from course_app.core.rate_limit import (
    FallbackRateLimiter,
    MemoryRateLimiter,
    RateLimiter,
    RedisRateLimiter,
)
from course_app.main import create_app
from tests.conftest import REDIS_URL, need_service

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["memory", "redis"])
async def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "redis":
        need_service("Redis", "127.0.0.1", 6379)
        redis = Redis.from_url(REDIS_URL)
        await redis.flushdb()
        await redis.aclose()
    return str(request.param)


@pytest.fixture
async def cache(backend: str) -> AsyncIterator[Cache]:
    store: Cache = MemoryCache() if backend == "memory" else RedisCache(Redis.from_url(REDIS_URL))
    yield store
    await store.close()


@pytest.fixture
async def limiter(backend: str) -> AsyncIterator[RateLimiter]:
    limit: RateLimiter = (
        MemoryRateLimiter() if backend == "memory" else RedisRateLimiter(Redis.from_url(REDIS_URL))
    )
    yield limit
    await limit.close()


async def test_miss_then_hit(cache: Cache) -> None:
    assert await cache.get("products", "page=1") is None
    await cache.set("products", "page=1", b"[]", ttl=30)
    assert await cache.get("products", "page=1") == b"[]"  # empty payload is still a hit


async def test_invalidate_drops_a_whole_namespace_only(cache: Cache) -> None:
    await cache.set("products", "a", b"1", ttl=30)
    await cache.set("products", "b", b"2", ttl=30)
    await cache.set("users", "a", b"3", ttl=30)
    await cache.invalidate("products")
    assert await cache.get("products", "a") is None
    assert await cache.get("products", "b") is None
    assert await cache.get("users", "a") == b"3"
    await cache.set("products", "a", b"4", ttl=30)  # the new version works as usual
    assert await cache.get("products", "a") == b"4"


async def test_a_value_read_before_an_invalidation_is_never_served(cache: Cache) -> None:
    """A refill stores under the version it began from: if a write invalidated the
    namespace meanwhile, the value it stores is out of reach."""
    version = await cache.version("products")
    await cache.invalidate("products")  # a write lands while the database is read
    assert await cache.version("products") == version + 1
    await cache.set("products", "page=1", b"old", ttl=30, version=version)
    assert await cache.get("products", "page=1") is None
    assert await cache.get("products", "page=1", version=version + 1) is None


async def test_set_and_get_at_the_current_version_are_the_plain_calls(cache: Cache) -> None:
    version = await cache.version("products")
    await cache.set("products", "k", b"v", ttl=30, version=version)
    assert await cache.get("products", "k") == b"v"
    assert await cache.get("products", "k", version=version) == b"v"


async def test_entries_expire(cache: Cache) -> None:
    await cache.set("products", "k", b"v", ttl=1)
    await anyio.sleep(1.1)
    assert await cache.get("products", "k") is None


async def test_memory_cache_is_bounded() -> None:
    cache = MemoryCache(max_entries=3)
    for index in range(10):
        await cache.set("ns", str(index), b"x", ttl=60)
    assert len(cache._data) <= 3
    assert await cache.get("ns", "9") == b"x"  # the newest survives


async def test_rate_limiter_allows_the_budget_then_asks_to_wait(limiter: RateLimiter) -> None:
    waits = [await limiter.hit("login:1.2.3.4:a@x", limit=3, window=60) for _ in range(5)]
    assert waits[:3] == [0, 0, 0]
    assert all(1 <= wait <= 60 for wait in waits[3:])


async def test_rate_limiter_keys_are_independent_and_reset(limiter: RateLimiter) -> None:
    for _ in range(3):
        await limiter.hit("a", limit=2, window=60)
    assert await limiter.hit("b", limit=2, window=60) == 0
    await limiter.reset("a")
    assert await limiter.hit("a", limit=2, window=60) == 0


async def test_rate_limit_window_restarts(limiter: RateLimiter) -> None:
    assert await limiter.hit("w", limit=1, window=1) == 0
    assert await limiter.hit("w", limit=1, window=1) >= 1
    await anyio.sleep(1.1)
    assert await limiter.hit("w", limit=1, window=1) == 0


async def test_memory_limiter_drops_stale_keys_when_full() -> None:
    limiter = MemoryRateLimiter(max_keys=2)
    await limiter.hit("old1", limit=5, window=1)
    await limiter.hit("old2", limit=5, window=1)
    await anyio.sleep(1.05)
    await limiter.hit("new", limit=5, window=1)
    assert set(limiter._windows) == {"new"}


async def test_null_cache_never_hits() -> None:
    cache = NullCache()
    await cache.set("products", "k", b"v", ttl=30)
    assert await cache.get("products", "k") is None
    assert await cache.version("products") == 0
    await cache.invalidate("products")
    await cache.close()


async def test_cache_can_be_disabled_by_setting(tmp_path: Path) -> None:
    settings = load_settings(
        _env_file=None,
        environment="test",
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'c.db'}",
        cache_enabled=False,
    )
    async with LifespanManager(create_app(settings)) as manager:
        assert isinstance(manager._state["cache"], NullCache)


async def test_a_dead_redis_is_a_miss_not_an_error() -> None:
    # nothing listens on port 1: every command fails with a connection error
    cache = FailOpenCache(RedisCache(Redis.from_url("redis://127.0.0.1:1/0")))
    assert await cache.get("products", "k") is None
    await cache.set("products", "k", b"v", ttl=30)
    await cache.invalidate("products")
    assert await cache.version("products") == UNKNOWN_VERSION
    await cache.close()


async def test_an_unknown_version_is_a_miss_and_stores_nothing() -> None:
    """When the version could not be read, storing could file a stale page under the
    current version: FailOpenCache neither reads nor writes with it."""
    inner = MemoryCache()
    cache = FailOpenCache(inner)
    await cache.set("products", "k", b"v", ttl=30)
    assert await cache.get("products", "k", version=UNKNOWN_VERSION) is None
    await cache.set("products", "j", b"w", ttl=30, version=UNKNOWN_VERSION)
    assert await inner.get("products", "j") is None
    assert await cache.get("products", "k") == b"v"


class _Unreachable:
    """A shared limiter whose store is down: every call fails like redis-py does."""

    def __init__(self) -> None:
        self.down = True
        self.calls = 0

    async def hit(self, key: str, limit: int, window: int) -> int:
        self.calls += 1
        if self.down:
            raise ConnectionError("Connection refused")
        return 0

    async def reset(self, key: str) -> None:
        if self.down:
            raise ConnectionError("Connection refused")

    async def close(self) -> None:
        return None


async def test_a_dead_redis_limiter_degrades_to_per_process_limits() -> None:
    """Neither open (no limit) nor closed (logins fail): the process counts alone."""
    limiter = FallbackRateLimiter(RedisRateLimiter(Redis.from_url("redis://127.0.0.1:1/0")))
    assert [await limiter.hit("login:a", 2, 60) for _ in range(3)][:2] == [0, 0]
    assert await limiter.hit("login:a", 2, 60) > 0
    await limiter.reset("login:a")  # reaches the fallback although Redis is down
    assert await limiter.hit("login:a", 2, 60) == 0
    await limiter.close()


async def test_the_shared_limiter_takes_over_again_when_it_answers() -> None:
    primary = _Unreachable()
    limiter = FallbackRateLimiter(primary, MemoryRateLimiter())
    for _ in range(3):
        await limiter.hit("k", 1, 60)
    assert await limiter.hit("k", 1, 60) > 0  # degraded: the per-process count applies
    primary.down = False
    assert await limiter.hit("k", 1, 60) == 0  # the shared store decides again
    assert primary.calls == 5


async def test_the_app_uses_the_fallback_limiter_with_redis(tmp_path: Path) -> None:
    settings = load_settings(
        _env_file=None,
        environment="test",
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'c.db'}",
        redis_url="redis://127.0.0.1:1/0",  # never contacted at start
    )
    async with LifespanManager(create_app(settings)) as manager:
        limiter = manager._state["rate_limiter"]
        assert isinstance(limiter, FallbackRateLimiter)
        assert isinstance(limiter.primary, RedisRateLimiter)


# --- SingleFlight: one refill per key --------------------------------------------------------


async def test_concurrent_callers_share_one_computation() -> None:
    flights: SingleFlight[str] = SingleFlight()
    calls = 0

    async def compute() -> str:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.01)
        return f"page {calls}"

    results = await asyncio.gather(*(flights.run("k", compute) for _ in range(8)))
    assert results == ["page 1"] * 8
    assert calls == 1
    assert not flights.in_flight("k")  # released once it landed
    assert await flights.run("k", compute) == "page 2"  # a later miss computes again


async def test_different_keys_do_not_wait_for_each_other() -> None:
    flights: SingleFlight[str] = SingleFlight()

    async def compute(key: str) -> str:
        await asyncio.sleep(0.01)
        return key

    assert await asyncio.gather(*(flights.run(k, lambda k=k: compute(k)) for k in "abc")) == [
        "a",
        "b",
        "c",
    ]


async def test_a_failure_reaches_every_waiter_and_is_not_remembered() -> None:
    flights: SingleFlight[str] = SingleFlight()
    attempts = 0

    async def flaky() -> str:
        nonlocal attempts
        attempts += 1
        await asyncio.sleep(0.01)
        if attempts == 1:
            raise ConnectionError("database down")
        return "fresh"

    outcomes = await asyncio.gather(
        *(flights.run("k", flaky) for _ in range(3)), return_exceptions=True
    )
    assert [type(o).__name__ for o in outcomes] == ["ConnectionError"] * 3
    assert await flights.run("k", flaky) == "fresh"  # the error was not cached
    assert attempts == 2


async def test_a_cancelled_caller_does_not_cancel_the_others() -> None:
    flights: SingleFlight[str] = SingleFlight()
    started = asyncio.Event()

    async def slow() -> str:
        started.set()
        await asyncio.sleep(0.05)
        return "done"

    first = asyncio.ensure_future(flights.run("k", slow))
    await started.wait()
    second = asyncio.ensure_future(flights.run("k", slow))
    await asyncio.sleep(0)
    first.cancel()  # the client that started the refill hung up
    assert await second == "done"
    with pytest.raises(asyncio.CancelledError):
        await first


async def test_an_unawaited_failure_is_retrieved(caplog: pytest.LogCaptureFixture) -> None:
    flights: SingleFlight[str] = SingleFlight()

    async def boom() -> str:
        await asyncio.sleep(0.01)
        raise RuntimeError("nobody is listening")

    caller = asyncio.ensure_future(flights.run("k", boom))
    await asyncio.sleep(0)
    caller.cancel()
    await asyncio.sleep(0.05)  # the flight fails with nobody awaiting it
    gc.collect()
    assert "never retrieved" not in caplog.text
    assert not flights.in_flight("k")
