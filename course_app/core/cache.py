"""A small cache interface with two implementations.

* :class:`MemoryCache`: per-process TTL cache, the zero-configuration default;
* :class:`RedisCache`: shared by every worker, used when ``REDIS_URL`` is set.

Invalidation uses *versioned namespaces* instead of deleting keys by pattern: a key is
``<namespace>:v<version>:<key>``, and ``invalidate(namespace)`` bumps the version, so
every old entry becomes unreachable at once and expires on its own. No ``KEYS`` (which
blocks Redis) and no ``SCAN`` loop on the write path.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from typing import Any, Generic, Protocol, TypeVar

from redis.asyncio import Redis
from redis.exceptions import RedisError

from course_app.core.logging import get_logger

log = get_logger(__name__)
T = TypeVar("T")


class Cache(Protocol):
    async def get(self, namespace: str, key: str) -> bytes | None: ...

    async def set(self, namespace: str, key: str, value: bytes, ttl: int) -> None: ...

    async def invalidate(self, namespace: str) -> None: ...

    async def close(self) -> None: ...


class MemoryCache:
    """TTL cache in this process only; bounded so it cannot grow without limit."""

    def __init__(self, max_entries: int = 10_000) -> None:
        self.max_entries = max_entries
        self._data: dict[str, tuple[float, bytes]] = {}
        self._versions: dict[str, int] = {}

    def _key(self, namespace: str, key: str) -> str:
        return f"{namespace}:v{self._versions.get(namespace, 0)}:{key}"

    async def get(self, namespace: str, key: str) -> bytes | None:
        full = self._key(namespace, key)
        entry = self._data.get(full)
        if entry is None:
            return None
        expires, value = entry
        if expires < time.monotonic():
            self._data.pop(full, None)
            return None
        return value

    async def set(self, namespace: str, key: str, value: bytes, ttl: int) -> None:
        if len(self._data) >= self.max_entries:
            self._evict()
        self._data[self._key(namespace, key)] = (time.monotonic() + ttl, value)

    async def invalidate(self, namespace: str) -> None:
        self._versions[namespace] = self._versions.get(namespace, 0) + 1
        prefix = f"{namespace}:"
        for full in [k for k in self._data if k.startswith(prefix)]:
            del self._data[full]

    def _evict(self) -> None:
        now = time.monotonic()
        for full in [k for k, (expires, _) in self._data.items() if expires < now]:
            del self._data[full]
        while len(self._data) >= self.max_entries:  # still full: drop the oldest inserted
            self._data.pop(next(iter(self._data)))

    async def close(self) -> None:
        self._data.clear()


class NullCache:
    """Caches nothing (``CACHE_ENABLED=false``): for debugging, and to measure what the
    cache is worth with everything else unchanged."""

    async def get(self, namespace: str, key: str) -> bytes | None:
        return None

    async def set(self, namespace: str, key: str, value: bytes, ttl: int) -> None:
        return None

    async def invalidate(self, namespace: str) -> None:
        return None

    async def close(self) -> None:
        return None


class FailOpenCache:
    """Wrap a shared cache so that its failure is a miss, not an error.

    A cache is an optimisation: when Redis is down, reads fall through to the database
    and writes are skipped, with a warning in the log. A failed ``invalidate`` leaves
    entries that are at most ``CACHE_TTL_SECONDS`` stale, so it is logged as an error.
    """

    def __init__(self, inner: Cache) -> None:
        self.inner = inner

    async def get(self, namespace: str, key: str) -> bytes | None:
        try:
            return await self.inner.get(namespace, key)
        except (RedisError, OSError) as exc:
            log.warning("cache_unavailable", operation="get", error=type(exc).__name__)
            return None

    async def set(self, namespace: str, key: str, value: bytes, ttl: int) -> None:
        try:
            await self.inner.set(namespace, key, value, ttl)
        except (RedisError, OSError) as exc:
            log.warning("cache_unavailable", operation="set", error=type(exc).__name__)

    async def invalidate(self, namespace: str) -> None:
        try:
            await self.inner.invalidate(namespace)
        except (RedisError, OSError) as exc:
            log.error("cache_invalidation_failed", namespace=namespace, error=type(exc).__name__)

    async def close(self) -> None:
        await self.inner.close()


class RedisCache:
    """The same interface over Redis; the namespace version lives in Redis too."""

    def __init__(self, redis: Redis, prefix: str = "cache") -> None:
        self.redis = redis
        self.prefix = prefix

    async def _key(self, namespace: str, key: str) -> str:
        version = await self.redis.get(f"{self.prefix}:{namespace}:version")
        return f"{self.prefix}:{namespace}:v{int(version or 0)}:{key}"

    async def get(self, namespace: str, key: str) -> bytes | None:
        value = await self.redis.get(await self._key(namespace, key))
        return value if isinstance(value, bytes) or value is None else value.encode()

    async def set(self, namespace: str, key: str, value: bytes, ttl: int) -> None:
        await self.redis.set(await self._key(namespace, key), value, ex=ttl)

    async def invalidate(self, namespace: str) -> None:
        await self.redis.incr(f"{self.prefix}:{namespace}:version")

    async def close(self) -> None:
        await self.redis.aclose()


class SingleFlight(Generic[T]):
    """Concurrent misses for one key share one computation (request coalescing).

    When a popular entry expires, every request that arrives before it is refilled
    misses: with 16 concurrent clients, 16 identical database queries run at once (a
    cache stampede), each slower for the others, and the tail latency jumps
    (bench/README.md). ``run(key, compute)`` starts ``compute`` once per key and lets
    every concurrent caller await the same result or exception.

    The computation runs in a task of its own, awaited through ``asyncio.shield``: a
    caller that is cancelled (its client hung up) stops waiting without cancelling the
    others' result. Per process; workers of a deployment each fill once.
    """

    def __init__(self) -> None:
        self._flights: dict[str, asyncio.Task[T]] = {}

    def in_flight(self, key: str) -> bool:
        return key in self._flights

    async def run(self, key: str, compute: Callable[[], Coroutine[Any, Any, T]]) -> T:
        flight = self._flights.get(key)
        if flight is None:
            flight = asyncio.create_task(compute())
            self._flights[key] = flight
            flight.add_done_callback(lambda done: self._landed(key, done))
        return await asyncio.shield(flight)

    def _landed(self, key: str, flight: asyncio.Task[T]) -> None:
        self._flights.pop(key, None)
        if not flight.cancelled():
            flight.exception()  # retrieved: no "never retrieved" warning if nobody waited
