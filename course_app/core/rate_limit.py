"""Fixed-window rate limiting behind one interface.

``hit(key, limit, window)`` counts an attempt and answers how many seconds the caller
must wait (0 = allowed). :class:`MemoryRateLimiter` counts per process, so with N
workers an attacker gets N times the budget (lesson 11 shows it); :class:`RedisRateLimiter`
counts once for all workers with an atomic ``INCR`` + ``EXPIRE``.
"""

from __future__ import annotations

import math
import time
from typing import Protocol

from redis.asyncio import Redis


class RateLimiter(Protocol):
    async def hit(self, key: str, limit: int, window: int) -> int: ...

    async def reset(self, key: str) -> None: ...

    async def close(self) -> None: ...


class MemoryRateLimiter:
    def __init__(self, max_keys: int = 100_000) -> None:
        self.max_keys = max_keys
        self._windows: dict[str, tuple[float, int]] = {}

    async def hit(self, key: str, limit: int, window: int) -> int:
        now = time.monotonic()
        started, count = self._windows.get(key, (now, 0))
        if now - started >= window:
            started, count = now, 0
        count += 1
        if len(self._windows) >= self.max_keys and key not in self._windows:
            self._windows = {k: v for k, v in self._windows.items() if now - v[0] < window}
        self._windows[key] = (started, count)
        if count > limit:
            return max(1, math.ceil(started + window - now))
        return 0

    async def reset(self, key: str) -> None:
        self._windows.pop(key, None)

    async def close(self) -> None:
        self._windows.clear()


class RedisRateLimiter:
    def __init__(self, redis: Redis, prefix: str = "ratelimit") -> None:
        self.redis = redis
        self.prefix = prefix

    async def hit(self, key: str, limit: int, window: int) -> int:
        name = f"{self.prefix}:{key}"
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.incr(name)
            pipe.expire(name, window, nx=True)
            pipe.ttl(name)
            count, _, ttl = await pipe.execute()
        if int(count) > limit:
            return max(1, int(ttl))
        return 0

    async def reset(self, key: str) -> None:
        await self.redis.delete(f"{self.prefix}:{key}")

    async def close(self) -> None:
        await self.redis.aclose()
