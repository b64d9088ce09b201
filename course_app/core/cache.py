"""A small cache interface with two implementations.

* :class:`MemoryCache`: per-process TTL cache, the zero-configuration default;
* :class:`RedisCache`: shared by every worker, used when ``REDIS_URL`` is set.

Invalidation uses *versioned namespaces* instead of deleting keys by pattern: a key is
``<namespace>:v<version>:<key>``, and ``invalidate(namespace)`` bumps the version, so
every old entry becomes unreachable at once and expires on its own. No ``KEYS`` (which
blocks Redis) and no ``SCAN`` loop on the write path.

A refill must store its value under the version it *started* from: read the version,
read the database, ``set(..., version=that)``. Otherwise a write that lands while the
database is being read bumps the version, and the refill files the page it read before
the write under the new version, where it is served until its TTL runs out.
``get`` and ``set`` take the version for that reason (``None``: the current one).
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
UNKNOWN_VERSION = -1  # FailOpenCache: the shared store did not answer


class Cache(Protocol):
    async def version(self, namespace: str) -> int: ...

    async def get(
        self, namespace: str, key: str, *, version: int | None = None
    ) -> bytes | None: ...

    async def set(
        self, namespace: str, key: str, value: bytes, ttl: int, *, version: int | None = None
    ) -> None: ...

    async def invalidate(self, namespace: str) -> None: ...

    async def close(self) -> None: ...


class MemoryCache:
    """TTL cache in this process only; bounded so it cannot grow without limit."""

    def __init__(self, max_entries: int = 10_000) -> None:
        self.max_entries = max_entries
        self._data: dict[str, tuple[float, bytes]] = {}
        self._versions: dict[str, int] = {}

    def _key(self, namespace: str, key: str, version: int | None) -> str:
        if version is None:
            version = self._versions.get(namespace, 0)
        return f"{namespace}:v{version}:{key}"

    async def version(self, namespace: str) -> int:
        return self._versions.get(namespace, 0)

    async def get(self, namespace: str, key: str, *, version: int | None = None) -> bytes | None:
        full = self._key(namespace, key, version)
        entry = self._data.get(full)
        if entry is None:
            return None
        expires, value = entry
        if expires < time.monotonic():
            self._data.pop(full, None)
            return None
        return value

    async def set(
        self, namespace: str, key: str, value: bytes, ttl: int, *, version: int | None = None
    ) -> None:
        if version is not None and version != self._versions.get(namespace, 0):
            return  # invalidated since the caller read: nobody could ever read this entry
        if len(self._data) >= self.max_entries:
            self._evict()
        self._data[self._key(namespace, key, version)] = (time.monotonic() + ttl, value)

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

    async def version(self, namespace: str) -> int:
        return 0

    async def get(self, namespace: str, key: str, *, version: int | None = None) -> bytes | None:
        return None

    async def set(
        self, namespace: str, key: str, value: bytes, ttl: int, *, version: int | None = None
    ) -> None:
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

    async def version(self, namespace: str) -> int:
        try:
            return await self.inner.version(namespace)
        except (RedisError, OSError) as exc:
            log.warning("cache_unavailable", operation="version", error=type(exc).__name__)
            return UNKNOWN_VERSION

    async def get(self, namespace: str, key: str, *, version: int | None = None) -> bytes | None:
        if version == UNKNOWN_VERSION:
            return None
        try:
            return await self.inner.get(namespace, key, version=version)
        except (RedisError, OSError) as exc:
            log.warning("cache_unavailable", operation="get", error=type(exc).__name__)
            return None

    async def set(
        self, namespace: str, key: str, value: bytes, ttl: int, *, version: int | None = None
    ) -> None:
        if version == UNKNOWN_VERSION:
            return  # the version could not be read: storing could file a stale value
        try:
            await self.inner.set(namespace, key, value, ttl, version=version)
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

    async def version(self, namespace: str) -> int:
        return int(await self.redis.get(f"{self.prefix}:{namespace}:version") or 0)

    async def _key(self, namespace: str, key: str, version: int | None) -> str:
        if version is None:
            version = await self.version(namespace)
        return f"{self.prefix}:{namespace}:v{version}:{key}"

    async def get(self, namespace: str, key: str, *, version: int | None = None) -> bytes | None:
        value = await self.redis.get(await self._key(namespace, key, version))
        return value if isinstance(value, bytes) or value is None else value.encode()

    async def set(
        self, namespace: str, key: str, value: bytes, ttl: int, *, version: int | None = None
    ) -> None:
        # Under an old version the entry is unreachable, stored or not (and expires).
        await self.redis.set(await self._key(namespace, key, version), value, ex=ttl)

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
